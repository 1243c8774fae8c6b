//! The dev world's Confluence: beside Jira on each emulated site, under
//! `/wiki`, a tenant of its own (clientKey, installation, secret), with
//! versioned content properties and a page view that frames dynamic
//! content macros.
//!
//! Needs no npm packages: the emulated sites' REST API runs without
//! connect-js. The tests that open a product page that frames apps need
//! `npm ci --prefix tools/devhost` (`support::dev_world::pages`).

mod support;

use lodger::connect::installation::Product;
use lodger::connect::jwt::{Claims, Expectation, UnverifiedToken, sign};
use lodger::connect::qsh::{query_string_hash, relative_path};
use lodger::connect::secret::Secret;
use lodger::dev::world::World;
use lodger::devhost::platform::auth::APP_HEADER;
use lodger::devhost::site::{Role, Site};
use serde_json::{Value, json};
use support::dev_world::{pages, world};
use support::site_client::{http, json_of, session_cookie, user};
use warp::Filter;

fn confluence_secret(site: &Site, app: &str) -> Secret {
    site.data().confluence.installs[app].shared_secret.clone()
}

/// `Authorization` for `method path` (relative to `<site>/wiki`) signed as `app`.
fn signed(method: &str, path_and_query: &str, app: &str, secret: &Secret) -> String {
    let (path, query) = relative_path(path_and_query, "");
    let claims = Claims::new(app, lodger::now(), 60, &query_string_hash(method, path, query));
    format!("JWT {}", sign(&claims, secret))
}

/// Installs a small Confluence app with a dynamic content macro into the
/// main site's Confluence, through Confluence's UPM; returns its key.
async fn install_macro_app(world: &World) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let descriptor = json!({
        "key": "macro-test", "baseUrl": base, "authentication": {"type": "jwt"},
        "apiMigrations": {"signed-install": true, "context-qsh": true},
        "scopes": ["READ", "WRITE", "DELETE"],
        "lifecycle": {"installed": "/installed", "uninstalled": "/uninstalled"},
        "modules": {
            "dynamicContentMacros": [{
                "key": "counter", "name": {"value": "Counter"},
                "url": "/macro?page={content.id}&v={content.version}&space={space.key}&m={macro.id}",
                "parameters": []
            }]
        }
    });
    // The macro's page loads all.js from the site, as Connect apps do.
    let all_js = format!("{}/atlassian-connect/all.js", world.site.base_url);
    let macro_page = warp::path!("macro").map(move || {
        warp::reply::html(format!(
            "<!doctype html><html><body><p>counter</p><script src=\"{all_js}\"></script></body></html>"
        ))
    });
    let app = warp::path!("d.json")
        .map(move || warp::reply::json(&descriptor))
        .or(macro_page)
        .or(warp::post().map(|| warp::http::StatusCode::NO_CONTENT));
    tokio::spawn(warp::serve(app).incoming(listener).run());
    let site = &world.site;
    let wiki = site.base_url_of(Product::Confluence);
    let registration = lodger::host::upm::Registration {
        site: &wiki,
        user: &user(site, Role::SiteAdmin).email,
        token: &user(site, Role::SiteAdmin).api_token,
        descriptor_url: &format!("{base}/d.json"),
    };
    lodger::host::upm::register(&http(), &registration).await.unwrap()
}

#[tokio::test]
async fn lodger_confluence_installs_into_confluence_and_stores_its_credential_under_wiki() {
    let world = world().await;
    let data = world.site.data();
    let install = &data.confluence.installs["lodger.confluence"];
    assert!(install.enabled);
    assert_eq!(install.product, Product::Confluence);
    // Written by lodger's `installed` handler, signed with the Confluence
    // secret and a qsh relative to `<site>/wiki`.
    let stored = &data.confluence.app_properties
        [&("lodger.confluence".to_owned(), "lodger-installation".to_owned())];
    assert!(stored["credential"].as_str().unwrap().starts_with("v1."));
    // Jira's side knows nothing of the Confluence app, and the reverse.
    assert!(!data.installs.contains_key("lodger.confluence"));
    assert!(!data.confluence.installs.contains_key("lodger"));
    assert!(world.page_url.starts_with(&format!("{}/wiki/spaces/LOD/pages/", world.site.base_url)));
}

#[tokio::test]
async fn jira_and_confluence_are_separate_tenants_with_their_own_keys_and_secrets() {
    let world = world().await;
    let site = &world.site;
    assert!(site.client_key.starts_with("jira:acme-"));
    assert!(site.confluence_client_key.starts_with("confluence:acme-"));
    assert_ne!(site.client_key, site.confluence_client_key);
    let jira_secret = site.data().installs["lodger"].shared_secret.clone();
    assert_ne!(jira_secret, confluence_secret(site, "lodger.confluence"));
    // UPM lists per product.
    let list = |base: String| {
        let admin = &user(site, Role::SiteAdmin);
        http()
            .get(format!("{base}/rest/plugins/1.0/"))
            .basic_auth(&admin.email, Some(&admin.api_token))
            .send()
    };
    let (_, jira) = json_of(list(site.base_url.clone()).await.unwrap()).await;
    let (_, wiki) = json_of(list(site.base_url_of(Product::Confluence)).await.unwrap()).await;
    assert_eq!(jira["plugins"][0]["key"], "lodger");
    assert_eq!(wiki["plugins"][0]["key"], "lodger.confluence");
    assert_eq!(
        (jira["plugins"].as_array().unwrap().len(), wiki["plugins"].as_array().unwrap().len()),
        (1, 1)
    );
}

#[tokio::test]
async fn confluence_rest_refuses_a_token_signed_for_jira() {
    let world = world().await;
    let site = &world.site;
    let path = "/rest/atlassian-connect/1/addons/lodger.confluence/properties/lodger-installation";
    let url = format!("{}/wiki{path}", site.base_url);
    let jira_secret = site.data().installs["lodger"].shared_secret.clone();
    let wrong = http()
        .get(&url)
        .header("authorization", signed("GET", path, "lodger.confluence", &jira_secret))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(wrong).await;
    assert_eq!(status, 401);
    assert_eq!(body["statusCode"], 401, "Confluence's error shape: {body}");
    // Signed as Jira's app key: not an app of this Confluence.
    let as_jira_app = http()
        .get(format!("{}/wiki/rest/api/content/65537", site.base_url))
        .header("authorization", signed("GET", "/rest/api/content/65537", "lodger", &jira_secret))
        .send()
        .await
        .unwrap();
    assert_eq!(as_jira_app.status(), 401);
    // A qsh that includes `/wiki` is wrong: the app signs relative to its base URL.
    let secret = confluence_secret(site, "lodger.confluence");
    let with_wiki = http()
        .get(&url)
        .header(
            "authorization",
            signed("GET", &format!("/wiki{path}"), "lodger.confluence", &secret),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(with_wiki.status(), 401);
    let right = http()
        .get(&url)
        .header("authorization", signed("GET", path, "lodger.confluence", &secret))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(right).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["key"], "lodger-installation");
}

#[tokio::test]
async fn content_reads_as_a_page_of_space_lod() {
    let world = world().await;
    let site = &world.site;
    let secret = confluence_secret(site, "lodger.confluence");
    let get = |id: &'static str| {
        let path = format!("/rest/api/content/{id}");
        http()
            .get(format!("{}/wiki{path}", site.base_url))
            .header("authorization", signed("GET", &path, "lodger.confluence", &secret))
            .send()
    };
    let (status, page) = json_of(get("65537").await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!((page["type"].as_str(), page["space"]["key"].as_str()), (Some("page"), Some("LOD")));
    assert_eq!(page["version"]["number"], 1);
    assert!(page["title"].is_string());
    let (status, body) = json_of(get("1").await.unwrap()).await;
    assert_eq!((status, body["statusCode"].as_u64()), (404, Some(404)));
}

#[tokio::test]
async fn content_properties_are_versioned_and_refuse_stale_writes() {
    let world = world().await;
    let key = install_macro_app(&world).await;
    let site = &world.site;
    let secret = confluence_secret(site, &key);
    let send = |method: &'static str, path: String, body: Option<Value>| {
        let url = format!("{}/wiki{path}", site.base_url);
        let auth = signed(method, &path, &key, &secret);
        let mut request = http()
            .request(method.parse().unwrap(), url)
            .header("authorization", auth)
            .header("content-type", "application/json");
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        async move { json_of(request.send().await.unwrap()).await }
    };
    let list = "/rest/api/content/65537/property".to_owned();
    let one = |k: &str| format!("/rest/api/content/65537/property/{k}");

    let (status, _) = send("GET", one("counter"), None).await;
    assert_eq!(status, 404);
    let (status, created) =
        send("POST", list.clone(), Some(json!({"key": "counter", "value": {"n": 1}}))).await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["version"]["number"], 1);
    let (status, _) =
        send("POST", list.clone(), Some(json!({"key": "counter", "value": {"n": 9}}))).await;
    assert_eq!(status, 409, "a second create of the same key conflicts");

    let update = |n: u64, version: u64| {
        send(
            "PUT",
            one("counter"),
            Some(json!({"key": "counter", "value": {"n": n}, "version": {"number": version}})),
        )
    };
    let (status, updated) = update(2, 2).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        (updated["version"]["number"].as_u64(), updated["value"]["n"].as_u64()),
        (Some(2), Some(2))
    );
    // Another writer who read version 1 loses, loudly.
    let (status, conflict) = update(3, 2).await;
    assert_eq!(status, 409);
    assert!(conflict["message"].as_str().unwrap().contains("ConflictException"), "{conflict}");
    let (_, read) = send("GET", one("counter"), None).await;
    assert_eq!((read["key"].as_str(), read["value"]["n"].as_u64()), (Some("counter"), Some(2)));
    assert_eq!(read["version"]["number"], 2);

    // PUT with version 1 creates an absent property; a higher one does not.
    let (status, _) =
        send("PUT", one("fresh"), Some(json!({"value": [], "version": {"number": 3}}))).await;
    assert_eq!(status, 404);
    let (status, fresh) =
        send("PUT", one("fresh"), Some(json!({"value": [], "version": {"number": 1}}))).await;
    assert_eq!((status, fresh["version"]["number"].as_u64()), (200, Some(1)));

    // Limits: values up to 32 KB, keys up to 255 characters.
    let big = "x".repeat(33 * 1024);
    let (status, _) = send("POST", list.clone(), Some(json!({"key": "big", "value": big}))).await;
    assert_eq!(status, 413);
    let (status, _) =
        send("POST", list.clone(), Some(json!({"key": "k".repeat(256), "value": 1}))).await;
    assert_eq!(status, 400);

    let (status, _) = send("DELETE", one("counter"), None).await;
    assert_eq!(status, 204);
    let (status, _) = send("GET", one("counter"), None).await;
    assert_eq!(status, 404);
    let (_, all) = send("GET", list, None).await;
    assert_eq!(all["results"][0]["key"], "fresh");
}

#[tokio::test]
async fn content_properties_are_written_as_the_user_through_the_app() {
    let world = world().await;
    let key = install_macro_app(&world).await;
    let site = &world.site;
    let url = format!("{}/wiki/rest/api/content/65538/property/seen", site.base_url);
    let cookie = session_cookie(&user(site, Role::User).account_id);
    // What AP.confluence.setContentProperty sends.
    let put = http()
        .put(&url)
        .header("cookie", &cookie)
        .header(APP_HEADER, &key)
        .header("content-type", "application/json")
        .body(json!({"key": "seen", "value": true, "version": {"number": 1}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    // A Jira app's name does not open Confluence.
    let as_jira_app = http()
        .get(&url)
        .header("cookie", &cookie)
        .header(APP_HEADER, "lodger")
        .send()
        .await
        .unwrap();
    assert_eq!(as_jira_app.status(), 403);
}

#[tokio::test]
async fn the_page_view_frames_the_macro_with_page_variables_and_a_confluence_signed_jwt() {
    if !pages() {
        return;
    }
    let world = world().await;
    let key = install_macro_app(&world).await;
    let site = &world.site;
    let page = http().get(&world.page_url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("emulated Confluence Cloud") && page.contains("Team checklist"));
    let start = page.find(r#"type="application/json">"#).unwrap() + 24;
    let end = start + page[start..].find("</script>").unwrap();
    let view: Value = serde_json::from_str(&page[start..end].replace("<\\/", "</")).unwrap();
    assert_eq!(view["site"]["product"], "confluence");
    assert_eq!(view["site"]["baseUrl"], format!("{}/wiki", site.base_url));
    let modules = view["modules"].as_array().unwrap();
    let module = modules
        .iter()
        .find(|m| m["addonKey"] == key.as_str())
        .unwrap_or_else(|| panic!("the test app's macro is framed: {modules:?}"));
    assert_eq!(
        (module["addonKey"].as_str(), module["moduleKey"].as_str()),
        (Some(key.as_str()), Some("counter"))
    );
    let url = module["url"].as_str().unwrap();
    let macro_id = format!("{key}__counter");
    for part in ["page=65537", "v=1", "space=LOD", &format!("m={macro_id}"), "cp=%2Fwiki", "&jwt="]
    {
        assert!(url.contains(part), "{part} missing from {url}");
    }
    let base = url.split("/macro").next().unwrap();
    let (path, query) = relative_path(url, base);
    let token = url.rsplit_once("jwt=").unwrap().1;
    let claims = UnverifiedToken::parse(token)
        .unwrap()
        .verify(
            &confluence_secret(site, &key),
            &Expectation::request(&query_string_hash("GET", path, query), lodger::now()),
        )
        .unwrap();
    assert_eq!(claims.iss, site.confluence_client_key);
    let context = claims.context.unwrap();
    assert_eq!(context["confluence"]["content"]["id"], "65537");
    assert_eq!(context["confluence"]["space"]["key"], "LOD");
    assert_eq!(context["confluence"]["macro"]["id"], macro_id.as_str());

    // AP.context.getToken from the macro: signed with the Confluence secret.
    let token = http()
        .post(format!("{}/dev/api/context-token", site.base_url))
        .header("cookie", session_cookie(&user(site, Role::User).account_id))
        .header("content-type", "application/json")
        .body(
            json!({"addonKey": key, "product": "confluence", "context": module["context"]})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    let (status, token) = json_of(token).await;
    assert_eq!(status, 200, "{token}");
    let claims = UnverifiedToken::parse(token["token"].as_str().unwrap())
        .unwrap()
        .verify(
            &confluence_secret(site, &key),
            &Expectation::context_or_request("unused", lodger::now()),
        )
        .unwrap();
    assert_eq!(claims.context.unwrap()["confluence"]["macro"]["id"], macro_id.as_str());
}

#[tokio::test]
async fn ap_confluence_reads_and_writes_content_properties_from_a_macro_in_a_real_browser() {
    if !support::browser::ready() {
        return;
    }
    let world = world().await;
    let key = install_macro_app(&world).await;
    let report = support::browser::run(
        "tools/devhost/confluence-browser-test.mjs",
        vec![world.page_url.clone(), "counter".to_owned()],
    )
    .await;
    assert_eq!(report["error"], Value::Null, "{report}");
    assert_eq!(report["created"]["version"]["number"], 1, "{report}");
    assert_eq!(report["read"]["value"]["n"], 1, "{report}");
    assert_eq!(report["stale"]["status"], 409, "{report}");
    let claims = UnverifiedToken::parse(report["token"].as_str().unwrap())
        .unwrap()
        .verify(
            &confluence_secret(&world.site, &key),
            &Expectation::context_or_request("-", lodger::now()),
        )
        .unwrap();
    assert_eq!(claims.context.unwrap()["confluence"]["macro"]["id"], format!("{key}__counter"));
    let data = world.site.data();
    let stored =
        &data.confluence.content_properties[&("65537".to_owned(), "from-browser".to_owned())];
    assert_eq!(stored.value["n"], 1);
}
