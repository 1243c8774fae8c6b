//! The emulated Confluence's fidelity (issue 16, item 4): Confluence's
//! conditions on the modules a page frames, a CQL subset for content
//! search, and macro bodies and generated parameter forms, each over HTTP
//! against an in-process site.

mod forge_support;

use forge_support::{World, send_json};
use lodger_connect::installation::Product;
use lodger_connect::jwt::{Claims, sign};
use lodger_connect::qsh::query_string_hash;
use lodger_devhost::confluence::page_view::framed_macros;
use lodger_devhost::inspector::exchanges::{Check, Selection};
use lodger_devhost::pages::confluence_page::page_modules;
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

/// Sets a content property on a seeded page, as the REST resource would.
fn set_property(world: &World, page: &str, key: &str, value: Value) {
    world.site.data().confluence.content_properties.insert(
        (page.into(), key.into()),
        lodger_devhost::confluence::data::ContentProperty { id: "1".into(), value, version: 1 },
    );
}

/// `GET /wiki/<path>?<query>` signed by the app (its JWT, qsh of the path
/// under the Confluence base URL); status and body.
async fn world_get(world: &World, path: &str, query: &str) -> (u16, Value) {
    let secret = world.site.data().confluence.installs[KEY].shared_secret.clone();
    let qsh = query_string_hash("GET", path, query);
    let token = sign(&Claims::new(KEY, lodger_connect::now(), 180, &qsh), &secret);
    let url = format!("{}/wiki{path}?{query}", world.base);
    let response =
        world.http.get(url).header("authorization", format!("JWT {token}")).send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn cql(query: &str) -> String {
    format!("cql={}", query.replace(' ', "%20").replace('=', "%3D").replace('~', "%7E"))
}

fn found(body: &Value) -> Vec<String> {
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn content_search_reads_a_cql_subset_over_the_seeded_pages() {
    let world = world_with(json!({})).await;
    let path = "/rest/api/content/search";
    let (status, body) =
        world_get(&world, path, &cql("type = page AND space = LOD ORDER BY title DESC")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(found(&body), ["Team checklist", "Onboarding", "Meeting notes"]);
    assert_eq!(body["results"][0]["space"]["key"], "LOD");

    let (_, body) =
        world_get(&world, path, &cql("title ~ notes OR (id = 65539 AND NOT type = blogpost)"))
            .await;
    assert_eq!(found(&body), ["Meeting notes", "Onboarding"]);

    let (_, body) =
        world_get(&world, path, &format!("{}&start=1&limit=1", cql("type = page"))).await;
    assert_eq!(found(&body), ["Meeting notes"]);
    assert_eq!(
        (body["start"].as_u64(), body["limit"].as_u64(), body["size"].as_u64()),
        (Some(1), Some(1), Some(1))
    );
    assert!(body["_links"]["next"].as_str().unwrap().contains("start=2"));

    let (_, body) = world_get(&world, "/rest/api/search", &cql("title = onboarding")).await;
    assert_eq!(body["results"][0]["content"]["id"], "65539");
    assert_eq!(body["totalSize"], 1);
}

#[tokio::test]
async fn content_search_answers_cql_it_cannot_read_with_confluences_400() {
    let world = world_with(json!({})).await;
    for bad in ["creator = currentUser()", "label = x", "type = page ORDER BY", "(type = page"] {
        let (status, body) = world_get(&world, "/rest/api/content/search", &cql(bad)).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["statusCode"], 400);
        assert!(body["message"].as_str().unwrap().contains("Could not parse cql"), "{body}");
    }
    let (status, _) = world_get(&world, "/rest/api/content/search", "").await;
    assert_eq!(status, 400, "cql is required");
}

#[tokio::test]
async fn content_properties_are_searchable_only_where_an_app_indexes_them() {
    let world = world_with(json!({"confluenceContentProperties": [{
        "key": "review-index",
        "name": {"value": "Review"},
        "keyConfigurations": [{"propertyKey": "review", "extractions": [
            {"objectName": "state", "type": "string", "alias": "reviewState"},
            {"objectName": "open", "type": "number"}
        ]}]
    }]}))
    .await;
    set_property(&world, "65537", "review", json!({"state": "open", "open": 3}));
    set_property(&world, "65538", "review", json!({"state": "done", "open": 0}));
    set_property(&world, "65538", "unindexed", json!({"state": "open"}));
    let path = "/rest/api/content/search";
    let (_, body) = world_get(&world, path, &cql("content.property[review].state = open")).await;
    assert_eq!(found(&body), ["Team checklist"]);
    let (_, body) =
        world_get(&world, path, &cql("reviewState in (open, done) order by id desc")).await;
    assert_eq!(found(&body), ["Meeting notes", "Team checklist"]);
    let (_, body) =
        world_get(&world, path, &format!("{}%3E%3D%201", cql("content.property[review].open ")))
            .await;
    assert_eq!(found(&body), ["Team checklist"]);
    let (status, body) =
        world_get(&world, path, &cql("content.property[unindexed].state = open")).await;
    assert_eq!((status, found(&body).len()), (200, 0), "nobody indexes it");
}

/// `PUT /wiki/dev/api/<what>` as `account`, naming the instance of `macro_key`.
async fn dev_put(
    world: &World,
    account: &str,
    what: &str,
    macro_key: &str,
    extra: Value,
) -> (u16, Value) {
    let mut body = json!({"addonKey": KEY, "moduleKey": macro_key, "contentId": PAGE_ID,
        "macroId": format!("{KEY}__{macro_key}")});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let request = world
        .http
        .put(format!("{}/wiki/dev/api/{what}", world.base))
        .header("cookie", format!("lodger_dev_user=557058:acme-{account}"));
    send_json(request, Some(body)).await
}

async fn entry(world: &World, macro_key: &str) -> Value {
    let page = world.site.data().confluence.page(PAGE_ID).unwrap();
    let entries = framed_macros(&world.site, &page, None);
    entries.into_iter().find(|e| e["moduleKey"] == macro_key).unwrap()
}

fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn a_macro_with_a_body_carries_it_to_its_url_and_to_get_macro_body() {
    let world = world_with(json!({"dynamicContentMacros": [
        {"key": "note", "name": {"value": "Note"}, "bodyType": "rich-text",
         "url": "/note?truncated={macro.truncated}&hash={macro.hash}&body={macro.body}"},
        {"key": "plain", "name": {"value": "Plain"}, "url": "/plain?body={macro.body}"}
    ]}))
    .await;
    let note = entry(&world, "note").await;
    let seeded = "<p>The body of this Note macro.</p>";
    assert_eq!(note["body"], seeded);
    let url = note["url"].as_str().unwrap();
    assert!(
        url.contains(&format!("truncated=false&hash={}&body=%3Cp%3E", sha256_hex(seeded))),
        "{url}"
    );
    assert_eq!(entry(&world, "plain").await["body"], Value::Null);
    assert!(
        entry(&world, "plain").await["url"].as_str().unwrap().contains("body=&"),
        "no body, empty variable"
    );

    let long = format!("<p>{}</p>", "word ".repeat(40));
    assert_eq!(dev_put(&world, "dev", "macro-body", "note", json!({"body": long})).await.0, 200);
    let note = entry(&world, "note").await;
    assert_eq!(note["body"], long.as_str());
    assert!(note["url"].as_str().unwrap().contains("truncated=true"));
    assert_eq!(dev_put(&world, "viewer", "macro-body", "note", json!({"body": "x"})).await.0, 403);
    assert_eq!(dev_put(&world, "dev", "macro-body", "plain", json!({"body": "x"})).await.0, 400);
}

#[tokio::test]
async fn a_macro_without_an_editor_gets_a_generated_form_whose_saves_are_checked() {
    let world = world_with(json!({"dynamicContentMacros": [{
        "key": "status", "name": {"value": "Status"}, "url": "/status?colour={colour}&big={big}",
        "parameters": [
            {"identifier": "label", "name": {"value": "Label"}, "type": "string", "required": true, "defaultValue": "Todo"},
            {"identifier": "colour", "name": {"value": "Colour"}, "type": "enum", "values": ["green", "red"]},
            {"identifier": "big", "name": {"value": "Big"}, "type": "boolean"}
        ]
    }]}))
    .await;
    let status = entry(&world, "status").await;
    assert_eq!(status["editor"]["macroId"], format!("{KEY}__status"), "an Edit button");
    let form = status["form"].as_array().unwrap();
    assert_eq!(form.len(), 3);
    assert_eq!(
        (form[1]["type"].as_str(), form[1]["values"].clone()),
        (Some("enum"), json!(["green", "red"]))
    );

    let bad = json!({"parameters": {"label": "Done", "colour": "blue"}});
    let (code, answer) = dev_put(&world, "dev", "macro-parameters", "status", bad).await;
    assert_eq!(code, 400, "{answer}");
    assert!(answer["message"].as_str().unwrap().contains("colour"));
    let missing = json!({"parameters": {"colour": "red"}});
    assert_eq!(dev_put(&world, "dev", "macro-parameters", "status", missing).await.0, 400);

    let good = json!({"parameters": {"label": "Done", "colour": "red", "big": "true"}});
    assert_eq!(dev_put(&world, "dev", "macro-parameters", "status", good).await.0, 200);
    let status = entry(&world, "status").await;
    assert_eq!(status["parameters"]["colour"], "red");
    assert!(status["url"].as_str().unwrap().contains("colour=red&big=true"));
}

/// A world with a Forge app whose `macro` names a `config` resource.
async fn forge_macro_world() -> (World, String) {
    let world = World::start().await;
    let remote = forge_support::Remote::start(200).await;
    let folder = std::env::temp_dir().join(format!("lodger-forge-macro-{}", std::process::id()));
    std::fs::create_dir_all(folder.join("static")).unwrap();
    std::fs::write(folder.join("static/index.html"), "<!doctype html><title>m</title>").unwrap();
    let manifest = format!(
        "app:
  id: {app}
  runtime: {{name: nodejs22.x}}
  compatibility: {{jira: {{required: true}}, confluence: {{required: false}}}}
modules:
  macro:
    - {{key: checklist, title: Checklist, resource: main, resolver: {{endpoint: ui}}, config: {{resource: editor, title: Edit checklist}}}}
  endpoint:
    - {{key: ui, remote: r, route: {{path: /forge/invoke}}, auth: {{appSystemToken: {{enabled: true}}}}}}
resources:
  - {{key: main, path: static}}
  - {{key: editor, path: static}}
remotes:
  - {{key: r, baseUrl: '{remote}', operations: [compute], auth: {{appSystemToken: {{enabled: true}}}}}}
permissions:
  scopes: [read:confluence-props]
",
        app = forge_support::APP,
        remote = remote.url
    );
    std::fs::write(folder.join("manifest.yml"), manifest).unwrap();
    lodger_devhost::forge::install::install(&world.host, &world.site, &folder).await.unwrap();
    (world, forge_support::APP.to_owned())
}

fn forge_macro(world: &World) -> Value {
    let page = world.site.data().confluence.page(PAGE_ID).unwrap();
    let user = world.site.user("557058:acme-dev");
    let modules = page_modules(&world.site, &page, user);
    modules.into_iter().find(|m| m["forge"] == true && m["moduleKey"] == "checklist").unwrap()
}

#[tokio::test]
async fn a_forge_macros_config_resource_opens_as_its_editor_and_its_submit_is_the_next_context() {
    let (world, app) = forge_macro_world().await;
    let before = forge_macro(&world);
    assert_eq!(before["editor"]["contentId"], PAGE_ID, "an Edit button");
    assert!(before["config"]["url"].as_str().unwrap().contains("/editor/"), "{before:#}");
    assert_eq!(before["context"]["extension"]["config"], Value::Null, "nothing saved yet");

    let put = |account: &'static str, payload: Value| {
        let body = json!({"appId": app, "moduleKey": "checklist", "contentId": PAGE_ID, "payload": payload});
        let request = world
            .http
            .put(format!("{}/wiki/dev/api/forge-macro-config", world.base))
            .header("cookie", format!("lodger_dev_user=557058:acme-{account}"))
            .header("content-type", "application/json")
            .body(body.to_string());
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(put("viewer", json!({"config": {"title": "Mine"}})).await, 403);
    assert_eq!(put("dev", json!({"title": "not wrapped"})).await, 400);
    assert_eq!(put("dev", json!({"config": {"title": "Mine"}})).await, 200);
    let after = forge_macro(&world);
    assert_eq!(after["context"]["extension"]["config"], json!({"title": "Mine"}));
}
