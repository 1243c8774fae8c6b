//! The dev world: lodger and the emulated Jira site together over loopback,
//! installed through UPM, exactly as `cargo run` starts them.
//!
//! Needs no npm packages: the emulated sites' REST API runs without
//! connect-js. The tests that open a product page that frames apps need
//! `npm ci --prefix tools/devhost` (`support::dev_world::pages`).

mod support;

use std::sync::Arc;

use base64::Engine;
use lodger::connect::jwt::{Expectation, UnverifiedToken};
use lodger::connect::qsh::{CONTEXT_QSH, query_string_hash, relative_path};
use lodger::dev::world::World;
use lodger::devhost::platform::auth::APP_HEADER;
use lodger::devhost::site::{Role, Site};
use serde_json::{Value, json};
use support::dev_world::{pages, world};
use support::eventually;
use support::site_client::{http, json_of, session_cookie, user};
use warp::Filter;

fn admin_basic(site: &Site) -> String {
    let admin = &user(site, Role::SiteAdmin);
    let pair = format!("{}:{}", admin.email, admin.api_token);
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
}

fn secret_of(site: &Site, app: &str) -> lodger::connect::secret::Secret {
    site.data().installs[app].shared_secret.clone()
}

#[tokio::test]
async fn installs_through_upm_and_the_app_stores_its_sealed_credential_in_the_site() {
    let world = world().await;
    let data = world.site.data();
    let install = &data.installs["lodger"];
    assert!(install.enabled);
    assert_eq!(install.scopes, ["READ", "WRITE"]);
    let stored = &data.app_properties[&("lodger".to_owned(), "lodger-installation".to_owned())];
    let credential = stored["credential"].as_str().unwrap();
    assert!(credential.starts_with("v1."));
    assert!(!credential.contains(install.shared_secret.expose()));
}

#[tokio::test]
async fn the_issue_page_frames_the_panel_with_a_url_the_app_accepts() {
    if !pages() {
        return;
    }
    let world = world().await;
    let page = http().get(&world.issue_url).send().await.unwrap().text().await.unwrap();
    let start = page.find(r#"type="application/json">"#).unwrap() + 24;
    let end = start + page[start..].find("</script>").unwrap();
    let view: Value = serde_json::from_str(&page[start..end].replace("<\\/", "</")).unwrap();
    let modules = view["modules"].as_array().unwrap();
    let module = modules
        .iter()
        .find(|m| m["addonKey"] == "lodger" && m["moduleKey"] == "checklist-panel")
        .unwrap_or_else(|| panic!("the checklist panel is framed: {modules:?}"));
    let url = module["url"].as_str().unwrap();
    for part in ["issueKey=LOD-1", "issueId=", "xdm_e=", "xdm_c=", "cp=", "loc=", "tz=", "&jwt="] {
        assert!(url.contains(part), "{part} missing from {url}");
    }
    // lodger enables licensing, so the host says whether the license is active.
    assert!(url.contains("lic=active"), "{url}");
    // The jwt is signed with the installation's secret for exactly this URL.
    let (path, query) = relative_path(url, &world.app_url);
    let token = url.rsplit_once("jwt=").unwrap().1;
    let claims = UnverifiedToken::parse(token)
        .unwrap()
        .verify(
            &secret_of(&world.site, "lodger"),
            &Expectation::request(&query_string_hash("GET", path, query), lodger::now()),
        )
        .unwrap();
    assert_eq!(claims.sub.as_deref(), Some(user(&world.site, Role::SiteAdmin).account_id.as_str()));
    assert_eq!(claims.context.unwrap()["jira"]["issue"]["key"], "LOD-1");
    // And the app serves the page the URL names.
    assert_eq!(http().get(url).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn a_page_round_trip_reads_the_credential_as_the_user_and_calls_the_app() {
    let world = world().await;
    let site = &world.site;
    let cookie = session_cookie(&user(site, Role::User).account_id);
    // What AP.request does for the panel: the user's session, through the app.
    let property = http()
        .get(format!(
            "{}/rest/atlassian-connect/1/addons/lodger/properties/lodger-installation",
            site.base_url
        ))
        .header("cookie", &cookie)
        .header(APP_HEADER, "lodger")
        .send()
        .await
        .unwrap();
    let (status, property) = json_of(property).await;
    assert_eq!(status, 200);
    // The same cookie without the product page's header is refused: another
    // page on the same machine cannot ride the session.
    let forged = http()
        .get(format!(
            "{}/rest/atlassian-connect/1/addons/lodger/properties/lodger-installation",
            site.base_url
        ))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    // What AP.context.getToken does.
    let token = http()
        .post(format!("{}/dev/api/context-token", site.base_url))
        .header("cookie", &cookie)
        .header("content-type", "application/json")
        .body(
            json!({"addonKey": "lodger", "context": {"jira": {"issue": {"key": "LOD-2"}}}})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    let (_, token) = json_of(token).await;
    let token = token["token"].as_str().unwrap();
    let (header, claims) = lodger::connect::jwt::inspect(token).unwrap();
    assert_eq!(
        (header["alg"].as_str(), claims["qsh"].as_str()),
        (Some("HS256"), Some(CONTEXT_QSH))
    );
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 900);
    // The host states the context: the project comes from the issue it knows.
    assert_eq!(claims["context"]["jira"]["project"]["key"], "LOD");
    // The page then calls the app with both.
    let whoami = http()
        .get(format!("{}/api/whoami", world.app_url))
        .header("authorization", format!("JWT {token}"))
        .header("x-lodger-installation", property["value"]["credential"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let (status, whoami) = json_of(whoami).await;
    assert_eq!(status, 200, "{whoami}");
    assert_eq!(whoami["accountId"], user(site, Role::User).account_id.as_str());
    assert_eq!(whoami["context"]["jira"]["issue"]["key"], "LOD-2");
}

#[tokio::test]
async fn rest_refuses_unsigned_wrongly_signed_and_out_of_scope_calls() {
    let world = world().await;
    let site = &world.site;
    let path = "/rest/atlassian-connect/1/addons/lodger/properties/probe";
    let url = format!("{}{path}", site.base_url);
    let unsigned = http().put(&url).body("{}").send().await.unwrap();
    assert_eq!(unsigned.status(), 401);
    let sign = |method: &str, secret: &str| {
        let claims = lodger::connect::jwt::Claims::new(
            "lodger",
            lodger::now(),
            60,
            &query_string_hash(method, path, ""),
        );
        lodger::connect::jwt::sign(&claims, &lodger::connect::secret::Secret::new(secret))
    };
    let forged = http()
        .put(&url)
        .header("authorization", format!("JWT {}", sign("PUT", "guess")))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    let secret = secret_of(site, "lodger");
    let good = http()
        .put(&url)
        .header("authorization", format!("JWT {}", sign("PUT", secret.expose())))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(good.status(), 201);
    // The descriptor asks for READ and WRITE only: no DELETE.
    let delete = http()
        .delete(&url)
        .header("authorization", format!("JWT {}", sign("DELETE", secret.expose())))
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), 403);
    // A token for PUT does not work for another method.
    let replay = http()
        .delete(&url)
        .header("authorization", format!("JWT {}", sign("PUT", secret.expose())))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 401);
}

#[tokio::test]
async fn upm_refuses_bad_credentials_bad_tokens_and_bad_descriptors_and_installs_nothing() {
    let world = world().await;
    let site = &world.site;
    let upm = format!("{}/rest/plugins/1.0/", site.base_url);
    assert_eq!(http().get(&upm).send().await.unwrap().status(), 401);
    let plain_user = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            user(site, Role::User).email,
            user(site, Role::User).api_token
        ))
    );
    assert_eq!(
        http().get(&upm).header("authorization", plain_user).send().await.unwrap().status(),
        401
    );

    let install = |token: String, uri: String| {
        http()
            .post(format!("{upm}?token={token}"))
            .header("authorization", admin_basic(site))
            .header("content-type", "application/vnd.atl.plugins.install.uri+json")
            .body(json!({"pluginUri": uri}).to_string())
            .send()
    };
    let (status, _) = json_of(
        install("made-up".into(), format!("{}/atlassian-connect.json", world.app_url))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403);

    let fresh_token = || async {
        let response =
            http().get(&upm).header("authorization", admin_basic(site)).send().await.unwrap();
        response.headers()["upm-token"].to_str().unwrap().to_owned()
    };
    // A failed install is still a 202 and a pending task; the task's
    // later state (admin Basic auth, as every UPM call) carries the error.
    let failure = |response: reqwest::Response| async move {
        let (status, task) = json_of(response).await;
        assert_eq!((status, &task["status"]["done"]), (202, &json!(false)), "{task}");
        let link = task["links"]["self"].as_str().unwrap().to_owned();
        assert_eq!(http().get(&link).send().await.unwrap().status(), 401);
        let (status, done) = json_of(
            http().get(&link).header("authorization", admin_basic(site)).send().await.unwrap(),
        )
        .await;
        assert_eq!((status, &done["status"]["done"]), (200, &json!(true)), "{done}");
        done["status"]["errorMessage"].as_str().unwrap().to_owned()
    };
    let message = failure(
        install(fresh_token().await, "http://127.0.0.1:9/atlassian-connect.json".into())
            .await
            .unwrap(),
    )
    .await;
    assert!(message.contains("could not fetch the descriptor"), "{message}");

    // A descriptor the host must refuse: served by a tiny app that also
    // counts lifecycle calls, which must not happen.
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = calls.clone();
    let bad = json!({"key": "bad app", "baseUrl": "http://127.0.0.1:1", "authentication": {"type": "none"}});
    let routes = warp::any().map(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        warp::reply::json(&bad)
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(warp::serve(routes).incoming(listener).run());
    let message =
        failure(install(fresh_token().await, format!("http://{addr}/d.json")).await.unwrap()).await;
    assert!(message.contains("descriptor is invalid"), "{message}");
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1, "fetched once, no callback");
    assert_eq!(site.data().installs.len(), 1, "only lodger is installed");
}

#[tokio::test]
async fn an_app_refusing_installed_leaves_the_site_as_it_was() {
    let world = world().await;
    let site = &world.site;
    let before_secret = secret_of(site, "lodger");
    let before_credential = site.data().app_properties
        [&("lodger".to_owned(), "lodger-installation".to_owned())]
        .clone();
    // A copy of lodger's descriptor, served by an app whose `installed` answers 503.
    let descriptor =
        http().get(format!("{}/atlassian-connect.json", world.app_url)).send().await.unwrap();
    let (_, descriptor) = json_of(descriptor).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut refusing = descriptor.clone();
    refusing["baseUrl"] = json!(format!("http://{addr}"));
    let app = warp::path!("d.json").map(move || warp::reply::json(&refusing)).or(warp::path!(
        "lifecycle" / "installed"
    )
    .map(|| {
        warp::reply::with_status(
            "{\"error\":\"storage unavailable\"}",
            warp::http::StatusCode::SERVICE_UNAVAILABLE,
        )
    }));
    tokio::spawn(warp::serve(app).incoming(listener).run());
    let registration = lodger::host::upm::Registration {
        site: &site.base_url,
        user: &user(site, Role::SiteAdmin).email,
        token: &user(site, Role::SiteAdmin).api_token,
        descriptor_url: &format!("http://{addr}/d.json"),
    };
    let err = lodger::host::upm::register(&http(), &registration).await.unwrap_err().to_string();
    assert!(err.contains("503") && err.contains("storage unavailable"), "{err}");
    assert_eq!(secret_of(site, "lodger"), before_secret, "the earlier installation is back");
    assert_eq!(
        site.data().app_properties[&("lodger".to_owned(), "lodger-installation".to_owned())],
        before_credential
    );
}

#[tokio::test]
async fn reinstall_hands_over_a_new_secret_and_uninstall_forgets_the_app() {
    let world = world().await;
    let site = &world.site;
    let first = secret_of(site, "lodger");
    let registration = lodger::host::upm::Registration {
        site: &site.base_url,
        user: &user(site, Role::SiteAdmin).email,
        token: &user(site, Role::SiteAdmin).api_token,
        descriptor_url: &format!("{}/atlassian-connect.json", world.app_url),
    };
    assert_eq!(lodger::host::upm::register(&http(), &registration).await.unwrap(), "lodger");
    assert_ne!(secret_of(site, "lodger"), first);

    let deleted = http()
        .delete(format!("{}/rest/plugins/1.0/lodger-key", site.base_url))
        .header("authorization", admin_basic(site))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert!(site.data().installs.is_empty());
    assert!(site.data().app_properties.is_empty());
}

#[tokio::test]
async fn two_sites_stay_apart() {
    let world = world().await;
    let (acme, globex) = (&world.site, &world.second_site);
    assert_ne!(acme.client_key, globex.client_key);
    assert_ne!(secret_of(acme, "lodger"), secret_of(globex, "lodger"));
    let credential = |site: &Site| {
        site.data().app_properties[&("lodger".to_owned(), "lodger-installation".to_owned())]["credential"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let token = |site: &Site| {
        let claims = lodger::connect::jwt::Claims {
            sub: Some(user(site, Role::User).account_id.clone()),
            ..lodger::connect::jwt::Claims::new(&site.client_key, lodger::now(), 60, CONTEXT_QSH)
        };
        lodger::connect::jwt::sign(&claims, &secret_of(site, "lodger"))
    };
    let whoami = |token: String, credential: String| {
        http()
            .get(format!("{}/api/whoami", world.app_url))
            .header("authorization", format!("JWT {token}"))
            .header("x-lodger-installation", credential)
            .send()
    };
    assert_eq!(whoami(token(globex), credential(globex)).await.unwrap().status(), 200);
    // globex's user with acme's credential: refused, whatever the order.
    assert_eq!(whoami(token(globex), credential(acme)).await.unwrap().status(), 401);
    assert_eq!(whoami(token(acme), credential(globex)).await.unwrap().status(), 401);
    // A property written in one site is not in the other.
    let path = "/rest/atlassian-connect/1/addons/lodger/properties/only-acme";
    let claims = lodger::connect::jwt::Claims::new(
        "lodger",
        lodger::now(),
        60,
        &query_string_hash("PUT", path, ""),
    );
    let signed = lodger::connect::jwt::sign(&claims, &secret_of(acme, "lodger"));
    let put = http()
        .put(format!("{}{path}", acme.base_url))
        .header("authorization", format!("JWT {signed}"))
        .body("1")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201);
    let elsewhere = http()
        .put(format!("{}{path}", globex.base_url))
        .header("authorization", format!("JWT {signed}"))
        .body("1")
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), 401, "acme's signature means nothing to globex");
    assert!(
        !globex.data().app_properties.contains_key(&("lodger".to_owned(), "only-acme".to_owned()))
    );
}

/// Installs a small app with full pages and a conditional panel; returns its key.
async fn install_pages_app(world: &World) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let descriptor = json!({
        "key": "pages-test", "baseUrl": base, "authentication": {"type": "jwt"}, "enableLicensing": true,
        "apiMigrations": {"signed-install": true, "context-qsh": true}, "scopes": ["READ"],
        "lifecycle": {"installed": "/installed", "uninstalled": "/uninstalled"},
        "modules": {
            "generalPages": [{"key": "hello", "name": {"value": "Hello"}, "url": "/hello"}],
            "adminPages": [{"key": "admin", "name": {"value": "Admin"}, "url": "/admin"}],
            "jiraProjectAdminTabPanels": [{"key": "settings", "name": {"value": "Settings"}, "location": "projectgroup4", "url": "/settings?project={project.key}"}],
            "jiraIssueGlances": [{"key": "progress", "name": {"value": "Progress"}, "icon": {"width": 24, "height": 24, "url": "/icon.svg"},
                "content": {"type": "label", "label": {"value": "Progress"}}, "target": {"type": "web_panel", "url": "/glance?issue={issue.key}"}}],
            "jiraIssueContexts": [{"key": "context", "name": {"value": "Context"}, "icon": {"width": 24, "height": 24, "url": "/icon.svg"},
                "content": {"type": "label", "label": {"value": "Context"}}, "target": {"type": "web_panel", "url": "/context?issue={issue.key}"}}],
            "jiraIssueContents": [
                {"key": "notes", "name": {"value": "Notes"}, "icon": {"width": 24, "height": 24, "url": "/icon.svg"}, "tooltip": {"value": "Add notes"},
                    "target": {"type": "web_panel", "url": "/notes?issue={issue.key}"}},
                {"key": "admin-notes", "name": {"value": "Admin notes"}, "icon": {"width": 24, "height": 24, "url": "/icon.svg"},
                    "target": {"type": "web_panel", "url": "/admin-notes"}, "contentPresentConditions": [{"condition": "entity_property_exists", "params": {"entity": "issue", "propertyKey": "admin-notes"}}]}],
            "webPanels": [{"key": "conditional", "name": {"value": "Conditional"}, "location": "atl.jira.view.issue.right.context", "url": "/cond",
                "conditions": [{"condition": "entity_property_equal_to", "params": {"entity": "addon", "propertyKey": "flags", "objectName": "show", "value": "true"}}]}]
        }
    });
    let app = warp::path!("d.json")
        .map(move || warp::reply::json(&descriptor))
        .or(warp::post().map(|| warp::http::StatusCode::NO_CONTENT));
    tokio::spawn(warp::serve(app).incoming(listener).run());
    let site = &world.site;
    let registration = lodger::host::upm::Registration {
        site: &site.base_url,
        user: &user(site, Role::SiteAdmin).email,
        token: &user(site, Role::SiteAdmin).api_token,
        descriptor_url: &format!("{base}/d.json"),
    };
    lodger::host::upm::register(&http(), &registration).await.unwrap()
}

async fn page_as(site: &Site, path: &str, account: &str) -> (u16, String) {
    let response = http()
        .get(format!("{}{path}", site.base_url))
        .header("cookie", session_cookie(account))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn full_pages_follow_roles_and_carry_the_project_context() {
    if !pages() {
        return;
    }
    let world = world().await;
    let key = install_pages_app(&world).await;
    let site = &world.site;
    let (admin, lead, dev) = (
        &user(site, Role::SiteAdmin).account_id,
        &user(site, Role::ProjectAdmin).account_id,
        &user(site, Role::User).account_id,
    );
    let admin_page = format!("/plugins/servlet/ac/{key}/admin");
    assert_eq!(page_as(site, &admin_page, admin).await.0, 200);
    assert_eq!(page_as(site, &admin_page, lead).await.0, 403);
    assert_eq!(page_as(site, &admin_page, "anonymous").await.0, 403);
    let settings = format!("/plugins/servlet/ac/{key}/settings?project.key=LOD");
    let (status, html) = page_as(site, &settings, lead).await;
    assert_eq!(status, 200);
    assert!(html.contains("/settings?project=LOD&"), "project variable substituted");
    assert_eq!(page_as(site, &settings, dev).await.0, 403);
    let (status, html) =
        page_as(site, &format!("/plugins/servlet/ac/{key}/hello"), "anonymous").await;
    assert_eq!(status, 200);
    assert!(html.contains("\"isFullPage\":true"));
    assert!(html.contains("lic=active"), "a licensed app gets lic");
    site.data().license_active.insert(key.clone(), false);
    let (_, html) = page_as(site, &format!("/plugins/servlet/ac/{key}/hello"), "anonymous").await;
    assert!(html.contains("lic=none"));
    // The navigation offers only what the user may open.
    let (_, html) = page_as(site, "/browse/LOD-1", dev).await;
    assert!(html.contains("/hello") && !html.contains(&admin_page));
}

#[tokio::test]
async fn a_panel_shows_only_while_its_condition_holds() {
    if !pages() {
        return;
    }
    let world = world().await;
    let key = install_pages_app(&world).await;
    let site = &world.site;
    let admin = user(site, Role::SiteAdmin).account_id.clone();
    let (_, html) = page_as(site, "/browse/LOD-1", &admin).await;
    assert!(!html.contains("\"moduleKey\":\"conditional\""));
    site.data().app_properties.insert((key.clone(), "flags".into()), json!({"show": true}));
    let (_, html) = page_as(site, "/browse/LOD-1", &admin).await;
    assert!(html.contains("\"moduleKey\":\"conditional\""));
    site.data().app_properties.insert((key, "flags".into()), json!({"show": false}));
    let (_, html) = page_as(site, "/browse/LOD-1", &admin).await;
    assert!(!html.contains("\"moduleKey\":\"conditional\""));
}

#[tokio::test]
async fn page_edits_show_on_reload_and_descriptor_edits_reinstall() {
    let root = std::env::temp_dir().join(format!("lodger-watch-{}", std::process::id()));
    let checkout = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    support::copy_tree(&checkout.join("site"), &root.join("site"));
    support::copy_tree(&checkout.join("descriptor"), &root.join("descriptor"));
    let world = support::dev_world::world_from(Some(root.clone())).await;

    std::fs::write(root.join("site/index.html"), "<!doctype html><p>edited</p>").unwrap();
    let body =
        http().get(format!("{}/", world.app_url)).send().await.unwrap().text().await.unwrap();
    assert!(body.contains("edited"), "served from disk: {body}");

    let template = root.join("descriptor/jira.json.tera");
    let text = std::fs::read_to_string(&template).unwrap();
    std::fs::write(
        &template,
        text.replace("\"value\": \"Checklist\"", "\"value\": \"Checklist (edited)\""),
    )
    .unwrap();
    let site = world.site.clone();
    eventually("reinstall with the edited descriptor", async || {
        let data = site.data();
        data.installs.get("lodger").is_some_and(|i| {
            i.enabled
                && i.descriptor["modules"]["webPanels"][0]["name"]["value"] == "Checklist (edited)"
        })
    })
    .await;
    // Once: reading the templates to reinstall is not itself a change. The
    // watcher handles changes in order, so once it has handled a later
    // edit (a marker file), any change the reinstall itself caused was
    // handled too.
    let secret = site.data().installs["lodger"].shared_secret.expose().to_owned();
    let reloads = world.reloads.clone();
    let before = reloads.generation();
    let marker = root.join("site/marker.txt");
    std::fs::write(&marker, "after the reinstall").unwrap();
    eventually("the watcher handles the marker", async || reloads.handled_since(before, &marker))
        .await;
    assert_eq!(reloads.reinstalls(), 1, "reinstalled once");
    assert_eq!(site.data().installs["lodger"].shared_secret.expose(), secret, "reinstalled again");
    // A template that does not render keeps the running descriptor.
    let before = reloads.generation();
    std::fs::write(&template, "{{ broken").unwrap();
    eventually("the watcher handles the broken template", async || {
        reloads.handled_since(before, &template)
    })
    .await;
    assert_eq!(reloads.reinstalls(), 1, "a template that does not render is not installed");
    let served = http()
        .get(format!("{}/atlassian-connect.json", world.app_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(served.contains("Checklist (edited)"));
    drop(world);
    let _ = std::fs::remove_dir_all(root);
}

#[tokio::test]
async fn an_issue_glance_is_one_compact_entry_with_the_status_property_that_opens_its_target() {
    if !pages() {
        return;
    }
    let world = world().await;
    let key = install_pages_app(&world).await;
    let site = &world.site;
    let admin = user(site, Role::SiteAdmin).account_id.clone();
    let (_, html) = page_as(site, "/browse/LOD-1", &admin).await;
    assert!(html.contains("\"moduleKey\":\"progress\"") && html.contains("/glance?issue=LOD-1&"));
    let slot = format!("slot-{key}-progress");
    // One line beside the fields; its target is framed only when opened.
    assert!(html.contains(&format!("class=\"glance-open\" data-opens=\"{slot}\"")), "{html}");
    assert!(html.contains(&format!("<div class=\"slot\" id=\"{slot}\" data-deferred=\"true\">")));
    assert!(!html.contains("class=\"badge\""));
    let property = format!("com.atlassian.jira.issue:{key}:progress:status");
    site.data()
        .issue_properties
        .insert(("10001".into(), property), json!({"type": "badge", "value": {"label": "3/5"}}));
    let (_, html) = page_as(site, "/browse/LOD-1", &admin).await;
    assert!(
        html.contains(
            "<span class=\"glance-name\">Progress</span> <span class=\"badge\">3/5</span></button>"
        ),
        "{html}"
    );

    // Opened after the page's URL expired, the glance gets a fresh one.
    let fresh = format!("/dev/issue-module?issue=LOD-1&app={key}&module=progress");
    let (status, fresh) = page_as(site, &fresh, &admin).await;
    assert_eq!(status, 200, "{fresh}");
    let fresh: Value = serde_json::from_str(&fresh).unwrap();
    assert_eq!(fresh["presentation"], "glance");
    assert!(fresh["url"].as_str().unwrap().contains("/glance?issue=LOD-1&"), "{fresh}");
    assert!(fresh["url"].as_str().unwrap().contains("&jwt="), "{fresh}");
    let unknown = format!("/dev/issue-module?issue=LOD-1&app={key}&module=nope");
    assert_eq!(page_as(site, &unknown, &admin).await.0, 404);
}

#[tokio::test]
async fn an_issue_context_is_a_collapsed_panel_with_its_status() {
    if !pages() {
        return;
    }
    let world = world().await;
    let key = install_pages_app(&world).await;
    let site = &world.site;
    let property = format!("com.atlassian.jira.issue:{key}:context:status");
    site.data()
        .issue_properties
        .insert(("10001".into(), property), json!({"type": "lozenge", "value": {"label": "late"}}));
    let admin = user(site, Role::SiteAdmin).account_id.clone();
    let (_, html) = page_as(site, "/browse/LOD-1", &admin).await;
    let slot = format!("slot-{key}-context");
    assert!(html.contains(&format!("class=\"context-toggle\" data-opens=\"{slot}\" aria-expanded=\"false\">Context <span class=\"lozenge\">late</span></button></h2><div class=\"context-body\" hidden><div class=\"slot\" id=\"{slot}\" data-deferred=\"true\">")), "{html}");
    assert!(html.contains("/context?issue=LOD-1&"));
}

#[tokio::test]
async fn issue_content_waits_for_its_quick_add_button_unless_its_present_conditions_hold() {
    if !pages() {
        return;
    }
    let world = world().await;
    let key = install_pages_app(&world).await;
    let site = &world.site;
    let (admin, dev) = (user(site, Role::SiteAdmin), user(site, Role::User));
    let notes = format!("slot-{key}-notes");
    let admin_notes = format!("slot-{key}-admin-notes");
    let deferred = |html: &str, slot: &str| {
        html.contains(&format!("<div class=\"slot\" id=\"{slot}\" data-deferred=\"true\">"))
    };
    let (_, html) = page_as(site, "/browse/LOD-1", &dev.account_id).await;
    assert!(
        html.contains(&format!(
            "data-adds=\"{notes}\" data-app=\"{key}\" data-module=\"notes\" title=\"Add notes\">"
        )),
        "{html}"
    );
    assert!(deferred(&html, &notes) && deferred(&html, &admin_notes));
    // Its `contentPresentConditions` hold once the issue has the property.
    site.data().issue_properties.insert(("10001".into(), "admin-notes".into()), json!(true));
    let (_, html) = page_as(site, "/browse/LOD-1", &admin.account_id).await;
    assert!(deferred(&html, &notes) && !deferred(&html, &admin_notes), "{html}");

    // The quick-add button adds the panel to this issue, for everyone.
    let add = |body: Value, content_type: &'static str| {
        http()
            .post(format!("{}/dev/issue-content", site.base_url))
            .header("cookie", session_cookie(&dev.account_id))
            .header("content-type", content_type)
            .body(body.to_string())
            .send()
    };
    let refused =
        add(json!({"issue": "LOD-1", "app": key, "module": "notes"}), "text/plain").await.unwrap();
    assert!(refused.status().is_client_error(), "a form post from another page is refused");
    let unknown = add(json!({"issue": "LOD-1", "app": key, "module": "nope"}), "application/json")
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let viewer = user(site, Role::Viewer);
    let by_viewer = http()
        .post(format!("{}/dev/issue-content", site.base_url))
        .header("cookie", session_cookie(&viewer.account_id))
        .header("content-type", "application/json")
        .body(json!({"issue": "LOD-1", "app": key, "module": "notes"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(by_viewer.status(), 403, "a viewer may not edit the issue");
    let rebound = http()
        .post(format!("{}/dev/issue-content", site.base_url))
        .header("cookie", session_cookie(&dev.account_id))
        .header("host", "evil.example:2990")
        .header("content-type", "application/json")
        .body(json!({"issue": "LOD-1", "app": key, "module": "notes"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), 403, "another Host (DNS rebinding) is refused");
    let added = add(json!({"issue": "LOD-1", "app": key, "module": "notes"}), "application/json")
        .await
        .unwrap();
    assert_eq!(added.status(), 204);
    let (_, html) = page_as(site, "/browse/LOD-1", &admin.account_id).await;
    assert!(!deferred(&html, &notes) && html.contains("/notes?issue=LOD-1&"), "{html}");
    let (_, other) = page_as(site, "/browse/LOD-2", &admin.account_id).await;
    assert!(deferred(&other, &notes), "added to LOD-1 only");
}

#[tokio::test]
async fn without_connect_js_the_sites_serve_rest_and_the_pages_answer_503_naming_npm() {
    let nowhere = std::env::temp_dir().join(format!("lodger-no-npm-{}", std::process::id()));
    let options = lodger::dev::world::WorldOptions {
        app_port: 0,
        host_port: 0,
        node_modules: nowhere.join("node_modules"),
        install_npm_packages: false,
        source_dir: None,
        forge: false,
    };
    let sites = lodger::dev::world::Sites::start(&options).await.expect("the sites start");
    assert!(sites.host.connect_js_missing().is_some());
    let site = Arc::clone(&sites.sites[0]);
    let base = &site.base_url;
    for page in [
        format!("/browse/{}", site.first_issue_key()),
        "/plugins/servlet/ac/lodger/admin".to_owned(),
        "/wiki/spaces/LOD/pages/65537".to_owned(),
        "/atlassian-connect/all.js".to_owned(),
        "/dev/static/connect-host.js".to_owned(),
    ] {
        let response = http().get(format!("{base}{page}")).send().await.unwrap();
        assert_eq!(response.status(), 503, "{page}");
        let body = response.text().await.unwrap();
        assert!(body.contains(lodger::devhost::INSTALL_CONNECT_JS), "{page}: {body}");
    }
    // The page's own scripts and UPM (so installing an app) answer as ever;
    // the REST tests of this file run against sites started this way.
    let own = http().get(format!("{base}/dev/static/host.js")).send().await.unwrap();
    assert_eq!(own.status(), 200);
    let upm = http()
        .get(format!("{base}/rest/plugins/1.0/"))
        .header("authorization", admin_basic(&site))
        .send()
        .await
        .unwrap();
    assert_eq!(upm.status(), 200);
}
