//! The emulated Confluence's macro editors in Chromium (issue 16, item 4):
//! a Forge macro's `config` resource opened from the page's "Edit" button,
//! where the real `@forge/bridge`'s `view.submit({config})` stores what the
//! macro's next `getContext()` answers as `extension.config` and
//! `view.close()` closes the dialog (both refused from the macro itself);
//! and Confluence's generated parameter form for a Connect macro without an
//! `editor` (`tools/devhost/confluence-macro-forms-browser-test.mjs`).

mod support;

use std::path::PathBuf;
use std::sync::Arc;

use lodger::connect::installation::Product;
use lodger::dev::world::Sites;
use lodger::devhost::confluence::page_view;
use lodger::devhost::forge::install::install;
use serde_json::json;
use support::browser;
use support::forge_fixture::fixture_app;
use warp::Filter;
use warp::http::StatusCode;

/// The Forge fixture app with a `config` resource on its macro (the panel
/// resource again), its page bundled with the real `@forge/bridge`.
fn forge_fixture() -> PathBuf {
    let macro_title = "      title: \"Bridge fixture macro\"";
    let edit = |manifest: String| {
        assert!(manifest.contains(macro_title));
        manifest.replace("REMOTE_BASE_URL", "http://127.0.0.1:9").replace(
            macro_title,
            &format!("{macro_title}\n      config:\n        resource: \"panel\"\n        title: \"Edit the fixture\""),
        )
    };
    fixture_app("confluence-macro-forms", &edit, true)
}

/// A Connect app for Confluence with a macro that has parameters and no
/// editor; its descriptor URL.
async fn connect_app() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let descriptor = json!({
        "key": "com.example.status", "name": "Status", "baseUrl": base,
        "authentication": {"type": "jwt"},
        "apiMigrations": {"signed-install": true, "context-qsh": true},
        "lifecycle": {"installed": "/installed", "enabled": "/enabled", "uninstalled": "/uninstalled"},
        "scopes": ["READ"],
        "modules": {"dynamicContentMacros": [{
            "key": "status", "name": {"value": "Status"}, "url": "/status?colour={colour}",
            "parameters": [
                {"identifier": "label", "name": {"value": "Label"}, "type": "string", "required": true},
                {"identifier": "colour", "name": {"value": "Colour"}, "type": "enum", "values": ["green", "red"]},
                {"identifier": "big", "name": {"value": "Big"}, "type": "boolean"}
            ]
        }]},
    });
    let served = warp::get()
        .and(warp::path!("atlassian-connect.json"))
        .map(move || warp::reply::json(&descriptor));
    let lifecycle = warp::post().map(|| StatusCode::NO_CONTENT);
    let page = warp::get().map(|| warp::reply::html("<!doctype html><title>status</title>"));
    tokio::spawn(warp::serve(served.or(lifecycle).or(page)).incoming(listener).run());
    format!("{base}/atlassian-connect.json")
}

#[tokio::test]
async fn forge_macro_config_and_the_generated_form_save_from_the_page() {
    if !browser::ready() {
        return;
    }
    let sites = Sites::start(&support::dev_world::options()).await.unwrap();
    let site = Arc::clone(&sites.sites[0]);
    install(&sites.host, &site, &forge_fixture()).await.unwrap();
    let descriptor = connect_app().await;
    lodger::devhost::platform::install::install(
        &sites.host,
        &site,
        Product::Confluence,
        &descriptor,
    )
    .await
    .unwrap();
    let confluence_page = page_view::navigation(&site).remove(0).0;
    let report = browser::run(
        "tools/devhost/confluence-macro-forms-browser-test.mjs",
        vec![format!("{}{}", site.base_url, confluence_page)],
    )
    .await;

    assert_eq!(report["submitFromMacro"], false, "the macro itself is not submittable: {report:#}");
    assert_eq!(report["closeFromMacro"], false);
    let config_context = &report["configContext"];
    assert_eq!(config_context["extension"]["type"], "macro");
    assert!(config_context["extension"].get("config").is_none(), "nothing saved yet");
    assert!(report["submitUnwrapped"].as_str().unwrap().contains("{config"), "{report:#}");
    assert_eq!(report["submit"], true);
    assert_eq!(
        report["macroContextAfter"]["extension"]["config"],
        json!({"title": "From the config"})
    );
    assert_eq!(report["dialogsAfter"], 0);

    assert_eq!(report["formLabels"].as_array().unwrap().len(), 3, "{report:#}");
    assert_eq!(report["savedParameters"], json!({"label": "Done", "colour": "red", "big": "true"}));
}
