//! lodger's settings pages in a real browser, with the dev host features
//! they rely on: the project template tab (project admins save, others are
//! refused), the site settings page, the Confluence macro editor (the macro
//! is framed again with its new title), and the dark theme reaching an app
//! iframe through `AP.theming`. Screenshots go to `target/test-artifacts/`
//! (`project-template.png`, `admin.png`, `macro-editor.png`), and to `docs/`
//! for the README when `LODGER_UPDATE_SCREENSHOTS=1`.
//!
//! Needs Node.js, `npm ci --prefix tools/devhost` and Debian's `chromium`;
//! without them it fails naming what to install, or is counted as a skip
//! under `tools/test --allow-skips` (`support::prerequisites`).

mod support;

use serde_json::{Value, json};

#[tokio::test]
async fn settings_pages_macro_editor_and_dark_theme_work_in_a_real_browser() {
    if !support::browser::ready() {
        return;
    }
    let world = support::dev_world::world().await;
    let site = &world.site;
    let root = support::browser::root();
    let account = |name: &str| {
        site.users
            .iter()
            .find(|u| u.email.starts_with(&format!("{name}@")))
            .unwrap()
            .account_id
            .clone()
    };
    let config = json!({
        "base": site.base_url,
        "pageUrl": world.page_url,
        "artifacts": support::browser::artifacts(),
        "docs": support::browser::docs_to_update(),
        "appKey": "lodger",
        "users": {"admin": account("admin"), "lead": account("lead"), "dev": account("dev")},
    });
    let report =
        support::browser::run("tools/devhost/pages-browser-test.mjs", vec![config.to_string()])
            .await;

    // 1. The template the project admin saved is the project's property.
    let data = site.data();
    let template = &data.project_properties[&("10000".to_owned(), "lodger-template".to_owned())];
    assert_eq!(
        *template,
        json!({"v": 1, "items": [{"text": "Tell support"}, {"text": "Update the docs and the changelog"}]})
    );
    // 2. A plain user may not open the project settings, nor save from them.
    assert_eq!(report["plainUserStatus"], 403, "{report}");
    let refused = report["refusedSave"].as_str().unwrap_or_default();
    assert!(refused.contains("only administrators of this project"), "{report}");
    assert_eq!(report["readOnlyForPlainUser"], true, "{report}");
    // 3. The site admin's change reached the server and the host.
    assert_eq!(report["settingsError"], Value::Null, "the settings page failed: {report}");
    assert_eq!(report["showWhoTicked"], false, "{report}");
    let settings = &data.app_properties[&("lodger".to_owned(), "lodger-settings".to_owned())];
    assert_eq!(settings["settings"]["showWhoTicked"], false, "{settings}");
    // 4. The macro editor saved the title; the macro is framed with it.
    assert_eq!(report["editorStartedWith"], "Checklist");
    let key = ("65537".to_owned(), "lodger.confluence__checklist".to_owned());
    assert_eq!(data.confluence.macro_parameters[&key]["title"], "Release checklist");
    assert!(
        report["macroUrl"].as_str().unwrap().contains("title=Release%20checklist&"),
        "{report}"
    );
    // 5. The dark theme reached the iframe.
    assert_eq!(
        (report["hostTheme"].as_str(), report["frameTheme"].as_str()),
        (Some("dark"), Some("dark"))
    );
    for shot in ["project-template.png", "admin.png", "macro-editor.png"] {
        assert!(root.join("target/test-artifacts").join(shot).exists(), "{shot}");
    }
}
