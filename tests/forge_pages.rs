//! Issue 15: the Forge flavour's issue panel in a real Chromium, from the
//! folder `lodger export --forge` writes, under the Content-Security-Policy
//! Forge gives Custom UI, with the real `@forge/bridge` (bundled) talking to
//! an in-frame fake of the host half of `globalThis.__bridge`
//! (`tools/devhost/forge-panel-smoke.mjs`). The full checklist browser test
//! against the emulated Custom UI host is a later step; this proves the
//! resource itself: the seam picks Forge, the panel writes the issue
//! property through `fetchProduct`, reads settings through `invoke`, and
//! breaks no CSP rule. Screenshot: `target/test-artifacts/forge-issue-panel.png`.

mod support;

use lodger::export::forge::{ForgeOptions, export};
use support::browser;
use support::nginx::tempdir;
use support::prerequisites::{Prerequisite, require};

const APP_ID: &str = "ari:cloud:ecosystem::app/8ab4c5e1-9d3f-4e2a-b1c0-123456789abc";

#[tokio::test]
async fn the_forge_issue_panel_saves_through_the_real_forge_bridge_under_custom_ui_csp() {
    if !browser::ready() || !require(Prerequisite::ForgeManifest) {
        return;
    }
    let temp = tempdir::Dir::new("forge-panel");
    let folder = temp.path().join("app");
    let options = ForgeOptions::new(APP_ID, "https://lodger.example.com", false).unwrap();
    export(&folder, &options).unwrap();
    let config = serde_json::json!({
        "resource": folder.join("resources/issue-panel"),
        "artifacts": browser::artifacts(),
    });
    let report =
        browser::run("tools/devhost/forge-panel-smoke.mjs", vec![config.to_string()]).await;
    assert_eq!(report["flavour"], "forge");
    let stored = &report["stored"];
    assert_eq!(stored["items"][0]["text"], "Write the release notes");
    assert_eq!(stored["items"][0]["doneBy"], "acc-ada", "ticked as the context's user");
    assert_eq!((stored["total"].as_u64(), stored["done"].as_u64()), (Some(1), Some(1)));
    assert_eq!(report["invokes"], serde_json::json!([{ "action": "getSettings" }]));
    let names: Vec<&str> =
        report["names"].as_array().unwrap().iter().map(|n| n.as_str().unwrap()).collect();
    for name in ["getContext", "fetchProduct", "invoke", "enableTheming", "emit", "on"] {
        assert!(names.contains(&name), "{name} not called: {names:?}");
    }
}
