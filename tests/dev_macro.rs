//! The dev world's Confluence macro parameters and macro editor, the
//! Confluence user resource, and the product pages' theme toggle.
//!
//! lodger's own Confluence app (`lodger.confluence`) declares the
//! `checklist` macro with a `title` parameter (default "Checklist") and an
//! `editor`; these tests drive the host side of that through HTTP, as the
//! page's script does. The browser half is `tests/browser_pages.rs`.
//!
//! Needs no npm packages: the emulated sites' REST API runs without
//! connect-js. The tests that open a product page that frames apps need
//! `npm ci --prefix tools/devhost` (`support::dev_world::pages`).

mod support;

use lodger::connect::jwt::{Claims, Expectation, UnverifiedToken, sign};
use lodger::connect::qsh::{query_string_hash, relative_path};
use lodger::dev::world::World;
use lodger::devhost::platform::auth::ANONYMOUS;
use lodger::devhost::platform::auth::APP_HEADER;
use lodger::devhost::site::Role;
use serde_json::{Value, json};
use support::dev_world::{pages, world};
use support::site_client::{http, json_of, session_cookie, user};

const APP: &str = "lodger.confluence";
const MACRO: &str = "checklist";

fn cookie(world: &World, role: Role) -> String {
    session_cookie(&user(&world.site, role).account_id)
}

/// The view JSON the page hands to host.js.
async fn view(world: &World) -> Value {
    let page = http()
        .get(&world.page_url)
        .header("cookie", cookie(world, Role::ProjectAdmin))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = page.find(r#"type="application/json">"#).unwrap() + 24;
    let end = start + page[start..].find("</script>").unwrap();
    serde_json::from_str(&page[start..end].replace("<\\/", "</")).unwrap()
}

fn checklist_macro(view: &Value) -> Value {
    view["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["addonKey"] == APP && m["moduleKey"] == MACRO)
        .cloned()
        .unwrap_or_else(|| panic!("lodger's checklist macro is on the page: {view}"))
}

/// Verifies a framed URL's jwt with the Confluence installation's secret.
fn verified(world: &World, url: &str) -> Claims {
    let secret = world.site.data().confluence.installs[APP].shared_secret.clone();
    let base = world.site.data().confluence.installs[APP].app_base_url.clone();
    let (path, query) = relative_path(url, &base);
    let token = url.rsplit_once("jwt=").unwrap().1;
    UnverifiedToken::parse(token)
        .unwrap()
        .verify(
            &secret,
            &Expectation::request(&query_string_hash("GET", path, query), lodger::now()),
        )
        .unwrap()
}

async fn editor(world: &World, user: Option<Role>, instance: &Value) -> (u16, Value) {
    let mut request = http()
        .post(format!("{}/wiki/dev/api/macro-editor", world.site.base_url))
        .header("content-type", "application/json")
        .body(instance.to_string());
    request = match user {
        Some(user) => request.header("cookie", cookie(world, user)),
        None => request.header("cookie", session_cookie(ANONYMOUS)),
    };
    json_of(request.send().await.unwrap()).await
}

async fn save(world: &World, user: Role, instance: &Value, parameters: Value) -> (u16, Value) {
    let mut body = instance.clone();
    body["parameters"] = parameters;
    let response = http()
        .put(format!("{}/wiki/dev/api/macro-parameters", world.site.base_url))
        .header("cookie", cookie(world, user))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    json_of(response).await
}

#[tokio::test]
async fn a_macro_starts_with_its_default_parameters_substituted_into_its_url() {
    if !pages() {
        return;
    }
    let world = world().await;
    let module = checklist_macro(&view(&world).await);
    assert_eq!(module["parameters"], json!({"title": "Checklist"}));
    let url = module["url"].as_str().unwrap();
    assert!(url.contains("title=Checklist&"), "{url}");
    assert!(!url.contains("{title}"), "{url}");
    verified(&world, url);
    assert_eq!(module["editor"]["macroId"], format!("{APP}__{MACRO}"));
}

#[tokio::test]
async fn the_editor_opens_signed_with_the_macro_context_and_a_save_rerenders_the_macro() {
    if !pages() {
        return;
    }
    let world = world().await;
    let module = checklist_macro(&view(&world).await);
    let mut instance = module["editor"].clone();
    instance["addonKey"] = json!(APP);
    instance["moduleKey"] = json!(MACRO);

    let (status, opened) = editor(&world, Some(Role::ProjectAdmin), &instance).await;
    assert_eq!(status, 200, "{opened}");
    assert_eq!(opened["title"], "Edit checklist");
    assert_eq!(opened["parameters"], json!({"title": "Checklist"}));
    let url = opened["url"].as_str().unwrap();
    assert!(url.contains("/confluence/macro-editor.html?"), "{url}");
    let claims = verified(&world, url);
    assert_eq!(
        claims.sub.as_deref(),
        Some(user(&world.site, Role::ProjectAdmin).account_id.as_str())
    );
    assert_eq!(claims.context.unwrap()["confluence"]["macro"]["id"], format!("{APP}__{MACRO}"));

    // What saveMacro stores; the page frames the macro with it, encoded.
    let (status, stored) =
        save(&world, Role::ProjectAdmin, &instance, json!({"title": "Ship it & go"})).await;
    assert_eq!(status, 200, "{stored}");
    let module = checklist_macro(&view(&world).await);
    assert_eq!(module["parameters"], json!({"title": "Ship it & go"}));
    let url = module["url"].as_str().unwrap();
    assert!(url.contains("title=Ship%20it%20%26%20go&"), "{url}");
    verified(&world, url);
    let (_, reopened) = editor(&world, Some(Role::ProjectAdmin), &instance).await;
    assert_eq!(reopened["parameters"], json!({"title": "Ship it & go"}));
}

#[tokio::test]
async fn only_people_who_may_edit_the_page_open_the_editor_or_save() {
    let world = world().await;
    let instance = json!({"addonKey": APP, "moduleKey": MACRO, "contentId": "65537", "macroId": format!("{APP}__{MACRO}")});
    assert_eq!(editor(&world, None, &instance).await.0, 401);
    assert_eq!(editor(&world, Some(Role::Viewer), &instance).await.0, 403, "a viewer");
    assert_eq!(save(&world, Role::Viewer, &instance, json!({"title": "x"})).await.0, 403);
    let mut elsewhere = instance.clone();
    elsewhere["macroId"] = json!("someone-else__macro");
    assert_eq!(editor(&world, Some(Role::User), &elsewhere).await.0, 404);
    assert_eq!(save(&world, Role::User, &instance, json!({"title": {"nested": 1}})).await.0, 400);
    assert!(world.site.data().confluence.macro_parameters.is_empty());
}

#[tokio::test]
async fn confluence_answers_who_an_account_id_is() {
    let world = world().await;
    let site = &world.site;
    let secret = site.data().confluence.installs[APP].shared_secret.clone();
    let account = user(site, Role::User).account_id.clone();
    let path = format!("/rest/api/user?accountId={}", account.replace(':', "%3A"));
    let (p, q) = relative_path(&path, "");
    let claims = Claims::new(APP, lodger::now(), 60, &query_string_hash("GET", p, q));
    let response = http()
        .get(format!("{}/wiki{path}", site.base_url))
        .header("authorization", format!("JWT {}", sign(&claims, &secret)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let user: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(user["accountId"], account.as_str());
    assert_eq!(user["displayName"], "Dev Eloper");
    assert_eq!(user["publicName"], "Dev Eloper");
    assert_eq!(user["type"], "known");

    // As the user through the app (AP.request), and an unknown id.
    let unknown = http()
        .get(format!("{}/wiki/rest/api/user?accountId=557058%3Anobody", site.base_url))
        .header("cookie", cookie(&world, Role::User))
        .header(APP_HEADER, APP)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let anonymous = http()
        .get(format!("{}/wiki/rest/api/user?accountId=x", site.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn every_product_page_has_the_theme_toggle_and_the_edit_button_where_a_macro_has_an_editor() {
    if !pages() {
        return;
    }
    let world = world().await;
    for url in [&world.page_url, &world.issue_url] {
        let page = http().get(url).send().await.unwrap().text().await.unwrap();
        assert!(page.contains(r#"<script src="/dev/static/theme.js"></script>"#), "{url}");
        assert!(page.contains(r#"id="theme-toggle""#), "{url}");
    }
    let page = http().get(&world.page_url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"class="macro-edit""#));
    let theme =
        http().get(format!("{}/dev/static/theme.js", world.site.base_url)).send().await.unwrap();
    assert_eq!(theme.status(), 200);
    assert!(theme.text().await.unwrap().contains("data-color-mode"));
}
