//! The lifecycle endpoints, driven through `warp::test` (no socket for the
//! app) against a local key server and a host that stores app properties.

mod support;

use std::sync::atomic::Ordering;

use lodger::connect::sealed::{Keyring, MasterKey};
use serde_json::Value;
use support::*;
use warp::http::StatusCode;

struct World {
    keys: KeyServer,
    host: TestHost,
    master: MasterKey,
    routes: warp::filters::BoxedFilter<(warp::reply::Response,)>,
    state: std::sync::Arc<lodger::state::AppState>,
}

async fn world() -> World {
    let keys = key_server().await;
    let host = test_host("jira:client-1", "ATCO-first-secret").await;
    let master = MasterKey::generate();
    let (state, routes) =
        lodger::web::server::app(&config(&keys.url, vec![master.clone()])).unwrap();
    World { keys, host, master, routes, state }
}

async fn post(
    world: &World,
    event: &str,
    token: Option<&str>,
    body: &Value,
) -> warp::http::Response<bytes::Bytes> {
    let mut request = warp::test::request()
        .method("POST")
        .path(&format!("/lifecycle/{event}"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(token) = token {
        request = request.header("authorization", format!("JWT {token}"));
    }
    request.reply(&world.routes).await
}

fn install_token(world: &World, path: &str) -> String {
    signed_install_token(&world.host.client_key, path, APP_BASE_URL, KID)
}

async fn install(world: &World) -> warp::http::Response<bytes::Bytes> {
    let token = install_token(world, "/lifecycle/installed");
    post(world, "installed", Some(&token), &world.host.payload("installed", "lodger")).await
}

fn error_of(response: &warp::http::Response<bytes::Bytes>) -> String {
    let body: Value = serde_json::from_slice(response.body()).unwrap();
    body["error"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn installs_and_stores_the_sealed_credential_in_the_host() {
    let world = world().await;
    let response = install(&world).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT, "{:?}", response.body());

    let sealed = world.host.stored_credential("lodger").expect("credential stored in the host");
    assert!(!sealed.contains("ATCO-first-secret"), "the stored value must be sealed");
    let keyring = Keyring::new(lodger::SEALING_PURPOSE, vec![world.master.clone()]).unwrap();
    let installation = keyring.open(&sealed, "jira:client-1", "lodger").unwrap();
    assert_eq!(installation.shared_secret.expose(), "ATCO-first-secret");
    assert_eq!(installation.base_url, world.host.base_url);
}

#[tokio::test]
async fn installs_the_confluence_app_under_its_own_key() {
    let world = world().await;
    let token = install_token(&world, "/lifecycle/installed");
    let response = post(
        &world,
        "installed",
        Some(&token),
        &world.host.payload("installed", "lodger.confluence"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(world.host.stored_credential("lodger.confluence").is_some());
    assert!(world.host.stored_credential("lodger").is_none());
}

#[tokio::test]
async fn retries_a_failing_host_write_and_then_succeeds() {
    let world = world().await;
    world.host.failures.store(2, Ordering::SeqCst);
    assert_eq!(install(&world).await.status(), StatusCode::NO_CONTENT);
    let log = world.host.log.lock().unwrap().clone();
    let writes: Vec<&str> =
        log.iter().filter(|l| l.starts_with("PUT ")).map(|l| &l[l.len() - 3..]).collect();
    assert_eq!(writes, ["503", "503", "200"]);
}

#[tokio::test]
async fn registers_the_webhook_with_the_credential_in_its_url_replacing_older_ones() {
    let world = world().await;
    assert_eq!(install(&world).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(install(&world).await.status(), StatusCode::NO_CONTENT);
    let registered = world.host.webhooks.lock().unwrap().clone();
    assert_eq!(registered.len(), 1, "a reinstall replaces the registration: {registered:?}");
    let sealed =
        registered[0].1.as_str().strip_prefix(&format!("{APP_BASE_URL}/webhooks/jira?c=")).unwrap();
    let keyring = Keyring::new(lodger::SEALING_PURPOSE, vec![world.master.clone()]).unwrap();
    let opened = keyring.open(sealed, &world.host.client_key, "lodger").unwrap();
    assert_eq!(opened.shared_secret.expose(), world.host.secret());
}

#[tokio::test]
async fn answers_503_and_remembers_nothing_when_the_host_write_keeps_failing() {
    let world = world().await;
    world.host.failures.store(100, Ordering::SeqCst);
    let response = install(&world).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(world.host.stored_credential("lodger").is_none());
    assert!(
        world.state.tenants.get("jira:client-1").is_none(),
        "an install that did not persist must not be trusted"
    );
}

#[tokio::test]
async fn rejects_unsigned_install_with_www_authenticate() {
    let world = world().await;
    let response =
        post(&world, "installed", None, &world.host.payload("installed", "lodger")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["www-authenticate"], "JWT realm=\"lodger\"");
    assert!(world.host.stored_credential("lodger").is_none());
}

#[tokio::test]
async fn rejects_install_signed_with_a_kid_the_key_server_does_not_publish() {
    let world = world().await;
    let token = signed_install_token(
        "jira:client-1",
        "/lifecycle/installed",
        APP_BASE_URL,
        "not-a-published-kid",
    );
    let response =
        post(&world, "installed", Some(&token), &world.host.payload("installed", "lodger")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn rejects_kid_with_path_traversal_without_calling_the_key_server() {
    let world = world().await;
    let token =
        signed_install_token("jira:client-1", "/lifecycle/installed", APP_BASE_URL, "../../evil");
    let response =
        post(&world, "installed", Some(&token), &world.host.payload("installed", "lodger")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(world.keys.hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn answers_503_when_the_key_server_is_down_but_cached_keys_keep_working() {
    let world = world().await;
    world.keys.down.store(true, Ordering::SeqCst);
    assert_eq!(install(&world).await.status(), StatusCode::SERVICE_UNAVAILABLE);
    world.keys.down.store(false, Ordering::SeqCst);
    assert_eq!(install(&world).await.status(), StatusCode::NO_CONTENT);
    world.keys.down.store(true, Ordering::SeqCst);
    assert_eq!(install(&world).await.status(), StatusCode::NO_CONTENT, "the key is cached");
}

#[tokio::test]
async fn rejects_install_whose_client_key_is_not_the_signed_issuer() {
    let world = world().await;
    let token =
        signed_install_token("jira:someone-else", "/lifecycle/installed", APP_BASE_URL, KID);
    let response =
        post(&world, "installed", Some(&token), &world.host.payload("installed", "lodger")).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(world.host.stored_credential("lodger").is_none());
}

#[tokio::test]
async fn rejects_install_signed_for_another_app() {
    let world = world().await;
    let token = signed_install_token(
        "jira:client-1",
        "/lifecycle/installed",
        "https://other-app.test",
        KID,
    );
    let response =
        post(&world, "installed", Some(&token), &world.host.payload("installed", "lodger")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(error_of(&response).contains("aud"));
}

#[tokio::test]
async fn accepts_audience_with_a_trailing_slash() {
    let world = world().await;
    let token =
        signed_install_token("jira:client-1", "/lifecycle/installed", "https://lodger.test/", KID);
    let response =
        post(&world, "installed", Some(&token), &world.host.payload("installed", "lodger")).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn rejects_install_token_made_for_another_lifecycle_url() {
    let world = world().await;
    let token = install_token(&world, "/lifecycle/uninstalled");
    let response =
        post(&world, "installed", Some(&token), &world.host.payload("installed", "lodger")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(error_of(&response).contains("qsh"));
}

#[tokio::test]
async fn rejects_install_signed_hs256_with_the_shared_secret() {
    let world = world().await;
    let token =
        host_token("jira:client-1", "ATCO-first-secret", "POST", "/lifecycle/installed", "");
    let response =
        post(&world, "installed", Some(&token), &world.host.payload("installed", "lodger")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(error_of(&response).contains("RS256"));
}

#[tokio::test]
async fn rejects_malformed_payload_and_wrong_event_with_400() {
    let world = world().await;
    let token = install_token(&world, "/lifecycle/installed");
    let response =
        post(&world, "installed", Some(&token), &serde_json::json!({"nope": true})).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response =
        post(&world, "installed", Some(&token), &world.host.payload("uninstalled", "lodger")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = post(
        &world,
        "installed",
        Some(&token),
        &world.host.payload("installed", "someone-elses-app"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn unknown_lifecycle_event_is_a_bad_request() {
    let world = world().await;
    let token = install_token(&world, "/lifecycle/exploded");
    let response =
        post(&world, "exploded", Some(&token), &world.host.payload("exploded", "lodger")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(error_of(&response).contains("unknown lifecycle event"));
}

#[tokio::test]
async fn enabled_is_verified_with_the_shared_secret_once_installed() {
    let world = world().await;
    assert_eq!(install(&world).await.status(), StatusCode::NO_CONTENT);
    let payload = world.host.payload("enabled", "lodger");
    let good = host_token("jira:client-1", "ATCO-first-secret", "POST", "/lifecycle/enabled", "");
    assert_eq!(
        post(&world, "enabled", Some(&good), &payload).await.status(),
        StatusCode::NO_CONTENT
    );
    let forged = host_token("jira:client-1", "guessed", "POST", "/lifecycle/enabled", "");
    assert_eq!(
        post(&world, "enabled", Some(&forged), &payload).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let context = context_token("jira:client-1", "ATCO-first-secret");
    assert_eq!(
        post(&world, "enabled", Some(&context), &payload).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(post(&world, "enabled", None, &payload).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn disabled_may_arrive_unsigned() {
    let world = world().await;
    let response = post(&world, "disabled", None, &world.host.payload("disabled", "lodger")).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn uninstalled_for_an_unknown_tenant_still_verifies_and_answers_204() {
    let world = world().await;
    let token = install_token(&world, "/lifecycle/uninstalled");
    let response =
        post(&world, "uninstalled", Some(&token), &world.host.payload("uninstalled", "lodger"))
            .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let forged = host_token("jira:client-1", "x", "POST", "/lifecycle/uninstalled", "");
    let response =
        post(&world, "uninstalled", Some(&forged), &world.host.payload("uninstalled", "lodger"))
            .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn reinstall_with_a_new_secret_replaces_the_credential() {
    let world = world().await;
    assert_eq!(install(&world).await.status(), StatusCode::NO_CONTENT);
    let first = world.host.stored_credential("lodger").unwrap();
    *world.host.secret.lock().unwrap() = lodger::connect::secret::Secret::new("ATCO-second-secret");
    assert_eq!(install(&world).await.status(), StatusCode::NO_CONTENT);
    let second = world.host.stored_credential("lodger").unwrap();
    assert_ne!(first, second);
    let keyring = Keyring::new(lodger::SEALING_PURPOSE, vec![world.master.clone()]).unwrap();
    assert_eq!(
        keyring.open(&second, "jira:client-1", "lodger").unwrap().shared_secret.expose(),
        "ATCO-second-secret"
    );
    let old = host_token("jira:client-1", "ATCO-first-secret", "POST", "/lifecycle/enabled", "");
    let response =
        post(&world, "enabled", Some(&old), &world.host.payload("enabled", "lodger")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "the old secret no longer verifies");
}

#[tokio::test]
async fn error_bodies_and_headers_never_contain_the_secret_or_token() {
    let world = world().await;
    let token =
        signed_install_token("jira:someone-else", "/lifecycle/installed", APP_BASE_URL, KID);
    let response =
        post(&world, "installed", Some(&token), &world.host.payload("installed", "lodger")).await;
    let body = String::from_utf8_lossy(response.body()).to_string();
    let headers = format!("{:?}", response.headers());
    for leak in ["ATCO-first-secret", token.as_str()] {
        assert!(!body.contains(leak) && !headers.contains(leak));
    }
}

/// Waits (bounded) until the host's registrations satisfy `check`.
async fn eventually_registered(world: &World, check: impl Fn(&[(u64, String, i64)]) -> bool) {
    eventually("the registrations are right", async || check(&world.host.webhooks.lock().unwrap()))
        .await;
}

/// A page's API call for the tenant, which lets the server look after its webhooks.
async fn page_call(world: &World) {
    let credential = world.host.stored_credential("lodger").unwrap();
    let response = warp::test::request()
        .path("/api/whoami")
        .header(
            "authorization",
            format!("JWT {}", context_token(&world.host.client_key, &world.host.secret())),
        )
        .header("x-lodger-installation", credential)
        .reply(&world.routes)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_page_call_brings_back_a_lapsed_webhook_and_refreshes_one_about_to_lapse() {
    let world = world().await;
    assert_eq!(install(&world).await.status(), StatusCode::NO_CONTENT);
    let client_key = world.host.client_key.clone();

    // Lapsed: Jira forgot it. The next request of the tenant registers it again.
    world.host.webhooks.lock().unwrap().clear();
    world.state.upkept.remove(&client_key);
    page_call(&world).await;
    eventually_registered(&world, |r| r.len() == 1).await;

    // About to lapse: refreshed in place, same id, 30 days ahead again.
    let soon = (lodger::now() + 86_400) * 1000;
    let id = {
        let mut registered = world.host.webhooks.lock().unwrap();
        registered[0].2 = soon;
        registered[0].0
    };
    world.state.upkept.remove(&client_key);
    page_call(&world).await;
    eventually_registered(&world, |r| r.len() == 1 && r[0].0 == id && r[0].2 > soon).await;
    assert!(world.host.log.lock().unwrap().iter().any(|l| l == "PUT /rest/api/3/webhook/refresh"));

    // Checked lately: another call does not ask the host again.
    let calls = world.host.log.lock().unwrap().len();
    let next_check = world.state.upkept.get(&client_key);
    page_call(&world).await;
    // The call claimed no check (the next is due when it was), so none runs.
    assert_eq!(world.state.upkept.get(&client_key), next_check, "no check was started");
    assert_eq!(world.host.log.lock().unwrap().len(), calls);
}

#[tokio::test]
async fn a_failing_webhook_check_is_not_retried_on_every_page_call() {
    let world = world().await;
    assert_eq!(install(&world).await.status(), StatusCode::NO_CONTENT);
    let credential = world.host.stored_credential("lodger").unwrap();
    let token = context_token(&world.host.client_key, &world.host.secret());
    // The host stops accepting the app's signature: every webhook call fails.
    *world.host.secret.lock().unwrap() =
        lodger::connect::secret::Secret::new("a secret the app does not have");
    world.state.upkept.remove(&world.host.client_key);

    let checks = || {
        let log = world.host.log.lock().unwrap();
        log.iter().filter(|line| *line == "GET /rest/api/3/webhook").count()
    };
    let before = checks();
    for _ in 0..20 {
        let response = warp::test::request()
            .path("/api/whoami")
            .header("authorization", format!("JWT {token}"))
            .header("x-lodger-installation", &credential)
            .reply(&world.routes)
            .await;
        assert_eq!(response.status(), StatusCode::OK, "the page call itself is served");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // The one check started has failed once it set the retry pause; after
    // that only another claim could check again.
    let client_key = world.host.client_key.clone();
    let retry_noted = || {
        let due = world.state.upkept.get(&client_key).unwrap_or(i64::MAX);
        due <= lodger::now() + lodger::app::upkeep::RETRY_AFTER_SECONDS
    };
    eventually("the failed check sets its retry pause", async || retry_noted()).await;
    assert_eq!(checks() - before, 1, "one check, then a pause before the next");
}
