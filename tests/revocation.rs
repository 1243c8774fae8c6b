//! Revocation (issue 13): after a reinstall with a new secret, or an
//! uninstall, the old token and the old credential stop working: at once on
//! the replica that handled the event, and within the revocation bound on a
//! replica that shares nothing with it but the host. Replicas are two app
//! states driven through `warp::test`; time moves by each state's clock.

mod support;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use jsonwebtoken::{EncodingKey, Header};
use lodger::connect::qsh::query_string_hash;
use lodger::connect::sealed::MasterKey;
use lodger::connect::secret::Secret;
use lodger::state::AppState;
use serde_json::{Value, json};
use support::*;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;

/// The bound the replicas are configured with, in seconds.
const BOUND: i64 = 5;
const TENANT: &str = "jira:client-revoke";
const FIRST: &str = "ATCO-first-secret";
const SECOND: &str = "ATCO-second-secret";

struct Replica {
    state: Arc<AppState>,
    routes: BoxedFilter<(Response,)>,
}

struct World {
    keys: KeyServer,
    host: TestHost,
    master: MasterKey,
}

async fn world() -> World {
    World {
        keys: key_server().await,
        host: test_host(TENANT, FIRST).await,
        master: MasterKey::generate(),
    }
}

/// A replica with the deployment's master key and nothing else in common.
fn replica(world: &World) -> Replica {
    let mut config = config(&world.keys.url, vec![world.master.clone()]);
    config.revocation_check_seconds = BOUND;
    let (state, routes) = lodger::web::server::app(&config).unwrap();
    Replica { state, routes }
}

async fn lifecycle(replica: &Replica, event: &str, token: &str, body: &Value) -> StatusCode {
    warp::test::request()
        .method("POST")
        .path(&format!("/lifecycle/{event}"))
        .header("authorization", format!("JWT {token}"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .reply(&replica.routes)
        .await
        .status()
}

/// Installs with the host's current secret; the credential lodger stored.
async fn install(world: &World, replica: &Replica) -> String {
    let token = signed_install_token(TENANT, "/lifecycle/installed", APP_BASE_URL, KID);
    let body = world.host.payload("installed", "lodger");
    assert_eq!(lifecycle(replica, "installed", &token, &body).await, StatusCode::NO_CONTENT);
    world.host.stored_credential("lodger").unwrap()
}

/// The host uninstalls the app, then tells `replica`.
async fn uninstall(world: &World, replica: &Replica) {
    world.host.uninstall();
    let token = signed_install_token(TENANT, "/lifecycle/uninstalled", APP_BASE_URL, KID);
    let body = world.host.payload("uninstalled", "lodger");
    assert_eq!(lifecycle(replica, "uninstalled", &token, &body).await, StatusCode::NO_CONTENT);
}

/// `GET /api/whoami` with a context token signed with `secret`.
async fn whoami(replica: &Replica, secret: &str, credential: Option<&str>) -> StatusCode {
    let mut request = warp::test::request()
        .path("/api/whoami")
        .header("authorization", format!("JWT {}", context_token(TENANT, secret)));
    if let Some(credential) = credential {
        request = request.header("x-lodger-installation", credential);
    }
    request.reply(&replica.routes).await.status()
}

/// A delivery to the dynamic webhook URL carrying `credential`, signed with `secret`.
async fn webhook(replica: &Replica, secret: &str, credential: &str) -> StatusCode {
    let query = format!("c={credential}");
    let token = host_token(TENANT, secret, "POST", "/webhooks/jira", &query);
    warp::test::request()
        .method("POST")
        .path(&format!("/webhooks/jira?{query}"))
        .header("authorization", format!("JWT {token}"))
        .header("content-type", "application/json")
        .body(json!({"webhookEvent": "jira:issue_updated"}).to_string())
        .reply(&replica.routes)
        .await
        .status()
}

/// A signed-install token issued at `iat` that lives `lifetime` seconds.
fn install_token(path: &str, iat: i64, lifetime: i64) -> String {
    let claims = json!({
        "iss": TENANT,
        "aud": [APP_BASE_URL],
        "iat": iat,
        "exp": iat + lifetime,
        "qsh": query_string_hash("POST", path, ""),
    });
    let mut header = Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(KID.to_owned());
    let key = EncodingKey::from_rsa_pem(rsa_pem().0.as_bytes()).unwrap();
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

fn set_secret(world: &World, secret: &str) {
    *world.host.secret.lock().unwrap() = Secret::new(secret);
}

#[tokio::test]
async fn a_reinstall_refuses_the_old_token_and_credential_here_at_once_and_elsewhere_after_the_bound()
 {
    let world = world().await;
    let (here, elsewhere) = (replica(&world), replica(&world));
    let old = install(&world, &here).await;
    for replica in [&here, &elsewhere] {
        assert_eq!(whoami(replica, FIRST, Some(&old)).await, StatusCode::OK);
        assert_eq!(webhook(replica, FIRST, &old).await, StatusCode::NO_CONTENT);
    }

    set_secret(&world, SECOND);
    let new = install(&world, &here).await;
    assert_ne!(new, old);

    // The replica that handled the reinstall: at once, without asking the host.
    let reads = world.host.installation_reads();
    assert_eq!(whoami(&here, FIRST, Some(&old)).await, StatusCode::UNAUTHORIZED);
    assert_eq!(webhook(&here, FIRST, &old).await, StatusCode::UNAUTHORIZED);
    assert_eq!(whoami(&here, FIRST, None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(whoami(&here, SECOND, Some(&new)).await, StatusCode::OK);
    assert_eq!(world.host.installation_reads(), reads);

    // The other replica trusted the old installation for the bound; once it
    // has passed, the host's 401 to the old secret decides.
    assert_eq!(whoami(&elsewhere, FIRST, Some(&old)).await, StatusCode::OK, "within the bound");
    elsewhere.state.clock.advance(BOUND + 1);
    assert_eq!(whoami(&elsewhere, FIRST, Some(&old)).await, StatusCode::UNAUTHORIZED);
    assert_eq!(webhook(&elsewhere, FIRST, &old).await, StatusCode::UNAUTHORIZED);
    assert_eq!(whoami(&elsewhere, FIRST, None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(whoami(&elsewhere, SECOND, Some(&new)).await, StatusCode::OK);
    assert_eq!(webhook(&elsewhere, SECOND, &new).await, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn an_uninstall_refuses_the_old_token_and_credential_here_at_once_and_elsewhere_after_the_bound()
 {
    let world = world().await;
    let (here, elsewhere) = (replica(&world), replica(&world));
    let old = install(&world, &here).await;
    for replica in [&here, &elsewhere] {
        assert_eq!(whoami(replica, FIRST, Some(&old)).await, StatusCode::OK);
        assert_eq!(webhook(replica, FIRST, &old).await, StatusCode::NO_CONTENT);
    }

    uninstall(&world, &here).await;
    let reads = world.host.installation_reads();
    assert_eq!(whoami(&here, FIRST, Some(&old)).await, StatusCode::UNAUTHORIZED);
    assert_eq!(webhook(&here, FIRST, &old).await, StatusCode::UNAUTHORIZED);
    // The refused credential did not put the tenant back: a bare token fails too.
    assert_eq!(whoami(&here, FIRST, None).await, StatusCode::UNAUTHORIZED);
    assert!(here.state.tenant(TENANT).is_none());
    assert_eq!(world.host.installation_reads(), reads, "known here, without the host");

    assert_eq!(whoami(&elsewhere, FIRST, Some(&old)).await, StatusCode::OK, "within the bound");
    elsewhere.state.clock.advance(BOUND + 1);
    assert_eq!(whoami(&elsewhere, FIRST, Some(&old)).await, StatusCode::UNAUTHORIZED);
    assert_eq!(webhook(&elsewhere, FIRST, &old).await, StatusCode::UNAUTHORIZED);
    assert_eq!(whoami(&elsewhere, FIRST, None).await, StatusCode::UNAUTHORIZED);
    assert!(elsewhere.state.tenant(TENANT).is_none());
}

#[tokio::test]
async fn a_reinstall_after_an_uninstall_works_again_on_the_replica_that_saw_both() {
    let world = world().await;
    let here = replica(&world);
    install(&world, &here).await;
    uninstall(&world, &here).await;
    set_secret(&world, SECOND);
    let new = install(&world, &here).await;
    assert_eq!(whoami(&here, SECOND, Some(&new)).await, StatusCode::OK);
    assert_eq!(whoami(&here, SECOND, None).await, StatusCode::OK);
}

#[tokio::test]
async fn a_fresh_tenants_credential_is_confirmed_once_and_then_served_without_the_host() {
    let world = world().await;
    let (here, elsewhere) = (replica(&world), replica(&world));
    let credential = install(&world, &here).await;
    for _ in 0..5 {
        assert_eq!(whoami(&here, FIRST, Some(&credential)).await, StatusCode::OK);
    }
    assert_eq!(world.host.installation_reads(), 0, "the replica that installed asks nobody");
    for _ in 0..5 {
        assert_eq!(whoami(&elsewhere, FIRST, Some(&credential)).await, StatusCode::OK);
        assert_eq!(webhook(&elsewhere, FIRST, &credential).await, StatusCode::NO_CONTENT);
    }
    assert_eq!(world.host.installation_reads(), 1, "confirmed once");
    elsewhere.state.clock.advance(BOUND + 1);
    assert_eq!(whoami(&elsewhere, FIRST, Some(&credential)).await, StatusCode::OK);
    assert_eq!(world.host.installation_reads(), 2, "and again once the bound has passed");
}

#[tokio::test]
async fn a_host_that_cannot_confirm_gets_503_but_confirmed_installations_keep_working() {
    let world = world().await;
    let (here, confirmed, cold) = (replica(&world), replica(&world), replica(&world));
    let credential = install(&world, &here).await;
    assert_eq!(whoami(&confirmed, FIRST, Some(&credential)).await, StatusCode::OK);

    world.host.failures.store(1000, Ordering::SeqCst);
    assert_eq!(whoami(&confirmed, FIRST, Some(&credential)).await, StatusCode::OK);
    assert_eq!(whoami(&cold, FIRST, Some(&credential)).await, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(webhook(&cold, FIRST, &credential).await, StatusCode::SERVICE_UNAVAILABLE);
    confirmed.state.clock.advance(BOUND + 1);
    assert_eq!(
        whoami(&confirmed, FIRST, Some(&credential)).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "past the bound, what cannot be confirmed is not accepted"
    );

    world.host.failures.store(0, Ordering::SeqCst);
    assert_eq!(whoami(&cold, FIRST, Some(&credential)).await, StatusCode::OK);
}

#[tokio::test]
async fn a_credential_stored_over_by_a_later_installation_is_superseded_even_if_its_secret_works() {
    // A host that still accepted the old secret after a reinstall (Jira does
    // not): the credential it stores, a later installation with another
    // secret, still tells a replica that the old one is superseded.
    let world = world().await;
    let (first, second, elsewhere) = (replica(&world), replica(&world), replica(&world));
    let old = install(&world, &first).await;
    set_secret(&world, SECOND);
    let later = install_token("/lifecycle/installed", lodger::now() + 2, 180);
    let body = world.host.payload("installed", "lodger");
    assert_eq!(lifecycle(&second, "installed", &later, &body).await, StatusCode::NO_CONTENT);
    let new = world.host.stored_credential("lodger").unwrap();
    set_secret(&world, FIRST);
    assert_eq!(whoami(&elsewhere, FIRST, Some(&old)).await, StatusCode::UNAUTHORIZED);
    set_secret(&world, SECOND);
    assert_eq!(whoami(&elsewhere, SECOND, Some(&new)).await, StatusCode::OK);
}

#[tokio::test]
async fn an_upgrade_with_the_same_secret_keeps_older_credentials_working() {
    let world = world().await;
    let (here, elsewhere) = (replica(&world), replica(&world));
    let old = install(&world, &here).await;
    let later = install_token("/lifecycle/installed", lodger::now() + 2, 180);
    let body = world.host.payload("installed", "lodger");
    assert_eq!(lifecycle(&here, "installed", &later, &body).await, StatusCode::NO_CONTENT);
    let new = world.host.stored_credential("lodger").unwrap();
    for replica in [&here, &elsewhere] {
        for credential in [&old, &new] {
            assert_eq!(whoami(replica, FIRST, Some(credential)).await, StatusCode::OK);
            assert_eq!(webhook(replica, FIRST, credential).await, StatusCode::NO_CONTENT);
        }
    }
}

#[tokio::test]
async fn an_install_token_replayed_with_another_body_is_refused() {
    let world = world().await;
    let here = replica(&world);
    let token = signed_install_token(TENANT, "/lifecycle/installed", APP_BASE_URL, KID);
    let body = world.host.payload("installed", "lodger");
    assert_eq!(lifecycle(&here, "installed", &token, &body).await, StatusCode::NO_CONTENT);
    let credential = world.host.stored_credential("lodger").unwrap();

    let mut forged = body.clone();
    forged["sharedSecret"] = json!("ATCO-attacker-secret");
    forged["baseUrl"] = json!("http://127.0.0.1:9");
    assert_eq!(lifecycle(&here, "installed", &token, &forged).await, StatusCode::UNAUTHORIZED);
    assert_eq!(lifecycle(&here, "installed", &token, &body).await, StatusCode::UNAUTHORIZED);
    assert_eq!(whoami(&here, "ATCO-attacker-secret", None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(whoami(&here, FIRST, Some(&credential)).await, StatusCode::OK);

    let uninstalled = signed_install_token(TENANT, "/lifecycle/uninstalled", APP_BASE_URL, KID);
    let body = world.host.payload("uninstalled", "lodger");
    assert_eq!(lifecycle(&here, "uninstalled", &uninstalled, &body).await, StatusCode::NO_CONTENT);
    assert_eq!(
        lifecycle(&here, "uninstalled", &uninstalled, &body).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn an_install_retried_after_a_failure_with_the_same_token_and_body_is_accepted() {
    let world = world().await;
    let here = replica(&world);
    let token = signed_install_token(TENANT, "/lifecycle/installed", APP_BASE_URL, KID);
    let body = world.host.payload("installed", "lodger");
    world.host.failures.store(100, Ordering::SeqCst);
    assert_eq!(lifecycle(&here, "installed", &token, &body).await, StatusCode::SERVICE_UNAVAILABLE);
    world.host.failures.store(0, Ordering::SeqCst);
    assert_eq!(lifecycle(&here, "installed", &token, &body).await, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn an_install_token_that_lives_longer_than_atlassians_is_refused() {
    let world = world().await;
    let here = replica(&world);
    let token = install_token("/lifecycle/installed", lodger::now(), 3600);
    let body = world.host.payload("installed", "lodger");
    assert_eq!(lifecycle(&here, "installed", &token, &body).await, StatusCode::UNAUTHORIZED);
    assert!(world.host.stored_credential("lodger").is_none());
}

// A current-thread runtime, so the captured subscriber sees every log line.
#[tokio::test(flavor = "current_thread")]
async fn every_refusal_is_logged_at_warn_with_the_client_key_and_never_the_secret() {
    let (logs, _guard) = support::logs::capture(tracing::Level::WARN);

    let world = world().await;
    let (here, elsewhere) = (replica(&world), replica(&world));
    let old = install(&world, &here).await;
    set_secret(&world, SECOND);
    install(&world, &here).await;
    assert_eq!(whoami(&here, FIRST, Some(&old)).await, StatusCode::UNAUTHORIZED);
    assert_eq!(whoami(&elsewhere, FIRST, Some(&old)).await, StatusCode::UNAUTHORIZED);

    let logged = logs.text();
    let refusals: Vec<&str> = logged
        .lines()
        .filter(|line| line.contains("refused a revoked or superseded installation"))
        .collect();
    assert_eq!(refusals.len(), 2, "{logged}");
    for line in refusals {
        assert!(line.contains("WARN") && line.contains(TENANT), "{line}");
    }
    for secret in [FIRST, SECOND, old.as_str()] {
        assert!(!logged.contains(secret), "a secret or credential in the logs: {logged}");
    }
}
