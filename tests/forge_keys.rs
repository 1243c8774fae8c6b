//! Fetching Forge's key sets: cached, refreshed once on an unknown `kid`,
//! at a bounded rate, 503-worthy when unreachable, staging only for staging.

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lodger::connect::invocation_token::InvocationTokenError;
use lodger::host::forge_keys::{ForgeKeyError, ForgeKeys};
use serde_json::{Value, json};
use support::forge::{APP, ForgeKey, claims, jwks};
use warp::Filter;
use warp::http::StatusCode;

/// A key server: serves `document` at `/prod` and `/stg`, counts fetches, can fail.
struct KeyServer {
    url: String,
    document: Arc<Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
    down: Arc<AtomicBool>,
}

async fn key_server(document: Value) -> KeyServer {
    let document = Arc::new(Mutex::new(document));
    let fetches = Arc::new(AtomicUsize::new(0));
    let down = Arc::new(AtomicBool::new(false));
    let (d, f, o) = (document.clone(), fetches.clone(), down.clone());
    let route = warp::path::param().map(move |which: String| {
        f.fetch_add(1, Ordering::SeqCst);
        let status =
            if o.load(Ordering::SeqCst) { StatusCode::BAD_GATEWAY } else { StatusCode::OK };
        let body = json!({"served": which, "keys": d.lock().unwrap()["keys"].clone()});
        warp::reply::with_status(body.to_string(), status)
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(warp::serve(route).incoming(listener).run());
    KeyServer { url: format!("http://{addr}"), document, fetches, down }
}

fn keys_for(server: &KeyServer, min_refresh: Duration) -> ForgeKeys {
    let prod = format!("{}/prod", server.url);
    let stg = format!("{}/stg", server.url);
    let mut keys = ForgeKeys::new(&prod, &stg, Duration::from_secs(5)).unwrap();
    keys.min_refresh = min_refresh;
    keys
}

#[tokio::test]
async fn fetches_the_key_set_once_and_then_serves_from_cache() {
    let key = ForgeKey::generate("k1");
    let server = key_server(jwks(&[&key])).await;
    let keys = keys_for(&server, Duration::from_secs(3600));
    let now = lodger::now();
    for _ in 0..5 {
        let verified = keys.verify(&key.sign(&claims(now)), APP, now).await.unwrap();
        assert_eq!(verified.app.api_base_url, "https://api.atlassian.com/ex/jira/c0ffee");
    }
    assert_eq!(server.fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_rotated_key_is_picked_up_by_one_refresh_and_made_up_kids_cost_one_fetch_a_window() {
    let old = ForgeKey::generate("k1");
    let new = ForgeKey::generate("k2");
    let server = key_server(jwks(&[&old])).await;
    let keys = keys_for(&server, Duration::ZERO);
    let now = lodger::now();
    keys.verify(&old.sign(&claims(now)), APP, now).await.unwrap();
    *server.document.lock().unwrap() = jwks(&[&old, &new]);
    keys.verify(&new.sign(&claims(now)), APP, now).await.unwrap();
    assert_eq!(server.fetches.load(Ordering::SeqCst), 2, "one refresh for the new kid");

    let limited = keys_for(&server, Duration::from_secs(3600));
    limited.verify(&old.sign(&claims(now)), APP, now).await.unwrap();
    let stranger = ForgeKey::generate("made-up");
    for _ in 0..10 {
        let refused = limited.verify(&stranger.sign(&claims(now)), APP, now).await;
        assert!(matches!(refused, Err(ForgeKeyError::Token(InvocationTokenError::UnknownKey))));
    }
    assert_eq!(server.fetches.load(Ordering::SeqCst), 3, "no refresh within the window");
}

#[tokio::test]
async fn an_unreachable_key_set_is_unavailable_but_a_cached_key_keeps_working() {
    let key = ForgeKey::generate("k1");
    let server = key_server(jwks(&[&key])).await;
    server.down.store(true, Ordering::SeqCst);
    let keys = keys_for(&server, Duration::ZERO);
    let now = lodger::now();
    let refused = keys.verify(&key.sign(&claims(now)), APP, now).await;
    assert!(matches!(refused, Err(ForgeKeyError::Unavailable(_))), "{refused:?}");
    server.down.store(false, Ordering::SeqCst);
    keys.verify(&key.sign(&claims(now)), APP, now).await.unwrap();
    server.down.store(true, Ordering::SeqCst);
    let other = ForgeKey::generate("k2");
    let unknown = keys.verify(&other.sign(&claims(now)), APP, now).await;
    assert!(matches!(unknown, Err(ForgeKeyError::Unavailable(_))), "{unknown:?}");
    keys.verify(&key.sign(&claims(now)), APP, now).await.expect("the cached key still verifies");
}

#[tokio::test]
async fn only_a_staging_site_uses_the_staging_key_set() {
    let key = ForgeKey::generate("k1");
    let server = key_server(jwks(&[&key])).await;
    let keys = keys_for(&server, Duration::ZERO);
    let now = lodger::now();
    let mut staging = claims(now);
    staging["app"]["apiBaseUrl"] = json!("https://api.stg.atlassian.com/ex/jira/c0ffee");
    keys.verify(&key.sign(&staging), APP, now).await.unwrap();
    keys.verify(&key.sign(&claims(now)), APP, now).await.unwrap();
    assert_eq!(server.fetches.load(Ordering::SeqCst), 2, "one fetch per set");
    let unavailable = ForgeKeys::new(
        "http://127.0.0.1:9/prod",
        &format!("{}/stg", server.url),
        Duration::from_secs(2),
    )
    .unwrap();
    assert!(unavailable.verify(&key.sign(&staging), APP, now).await.is_ok(), "staging set used");
    assert!(matches!(
        unavailable.verify(&key.sign(&claims(now)), APP, now).await,
        Err(ForgeKeyError::Unavailable(_))
    ));
}
