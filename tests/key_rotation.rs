//! Rotating master keys on running replicas, with nothing re-installed:
//! start with key A; put B first on every replica; old credentials still
//! open and are re-sealed under B as pages use them; new installs seal with
//! B; then A can go, and a credential still sealed with A is refused with a
//! clear error, never a panic.

mod support;

use lodger::connect::sealed::{MasterKey, key_id_of};
use serde_json::Value;
use support::*;
use warp::http::StatusCode;

type Routes = warp::filters::BoxedFilter<(warp::reply::Response,)>;

fn replica(keys: &KeyServer, master_keys: &[&MasterKey]) -> Routes {
    let master_keys = master_keys.iter().map(|k| (*k).clone()).collect();
    lodger::web::server::app(&config(&keys.url, master_keys)).unwrap().1
}

async fn install(routes: &Routes, host: &TestHost) -> StatusCode {
    let token = signed_install_token(&host.client_key, "/lifecycle/installed", APP_BASE_URL, KID);
    warp::test::request()
        .method("POST")
        .path("/lifecycle/installed")
        .header("authorization", format!("JWT {token}"))
        .body(host.payload("installed", "lodger").to_string())
        .reply(routes)
        .await
        .status()
}

async fn whoami(routes: &Routes, host: &TestHost, credential: &str) -> (StatusCode, Value) {
    let response = warp::test::request()
        .path("/api/whoami")
        .header("authorization", format!("JWT {}", context_token(&host.client_key, &host.secret())))
        .header("x-lodger-installation", credential)
        .reply(routes)
        .await;
    (response.status(), serde_json::from_slice(response.body()).unwrap_or(Value::Null))
}

#[tokio::test]
async fn keys_rotate_on_running_replicas_without_reinstalling() {
    let keys = key_server().await;
    let (a, b) = (MasterKey::generate(), MasterKey::generate());
    let old_site = test_host("jira:rotation-old", "ATCO-old-secret").await;
    assert_eq!(install(&replica(&keys, &[&a]), &old_site).await, StatusCode::NO_CONTENT);
    let sealed_with_a = old_site.stored_credential("lodger").unwrap();
    assert_eq!(key_id_of(&sealed_with_a), Some(a.id()));

    // B goes first on both replicas (a restart with LODGER_MASTER_KEYS=B,A).
    let (one, two) = (replica(&keys, &[&b, &a]), replica(&keys, &[&b, &a]));
    let (status, body) = whoami(&two, &old_site, &sealed_with_a).await;
    assert_eq!(status, StatusCode::OK, "an A credential still opens: {body}");
    // Using it re-seals the tenant under B, in the host, in the background.
    let stored = || old_site.stored_credential("lodger").unwrap();
    eventually("the credential is re-sealed under B", async || {
        key_id_of(&stored()) == Some(b.id())
    })
    .await;
    let resealed = stored();
    let new_site = test_host("jira:rotation-new", "ATCO-new-secret").await;
    assert_eq!(install(&one, &new_site).await, StatusCode::NO_CONTENT);
    assert_eq!(key_id_of(&new_site.stored_credential("lodger").unwrap()), Some(b.id()));

    // A is dropped: B credentials work on a replica that never saw them…
    let only_b = replica(&keys, &[&b]);
    assert_eq!(whoami(&only_b, &old_site, &resealed).await.0, StatusCode::OK);
    let new_credential = new_site.stored_credential("lodger").unwrap();
    assert_eq!(whoami(&only_b, &new_site, &new_credential).await.0, StatusCode::OK);
    // …and a credential sealed only with A is refused, saying why.
    let (status, body) = whoami(&only_b, &old_site, &sealed_with_a).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let error = body["error"].as_str().unwrap();
    assert!(error.contains(a.id()) && error.contains("not configured"), "{error}");
    // The host's next install (of a tenant that missed the rotation) heals it.
    assert_eq!(install(&only_b, &old_site).await, StatusCode::NO_CONTENT);
    let healed = old_site.stored_credential("lodger").unwrap();
    assert_eq!(whoami(&only_b, &old_site, &healed).await.0, StatusCode::OK);
}
