//! The emulated Confluence's fidelity (issue 16, item 4): Confluence's
//! conditions on the modules a page frames, a CQL subset for content
//! search, and macro bodies and generated parameter forms, each over HTTP
//! against an in-process site.

mod forge_support;

use forge_support::World;
use lodger_connect::installation::Product;
use lodger_devhost::confluence::page_view::framed_macros;
use lodger_devhost::inspector::exchanges::{Check, Selection};
use lodger_devhost::platform::install;
use serde_json::{Value, json};
use warp::Filter;
use warp::http::StatusCode;

const KEY: &str = "com.example.wiki";
const PAGE_ID: &str = "65537";

/// A Connect app for Confluence on a loopback port, with these modules and
/// lifecycle routes that answer 204; its base URL.
async fn connect_app(modules: Value) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let descriptor = json!({
        "key": KEY,
        "name": "Wiki app",
        "baseUrl": base,
        "authentication": {"type": "jwt"},
        "apiMigrations": {"signed-install": true, "context-qsh": true},
        "lifecycle": {"installed": "/installed", "enabled": "/enabled", "uninstalled": "/uninstalled"},
        "scopes": ["READ", "WRITE"],
        "modules": modules,
    });
    let served = warp::get()
        .and(warp::path!("atlassian-connect.json"))
        .map(move || warp::reply::json(&descriptor));
    let lifecycle = warp::post()
        .and(warp::path!("installed").or(warp::path!("enabled")).unify())
        .map(|| StatusCode::NO_CONTENT);
    tokio::spawn(warp::serve(served.or(lifecycle)).incoming(listener).run());
    base
}

/// A world with the app installed in its Confluence.
async fn world_with(modules: Value) -> World {
    let world = World::start().await;
    let app = connect_app(modules).await;
    let url = format!("{app}/atlassian-connect.json");
    install::install(&world.host, &world.site, Product::Confluence, &url).await.unwrap();
    world
}

fn macro_with(key: &str, conditions: Value) -> Value {
    json!({"key": key, "name": {"value": key}, "url": format!("/{key}"), "conditions": conditions})
}

/// The keys of the macros the page view frames for `account` (`None`:
/// anonymous), as the view's entries list them (the page's HTML needs
/// connect-js, which these tests do not install).
async fn page_view(world: &World, account: Option<&str>) -> Vec<String> {
    let page = world.site.data().confluence.page(PAGE_ID).unwrap();
    let user = account.and_then(|a| world.site.user(&format!("557058:acme-{a}")));
    assert_eq!(user.is_some(), account.is_some());
    framed_macros(&world.site, &page, user)
        .iter()
        .map(|entry| entry["moduleKey"].as_str().unwrap().to_owned())
        .collect()
}

fn framed(keys: &[String], macro_key: &str) -> bool {
    keys.iter().any(|k| k == macro_key)
}

#[tokio::test]
async fn confluence_conditions_decide_which_macros_a_page_frames() {
    let world = world_with(json!({"dynamicContentMacros": [
        macro_with("admins", json!([{"condition": "user_is_confluence_administrator"}])),
        macro_with("editors", json!([{"condition": "has_page_permission", "params": {"permission": "EDIT"}}])),
        macro_with("flagged", json!([{"condition": "content_property_equal_to",
            "params": {"propertyKey": "review", "objectName": "state", "value": "open"}}])),
        macro_with("unknown", json!([{"condition": "favourite_page"}])),
        macro_with("always", json!([{"condition": "viewing_content"}])),
    ]}))
    .await;
    let admin = page_view(&world, Some("admin")).await;
    assert!(framed(&admin, "admins") && framed(&admin, "editors") && framed(&admin, "always"));
    assert!(!framed(&admin, "flagged"), "no content property yet");
    assert!(!framed(&admin, "unknown"), "a condition the emulator cannot answer hides");
    let viewer = page_view(&world, Some("viewer")).await;
    assert!(!framed(&viewer, "admins") && !framed(&viewer, "editors"));
    assert!(framed(&viewer, "always"));

    world.site.data().confluence.content_properties.insert(
        ("65537".into(), "review".into()),
        lodger_devhost::confluence::data::ContentProperty {
            id: "1".into(),
            value: json!({"state": "open"}),
            version: 1,
        },
    );
    assert!(framed(&page_view(&world, None).await, "flagged"));
}

#[tokio::test]
async fn a_macro_hidden_by_a_confluence_condition_is_recorded_with_it() {
    let condition = json!({"condition": "user_is_admin"});
    let world =
        world_with(json!({"dynamicContentMacros": [macro_with("admins", json!([condition]))]}))
            .await;
    assert!(!framed(&page_view(&world, Some("dev")).await, "admins"));
    let selection = Selection { app: Some(KEY.into()), ..Selection::default() };
    let recorded = world.site.exchanges().newest_first(&selection);
    let hidden = recorded.iter().find_map(|e| e.refusal.as_ref()).unwrap();
    assert_eq!(hidden.check, Check::ConditionFalse);
    assert_eq!(hidden.condition, Some(condition));
}
