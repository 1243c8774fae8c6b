//! Authenticated API calls: a context token plus the relayed sealed
//! credential (the storage-free way), or a host-signed token for a tenant
//! this process knows. Driven through `warp::test`.

mod support;

use lodger::connect::sealed::{Keyring, MasterKey};
use serde_json::Value;
use support::*;
use warp::http::StatusCode;

struct World {
    host: TestHost,
    master: MasterKey,
    routes: warp::filters::BoxedFilter<(warp::reply::Response,)>,
    _keys: KeyServer,
}

/// A world where `jira:client-1` has installed lodger.
async fn installed_world() -> World {
    let keys = key_server().await;
    let host = test_host("jira:client-1", "ATCO-first-secret").await;
    let master = MasterKey::generate();
    let (_, routes) = lodger::web::server::app(&config(&keys.url, vec![master.clone()])).unwrap();
    let token = signed_install_token(&host.client_key, "/lifecycle/installed", APP_BASE_URL, KID);
    let response = warp::test::request()
        .method("POST")
        .path("/lifecycle/installed")
        .header("authorization", format!("JWT {token}"))
        .body(host.payload("installed", "lodger").to_string())
        .reply(&routes)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    World { host, master, routes, _keys: keys }
}

async fn whoami(world: &World, token: &str, credential: Option<&str>) -> (StatusCode, Value) {
    let mut request =
        warp::test::request().path("/api/whoami").header("authorization", format!("JWT {token}"));
    if let Some(credential) = credential {
        request = request.header("x-lodger-installation", credential);
    }
    let response = request.reply(&world.routes).await;
    (response.status(), serde_json::from_slice(response.body()).unwrap_or(Value::Null))
}

/// A fresh app process with the same master key: it knows no tenant.
fn cold_replica(world: &World) -> warp::filters::BoxedFilter<(warp::reply::Response,)> {
    lodger::web::server::app(&config("http://127.0.0.1:9", vec![world.master.clone()])).unwrap().1
}

#[tokio::test]
async fn context_token_with_relayed_credential_identifies_user_and_tenant() {
    let world = installed_world().await;
    let credential = world.host.stored_credential("lodger").unwrap();
    let (status, body) =
        whoami(&world, &context_token("jira:client-1", "ATCO-first-secret"), Some(&credential))
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["clientKey"], "jira:client-1");
    assert_eq!(body["accountId"], "557058:user-1");
    assert_eq!(body["context"]["jira"]["issue"]["key"], "LOD-1");
    assert!(!body.to_string().contains("ATCO"), "no secret in the answer");
}

#[tokio::test]
async fn a_cold_replica_serves_the_tenant_from_the_relayed_credential_alone() {
    let world = installed_world().await;
    let credential = world.host.stored_credential("lodger").unwrap();
    let replica = cold_replica(&world);
    let response = warp::test::request()
        .path("/api/whoami")
        .header(
            "authorization",
            format!("JWT {}", context_token("jira:client-1", "ATCO-first-secret")),
        )
        .header("x-lodger-installation", &credential)
        .reply(&replica)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn host_signed_token_for_a_known_tenant_needs_no_credential() {
    let world = installed_world().await;
    let token = host_token("jira:client-1", "ATCO-first-secret", "GET", "/api/whoami", "");
    let (status, body) = whoami(&world, &token, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn token_in_the_jwt_query_parameter_is_accepted() {
    let world = installed_world().await;
    let token =
        host_token("jira:client-1", "ATCO-first-secret", "GET", "/api/whoami", "lic=active");
    let response = warp::test::request()
        .path(&format!("/api/whoami?lic=active&jwt={token}"))
        .reply(&world.routes)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn rejects_credential_of_another_tenant() {
    let world = installed_world().await;
    let credential = world.host.stored_credential("lodger").unwrap();
    // A token from another tenant (its own secret) with tenant 1's credential.
    let (status, body) =
        whoami(&world, &context_token("jira:client-2", "ATCO-first-secret"), Some(&credential))
            .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test]
async fn rejects_credential_sealed_with_a_key_this_server_does_not_have() {
    let world = installed_world().await;
    let credential = world.host.stored_credential("lodger").unwrap();
    let other =
        lodger::web::server::app(&config("http://127.0.0.1:9", vec![MasterKey::generate()]))
            .unwrap()
            .1;
    let response = warp::test::request()
        .path("/api/whoami")
        .header(
            "authorization",
            format!("JWT {}", context_token("jira:client-1", "ATCO-first-secret")),
        )
        .header("x-lodger-installation", &credential)
        .reply(&other)
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(String::from_utf8_lossy(response.body()).contains("master key"));
}

#[tokio::test]
async fn rejects_token_signed_with_a_wrong_secret_even_with_a_valid_credential() {
    let world = installed_world().await;
    let credential = world.host.stored_credential("lodger").unwrap();
    let (status, _) =
        whoami(&world, &context_token("jira:client-1", "guessed"), Some(&credential)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn rejects_unknown_issuer_without_credential() {
    let world = installed_world().await;
    let (status, body) = whoami(&world, &context_token("jira:stranger", "x"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["error"].as_str().unwrap().contains("issuer"));
}

#[tokio::test]
async fn rejects_missing_token_and_tampered_credential() {
    let world = installed_world().await;
    let response = warp::test::request().path("/api/whoami").reply(&world.routes).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let credential = world.host.stored_credential("lodger").unwrap();
    let middle = credential.len() - 20;
    let replacement = if &credential[middle..middle + 1] == "A" { "B" } else { "A" };
    let credential = format!("{}{replacement}{}", &credential[..middle], &credential[middle + 1..]);
    let (status, _) =
        whoami(&world, &context_token("jira:client-1", "ATCO-first-secret"), Some(&credential))
            .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_keyring_of_another_deployment_cannot_open_a_credential() {
    let world = installed_world().await;
    let credential = world.host.stored_credential("lodger").unwrap();
    let stranger = Keyring::new(lodger::SEALING_PURPOSE, vec![MasterKey::generate()]).unwrap();
    assert!(stranger.open(&credential, "jira:client-1", "lodger").is_err());
}
