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
//! without them this test prints why and passes, unless
//! `LODGER_REQUIRE_BROWSER=1` (CI installs them all).

mod browser_support;
mod dev_support;

#[tokio::test]
async fn the_panel_works_in_a_real_browser_and_writes_through_ap_request() {
    if !browser_support::ready("the browser test") {
        return;
    }
    let Some(world) = dev_support::world().await else { return };
    let artifacts = browser_support::artifacts();
    let screenshot = artifacts.join("issue-page.png");
    let report = browser_support::run(
        "tools/devhost/browser-test.mjs",
        vec![world.issue_url.clone(), screenshot.display().to_string()],
    )
    .await;
    assert_eq!(report["established"], true);
    assert_eq!(report["accountId"], world.site.users[0].account_id.as_str());

    // What the iframe wrote through AP.request is in the site.
    let data = world.site.data();
    let written = &data.app_properties[&("lodger".to_owned(), "browser-test".to_owned())];
    assert_eq!(written["written"], report["nonce"]);
    assert!(artifacts.join("issue-page.png").exists());
}
