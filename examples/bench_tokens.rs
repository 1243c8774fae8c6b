//! Tokens and credentials for `bench/run.sh`, printed as shell `export`
//! lines: a master key for `lodger serve`, a sealed credential for one
//! tenant (no install needed: a relayed credential authenticates by itself,
//! once its site confirms it),
//! a context token as `AP.context.getToken()` returns it, host-signed iframe
//! tokens for lodger's and the ACE app's pages, and the tenant's
//! `installed` payload for the ACE app's store.
//!
//! ```sh
//! eval "$(cargo run --release --example bench_tokens -- 900)"
//! ```
//!
//! The argument is how long the tokens live, in seconds (default 900): it
//! must outlast the benchmark run.
//!
//! lodger confirms a credential it did not receive at `installed` with the
//! tenant's site once (a GET of the app property `lodger-installation`; see
//! `lodger::app::revocation`). With `BENCH_HOST_BASE_URL` (the bench tenant's
//! site, e.g. a loopback file server) and `BENCH_HOST_DIR` (that server's
//! folder), the credential is sealed for that site and the property is
//! written there as the site would answer it.
//!
//! For the Forge remote it also makes a Forge app id and an invocation
//! token as Forge signs them (RS256, a fresh key), and with `BENCH_HOST_DIR`
//! publishes that key's JWKS at `forge/jwks.json` for `--forge-jwks-url`.

use lodger::connect::installation::{Installation, Product};
use lodger::connect::jwt::{self, Claims};
use lodger::connect::qsh::query_string_hash;
use lodger::connect::sealed::{Keyring, MasterKey};
use lodger::connect::secret::Secret;
use serde_json::json;

const CLIENT_KEY: &str = "bench-tenant-0f3c9a";
const HOST_BASE_URL: &str = "https://bench.atlassian.net";
const ACCOUNT_ID: &str = "557058:bench-user";
/// The query a host adds to an iframe URL (without `jwt`).
const PAGE_QUERY: &str =
    "cp=&cv=1001.0.0&issueKey=LOD-1&lic=none&xdm_e=https%3A%2F%2Fbench.atlassian.net";

fn main() {
    let lifetime: i64 = std::env::args().nth(1).map_or(900, |arg| arg.parse().unwrap());
    let host_base_url =
        std::env::var("BENCH_HOST_BASE_URL").unwrap_or_else(|_| HOST_BASE_URL.to_owned());
    let master = MasterKey::generate();
    let keyring = Keyring::new(lodger::SEALING_PURPOSE, vec![master.clone()]).unwrap();
    let secret = Secret::new(format!("bench-shared-secret-{}", lodger::now()));
    let installation = Installation {
        key: "lodger".into(),
        client_key: CLIENT_KEY.into(),
        base_url: host_base_url.clone(),
        shared_secret: secret.clone(),
        product_type: Product::Jira,
        oauth_client_id: None,
        installed_at: 0,
    };
    let credential = keyring.seal(&installation).unwrap();
    if let Ok(dir) = std::env::var("BENCH_HOST_DIR") {
        let folder =
            std::path::Path::new(&dir).join("rest/atlassian-connect/1/addons/lodger/properties");
        std::fs::create_dir_all(&folder).unwrap();
        let property = json!({"key": "lodger-installation", "value": {"credential": credential}});
        std::fs::write(folder.join("lodger-installation"), property.to_string()).unwrap();
    }
    let now = lodger::now();
    let context_token = jwt::sign(
        &Claims {
            sub: Some(ACCOUNT_ID.into()),
            context: Some(json!({"jira": {"issue": {"key": "LOD-1"}}})),
            ..Claims::new(CLIENT_KEY, now, lifetime, "context-qsh")
        },
        &secret,
    );
    let page_token = |path: &str| {
        jwt::sign(
            &Claims {
                sub: Some(ACCOUNT_ID.into()),
                ..Claims::new(
                    CLIENT_KEY,
                    now,
                    lifetime,
                    &query_string_hash("GET", path, PAGE_QUERY),
                )
            },
            &secret,
        )
    };
    let client_info = json!({
        "key": "lodger-bench-ace",
        "clientKey": CLIENT_KEY,
        "sharedSecret": secret.expose(),
        "baseUrl": host_base_url,
        "displayUrl": host_base_url,
        "productType": "jira",
        "description": "benchmark tenant",
        "eventType": "installed",
        "serverVersion": "100271",
        "pluginsVersion": "1001.0.0",
    });
    println!("export BENCH_MASTER_KEYS='{}'", master.to_config_string());
    println!("export BENCH_CREDENTIAL='{credential}'");
    println!("export BENCH_CONTEXT_TOKEN='{context_token}'");
    println!("export BENCH_PAGE_QUERY='{PAGE_QUERY}'");
    println!("export BENCH_LODGER_PAGE_TOKEN='{}'", page_token("/jira/issue-panel.html"));
    println!("export BENCH_ACE_PAGE_TOKEN='{}'", page_token("/issue-panel"));
    println!("export BENCH_CLIENT_INFO='{client_info}'");
    let (forge_token, forge_jwks) = forge_token(now, lifetime);
    if let Ok(dir) = std::env::var("BENCH_HOST_DIR") {
        let folder = std::path::Path::new(&dir).join("forge");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("jwks.json"), forge_jwks.to_string()).unwrap();
    }
    println!("export BENCH_FORGE_APP_ID='{FORGE_APP_ID}'");
    println!("export BENCH_FORGE_TOKEN='{forge_token}'");
}

/// The bench's Forge app.
const FORGE_APP_ID: &str = "ari:cloud:ecosystem::app/b3e1c0de-0000-4000-8000-00000000be4c";

/// A UI invocation token for [`FORGE_APP_ID`] and the JWKS that verifies it.
fn forge_token(now: i64, lifetime: i64) -> (String, serde_json::Value) {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use rsa::pkcs8::{EncodePrivateKey, LineEnding};
    use rsa::traits::PublicKeyParts;

    let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
    let public = private.to_public_key();
    let b64 = |bytes: Vec<u8>| URL_SAFE_NO_PAD.encode(bytes);
    let jwks = json!({"keys": [{"kty": "RSA", "kid": "bench", "alg": "RS256", "use": "sig",
        "n": b64(public.n().to_bytes_be()), "e": b64(public.e().to_bytes_be())}]});
    let claims = json!({
        "iss": lodger::connect::invocation_token::ISSUER, "aud": FORGE_APP_ID,
        "iat": now, "nbf": now, "exp": now + lifetime, "jti": "bench",
        "app": {"id": FORGE_APP_ID, "installationId": "ari:cloud:ecosystem::installation/bench",
                "apiBaseUrl": "https://api.atlassian.com/ex/jira/bench", "environment": {"type": "PRODUCTION"}},
        "context": {"cloudId": "bench", "extension": {"issue": {"id": "10001", "key": "LOD-1"}}},
        "principal": ACCOUNT_ID,
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("bench".into());
    let pem = private.to_pkcs8_pem(LineEnding::LF).unwrap();
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    (jsonwebtoken::encode(&header, &claims, &key).unwrap(), jwks)
}
