//! The Forge remote in `lodger serve` facing hostile calls: whatever is wrong
//! with an invocation, lodger answers 401 (or 503 when Forge's keys cannot
//! be fetched: Forge delivers events again) and calls no site; with a good
//! one it calls only the token's `apiBaseUrl`, with the token Forge handed.
//! A Forge remote alone needs no master key. The remote against the
//! emulated Forge platform end to end is in `tests/dev_forge.rs`.

mod support;

use std::sync::{Arc, Mutex};

use lodger::config::ForgeConfig;
use lodger::forge::paths::{EVENT_INSTALLED, EVENT_ISSUE_CREATED, INVOKE, INVOKE_ADMIN};
use serde_json::{Value, json};
use support::forge::{APP, ForgeKey, claims, jwks};
use warp::Filter;
use warp::http::StatusCode;

/// What a site double received: method, path, `Authorization`.
type Seen = Arc<Mutex<Vec<(String, String, String)>>>;

/// A site reachable at `/ex/jira/c0ffee`: records every call; answers the
/// Forge app property `lodger-settings` as stored (404 before), and the
/// permission check with ADMINISTER for `557058:admin` only.
async fn site() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let stored: Arc<Mutex<Option<Value>>> = Arc::default();
    let (record, store) = (seen.clone(), stored.clone());
    let route = warp::method()
        .and(warp::path::full())
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::body::bytes())
        .map(
            move |method: warp::http::Method,
                  path: warp::path::FullPath,
                  auth: Option<String>,
                  body: bytes::Bytes| {
                let path = path.as_str().to_owned();
                record.lock().unwrap().push((
                    method.to_string(),
                    path.clone(),
                    auth.unwrap_or_default(),
                ));
                let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let reply = |status: StatusCode, value: Value| {
                    warp::reply::with_status(warp::reply::json(&value), status)
                };
                match (method.as_str(), path.as_str()) {
                    ("GET", "/ex/jira/c0ffee/rest/forge/1/app/properties/lodger-settings") => {
                        match store.lock().unwrap().clone() {
                            Some(value) => reply(
                                StatusCode::OK,
                                json!({"key": "lodger-settings", "value": value}),
                            ),
                            None => reply(StatusCode::NOT_FOUND, json!({})),
                        }
                    }
                    ("PUT", "/ex/jira/c0ffee/rest/forge/1/app/properties/lodger-settings") => {
                        *store.lock().unwrap() = Some(body);
                        reply(StatusCode::OK, json!({}))
                    }
                    ("POST", "/ex/jira/c0ffee/rest/api/3/permissions/check") => {
                        let admin = body["accountId"] == "557058:admin";
                        let granted = if admin { json!(["ADMINISTER"]) } else { json!([]) };
                        reply(StatusCode::OK, json!({"globalPermissions": granted}))
                    }
                    _ => reply(StatusCode::NOT_FOUND, json!({})),
                }
            },
        );
    let addr = support::spawn(route).await;
    (format!("http://{addr}"), seen)
}

/// A key set server for `key`.
async fn key_server(key: &ForgeKey) -> String {
    let document = jwks(&[key]);
    let addr =
        support::spawn(warp::path!("jwks.json").map(move || warp::reply::json(&document))).await;
    format!("http://{addr}/jwks.json")
}

/// `lodger serve` as a Forge remote alone: no master key.
async fn remote(jwks_url: &str) -> String {
    let mut config = support::config("http://127.0.0.1:9", Vec::new());
    config.forge =
        Some(ForgeConfig { app_id: APP.to_owned(), jwks_url: Some(jwks_url.to_owned()) });
    let routes = lodger::web::server::routes(&config).unwrap();
    format!("http://{}", support::spawn(routes).await)
}

/// Claims for a call whose `apiBaseUrl` is `site`.
fn claims_for(site: &str) -> Value {
    let mut claims = claims(lodger::now());
    claims["app"]["apiBaseUrl"] = json!(format!("{site}/ex/jira/c0ffee"));
    claims
}

async fn post(url: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
    let mut request = support::site_client::http()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .header("x-forge-oauth-system", "sys-token");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = request.send().await.unwrap();
    let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
    (status, serde_json::from_slice(&response.bytes().await.unwrap()).unwrap_or(Value::Null))
}

#[tokio::test]
async fn refuses_every_bad_invocation_without_calling_the_site() {
    let key = ForgeKey::generate("k1");
    let stranger = ForgeKey::generate("k1");
    let (site, seen) = site().await;
    let remote = remote(&key_server(&key).await).await;
    let good = claims_for(&site);
    let with = |pointer: &str, value: Value| {
        let mut claims = good.clone();
        *claims.pointer_mut(pointer).unwrap() = value;
        claims
    };
    let now = lodger::now();
    let header_of = |alg: &str, kid: Option<&str>| {
        use base64::Engine;
        let header = json!({"alg": alg, "kid": kid, "typ": "JWT"});
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(header.to_string())
    };
    let payload = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(good.to_string())
    };
    let cases: Vec<(&str, Option<String>)> = vec![
        ("no token", None),
        ("wrong aud", Some(key.sign(&with("/aud", json!("ari:cloud:ecosystem::app/other"))))),
        ("wrong iss", Some(key.sign(&with("/iss", json!("forge/other"))))),
        ("expired", Some(key.sign(&with("/exp", json!(now - 120))))),
        ("not yet valid", Some(key.sign(&with("/nbf", json!(now + 120))))),
        ("alg none", Some(format!("{}.{payload}.", header_of("none", Some("k1"))))),
        (
            "HS256 with the public key",
            Some({
                let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
                header.kid = Some("k1".into());
                let secret = jsonwebtoken::EncodingKey::from_secret(key.public_pem.as_bytes());
                jsonwebtoken::encode(&header, &good, &secret).unwrap()
            }),
        ),
        (
            "unknown kid",
            Some({
                let other = ForgeKey { kid: "k9".into(), ..ForgeKey::generate("k9") };
                other.sign(&good)
            }),
        ),
        ("signed by a key that is not in the set", Some(stranger.sign(&good))),
        ("oversized", Some(key.sign(&with("/app/installationId", json!("x".repeat(40_000)))))),
        (
            "apiBaseUrl over plain http elsewhere",
            Some(key.sign(&with("/app/apiBaseUrl", json!("http://site.example/ex/jira/c0ffee")))),
        ),
    ];
    for path in [INVOKE, INVOKE_ADMIN, EVENT_ISSUE_CREATED, EVENT_INSTALLED] {
        for (case, token) in &cases {
            let body = json!({"action": "getSettings"});
            let (status, answer) = post(&format!("{remote}{path}"), token.as_deref(), body).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{case} on {path}: {answer}");
            let text = answer.to_string();
            assert!(!text.contains("sys-token") && !text.contains("eyJ"), "{case}: {text}");
        }
    }
    assert!(seen.lock().unwrap().is_empty(), "the site was called: {:?}", seen.lock().unwrap());
}

#[tokio::test]
async fn answers_503_while_forges_keys_cannot_be_fetched() {
    let key = ForgeKey::generate("k1");
    let (site, seen) = site().await;
    let remote = remote("http://127.0.0.1:9/jwks.json").await;
    let token = key.sign(&claims_for(&site));
    let event = json!({"issue": {"id": "10001", "fields": {"project": {"id": "10000"}}}});
    let (status, _) = post(&format!("{remote}{EVENT_ISSUE_CREATED}"), Some(&token), event).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn calls_only_the_verified_api_base_url_with_the_handed_system_token() {
    let key = ForgeKey::generate("k1");
    let (site, seen) = site().await;
    let (elsewhere, seen_elsewhere) = self::site().await;
    let remote = remote(&key_server(&key).await).await;
    let token = key.sign(&claims_for(&site));
    // The body names another site: it is not where lodger calls.
    let body = json!({"action": "getSettings"});
    let mut request = support::site_client::http()
        .post(format!("{remote}{INVOKE}/settings?apiBaseUrl={elsewhere}"))
        .header("authorization", format!("Bearer {token}"))
        .header("x-forge-oauth-system", "sys-token")
        .header("x-forwarded-host", elsewhere.trim_start_matches("http://"))
        .header("content-type", "application/json")
        .body(body.to_string());
    request = request.header("x-forge-api-base-url", &elsewhere);
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    let answer: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(answer["settings"], json!({"applyTemplates": true, "showWhoTicked": true}));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![(
            "GET".to_owned(),
            "/ex/jira/c0ffee/rest/forge/1/app/properties/lodger-settings".to_owned(),
            "Bearer sys-token".to_owned()
        )]
    );
    assert!(seen_elsewhere.lock().unwrap().is_empty());
}

// A current-thread runtime, so the captured subscriber sees every log line.
#[tokio::test(flavor = "current_thread")]
async fn a_site_admin_changes_settings_from_the_admin_page_only() {
    let (logs, _guard) = support::logs::capture(tracing::Level::TRACE);
    let key = ForgeKey::generate("k1");
    let (site, seen) = site().await;
    let remote = remote(&key_server(&key).await).await;
    let off = json!({"action": "putSettings", "settings": {"applyTemplates": false, "showWhoTicked": true}});
    let as_user = |account: &str| {
        let mut claims = claims_for(&site);
        claims["principal"] = json!(account);
        key.sign(&claims)
    };

    let (status, answer) =
        post(&format!("{remote}{INVOKE_ADMIN}"), Some(&as_user("557058:member")), off.clone())
            .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    let (status, _) =
        post(&format!("{remote}{INVOKE}"), Some(&as_user("557058:admin")), off.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "settings from a non-admin page");
    assert!(!seen.lock().unwrap().iter().any(|(method, ..)| method == "PUT"));

    let (status, answer) =
        post(&format!("{remote}{INVOKE_ADMIN}"), Some(&as_user("557058:admin")), off).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let read = json!({"action": "getSettings"});
    let (_, answer) =
        post(&format!("{remote}{INVOKE}"), Some(&as_user("557058:member")), read).await;
    assert_eq!(answer["settings"]["applyTemplates"], false);

    let logs = logs.text();
    assert!(logs.contains("settings changed by a site admin"), "{logs}");
    let token = as_user("557058:admin");
    let signature = token.rsplit('.').next().unwrap();
    for secret in ["sys-token", signature] {
        assert!(!logs.contains(secret), "a token reached the logs:\n{logs}");
    }
}

#[tokio::test]
async fn a_forge_remote_alone_serves_no_connect_route() {
    let key = ForgeKey::generate("k1");
    let remote = remote(&key_server(&key).await).await;
    for path in ["/atlassian-connect.json", "/lifecycle/installed", "/api/whoami"] {
        let status = support::site_client::http()
            .get(format!("{remote}{path}"))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 404, "{path}");
    }
    let health =
        support::site_client::http().get(format!("{remote}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn one_process_serves_both_flavours_each_answering_its_own_failures() {
    let key = ForgeKey::generate("k1");
    let master = lodger::connect::sealed::MasterKey::generate();
    let mut config = support::config("http://127.0.0.1:9", vec![master]);
    let jwks_url = key_server(&key).await;
    config.forge = Some(ForgeConfig { app_id: APP.to_owned(), jwks_url: Some(jwks_url) });
    let app =
        format!("http://{}", support::spawn(lodger::web::server::routes(&config).unwrap()).await);
    let http = support::site_client::http();
    let status = |path: &str| http.get(format!("{app}{path}")).send();
    assert_eq!(status("/healthz").await.unwrap().status(), 200);
    assert_eq!(status("/atlassian-connect.json").await.unwrap().status(), 200);
    let connect = status("/api/whoami").await.unwrap();
    assert_eq!(connect.status(), 401);
    assert!(connect.headers()["www-authenticate"].to_str().unwrap().starts_with("JWT"));
    let forge = http.post(format!("{app}{INVOKE}")).send().await.unwrap();
    assert_eq!(forge.status(), 401);
    assert_eq!(forge.headers()["www-authenticate"], "Bearer");
    assert_eq!(status("/forge/nothing-here").await.unwrap().status(), 404);
}
