//! Test doubles that behave like Atlassian's side of the protocol: a key
//! server for signed installs, a host that stores app properties and checks
//! the app's signature, and helpers that sign requests the way hosts do.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use jsonwebtoken::{EncodingKey, Header};
use lodger::config::ServeConfig;
use lodger::connect::jwt::{self, Claims, Expectation, UnverifiedToken};
use lodger::connect::qsh::query_string_hash;
use lodger::connect::sealed::MasterKey;
use lodger::connect::secret::Secret;
use lodger::descriptor::AppKeys;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{Value, json};
use warp::Filter;
use warp::http::StatusCode;

pub const APP_BASE_URL: &str = "https://lodger.test";
pub const KID: &str = "0e50fccb-239d-4991-a5db-dc850ba3f236";

/// One RSA key pair per test binary (generation is the slow part).
pub fn rsa_pem() -> &'static (String, String) {
    static KEYS: OnceLock<(String, String)> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut rng = rand::thread_rng();
        let private = rsa::RsaPrivateKey::new(&mut rng, 2048).expect("rsa key");
        let public = private.to_public_key();
        (
            private.to_pkcs8_pem(LineEnding::LF).expect("pem").to_string(),
            public.to_public_key_pem(LineEnding::LF).expect("pem"),
        )
    })
}

/// The installs key server: serves the public key at `/<KID>`; can be told to fail.
pub struct KeyServer {
    pub url: String,
    pub hits: Arc<AtomicUsize>,
    pub down: Arc<std::sync::atomic::AtomicBool>,
}

pub async fn key_server() -> KeyServer {
    let hits = Arc::new(AtomicUsize::new(0));
    let down = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (h, d) = (hits.clone(), down.clone());
    let route = warp::path::tail().map(move |tail: warp::path::Tail| {
        h.fetch_add(1, Ordering::SeqCst);
        if d.load(Ordering::SeqCst) {
            return warp::reply::with_status(String::new(), StatusCode::SERVICE_UNAVAILABLE);
        }
        if tail.as_str() == KID {
            warp::reply::with_status(rsa_pem().1.clone(), StatusCode::OK)
        } else {
            warp::reply::with_status(String::new(), StatusCode::NOT_FOUND)
        }
    });
    let addr = spawn(route).await;
    KeyServer { url: format!("http://{addr}"), hits, down }
}

/// A Jira-like host: stores app properties, checks the app's JWT (iss = app
/// key, qsh of the request, signed with the tenant's secret).
pub struct TestHost {
    pub base_url: String,
    pub client_key: String,
    pub secret: Arc<Mutex<Secret>>,
    /// `(app key, property) -> value`.
    pub properties: Arc<Mutex<HashMap<(String, String), Value>>>,
    /// How many of the next property writes answer 503.
    pub failures: Arc<AtomicUsize>,
    /// Every request as `METHOD path -> status`.
    pub log: Arc<Mutex<Vec<String>>>,
    /// Dynamic webhook registrations: `(id, url, expiry in ms)`.
    pub webhooks: Arc<Mutex<Vec<(u64, String, i64)>>>,
    /// While set, a webhook registration (`POST /rest/api/3/webhook`) is
    /// logged as `POST /rest/api/3/webhook (held)` and left unanswered; once
    /// cleared it is answered 404 unregistered: a request the host never
    /// processed, for killing the app in the middle of an install.
    pub hold_registrations: Arc<AtomicBool>,
}

pub async fn test_host(client_key: &str, secret: &str) -> TestHost {
    let secret = Arc::new(Mutex::new(Secret::new(secret)));
    let properties: Arc<Mutex<HashMap<(String, String), Value>>> = Default::default();
    let failures = Arc::new(AtomicUsize::new(0));
    let log: Arc<Mutex<Vec<String>>> = Default::default();
    let (s, p, f, l) = (secret.clone(), properties.clone(), failures.clone(), log.clone());
    let route = warp::put()
        .and(warp::path!(
            "rest" / "atlassian-connect" / "1" / "addons" / String / "properties" / String
        ))
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::body::json())
        .map(move |app_key: String, property: String, auth: Option<String>, body: Value| {
            let path = format!("/rest/atlassian-connect/1/addons/{app_key}/properties/{property}");
            let status = (|| {
                let token = auth.as_deref().and_then(|a| a.strip_prefix("JWT "))?;
                let qsh = query_string_hash("PUT", &path, "");
                let unverified = UnverifiedToken::parse(token).ok()?;
                if unverified.issuer() != app_key {
                    return None;
                }
                let secret = s.lock().unwrap().clone();
                unverified.verify(&secret, &Expectation::request(&qsh, lodger::now())).ok()?;
                Some(())
            })()
            .map_or(StatusCode::UNAUTHORIZED, |()| {
                if f.load(Ordering::SeqCst) > 0 {
                    f.fetch_sub(1, Ordering::SeqCst);
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                p.lock().unwrap().insert((app_key.clone(), property.clone()), body.clone());
                StatusCode::OK
            });
            l.lock().unwrap().push(format!("PUT {path} -> {}", status.as_u16()));
            warp::reply::with_status(warp::reply(), status)
        });
    // Reading a property, as Jira answers it: 401 to a secret it does not
    // accept (a superseded or uninstalled installation's), 404 when unset.
    let (s, p, f, l) = (secret.clone(), properties.clone(), failures.clone(), log.clone());
    let read = warp::get()
        .and(warp::path!(
            "rest" / "atlassian-connect" / "1" / "addons" / String / "properties" / String
        ))
        .and(warp::header::optional::<String>("authorization"))
        .map(move |app_key: String, property: String, auth: Option<String>| {
            let path = format!("/rest/atlassian-connect/1/addons/{app_key}/properties/{property}");
            let signed = (|| {
                let token = auth.as_deref().and_then(|a| a.strip_prefix("JWT "))?;
                let qsh = query_string_hash("GET", &path, "");
                let unverified = UnverifiedToken::parse(token).ok()?;
                if unverified.issuer() != app_key {
                    return None;
                }
                let secret = s.lock().unwrap().clone();
                unverified.verify(&secret, &Expectation::request(&qsh, lodger::now())).ok()
            })();
            let value = p.lock().unwrap().get(&(app_key.clone(), property.clone())).cloned();
            let (status, body) = match (signed, value) {
                (None, _) => (StatusCode::UNAUTHORIZED, json!({})),
                (Some(_), _) if f.load(Ordering::SeqCst) > 0 => {
                    f.fetch_sub(1, Ordering::SeqCst);
                    (StatusCode::SERVICE_UNAVAILABLE, json!({}))
                }
                (Some(_), None) => (StatusCode::NOT_FOUND, json!({})),
                (Some(_), Some(value)) => {
                    (StatusCode::OK, json!({ "key": property, "value": value }))
                }
            };
            l.lock().unwrap().push(format!("GET {path} -> {}", status.as_u16()));
            warp::reply::with_status(warp::reply::json(&body), status)
        });
    let route = route.or(read);
    let webhooks: Arc<Mutex<Vec<(u64, String, i64)>>> = Default::default();
    let thirty_days = || (lodger::now() + 30 * 86_400) * 1000;
    let (s, w, l) = (secret.clone(), webhooks.clone(), log.clone());
    let hold_registrations = Arc::new(AtomicBool::new(false));
    let (held, held_log) = (hold_registrations.clone(), log.clone());
    let gate = warp::method().and(warp::path::peek()).and_then(
        move |method: warp::http::Method, rest: warp::path::Peek| {
            let (held, log) = (held.clone(), held_log.clone());
            async move {
                let registration = method == warp::http::Method::POST && rest.as_str().is_empty();
                if !(registration && held.load(Ordering::SeqCst)) {
                    return Ok(());
                }
                log.lock().unwrap().push("POST /rest/api/3/webhook (held)".to_owned());
                while held.load(Ordering::SeqCst) {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                Err(warp::reject::not_found())
            }
        },
    );
    // Dynamic webhooks, as Jira's REST API answers them (GET, POST, DELETE).
    let webhook_route = warp::path("rest")
        .and(warp::path("api"))
        .and(warp::path("3"))
        .and(warp::path("webhook"))
        .and(gate)
        .untuple_one()
        .and(warp::path::tail())
        .and(warp::method())
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::body::bytes())
        .map(move |tail: warp::path::Tail, method: warp::http::Method, query: String, auth: Option<String>, body: bytes::Bytes| {
            let path = match tail.as_str() {
                "" => "/rest/api/3/webhook".to_owned(),
                rest => format!("/rest/api/3/webhook/{rest}"),
            };
            let signed = (|| {
                let token = auth.as_deref().and_then(|a| a.strip_prefix("JWT "))?;
                let qsh = query_string_hash(method.as_str(), &path, &query);
                let secret = s.lock().unwrap().clone();
                UnverifiedToken::parse(token)
                    .ok()?
                    .verify(&secret, &Expectation::request(&qsh, lodger::now()))
                    .ok()
            })();
            l.lock().unwrap().push(format!("{method} {path}"));
            if signed.is_none() {
                return warp::reply::with_status(warp::reply::json(&json!({})), StatusCode::UNAUTHORIZED);
            }
            let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let mut registered = w.lock().unwrap();
            let ids: Vec<u64> = body["webhookIds"].as_array().map_or_else(Vec::new, |ids| ids.iter().filter_map(Value::as_u64).collect());
            let answer = match (method.as_str(), tail.as_str()) {
                ("PUT", "refresh") => {
                    for entry in registered.iter_mut().filter(|(id, ..)| ids.contains(id)) {
                        entry.2 = thirty_days();
                    }
                    json!({ "expirationDate": thirty_days() })
                }
                ("POST", "") => {
                    let id = 1000 + registered.iter().map(|(id, ..)| *id).max().unwrap_or(0);
                    registered.push((id, body["url"].as_str().unwrap_or_default().to_owned(), thirty_days()));
                    json!({ "webhookRegistrationResult": [{ "createdWebhookId": id }] })
                }
                ("DELETE", "") => {
                    registered.retain(|(id, ..)| !ids.contains(id));
                    json!({})
                }
                _ => {
                    let values: Vec<Value> = registered.iter().map(|(id, url, expiry)| json!({ "id": id, "url": url, "expirationDate": expiry })).collect();
                    json!({ "values": values, "isLast": true })
                }
            };
            warp::reply::with_status(warp::reply::json(&answer), StatusCode::OK)
        });
    let addr = spawn(route.or(webhook_route)).await;
    TestHost {
        base_url: format!("http://{addr}"),
        client_key: client_key.into(),
        secret,
        properties,
        failures,
        log,
        webhooks,
        hold_registrations,
    }
}

impl TestHost {
    pub fn secret(&self) -> String {
        self.secret.lock().unwrap().expose().to_owned()
    }

    /// The `installed` (or other event) payload this host would send.
    pub fn payload(&self, event: &str, app_key: &str) -> Value {
        json!({
            "key": app_key,
            "clientKey": self.client_key,
            "sharedSecret": self.secret(),
            "baseUrl": self.base_url,
            "displayUrl": self.base_url,
            "productType": if app_key.ends_with(".confluence") { "confluence" } else { "jira" },
            "description": "test host",
            "eventType": event,
            "serverVersion": "100271",
            "pluginsVersion": "1001.0.0",
        })
    }

    /// What Jira does on uninstall: the installation's secret stops
    /// working and the app's properties and webhooks go.
    pub fn uninstall(&self) {
        *self.secret.lock().unwrap() = Secret::new(format!("ATCO-gone-{}", rand::random::<u64>()));
        self.properties.lock().unwrap().clear();
        self.webhooks.lock().unwrap().clear();
    }

    /// How many times the app read the property `lodger-installation`.
    pub fn installation_reads(&self) -> usize {
        let log = self.log.lock().unwrap();
        log.iter()
            .filter(|line| line.starts_with("GET ") && line.contains("/lodger-installation"))
            .count()
    }

    /// The credential lodger stored, if any.
    pub fn stored_credential(&self, app_key: &str) -> Option<String> {
        let properties = self.properties.lock().unwrap();
        let value = properties.get(&(app_key.to_owned(), "lodger-installation".to_owned()))?;
        value["credential"].as_str().map(str::to_owned)
    }
}

/// Serves a filter on a loopback port in the background.
pub async fn spawn<F>(filter: F) -> SocketAddr
where
    F: Filter + Clone + Send + Sync + 'static,
    F::Extract: warp::Reply,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(warp::serve(filter).incoming(listener).run());
    addr
}

/// An RS256 signed-install token as Atlassian makes them.
pub fn signed_install_token(client_key: &str, path: &str, aud: &str, kid: &str) -> String {
    let claims = json!({
        "iss": client_key,
        "sub": "557058:admin",
        "aud": [aud],
        "iat": lodger::now(),
        "exp": lodger::now() + 180,
        "qsh": query_string_hash("POST", path, ""),
        // Each callback is signed afresh; two in one second must not be the
        // same token (lodger accepts each token once). lodger does not read it.
        "jti": format!("{:016x}", rand::random::<u64>()),
    });
    let mut header = Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_rsa_pem(rsa_pem().0.as_bytes()).unwrap(),
    )
    .unwrap()
}

/// An HS256 token as a host signs iframe URLs, webhooks and `enabled`.
pub fn host_token(client_key: &str, secret: &str, method: &str, path: &str, query: &str) -> String {
    let claims = Claims {
        sub: Some("557058:user-1".into()),
        ..Claims::new(client_key, lodger::now(), 180, &query_string_hash(method, path, query))
    };
    jwt::sign(&claims, &Secret::new(secret))
}

/// A context token as `AP.context.getToken()` returns it.
pub fn context_token(client_key: &str, secret: &str) -> String {
    let claims = Claims {
        sub: Some("557058:user-1".into()),
        context: Some(json!({"jira": {"issue": {"key": "LOD-1"}}})),
        ..Claims::new(client_key, lodger::now(), 900, "context-qsh")
    };
    jwt::sign(&claims, &Secret::new(secret))
}

/// A serve configuration pointing at a test key server.
pub fn config(key_server: &str, master_keys: Vec<MasterKey>) -> ServeConfig {
    ServeConfig {
        auth_only: false,
        revocation_check_seconds: lodger::app::revocation::DEFAULT_BOUND_SECONDS,
        base_url: APP_BASE_URL.into(),
        bind: "127.0.0.1:0".parse().unwrap(),
        keys: AppKeys::new("lodger").unwrap(),
        master_keys,
        install_keys_url: key_server.into(),
        extra_hosts: vec!["http://localhost:2990".into()],
        site_dir: None,
        forge: None,
    }
}
