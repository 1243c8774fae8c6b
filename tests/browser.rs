//! The whole dev world in a real browser, as a quick smoke test: headless
//! Chromium opens the emulated issue page, connect-js establishes the
//! checklist panel's iframe, the panel loads (it reads the issue property
//! and the user's permissions with `AP.request`), the bridge names the
//! signed-in user, and a value written with `AP.request` from inside the
//! iframe is then visible in the site. The checklist itself is tested in
//! `browser_checklist.rs`. A screenshot is saved to
//! `target/test-artifacts/issue-page.png`.
//!
//! Needs Node.js, `npm ci --prefix tools/devhost` and Debian's `chromium`;
//! without them it fails naming what to install, or is counted as a skip
//! under `tools/test --allow-skips` (`support::prerequisites`).

mod support;

use lodger::devhost::site::Role;
use support::site_client::user;

#[tokio::test]
async fn the_panel_works_in_a_real_browser_and_writes_through_ap_request() {
    if !support::browser::ready() {
        return;
    }
    let world = support::dev_world::world().await;
    let artifacts = support::browser::artifacts();
    let screenshot = artifacts.join("issue-page.png");
    let report = support::browser::run(
        "tools/devhost/browser-test.mjs",
        vec![world.issue_url.clone(), screenshot.display().to_string()],
    )
    .await;
    assert_eq!(report["established"], true);
    assert_eq!(report["accountId"], user(&world.site, Role::SiteAdmin).account_id.as_str());

    // What the iframe wrote through AP.request is in the site.
    let data = world.site.data();
    let written = &data.app_properties[&("lodger".to_owned(), "browser-test".to_owned())];
    assert_eq!(written["written"], report["nonce"]);
    assert!(artifacts.join("issue-page.png").exists());
}
