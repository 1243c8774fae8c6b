//! The hostile-input matrix (issue 7): forged, replayed, confused, oversized
//! and malformed requests against the lifecycle, API and webhook endpoints.
//! Each case states the exact status lodger must answer, and the matrix
//! checks that no hostile request wrote anything to either host, changed
//! what this process knows about a tenant, or leaked a secret, a token or a
//! sealed credential into a response body or a log line.
//!
//! Driven through `warp::test` (no socket), except for the oversized header
//! block, which only a real HTTP server can refuse.

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use lodger::connect::installation::{Installation, Product};
use lodger::connect::jwt::{self, Claims};
use lodger::connect::qsh::query_string_hash;
use lodger::connect::sealed::{Keyring, MasterKey};
use lodger::connect::secret::Secret;
use serde_json::{Value, json};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use warp::Filter;
use warp::http::{HeaderValue, StatusCode};

type Routes = warp::filters::BoxedFilter<(warp::reply::Response,)>;

const SECRET_1: &str = "ATCO-tenant-one-secret-4b1f0c2e";
const SECRET_2: &str = "ATCO-tenant-two-secret-9d3a7e51";
const TENANT_1: &str = "jira:client-1";
const TENANT_2: &str = "jira:client-2";

/// Two Jira tenants installed through the real lifecycle, each with its own
/// host, plus apps whose key server is unreachable or too slow.
struct World {
    keys: KeyServer,
    hosts: [TestHost; 2],
    master: MasterKey,
    routes: Routes,
    unreachable_keys: Routes,
    slow_keys: Routes,
    state: Arc<lodger::state::AppState>,
}

async fn install(routes: &Routes, host: &TestHost) {
    let token = signed_install_token(&host.client_key, "/lifecycle/installed", APP_BASE_URL, KID);
    let response = warp::test::request()
        .method("POST")
        .path("/lifecycle/installed")
        .header("authorization", format!("JWT {token}"))
        .header("content-type", "application/json")
        .body(host.payload("installed", "lodger").to_string())
        .reply(routes)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT, "{:?}", response.body());
}

async fn world() -> World {
    let keys = key_server().await;
    let hosts = [test_host(TENANT_1, SECRET_1).await, test_host(TENANT_2, SECRET_2).await];
    let master = MasterKey::generate();
    let (state, routes) =
        lodger::web::server::app(&config(&keys.url, vec![master.clone()])).unwrap();
    for host in &hosts {
        install(&routes, host).await;
    }
    // A key server that takes longer than lodger waits (5 s).
    let slow = warp::any().then(|| async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        rsa_pem().1.clone()
    });
    let slow_url = format!("http://{}", spawn(slow).await);
    let app = |url: &str| lodger::web::server::app(&config(url, vec![master.clone()])).unwrap().1;
    World {
        unreachable_keys: app("http://127.0.0.1:9"),
        slow_keys: app(&slow_url),
        keys,
        hosts,
        master,
        routes,
        state,
    }
}

impl World {
    fn credential(&self, tenant: usize) -> String {
        self.hosts[tenant].stored_credential("lodger").unwrap()
    }

    /// A credential this deployment's master key sealed for `app_key`.
    fn sealed_for(&self, app_key: &str, product: Product) -> String {
        let installation = Installation {
            key: app_key.into(),
            client_key: TENANT_1.into(),
            base_url: self.hosts[0].base_url.clone(),
            shared_secret: Secret::new(SECRET_1),
            product_type: product,
            oauth_client_id: None,
            installed_at: 0,
        };
        Keyring::new(lodger::SEALING_PURPOSE, vec![self.master.clone()])
            .unwrap()
            .seal(&installation)
            .unwrap()
    }

    fn payload(&self, tenant: usize, event: &str) -> Value {
        self.hosts[tenant].payload(event, "lodger")
    }
}

/// One hostile request, described as data so that the matrix can list it.
struct Req {
    method: &'static str,
    path: String,
    headers: Vec<(&'static str, HeaderValue)>,
    body: Vec<u8>,
}

fn req(method: &'static str, path: &str) -> Req {
    Req { method, path: path.to_owned(), headers: Vec::new(), body: Vec::new() }
}

impl Req {
    fn header(mut self, name: &'static str, value: impl AsRef<[u8]>) -> Req {
        self.headers.push((name, HeaderValue::from_bytes(value.as_ref()).unwrap()));
        self
    }
    fn jwt(self, token: &str) -> Req {
        self.header("authorization", format!("JWT {token}"))
    }
    fn credential(self, sealed: &str) -> Req {
        self.header("x-lodger-installation", sealed)
    }
    fn json(self, body: &Value) -> Req {
        self.header("content-type", "application/json").raw(body.to_string())
    }
    fn raw(mut self, body: impl Into<Vec<u8>>) -> Req {
        self.body = body.into();
        self
    }

    /// Everything in this request a log line or an answer must never repeat.
    fn secrets(&self) -> Vec<String> {
        let mut found = Vec::new();
        for (name, value) in &self.headers {
            let text = String::from_utf8_lossy(value.as_bytes());
            let text = text.strip_prefix("JWT ").unwrap_or(&text);
            if matches!(*name, "authorization" | "x-lodger-installation") {
                found.push(text.to_owned());
            }
        }
        let query = self.path.split_once('?').map_or("", |(_, q)| q);
        for pair in query.split('&') {
            if let Some(("jwt" | "c", value)) = pair.split_once('=') {
                found.push(value.to_owned());
            }
        }
        found.retain(|s| s.len() >= 24);
        found
    }

    async fn send(&self, routes: &Routes) -> warp::http::Response<bytes::Bytes> {
        let mut request = warp::test::request().method(self.method).path(&self.path);
        for (name, value) in &self.headers {
            request = request.header(*name, value.clone());
        }
        request.body(&self.body).reply(routes).await
    }
}

/// Which app and key server a case runs against.
#[derive(Clone, Copy, PartialEq)]
enum Keys {
    /// The key server answers.
    Up,
    /// The key server answers 503.
    Down,
    /// Nothing listens where the key server should be.
    Unreachable,
    /// The key server answers after lodger stopped waiting.
    Slow,
}

struct Case {
    name: &'static str,
    keys: Keys,
    request: Req,
    status: u16,
}

fn case(name: &'static str, request: Req, status: u16) -> Case {
    Case { name, keys: Keys::Up, request, status }
}

// ---- token makers -------------------------------------------------------

fn now() -> i64 {
    lodger::now()
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// An RS256 token signed with the key server's key, with these claims and `kid`.
fn rs256(claims: &Value, kid: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_rsa_pem(rsa_pem().0.as_bytes()).unwrap(),
    )
    .unwrap()
}

/// A token signed with HMAC (`HS256` or `HS512`) over `key`, whatever its header says.
fn hmac_token(header: &Value, claims: &Value, algorithm: Algorithm, key: &[u8]) -> String {
    let input = format!("{}.{}", b64(header), b64(claims));
    let signature =
        jsonwebtoken::crypto::sign(input.as_bytes(), &EncodingKey::from_secret(key), algorithm)
            .unwrap();
    format!("{input}.{signature}")
}

/// Claims of a signed install for `iss`, posted to `path` with `method`.
fn install_claims(iss: &str, method: &str, path: &str) -> Value {
    json!({
        "iss": iss,
        "sub": "557058:admin",
        "aud": [APP_BASE_URL],
        "iat": now(),
        "exp": now() + 180,
        "qsh": query_string_hash(method, path, ""),
    })
}

fn install_token(iss: &str, path: &str) -> String {
    rs256(&install_claims(iss, "POST", path), KID)
}

fn install_token_with(change: impl FnOnce(&mut Value), kid: &str) -> String {
    let mut claims = install_claims(TENANT_1, "POST", "/lifecycle/installed");
    change(&mut claims);
    rs256(&claims, kid)
}

/// HS256 claims as a host signs a request to `method path?query`.
fn host_claims(iss: &str, method: &str, path: &str, query: &str) -> Value {
    json!({
        "iss": iss,
        "sub": "557058:user-1",
        "iat": now(),
        "exp": now() + 180,
        "qsh": query_string_hash(method, path, query),
    })
}

fn hs256(claims: &Value, secret: &str) -> String {
    hmac_token(&json!({"alg": "HS256", "typ": "JWT"}), claims, Algorithm::HS256, secret.as_bytes())
}

fn signed(iss: &str, secret: &str, method: &str, path: &str, query: &str) -> String {
    host_token(iss, secret, method, path, query)
}

fn context(iss: &str, secret: &str) -> String {
    context_token(iss, secret)
}

fn expired(iss: &str, secret: &str, method: &str, path: &str) -> String {
    let claims = Claims {
        sub: Some("557058:user-1".into()),
        ..Claims::new(iss, now() - 3600, 180, &query_string_hash(method, path, ""))
    };
    jwt::sign(&claims, &Secret::new(secret))
}

fn nested(depth: usize) -> Vec<u8> {
    let mut body = "[".repeat(depth);
    body.push_str(&"]".repeat(depth));
    body.into_bytes()
}

// ---- the matrix ---------------------------------------------------------

fn lifecycle_cases(w: &World) -> Vec<Case> {
    let installed = "/lifecycle/installed";
    let post = || req("POST", installed);
    let payload = w.payload(0, "installed");
    let valid_claims = install_claims(TENANT_1, "POST", installed);
    let public_pem = rsa_pem().1.as_bytes().to_vec();
    let mut other_app = payload.clone();
    other_app["key"] = json!("someone-elses-app");
    let mut wrong_event = payload.clone();
    wrong_event["eventType"] = json!("uninstalled");
    let mut insecure = payload.clone();
    insecure["baseUrl"] = json!("http://evil.example");
    let mut padded = payload.clone();
    padded["description"] = json!("x".repeat(70 * 1024));
    vec![
        case("installed: unsigned", post().json(&payload), 401),
        case(
            "installed: alg none",
            post()
                .jwt(&format!(
                    "{}.{}.",
                    b64(&json!({"alg": "none", "kid": KID})),
                    b64(&valid_claims)
                ))
                .json(&payload),
            401,
        ),
        case(
            "installed: HS256 signed with the payload's own shared secret",
            post().jwt(&hs256(&valid_claims, SECRET_1)).json(&payload),
            401,
        ),
        case(
            "installed: HS512",
            post()
                .jwt(&hmac_token(
                    &json!({"alg": "HS512", "kid": KID}),
                    &valid_claims,
                    Algorithm::HS512,
                    SECRET_1.as_bytes(),
                ))
                .json(&payload),
            401,
        ),
        case(
            "installed: RS256 header, HMAC-signed with the public key (key confusion)",
            post()
                .jwt(&hmac_token(
                    &json!({"alg": "RS256", "kid": KID}),
                    &valid_claims,
                    Algorithm::HS256,
                    &public_pem,
                ))
                .json(&payload),
            401,
        ),
        case(
            "installed: HS256 header, HMAC-signed with the public key (key confusion)",
            post()
                .jwt(&hmac_token(
                    &json!({"alg": "HS256", "kid": KID}),
                    &valid_claims,
                    Algorithm::HS256,
                    &public_pem,
                ))
                .json(&payload),
            401,
        ),
        case(
            "installed: signature bytes of another token",
            post()
                .jwt(&{
                    let good = install_token(TENANT_2, installed);
                    let forged = install_token_with(|c| c["sub"] = json!("557058:attacker"), KID);
                    let (input, _) = forged.rsplit_once('.').unwrap();
                    format!("{input}.{}", good.rsplit_once('.').unwrap().1)
                })
                .json(&payload),
            401,
        ),
        case(
            "installed: kid with ../",
            post().jwt(&install_token_with(|_| {}, "../../etc/passwd")).json(&payload),
            401,
        ),
        case(
            "installed: URL-encoded kid",
            post().jwt(&install_token_with(|_| {}, "%2e%2e%2f%2e%2e%2fadmin")).json(&payload),
            401,
        ),
        case(
            "installed: overlong kid",
            post().jwt(&install_token_with(|_| {}, &"k".repeat(4096))).json(&payload),
            401,
        ),
        case(
            "installed: kid the key server does not publish",
            post().jwt(&install_token_with(|_| {}, "not-a-published-key")).json(&payload),
            401,
        ),
        case(
            "installed: aud of another app",
            post()
                .jwt(&install_token_with(|c| c["aud"] = json!(["https://evil.example"]), KID))
                .json(&payload),
            401,
        ),
        case(
            "installed: replayed expired token",
            post()
                .jwt(&install_token_with(
                    |c| {
                        c["iat"] = json!(now() - 7200);
                        c["exp"] = json!(now() - 7000);
                    },
                    KID,
                ))
                .json(&payload),
            401,
        ),
        case(
            "installed: issued in the future",
            post().jwt(&install_token_with(|c| c["iat"] = json!(now() + 3600), KID)).json(&payload),
            401,
        ),
        case(
            "installed: qsh for another path",
            post().jwt(&install_token(TENANT_1, "/lifecycle/uninstalled")).json(&payload),
            401,
        ),
        case(
            "installed: qsh for another method",
            post().jwt(&rs256(&install_claims(TENANT_1, "GET", installed), KID)).json(&payload),
            401,
        ),
        case(
            "installed: qsh without the query the request carries",
            req("POST", "/lifecycle/installed?user_key=admin")
                .jwt(&install_token(TENANT_1, installed))
                .json(&payload),
            401,
        ),
        case(
            "installed: payload clientKey is not the signed iss",
            post().jwt(&install_token(TENANT_2, installed)).json(&payload),
            403,
        ),
        case(
            "installed: payload for another app key",
            post().jwt(&install_token(TENANT_1, installed)).json(&other_app),
            400,
        ),
        case(
            "installed: payload eventType of another event",
            post().jwt(&install_token(TENANT_1, installed)).json(&wrong_event),
            400,
        ),
        case(
            "installed: payload baseUrl that is not https",
            post().jwt(&install_token(TENANT_1, installed)).json(&insecure),
            400,
        ),
        case(
            "installed: body is not JSON",
            post().jwt(&install_token(TENANT_1, installed)).raw("clientKey=jira:client-1"),
            400,
        ),
        case(
            "installed: body is invalid UTF-8",
            post()
                .jwt(&install_token(TENANT_1, installed))
                .header("content-type", "application/json")
                .raw(b"{\"key\": \"lodger\xff\xfe\"}".to_vec()),
            400,
        ),
        case(
            "installed: deeply nested JSON",
            post().jwt(&install_token(TENANT_1, installed)).raw(nested(20_000)),
            400,
        ),
        case(
            "installed: oversized body",
            post().jwt(&install_token(TENANT_1, installed)).json(&padded),
            413,
        ),
        case(
            "installed: body sent as a form",
            post()
                .jwt(&install_token(TENANT_1, installed))
                .header("content-type", "application/x-www-form-urlencoded")
                .raw("key=lodger&clientKey=jira%3Aclient-1&eventType=installed"),
            400,
        ),
        Case {
            name: "installed: key server down for an uncached kid",
            keys: Keys::Down,
            request: post().jwt(&install_token_with(|_| {}, "rotated-key-2")).json(&payload),
            status: 503,
        },
        Case {
            name: "installed: key server unreachable",
            keys: Keys::Unreachable,
            request: post().jwt(&install_token(TENANT_1, installed)).json(&payload),
            status: 503,
        },
        Case {
            name: "installed: key server too slow",
            keys: Keys::Slow,
            request: post().jwt(&install_token(TENANT_1, installed)).json(&payload),
            status: 503,
        },
        case(
            "lifecycle: unknown event type",
            req("POST", "/lifecycle/upgraded")
                .jwt(&install_token(TENANT_1, "/lifecycle/upgraded"))
                .json(&w.payload(0, "upgraded")),
            400,
        ),
        case(
            "lifecycle: GET on an event",
            req("GET", installed).jwt(&install_token(TENANT_1, installed)),
            405,
        ),
        case(
            "uninstalled: HS256 with the tenant's own secret (signed install required)",
            req("POST", "/lifecycle/uninstalled")
                .jwt(&signed(TENANT_1, SECRET_1, "POST", "/lifecycle/uninstalled", ""))
                .json(&w.payload(0, "uninstalled")),
            401,
        ),
        case(
            "uninstalled: another tenant's clientKey in the payload",
            req("POST", "/lifecycle/uninstalled")
                .jwt(&install_token(TENANT_1, "/lifecycle/uninstalled"))
                .json(&w.payload(1, "uninstalled")),
            403,
        ),
        case(
            "uninstalled: replayed expired token",
            req("POST", "/lifecycle/uninstalled")
                .jwt(&rs256(
                    &json!({
                        "iss": TENANT_1, "aud": [APP_BASE_URL], "iat": now() - 7200,
                        "exp": now() - 7000,
                        "qsh": query_string_hash("POST", "/lifecycle/uninstalled", ""),
                    }),
                    KID,
                ))
                .json(&w.payload(0, "uninstalled")),
            401,
        ),
        case(
            "enabled: unsigned",
            req("POST", "/lifecycle/enabled").json(&w.payload(0, "enabled")),
            401,
        ),
        case(
            "enabled: signature of another tenant",
            req("POST", "/lifecycle/enabled")
                .jwt(&signed(TENANT_1, SECRET_2, "POST", "/lifecycle/enabled", ""))
                .json(&w.payload(0, "enabled")),
            401,
        ),
        case(
            "enabled: signed iss is not the payload's clientKey",
            req("POST", "/lifecycle/enabled")
                .jwt(&signed(TENANT_2, SECRET_2, "POST", "/lifecycle/enabled", ""))
                .json(&w.payload(0, "enabled")),
            403,
        ),
    ]
}

fn api_cases(w: &World) -> Vec<Case> {
    let c1 = w.credential(0);
    let c2 = w.credential(1);
    let ctx1 = || context(TENANT_1, SECRET_1);
    let whoami = || req("GET", "/api/whoami");
    let settings = || req("PUT", "/api/settings").credential(&c1).jwt(&ctx1());
    let claims = host_claims(TENANT_1, "GET", "/api/whoami", "");
    let truncated = c1[..c1.len() - 12].to_owned();
    let (c1_head, _) = c1.rsplit_once('.').unwrap();
    let (_, c2_body) = c2.rsplit_once('.').unwrap();
    let spliced = format!("{c1_head}.{c2_body}");
    let off = json!({"applyTemplates": false, "showWhoTicked": false});
    vec![
        case("whoami: unsigned", whoami(), 401),
        case("whoami: Bearer instead of JWT", whoami().header("authorization", format!("Bearer {}", ctx1())).credential(&c1), 401),
        case(
            "whoami: alg none",
            whoami().jwt(&format!("{}.{}.", b64(&json!({"alg": "none"})), b64(&claims))),
            401,
        ),
        case(
            "whoami: HS512 with the tenant's secret",
            whoami().jwt(&hmac_token(&json!({"alg": "HS512"}), &claims, Algorithm::HS512, SECRET_1.as_bytes())),
            401,
        ),
        case(
            "whoami: RS256 header, HMAC-signed with the tenant's secret",
            whoami().jwt(&hmac_token(&json!({"alg": "RS256"}), &claims, Algorithm::HS256, SECRET_1.as_bytes())),
            401,
        ),
        case(
            "whoami: signature of another tenant",
            whoami().jwt(&signed(TENANT_1, SECRET_2, "GET", "/api/whoami", "")),
            401,
        ),
        case(
            "whoami: iss of another tenant with a valid-looking credential",
            whoami().jwt(&context(TENANT_2, SECRET_2)).credential(&c1),
            401,
        ),
        case(
            "whoami: another tenant's credential (swapped)",
            whoami().jwt(&ctx1()).credential(&c2),
            401,
        ),
        case("whoami: truncated credential", whoami().jwt(&ctx1()).credential(&truncated), 401),
        case(
            "whoami: credential spliced from two tenants",
            whoami().jwt(&ctx1()).credential(&spliced),
            401,
        ),
        case(
            "whoami: credential sealed for another app key",
            whoami().jwt(&ctx1()).credential(&w.sealed_for("someone-elses-app", Product::Jira)),
            401,
        ),
        case(
            "whoami: credential sealed with another deployment's master key",
            whoami().jwt(&ctx1()).credential(&{
                let installation = Keyring::new(lodger::SEALING_PURPOSE, vec![w.master.clone()])
                    .unwrap()
                    .open(&c1, TENANT_1, "lodger")
                    .unwrap();
                Keyring::new(lodger::SEALING_PURPOSE, vec![MasterKey::generate()]).unwrap().seal(&installation).unwrap()
            }),
            401,
        ),
        case(
            "whoami: credential of an unknown version",
            whoami().jwt(&ctx1()).credential(&c1.replacen("v1.", "v9.", 1)),
            401,
        ),
        case(
            "whoami: replayed expired token",
            whoami().jwt(&expired(TENANT_1, SECRET_1, "GET", "/api/whoami")),
            401,
        ),
        case(
            "whoami: token issued in the future",
            whoami().jwt(&hs256(
                &json!({"iss": TENANT_1, "iat": now() + 3600, "exp": now() + 3780,
                        "qsh": query_string_hash("GET", "/api/whoami", "")}),
                SECRET_1,
            )),
            401,
        ),
        case(
            "whoami: token without exp",
            whoami().jwt(&hs256(
                &json!({"iss": TENANT_1, "iat": now(), "qsh": query_string_hash("GET", "/api/whoami", "")}),
                SECRET_1,
            )),
            401,
        ),
        case(
            "whoami: qsh for another path",
            whoami().jwt(&signed(TENANT_1, SECRET_1, "GET", "/api/settings", "")),
            401,
        ),
        case(
            "whoami: qsh for another method",
            whoami().jwt(&signed(TENANT_1, SECRET_1, "POST", "/api/whoami", "")),
            401,
        ),
        case(
            "whoami: duplicated query parameter after signing",
            req("GET", "/api/whoami?lic=active&lic=none")
                .jwt(&signed(TENANT_1, SECRET_1, "GET", "/api/whoami", "lic=active")),
            401,
        ),
        case(
            "whoami: signed query dropped",
            whoami().jwt(&signed(TENANT_1, SECRET_1, "GET", "/api/whoami", "lic=active")),
            401,
        ),
        case(
            "whoami: forged token in the jwt parameter",
            req("GET", &format!("/api/whoami?jwt={}", signed(TENANT_1, SECRET_2, "GET", "/api/whoami", ""))),
            401,
        ),
        case(
            "whoami: oversized token",
            whoami().jwt(&format!("{}.{}.{}", "a".repeat(40_000), "b".repeat(40_000), "c".repeat(40_000))),
            401,
        ),
        case(
            "whoami: oversized credential",
            whoami().jwt(&ctx1()).credential(&format!("v1.{}", "A".repeat(100_000))),
            401,
        ),
        case(
            "whoami: token with four parts",
            whoami().jwt(&format!("{}.extra", ctx1())),
            401,
        ),
        case(
            "whoami: claims that are not JSON",
            whoami().jwt(&format!("{}.{}.sig", b64(&json!({"alg": "HS256"})), URL_SAFE_NO_PAD.encode("not json"))),
            401,
        ),
        case(
            "whoami: invalid UTF-8 in the Authorization header",
            whoami().header("authorization", b"JWT \xff\xfe.\xfd"),
            400,
        ),
        case(
            "whoami: invalid UTF-8 in the credential header",
            whoami().jwt(&ctx1()).header("x-lodger-installation", b"v1.\xff\xfe"),
            400,
        ),
        case("settings GET: unsigned", req("GET", "/api/settings"), 401),
        case(
            "settings GET: signature of another tenant",
            req("GET", "/api/settings").jwt(&context(TENANT_1, SECRET_2)).credential(&c1),
            401,
        ),
        case(
            "settings PUT: expired token",
            req("PUT", "/api/settings")
                .credential(&c1)
                .jwt(&expired(TENANT_1, SECRET_1, "PUT", "/api/settings"))
                .json(&off),
            401,
        ),
        case(
            "settings PUT: iss of another tenant with a valid-looking credential",
            req("PUT", "/api/settings").credential(&c1).jwt(&context(TENANT_2, SECRET_2)).json(&off),
            401,
        ),
        case(
            "settings PUT: credential sealed for the Confluence app",
            req("PUT", "/api/settings")
                .credential(&w.sealed_for("lodger.confluence", Product::Confluence))
                .jwt(&ctx1())
                .json(&off),
            400,
        ),
        case("settings PUT: oversized body", settings().json(&json!({"applyTemplates": "x".repeat(8192)})), 413),
        case(
            "settings PUT: invalid UTF-8 body",
            settings().header("content-type", "application/json").raw(b"{\"applyTemplates\": \"\xff\"}".to_vec()),
            400,
        ),
        case("settings PUT: deeply nested JSON", settings().raw(nested(2000)), 400),
        case("settings PUT: a JSON array", settings().json(&json!([false, false])), 400),
        case(
            "settings PUT: an unknown field",
            settings().json(&json!({"applyTemplates": false, "showWhoTicked": false, "admin": true})),
            400,
        ),
        case(
            "settings PUT: a wrong type",
            settings().json(&json!({"applyTemplates": "no", "showWhoTicked": false})),
            400,
        ),
        case(
            "settings PUT: form-encoded body",
            settings()
                .header("content-type", "application/x-www-form-urlencoded")
                .raw("applyTemplates=false&showWhoTicked=false"),
            400,
        ),
        case(
            "settings PUT: multipart body",
            settings()
                .header("content-type", "multipart/form-data; boundary=x")
                .raw("--x\r\ncontent-disposition: form-data; name=\"applyTemplates\"\r\n\r\nfalse\r\n--x--\r\n"),
            400,
        ),
        case("settings DELETE: not a method here", req("DELETE", "/api/settings").jwt(&ctx1()).credential(&c1), 405),
        case(
            "template: unsigned",
            req("POST", "/api/issues/10001/template"),
            401,
        ),
        case(
            "template: qsh of a GET",
            req("POST", "/api/issues/10001/template")
                .jwt(&signed(TENANT_1, SECRET_1, "GET", "/api/issues/10001/template", "")),
            401,
        ),
        case(
            "template: qsh of another issue",
            req("POST", "/api/issues/10001/template")
                .jwt(&signed(TENANT_1, SECRET_1, "POST", "/api/issues/10002/template", "")),
            401,
        ),
        case(
            "template: an issue id that is a path",
            req("POST", "/api/issues/..%2F..%2Frest%2Fapi%2F3%2Fmyself/template").jwt(&ctx1()).credential(&c1),
            400,
        ),
        case(
            "template: a negative issue id",
            req("POST", "/api/issues/-1/template").jwt(&ctx1()).credential(&c1),
            400,
        ),
        case(
            "template: truncated credential",
            req("POST", "/api/issues/10001/template").jwt(&ctx1()).credential(&truncated),
            401,
        ),
    ]
}

fn webhook_cases(w: &World) -> Vec<Case> {
    let c1 = w.credential(0);
    let c2 = w.credential(1);
    let query = |c: &str| format!("c={c}");
    let url = |c: &str| format!("/webhooks/jira?{}", query(c));
    let sign1 = |q: &str| signed(TENANT_1, SECRET_1, "POST", "/webhooks/jira", q);
    let created = json!({
        "webhookEvent": "jira:issue_created",
        "timestamp": now() * 1000,
        "issue": {"id": "10001", "fields": {"project": {"id": "10000"}}},
    });
    let post = |c: &str| req("POST", &url(c));
    vec![
        case("webhook: unsigned", req("POST", "/webhooks/jira").json(&created), 401),
        case("webhook: unsigned with a credential", post(&c1).json(&created), 401),
        case(
            "webhook: no credential, issuer this process never saw",
            req("POST", "/webhooks/jira")
                .jwt(&signed("jira:stranger", "guess", "POST", "/webhooks/jira", ""))
                .json(&created),
            503,
        ),
        case(
            "webhook: no credential, signature of another tenant",
            req("POST", "/webhooks/jira")
                .jwt(&signed(TENANT_1, SECRET_2, "POST", "/webhooks/jira", ""))
                .json(&created),
            401,
        ),
        case(
            "webhook: signature of another tenant",
            post(&c1)
                .jwt(&signed(TENANT_1, SECRET_2, "POST", "/webhooks/jira", &query(&c1)))
                .json(&created),
            401,
        ),
        case(
            "webhook: iss of another tenant with a valid-looking credential",
            post(&c1)
                .jwt(&signed(TENANT_2, SECRET_2, "POST", "/webhooks/jira", &query(&c1)))
                .json(&created),
            401,
        ),
        case(
            "webhook: another tenant's credential (swapped)",
            post(&c2).jwt(&sign1(&query(&c2))).json(&created),
            401,
        ),
        case(
            "webhook: truncated credential",
            post(&c1[..c1.len() - 5]).jwt(&sign1(&query(&c1[..c1.len() - 5]))).json(&created),
            401,
        ),
        case(
            "webhook: credential sealed for another app key",
            {
                let other = w.sealed_for("someone-elses-app", Product::Jira);
                post(&other).jwt(&sign1(&query(&other))).json(&created)
            },
            401,
        ),
        case(
            "webhook: Confluence credential on the Jira webhook",
            {
                let confluence = w.sealed_for("lodger.confluence", Product::Confluence);
                post(&confluence).jwt(&sign1(&query(&confluence))).json(&created)
            },
            400,
        ),
        case(
            "webhook: qsh without the credential parameter",
            post(&c1).jwt(&sign1("")).json(&created),
            401,
        ),
        case(
            "webhook: qsh for another method",
            post(&c1)
                .jwt(&signed(TENANT_1, SECRET_1, "PUT", "/webhooks/jira", &query(&c1)))
                .json(&created),
            401,
        ),
        case(
            "webhook: duplicated credential parameter",
            req("POST", &format!("/webhooks/jira?c={c1}&c={c2}"))
                .jwt(&sign1(&format!("c={c1}&c={c2}")))
                .json(&created),
            400,
        ),
        case(
            "webhook: context token",
            post(&c1).jwt(&context(TENANT_1, SECRET_1)).json(&created),
            401,
        ),
        case(
            "webhook: replayed expired delivery",
            post(&c1)
                .jwt(&{
                    let claims = Claims::new(
                        TENANT_1,
                        now() - 3600,
                        180,
                        &query_string_hash("POST", "/webhooks/jira", &query(&c1)),
                    );
                    jwt::sign(&claims, &Secret::new(SECRET_1))
                })
                .json(&created),
            401,
        ),
        case(
            "webhook: body is not JSON",
            post(&c1).jwt(&sign1(&query(&c1))).raw("issue=10001"),
            400,
        ),
        case(
            "webhook: body is invalid UTF-8",
            post(&c1)
                .jwt(&sign1(&query(&c1)))
                .header("content-type", "application/json")
                .raw(b"{\"webhookEvent\": \"\xff\"}".to_vec()),
            400,
        ),
        case(
            "webhook: deeply nested JSON",
            post(&c1).jwt(&sign1(&query(&c1))).raw(nested(100_000)),
            400,
        ),
        case(
            "webhook: oversized body",
            post(&c1)
                .jwt(&sign1(&query(&c1)))
                .json(&json!({"webhookEvent": "x".repeat(1024 * 1024 + 1)})),
            413,
        ),
        case(
            "webhook: issue_created without its issue",
            post(&c1).jwt(&sign1(&query(&c1))).json(&json!({"webhookEvent": "jira:issue_created"})),
            400,
        ),
        case(
            "webhook: text/plain body",
            post(&c1)
                .jwt(&sign1(&query(&c1)))
                .header("content-type", "text/plain")
                .raw("jira:issue_created 10001"),
            400,
        ),
        case(
            "webhook: GET",
            req("GET", &url(&c1)).jwt(&signed(
                TENANT_1,
                SECRET_1,
                "GET",
                "/webhooks/jira",
                &query(&c1),
            )),
            405,
        ),
    ]
}

/// One host's properties, webhooks, and how many writing requests it saw.
type HostState = (HashMap<(String, String), Value>, Vec<(u64, String, i64)>, usize);

/// Everything a request could have changed: both hosts' properties and
/// webhooks, and the requests they saw that write.
fn host_state(w: &World) -> Vec<HostState> {
    w.hosts
        .iter()
        .map(|host| {
            let writes =
                host.log.lock().unwrap().iter().filter(|line| !line.starts_with("GET ")).count();
            (host.properties.lock().unwrap().clone(), host.webhooks.lock().unwrap().clone(), writes)
        })
        .collect()
}

/// A tracing subscriber writing to a shared buffer, for the leak check.
// A current-thread runtime: the app, the hosts and the key server all run on
// the test's thread, so the captured subscriber sees every log line.
#[tokio::test(flavor = "current_thread")]
async fn hostile_requests_get_their_exact_status_write_nothing_and_leak_nothing() {
    let (logs, _guard) = support::logs::capture(tracing::Level::TRACE);

    let w = world().await;
    let groups = [lifecycle_cases(&w), api_cases(&w), webhook_cases(&w)];
    let sizes = groups.each_ref().map(Vec::len);
    let cases: Vec<Case> = groups.into_iter().flatten().collect();
    println!(
        "hostile matrix: {} cases (lifecycle {}, page/API {}, webhook {})",
        cases.len(),
        sizes[0],
        sizes[1],
        sizes[2]
    );
    assert!(cases.len() >= 60, "the matrix has {} cases", cases.len());

    let credentials = [w.credential(0), w.credential(1)];
    let mut never_shown: Vec<String> = vec![SECRET_1.into(), SECRET_2.into()];
    for credential in &credentials {
        never_shown.push(credential.clone());
        never_shown.push(credential.rsplit_once('.').unwrap().1.to_owned());
    }
    let tenants_before: Vec<_> = [TENANT_1, TENANT_2]
        .iter()
        .map(|t| w.state.tenant(t).map(|i| i.shared_secret.expose().to_owned()))
        .collect();
    let hits_before = w.keys.hits.load(Ordering::SeqCst);

    let mut failures = Vec::new();
    let mut bodies = Vec::new();
    for case in &cases {
        let before = host_state(&w);
        w.keys.down.store(case.keys == Keys::Down, Ordering::SeqCst);
        let routes = match case.keys {
            Keys::Up | Keys::Down => &w.routes,
            Keys::Unreachable => &w.unreachable_keys,
            Keys::Slow => &w.slow_keys,
        };
        let response = case.request.send(routes).await;
        w.keys.down.store(false, Ordering::SeqCst);
        let status = response.status().as_u16();
        if status != case.status {
            failures.push(format!(
                "{}: expected {}, got {status} {}",
                case.name,
                case.status,
                String::from_utf8_lossy(response.body())
            ));
        }
        if status == 401 && response.headers().get("www-authenticate").is_none() {
            failures.push(format!("{}: 401 without WWW-Authenticate", case.name));
        }
        if host_state(&w) != before {
            failures.push(format!("{}: the host was written to", case.name));
        }
        never_shown.extend(case.request.secrets());
        bodies.push((case.name, String::from_utf8_lossy(response.body()).into_owned()));
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );

    // What this process knows about each tenant is what the installs left.
    let tenants_after: Vec<_> = [TENANT_1, TENANT_2]
        .iter()
        .map(|t| w.state.tenant(t).map(|i| i.shared_secret.expose().to_owned()))
        .collect();
    assert_eq!(tenants_after, tenants_before, "a hostile request changed a tenant");
    // Refused kids never reached the key server: only the uncached ones may have.
    let fetched = w.keys.hits.load(Ordering::SeqCst) - hits_before;
    assert!(fetched <= 2, "the key server was asked {fetched} times");
    // And the real tenants still work.
    for (tenant, secret) in [(TENANT_1, SECRET_1), (TENANT_2, SECRET_2)] {
        let token = signed(tenant, secret, "GET", "/api/whoami", "");
        let response = req("GET", "/api/whoami").jwt(&token).send(&w.routes).await;
        assert_eq!(response.status(), StatusCode::OK, "{tenant} after the matrix");
    }

    let logged = logs.text();
    assert!(logged.contains("installed; credential stored"), "the capture sees lodger's logs");
    for secret in &never_shown {
        let line = logged.lines().find(|line| line.contains(secret.as_str()));
        assert!(
            line.is_none(),
            "a log line shows {}…: {}",
            &secret[..12],
            line.unwrap_or_default().chars().take(300).collect::<String>()
        );
        for (name, body) in &bodies {
            assert!(!body.contains(secret.as_str()), "{name}: the answer shows {}…", &secret[..12]);
        }
    }
}

/// A header block larger than the HTTP server takes is refused before any
/// handler runs (warp::test has no such limit, so this one uses a socket).
#[tokio::test]
async fn an_oversized_header_block_is_refused_by_the_server() {
    let keys = key_server().await;
    let (_, routes) =
        lodger::web::server::app(&config(&keys.url, vec![MasterKey::generate()])).unwrap();
    let addr = spawn(routes).await;
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    let huge = format!("a{}", "b".repeat(1024 * 1024));
    let request = format!(
        "GET /api/whoami HTTP/1.1\r\nhost: lodger.test\r\nauthorization: JWT {huge}\r\n\r\n"
    );
    // The server may stop reading (and close) before all of it is written.
    let _ = socket.write_all(request.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), socket.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 431"),
        "answered: {}",
        answer.lines().next().unwrap_or("nothing")
    );
    assert!(!answer.contains(&huge[..64]), "the header is not echoed");
}
