//! The inspector (issue 16, item 3): every exchange between a site and its
//! apps in `/dev/inspector.json`, newest first, with decoded claims, no
//! signature, no secret, no product token, and the exact reason for each
//! refusal.

mod forge_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use forge_support::{APP, Remote, World, bearer, installed_system_token};
use lodger_connect::installation::Product;
use lodger_connect::jwt::{Claims, sign};
use lodger_connect::qsh::{canonical_request, query_string_hash};
use lodger_connect::secret::Secret;
use lodger_devhost::forge::invoke::{UiInvocation, invoke};
use lodger_devhost::inspector::exchanges::{Direction, Exchange, Kind};
use lodger_devhost::jira::webhooks::state::DeliveryPolicy;
use lodger_devhost::platform::iframe::{ViewContext, module_url};
use lodger_devhost::platform::install;
use serde_json::{Value, json};
use warp::Filter;
use warp::http::{Method, StatusCode};

const KEY: &str = "com.example.inspected";

/// A Connect app on a loopback port: its descriptor, lifecycle routes that
/// answer 204, and a webhook route that answers 500 to its first request
/// and 200 after.
async fn connect_app(scopes: &[&str]) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let descriptor = json!({
        "key": KEY,
        "name": "Inspected",
        "baseUrl": base,
        "authentication": {"type": "jwt"},
        "apiMigrations": {"signed-install": true, "context-qsh": true},
        "lifecycle": {"installed": "/installed", "enabled": "/enabled", "uninstalled": "/uninstalled"},
        "scopes": scopes,
        "modules": {
            "webhooks": [{"event": "jira:issue_created", "url": "/hook"}],
            "webPanels": [{"key": "panel", "url": "/panel?issue={issue.key}", "location": "atl.jira.view.issue.right.context", "name": {"value": "P"}}],
        },
    });
    let hooks = Arc::new(AtomicUsize::new(0));
    let served = warp::get()
        .and(warp::path!("atlassian-connect.json"))
        .map(move || warp::reply::json(&descriptor));
    let lifecycle = warp::post()
        .and(
            warp::path!("installed")
                .or(warp::path!("enabled"))
                .unify()
                .or(warp::path!("uninstalled"))
                .unify(),
        )
        .map(|| StatusCode::NO_CONTENT);
    let hook = warp::post().and(warp::path!("hook")).map(move || {
        if hooks.fetch_add(1, Ordering::SeqCst) == 0 {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::OK
        }
    });
    tokio::spawn(warp::serve(served.or(lifecycle).or(hook)).incoming(listener).run());
    base
}

/// A world with the Connect app installed in its Jira; its shared secret.
async fn installed(world: &World, scopes: &[&str]) -> Secret {
    let app = connect_app(scopes).await;
    let url = format!("{app}/atlassian-connect.json");
    install::install(&world.host, &world.site, Product::Jira, &url).await.unwrap();
    world.site.data().installs[KEY].shared_secret.clone()
}

fn jwt(secret: &Secret, iat: i64, qsh: &str) -> String {
    sign(&Claims::new(KEY, iat, 180, qsh), secret)
}

/// `/dev/inspector.json` with `query`, as text and as JSON.
async fn inspector(world: &World, query: &str) -> (String, Value) {
    let url = format!("{}/dev/inspector.json?{query}", world.base);
    let text = world.http.get(url).send().await.unwrap().text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap();
    (text, json)
}

#[tokio::test]
async fn a_signed_rest_call_shows_its_claims_but_not_its_signature_or_secret() {
    let world = World::start().await;
    let secret = installed(&world, &["READ"]).await;
    let qsh = query_string_hash("GET", "/rest/api/3/issue/LOD-1", "");
    let token = jwt(&secret, lodger_connect::now(), &qsh);
    let url = format!("{}/rest/api/3/issue/LOD-1", world.base);
    let (status, _) = world.call(Method::GET, &url, &format!("JWT {token}"), None).await;
    assert_eq!(status, 200);

    let (text, listing) = inspector(&world, "kind=rest").await;
    let call = &listing["exchanges"][0];
    assert_eq!(call["app"], KEY);
    assert_eq!(call["direction"], "app-to-site");
    assert_eq!(call["method"], "GET");
    assert_eq!(call["url"], "/rest/api/3/issue/LOD-1");
    assert_eq!(call["status"], 200);
    assert!(call["durationMs"].is_u64());
    assert_eq!(call["token"]["type"], "JWT");
    assert_eq!(call["token"]["header"], json!({"alg": "HS256", "typ": "JWT"}));
    assert_eq!(call["token"]["claims"]["iss"], KEY);
    assert_eq!(call["token"]["claims"]["qsh"], qsh);
    assert!(call["refusal"].is_null());
    let signature = token.rsplit('.').next().unwrap();
    assert!(!text.contains(signature), "the signature is shown: {text}");
    assert!(!text.contains(secret.expose()), "the secret is shown");

    // Lifecycle callbacks came first: installed (signed install) and enabled.
    let (text, listing) = inspector(&world, "kind=lifecycle").await;
    let events: Vec<&str> = listing["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["summary"].as_str().unwrap())
        .collect();
    assert!(events[0].starts_with("enabled") && events[1].starts_with("installed"), "{events:?}");
    let installed = &listing["exchanges"][1];
    assert_eq!(installed["status"], 204);
    assert_eq!(installed["direction"], "site-to-app");
    assert_eq!(installed["token"]["type"], "signed install");
    assert_eq!(installed["token"]["header"]["alg"], "RS256");
    assert!(installed["token"]["header"]["kid"].is_string());
    assert_eq!(installed["token"]["claims"]["iss"], world.site.client_key);
    assert!(!text.contains(secret.expose()), "the secret is shown");
}

#[tokio::test]
async fn a_wrong_qsh_shows_the_canonical_request_expected_and_the_qsh_received() {
    let world = World::start().await;
    let secret = installed(&world, &["READ"]).await;
    let wrong = query_string_hash("GET", "/rest/api/3/issue/LOD-2", "");
    let token = jwt(&secret, lodger_connect::now(), &wrong);
    let url = format!("{}/rest/api/3/issue/LOD-1?fields=summary", world.base);
    let (status, _) = world.call(Method::GET, &url, &format!("JWT {token}"), None).await;
    assert_eq!(status, 401);

    let (_, listing) = inspector(&world, &format!("app={KEY}&kind=rest")).await;
    let call = &listing["exchanges"][0];
    assert_eq!(call["status"], 401);
    let refusal = &call["refusal"];
    assert_eq!(refusal["check"], "qsh");
    let canonical = canonical_request("GET", "/rest/api/3/issue/LOD-1", "fields=summary");
    assert_eq!(refusal["canonicalRequest"], canonical);
    assert_eq!(refusal["canonicalRequest"], "GET&/rest/api/3/issue/LOD-1&fields=summary");
    assert_eq!(
        refusal["qshExpected"],
        query_string_hash("GET", "/rest/api/3/issue/LOD-1", "fields=summary")
    );
    assert_eq!(refusal["qshReceived"], wrong);
    assert!(refusal["message"].as_str().unwrap().contains("qsh"), "{refusal}");
}

#[tokio::test]
async fn an_expired_token_is_refused_for_expiry_and_a_missing_scope_names_the_scope() {
    let world = World::start().await;
    let secret = installed(&world, &["READ"]).await;
    let path = "/rest/api/3/issue/10001/properties/inspected";
    let url = format!("{}{path}", world.base);

    let qsh = query_string_hash("GET", path, "");
    let stale = jwt(&secret, lodger_connect::now() - 3600, &qsh);
    assert_eq!(world.call(Method::GET, &url, &format!("JWT {stale}"), None).await.0, 401);
    let (_, listing) = inspector(&world, "kind=rest").await;
    assert_eq!(listing["exchanges"][0]["refusal"]["check"], "expiry");

    let qsh = query_string_hash("PUT", path, "");
    let token = jwt(&secret, lodger_connect::now(), &qsh);
    let (status, _) =
        world.call(Method::PUT, &url, &format!("JWT {token}"), Some(json!({"a": 1}))).await;
    assert_eq!(status, 403);
    let (_, listing) = inspector(&world, "kind=rest").await;
    let refusal = &listing["exchanges"][0]["refusal"];
    assert_eq!(refusal["check"], "missing-scope");
    assert_eq!(refusal["scope"], "WRITE");

    // A token signed with another secret: the signature.
    let forged = sign(&Claims::new(KEY, lodger_connect::now(), 180, &qsh), &Secret::new("other"));
    assert_eq!(world.call(Method::PUT, &url, &format!("JWT {forged}"), None).await.0, 401);
    let (_, listing) = inspector(&world, "since=0").await;
    assert_eq!(listing["exchanges"][0]["refusal"]["check"], "signature");
}

#[tokio::test]
async fn a_webhook_that_fails_then_succeeds_shows_each_attempt() {
    let world = World::start().await;
    world.site.set_delivery_policy(DeliveryPolicy {
        base_backoff: Duration::from_millis(10),
        ..DeliveryPolicy::default()
    });
    let secret = installed(&world, &["READ", "WRITE"]).await;
    let qsh = query_string_hash("POST", "/rest/api/3/issue", "");
    let token = jwt(&secret, lodger_connect::now(), &qsh);
    let body = json!({"fields": {"project": {"key": "LOD"}, "summary": "New", "issuetype": {"name": "Task"}}});
    let url = format!("{}/rest/api/3/issue", world.base);
    let (status, _) = world.call(Method::POST, &url, &format!("JWT {token}"), Some(body)).await;
    assert_eq!(status, 201);

    let mut attempts = Value::Null;
    for _ in 0..300 {
        let (_, listing) = inspector(&world, &format!("kind=webhook&app={KEY}")).await;
        if listing["exchanges"].as_array().unwrap().len() >= 2 {
            attempts = listing["exchanges"].clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let attempts = attempts.as_array().expect("two webhook attempts");
    assert_eq!(attempts.len(), 2);
    assert_eq!(
        (attempts[0]["attempt"].clone(), attempts[0]["status"].clone()),
        (json!(1), json!(200))
    );
    assert_eq!(
        (attempts[1]["attempt"].clone(), attempts[1]["status"].clone()),
        (json!(0), json!(500))
    );
    assert!(attempts[0]["summary"].as_str().unwrap().starts_with("jira:issue_created"));
    assert!(attempts[0]["url"].as_str().unwrap().ends_with("/hook"));
    assert_eq!(attempts[0]["token"]["claims"]["iss"], world.site.client_key);
    assert!(attempts[0]["id"].as_u64() > attempts[1]["id"].as_u64());
}

#[tokio::test]
async fn forge_triggers_and_ui_invocations_show_their_fit_claims_and_never_a_product_token() {
    let world = World::start().await;
    let remote = Remote::start(200).await;
    world.install(&remote).await;
    let system = installed_system_token(&world, &remote).await;
    let admin = world.site.users[0].account_id.clone();
    let ui = UiInvocation {
        module_key: "admin".into(),
        account_id: Some(admin.clone()),
        method: "POST".into(),
        path: "/".into(),
        body: Some("{}".into()),
        ..UiInvocation::default()
    };
    let answer = invoke(&world.host, &world.site, APP, ui).await.unwrap();
    assert_eq!(answer.status, 200);
    let user_token =
        remote.seen_at("/forge/invoke-admin/")[0].header("x-forge-oauth-user").unwrap();
    let property = format!("{}/rest/api/3/issue/10001/properties/p", world.api_base());
    assert_eq!(world.call(Method::GET, &property, &bearer(&system), None).await.0, 404);

    let (text, listing) = inspector(&world, &format!("app={APP}")).await;
    assert!(!text.contains(&system), "a system token is shown");
    assert!(!text.contains(&user_token), "a user token is shown");
    let of = |kind: &str| -> Vec<Value> {
        listing["exchanges"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == kind)
            .cloned()
            .collect()
    };
    let trigger = &of("forge-trigger")[0];
    assert_eq!(trigger["status"], 200);
    assert_eq!(trigger["attempt"], 0);
    assert_eq!(trigger["token"]["type"], "FIT");
    assert_eq!(trigger["token"]["header"]["alg"], "RS256");
    assert_eq!(trigger["token"]["claims"]["aud"], APP);
    assert_eq!(trigger["token"]["claims"]["app"]["module"]["type"], "trigger");
    let invocation = &of("forge-invocation")[0];
    assert_eq!(invocation["method"], "POST");
    assert_eq!(invocation["status"], 200);
    assert_eq!(invocation["token"]["claims"]["principal"], admin);
    assert_eq!(invocation["token"]["claims"]["context"]["moduleKey"], "admin");
    let rest = &of("rest")[0];
    assert_eq!(rest["token"]["type"], "product token");
    assert_eq!(rest["token"]["subject"], "system (asApp)");
    assert!(rest["token"].get("claims").is_none());
}

#[tokio::test]
async fn an_iframe_url_is_recorded_without_its_jwt() {
    let world = World::start().await;
    installed(&world, &["READ"]).await;
    let install = world.site.data().installs[KEY].clone();
    let module = install.descriptor["modules"]["webPanels"][0].clone();
    let context =
        ViewContext { issue: Some(("LOD-1".into(), "10001".into())), ..ViewContext::default() };
    let signed = module_url(&world.site, &install, &module, &context, Some("557058:acme-admin"));
    let token = signed.rsplit_once("jwt=").unwrap().1;
    let (text, listing) = inspector(&world, "kind=iframe").await;
    let frame = &listing["exchanges"][0];
    assert!(!text.contains(token));
    assert!(frame["url"].as_str().unwrap().contains("/panel?issue=LOD-1&xdm_e="), "{frame}");
    assert!(!frame["url"].as_str().unwrap().contains("jwt"));
    assert_eq!(frame["token"]["claims"]["sub"], "557058:acme-admin");
    assert_eq!(frame["token"]["claims"]["context"]["jira"]["issue"]["key"], "LOD-1");
}

#[tokio::test]
async fn the_record_is_bounded_and_filters_reject_unknown_kinds() {
    let world = World::start().await;
    for _ in 0..600 {
        world.site.record(Exchange::new(Direction::AppToSite, Kind::Rest, "a", "GET", "/rest/x"));
    }
    let (_, listing) = inspector(&world, "").await;
    assert_eq!(listing["capacity"], 500);
    assert_eq!(listing["exchanges"].as_array().unwrap().len(), 500);
    assert_eq!(listing["dropped"], 100);
    assert_eq!(listing["exchanges"][0]["id"], 600);
    let (_, newer) = inspector(&world, "since=590").await;
    assert_eq!(newer["exchanges"].as_array().unwrap().len(), 10);
    let url = format!("{}/dev/inspector.json?kind=nope", world.base);
    assert_eq!(world.http.get(url).send().await.unwrap().status(), 400);
    let page = format!("{}/dev/inspector?kind=rest", world.base);
    let html = world.http.get(page).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Exchanges between acme and its apps"));
}

#[tokio::test]
async fn a_users_call_through_an_apps_frame_shows_the_user_and_a_permission_refusal() {
    let world = World::start().await;
    installed(&world, &["READ", "WRITE"]).await;
    let viewer = world.site.users.iter().find(|u| u.email.starts_with("viewer")).unwrap();
    let url = format!("{}/rest/api/3/issue/10001/properties/inspected", world.base);
    let response = world
        .http
        .put(&url)
        .header("Cookie", format!("lodger_dev_user={}", viewer.account_id))
        .header("X-Lodger-Dev-App", KEY)
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let (_, listing) = inspector(&world, "kind=rest").await;
    let call = &listing["exchanges"][0];
    assert_eq!(call["app"], KEY);
    assert_eq!(call["token"]["type"], "session");
    assert!(call["token"]["subject"].as_str().unwrap().contains(&viewer.account_id));
    assert_eq!(call["refusal"]["check"], "user-permission");
}

/// The refusal of `/dev/inspector.json`'s newest exchange of `kind`.
async fn newest(world: &World, kind: &str) -> Value {
    let (_, listing) = inspector(world, &format!("kind={kind}")).await;
    listing["exchanges"][0].clone()
}

#[tokio::test]
async fn each_check_that_refuses_a_call_comes_through_with_the_products_error_body_unchanged() {
    let world = World::start().await;
    let remote = Remote::start(200).await;
    world.install(&remote).await;
    let system = installed_system_token(&world, &remote).await;
    let secret = installed(&world, &["READ"]).await;
    let path = "/rest/api/3/myself";
    let url = format!("{}{path}", world.base);
    let qsh = query_string_hash("GET", path, "");
    let now = lodger_connect::now();

    let cases: Vec<(String, String, u16, &str)> = vec![
        (url.clone(), "JWT not-a-token".into(), 401, "malformed"),
        (
            url.clone(),
            format!("JWT {}", sign(&Claims::new("someone.else", now, 180, &qsh), &secret)),
            401,
            "issuer-unknown",
        ),
        (url.clone(), format!("JWT {}", jwt(&secret, now + 3600, &qsh)), 401, "not-yet-valid"),
        (url.clone(), bearer(&system), 401, "credential-kind"),
        (
            format!("{}{path}", world.api_base()),
            format!("JWT {}", jwt(&secret, now, &qsh)),
            401,
            "credential-kind",
        ),
        (format!("{}{path}", world.api_base()), bearer("forge-dev.unknown"), 401, "credentials"),
        (
            format!("{}/ex/jira/another-cloud{path}", world.base),
            bearer(&system),
            401,
            "wrong-tenant",
        ),
    ];
    for (url, auth, status, check) in cases {
        let response = world.http.get(&url).header("Authorization", &auth).send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{check}");
        let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        let call = newest(&world, "rest").await;
        assert_eq!(call["refusal"]["check"], check, "{call}");
        // Jira's error shape, its one message the refusal's message.
        assert_eq!(body["errors"], json!({}), "{check}: {body}");
        assert_eq!(body["errorMessages"], json!([call["refusal"]["message"]]), "{check}");
    }

    // Confluence is its own tenant: a Jira installation's token is of an
    // unknown issuer there, answered in Confluence's error shape.
    let wiki = "/rest/api/content/1";
    let token = jwt(&secret, now, &query_string_hash("GET", wiki, ""));
    let url = format!("{}/wiki{wiki}", world.base);
    let (status, body) = world.call(Method::GET, &url, &format!("JWT {token}"), None).await;
    assert_eq!(status, 401);
    let call = newest(&world, "rest").await;
    assert_eq!(call["refusal"]["check"], "issuer-unknown");
    assert_eq!(body["statusCode"], 401);
    assert_eq!(body["reason"], "Unauthorized");
    assert_eq!(body["message"], call["refusal"]["message"]);
    assert_eq!(body["message"], "JWT issuer is not an app installed on this site");
}

#[tokio::test]
async fn a_custom_ui_frame_load_is_recorded_under_the_forge_app_id() {
    let world = World::start().await;
    let remote = Remote::start(200).await;
    let install = world.install(&remote).await;
    let resource = install.folder.join("static");
    std::fs::create_dir_all(&resource).unwrap();
    std::fs::write(resource.join("index.html"), "<html><head></head><body>hi</body></html>")
        .unwrap();
    std::fs::write(resource.join("app.js"), "console.log(1)").unwrap();
    let origin = lodger_devhost::forge::resources::resource_origin(&world.site, APP).unwrap();
    let host = origin.strip_prefix("http://").unwrap().to_owned();
    let get = |path: &str| {
        world.http.get(format!("{}{path}", world.base)).header("Host", host.clone()).send()
    };
    assert_eq!(get("/main/index.html").await.unwrap().status(), 200);
    assert_eq!(get("/main/app.js").await.unwrap().status(), 200);
    assert_eq!(get("/other/index.html").await.unwrap().status(), 404);

    let (_, listing) = inspector(&world, &format!("kind=iframe&app={APP}")).await;
    let loads = listing["exchanges"].as_array().unwrap();
    assert_eq!(loads.len(), 2, "the document and the miss, not the script: {loads:?}");
    assert_eq!(loads[0]["status"], 404);
    assert_eq!(loads[0]["url"], format!("{origin}/other/index.html"));
    assert_eq!(loads[1]["status"], 200);
    assert_eq!(loads[1]["method"], "GET");
    assert_eq!(loads[1]["url"], format!("{origin}/main/index.html"));
    assert_eq!(loads[1]["summary"], "Custom UI resource main");
    assert_eq!(loads[1]["direction"], "site-to-app");
    assert!(loads[1]["durationMs"].is_u64());
}

#[tokio::test]
async fn a_ui_invocation_that_fails_before_sending_is_recorded_with_why() {
    let world = World::start().await;
    let remote = Remote::start(200).await;
    world.install(&remote).await;
    let ask = |module: &str, method: &str| UiInvocation {
        module_key: module.into(),
        method: method.into(),
        ..UiInvocation::default()
    };
    assert!(invoke(&world.host, &world.site, APP, ask("nope", "POST")).await.is_err());
    let failed = newest(&world, "forge-invocation").await;
    assert_eq!(failed["app"], APP);
    assert!(failed["status"].is_null());
    assert_eq!(failed["error"], "the app has no UI module `nope`");
    assert_eq!(failed["summary"], "module nope: not sent");

    assert!(invoke(&world.host, &world.site, APP, ask("admin", "TRACE")).await.is_err());
    let failed = newest(&world, "forge-invocation").await;
    assert_eq!(failed["error"], "method TRACE is not one of GET, POST, PUT, PATCH, DELETE");

    let unknown = "ari:cloud:ecosystem::app/unknown";
    assert!(invoke(&world.host, &world.site, unknown, ask("admin", "GET")).await.is_err());
    let failed = newest(&world, "forge-invocation").await;
    assert_eq!(failed["app"], unknown);
    assert!(failed["error"].as_str().unwrap().contains("is not installed"), "{failed}");
    assert!(remote.seen_at("/forge/invoke-admin").is_empty(), "nothing was sent");

    // The remote gone: sent, and recorded with why there was no answer.
    let gone = Remote::start(200).await;
    let folder = forge_support::app_folder("http://127.0.0.1:9");
    lodger_devhost::forge::install::install(&world.host, &world.site, &folder).await.unwrap();
    assert!(invoke(&world.host, &world.site, APP, ask("admin", "GET")).await.is_err());
    let failed = newest(&world, "forge-invocation").await;
    assert_eq!(failed["error"], "connection failed");
    assert!(failed["url"].as_str().unwrap().starts_with("http://127.0.0.1:9/forge/invoke-admin"));
    drop(gone);
}

/// `user:password` as a Basic `Authorization` header.
fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    let pair = format!("{user}:{password}");
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
}

#[tokio::test]
async fn upm_calls_show_the_user_but_never_the_api_token() {
    let world = World::start().await;
    let app = connect_app(&["READ"]).await;
    let upm = format!("{}/rest/plugins/1.0/", world.base);
    let wrong = basic("admin@acme.test", "wrong-s3cret-api-token");
    let refused = world.http.get(&upm).header("Authorization", &wrong).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    let admin = basic("admin@acme.test", "admin");
    let listed = world.http.get(&upm).header("Authorization", &admin).send().await.unwrap();
    let token = listed.headers()["upm-token"].to_str().unwrap().to_owned();
    let posted = world
        .http
        .post(format!("{upm}?token={token}"))
        .header("Authorization", &admin)
        .header("Content-Type", "application/vnd.atl.plugins.install.uri+json")
        .body(json!({"pluginUri": format!("{app}/atlassian-connect.json")}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 202);
    let task: Value = serde_json::from_str(&posted.text().await.unwrap()).unwrap();
    let task_url = task["links"]["self"].as_str().unwrap().to_owned();
    let polled = world.http.get(&task_url).header("Authorization", &admin).send().await.unwrap();
    assert_eq!(polled.status(), 200);
    let delete = format!("{upm}{KEY}-key");
    let deleted = world.http.delete(&delete).header("Authorization", &admin).send().await.unwrap();
    assert_eq!(deleted.status(), 204);

    let (text, listing) = inspector(&world, "kind=upm").await;
    assert!(!text.contains("wrong-s3cret-api-token"), "a password is shown: {text}");
    assert!(!text.contains(wrong.trim_start_matches("Basic ")), "an Authorization header is shown");
    let calls = listing["exchanges"].as_array().unwrap();
    let seen: Vec<(&str, u64)> = calls
        .iter()
        .map(|c| (c["method"].as_str().unwrap(), c["status"].as_u64().unwrap()))
        .collect();
    assert_eq!(seen, [("DELETE", 204), ("GET", 200), ("POST", 202), ("GET", 200), ("GET", 401)]);
    assert_eq!(calls[0]["app"], KEY);
    assert_eq!(calls[0]["url"], format!("/rest/plugins/1.0/{KEY}-key"));
    assert_eq!(calls[1]["app"], KEY, "the task names the app it installed");
    assert_eq!(calls[2]["url"], "/rest/plugins/1.0/", "no upm-token is shown");
    assert!(!text.contains(&token), "a upm-token is shown");
    assert_eq!(calls[2]["direction"], "admin-to-site");
    assert_eq!(calls[3]["token"], json!({"type": "basic", "subject": "admin@acme.test"}));
    assert_eq!(calls[3]["summary"], "UPM, as admin@acme.test");
    assert_eq!(calls[1]["token"]["subject"], "admin@acme.test", "the task is polled as an admin");
    let refusal = &calls[4]["refusal"];
    assert_eq!(refusal["check"], "credentials");
    assert_eq!(
        refusal["message"],
        "site admin credentials required (Basic auth: email and API token)"
    );
}

/// A server answering every GET with `status` and `body` as `text/html`.
async fn serving(status: u16, body: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let reply = warp::any().map(move || {
        warp::reply::with_status(warp::reply::html(body), StatusCode::from_u16(status).unwrap())
    });
    tokio::spawn(warp::serve(reply).incoming(listener).run());
    base
}

#[tokio::test]
async fn descriptor_fetches_show_their_status_and_why_one_was_refused() {
    let world = World::start().await;
    installed(&world, &["READ"]).await;
    let fetched = newest(&world, "descriptor").await;
    assert_eq!(fetched["app"], KEY);
    assert_eq!(fetched["method"], "GET");
    assert_eq!(fetched["status"], 200);
    assert!(fetched["url"].as_str().unwrap().ends_with("/atlassian-connect.json"));
    assert!(fetched["durationMs"].is_u64());
    assert!(fetched["refusal"].is_null());

    let html = serving(200, "<html>not a descriptor</html>").await;
    let install = |url: String| {
        let world = &world;
        async move { install::install(&world.host, &world.site, Product::Jira, &url).await }
    };
    assert!(install(format!("{html}/atlassian-connect.json")).await.is_err());
    let refused = newest(&world, "descriptor").await;
    assert_eq!(refused["app"], "?");
    assert_eq!(refused["status"], 200);
    assert_eq!(refused["refusal"]["check"], "descriptor");
    assert!(refused["refusal"]["message"].as_str().unwrap().contains("not JSON"), "{refused}");

    let missing = serving(404, "no").await;
    assert!(install(format!("{missing}/atlassian-connect.json")).await.is_err());
    let refused = newest(&world, "descriptor").await;
    assert_eq!(refused["status"], 404);
    assert_eq!(refused["refusal"]["message"], "it answered 404 Not Found");

    let remote = Remote::start(200).await;
    assert!(install(format!("{}/descriptor.json", remote.url)).await.is_err());
    let refused = newest(&world, "descriptor").await;
    let message = refused["refusal"]["message"].as_str().unwrap();
    assert!(message.starts_with("the descriptor is invalid: "), "{message}");

    assert!(install("http://127.0.0.1:9/atlassian-connect.json".into()).await.is_err());
    let unreachable = newest(&world, "descriptor").await;
    assert!(unreachable["status"].is_null());
    assert_eq!(unreachable["error"], "connection refused (is the app running?)");
}
