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

use std::path::{Path, PathBuf};
use std::process::Command;

use lodger::devhost::world::{WorldOptions, start};
use serde_json::Value;

fn missing_prerequisite(node_modules: &Path) -> Option<String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if Command::new("node").arg("--version").output().is_err() {
        return Some("node is not installed".into());
    }
    if !node_modules.join("playwright-core").exists()
        || !node_modules.join("atlassian-connect-js").exists()
    {
        return Some("run `npm ci --prefix tools/devhost`".into());
    }
    if !Path::new(&chromium).exists() {
        return Some(format!("{chromium} is missing: install Debian's chromium"));
    }
    None
}

#[tokio::test]
async fn the_panel_works_in_a_real_browser_and_writes_through_ap_request() {
    let node_modules = lodger::devhost::default_node_modules();
    if let Some(why) = missing_prerequisite(&node_modules) {
        if std::env::var("LODGER_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!("browser test cannot run: {why}");
        }
        eprintln!("skipping the browser test: {why}");
        return;
    }
    let options = WorldOptions {
        app_port: 0,
        host_port: 0,
        node_modules,
        install_npm_packages: false,
        source_dir: None,
    };
    let world = start(&options).await.expect("the dev world starts");

    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let artifacts = root.join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let screenshot = artifacts.join("issue-page.png");
    let script = root.join("tools/devhost/browser-test.mjs");
    let issue_url = world.issue_url.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node").arg(script).arg(issue_url).arg(&screenshot).output().unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "browser test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(report["established"], true);
    assert_eq!(report["accountId"], world.site.users[0].account_id.as_str());

    // What the iframe wrote through AP.request is in the site.
    let data = world.site.data();
    let written = &data.app_properties[&("lodger".to_owned(), "browser-test".to_owned())];
    assert_eq!(written["written"], report["nonce"]);
    assert!(artifacts.join("issue-page.png").exists());
}
