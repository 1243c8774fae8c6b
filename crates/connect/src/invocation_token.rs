//! Forge invocation tokens (FIT): how a Forge Remote knows a request really
//! comes from Forge, for which app, installation and site.
//!
//! Forge calls a remote (a UI's `invokeRemote`, a trigger, a lifecycle event)
//! with `Authorization: Bearer <FIT>` (Forge: "Forge remote invocation
//! contract", "Forge Remote essentials", verifying remote requests). The
//! token is an RS256 JWT signed with a key from Forge's JWKS ([`crate::jwks`]),
//! chosen by the header's `kid`. The remote checks, in this order:
//!
//! 1. size, then the header: `alg` is RS256 (nothing else, not `none`, not
//!    HS256 with the public key as secret) and `kid` is present;
//! 2. the signature, with the key of that `kid`;
//! 3. `iss` is `forge/invocation-token`, `aud` is the app's id (its ARI,
//!    `ari:cloud:ecosystem::app/<uuid>`), `exp` and `nbf` with a small leeway;
//! 4. the claims have the shape Forge documents: `app.id` (equal to `aud`),
//!    `app.installationId`, `app.apiBaseUrl`.
//!
//! Only then is `app.apiBaseUrl` (where the remote calls the product, with the
//! `x-forge-oauth-system` token it was handed) to be trusted. Fetching the
//! JWKS is the caller's (see [`jwks_url`] for which one).
//!
//! Atlassian's own verifier (atlassian-connect-express 11.5.3,
//! `verify-forge-invocation-token.js`) makes the same checks with `jose`;
//! lodger's `tests/forge_token_oracle.rs` runs that middleware itself (npm,
//! `tools/ace`) on the same tokens as this module and compares the verdicts.
//!
//! ```
//! use lodger_connect::invocation_token::{self, Expectation};
//! use lodger_connect::jwks::Jwks;
//!
//! let jwks = Jwks::parse(br#"{"keys": []}"#)?;
//! let expect = Expectation { app_id: "ari:cloud:ecosystem::app/8a1f", now: lodger_connect::now() };
//! let refused = invocation_token::verify("not.a.token", &jwks, &expect);
//! assert!(refused.is_err());
//! # Ok::<(), lodger_connect::jwks::JwksError>(())
//! ```

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::Value;

use super::jwks::Jwks;
use super::jwt::{Rs256Failure, decode_rs256};

/// The issuer of every invocation token.
pub const ISSUER: &str = "forge/invocation-token";

/// The prefix of an app id (an ARI): `aud` and `app.id` carry it.
pub const APP_ARI_PREFIX: &str = "ari:cloud:ecosystem::app/";

/// Forge's production JWKS.
pub const PRODUCTION_JWKS_URL: &str =
    "https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json";

/// Forge's staging JWKS, for apps whose `apiBaseUrl` is on staging.
pub const STAGING_JWKS_URL: &str = "https://forge.cdn.stg.atlassian-dev.net/.well-known/jwks.json";

/// Tokens longer than this are refused before decoding (a real one is a
/// few KiB even with installation contexts).
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Clock skew tolerated on `exp` and `nbf`, in seconds. Invocation tokens
/// live for seconds to minutes (unverified: no document gives the lifetime),
/// so the leeway is smaller than Connect's 30 s.
pub const LEEWAY_SECONDS: i64 = 10;

/// Why an invocation token was not accepted. Messages never contain the
/// token or a claim value, so they are safe to return to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvocationTokenError {
    /// The token is larger than [`MAX_TOKEN_BYTES`].
    #[error("invocation token is {0} bytes; at most 16384 are accepted")]
    TooLarge(usize),
    /// The token is not `header.claims.signature` in base64url JSON, or its
    /// claims are not of the types Forge documents.
    #[error("invocation token is malformed: {0}")]
    Malformed(&'static str),
    /// The header names an algorithm other than RS256.
    #[error("invocation token is signed with {0}; only RS256 is accepted")]
    UnsupportedAlgorithm(String),
    /// The header has no `kid`.
    #[error("invocation token has no `kid` header")]
    MissingKid,
    /// The key set has no key by this token's `kid` (after a refresh, if the
    /// caller refreshes on a miss).
    #[error("invocation token names a key that is not in Forge's key set")]
    UnknownKey,
    /// The signature does not verify with the key of its `kid`.
    #[error("invocation token signature does not verify")]
    BadSignature,
    /// `iss` is not `forge/invocation-token`.
    #[error("invocation token `iss` is not forge/invocation-token")]
    WrongIssuer,
    /// `aud` is not this app's id.
    #[error("invocation token `aud` is not this app's id")]
    WrongAudience,
    /// `exp` (plus leeway) is in the past.
    #[error("invocation token expired")]
    Expired,
    /// `nbf` (minus leeway) is in the future.
    #[error("invocation token is not valid yet (check the clock)")]
    NotYetValid,
    /// A claim Forge always sends is absent.
    #[error("invocation token has no `{0}` claim")]
    MissingClaim(&'static str),
    /// `app.id` is not the audience the token was issued to.
    #[error("invocation token `app.id` is not its audience")]
    AppIdMismatch,
}

/// What an invocation token must match.
#[derive(Debug, Clone, Copy)]
pub struct Expectation<'a> {
    /// This app's id: its ARI, or the bare UUID (the prefix is added, as
    /// atlassian-connect-express does).
    pub app_id: &'a str,
    /// Now, in seconds since the epoch.
    pub now: i64,
}

/// The verified claims of an invocation token (Forge: "Forge remote
/// invocation contract"). Fields Forge adds beyond these are ignored.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct InvocationClaims {
    /// Always [`ISSUER`].
    pub iss: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Not before, seconds since the epoch.
    #[serde(default)]
    pub nbf: Option<i64>,
    /// Issued at, seconds since the epoch.
    #[serde(default)]
    pub iat: Option<i64>,
    /// The token's id.
    #[serde(default)]
    pub jti: Option<String>,
    /// The app, its installation and where to call the product.
    pub app: App,
    /// The UI's context (`cloudId`, `siteUrl`, `extension`, …): UI calls only.
    #[serde(default)]
    pub context: Option<Value>,
    /// Who is using the UI: UI calls only (unverified shape: an account id,
    /// or an object carrying `accountId`; see [`InvocationClaims::account_id`]).
    #[serde(default)]
    pub principal: Option<Value>,
}

/// The `app` claim.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct App {
    /// The app's id (ARI).
    pub id: String,
    /// The deployed version.
    #[serde(default)]
    pub app_version: Option<String>,
    /// The installation. It can change without an event (reinstalls): key
    /// per-site data on the site (`cloudId`), not on this alone.
    pub installation_id: String,
    /// Where to call the product's REST API for this installation, e.g.
    /// `https://api.atlassian.com/ex/jira/<cloudId>`. The only URL a remote
    /// should send the product token to.
    pub api_base_url: String,
    /// The environment the app is deployed to.
    #[serde(default)]
    pub environment: Option<Environment>,
    /// The module that invoked the remote (shape varies by module).
    #[serde(default)]
    pub module: Option<Value>,
    /// The app's license on this installation, for paid apps.
    #[serde(default)]
    pub license: Option<License>,
}

/// The `app.environment` claim.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Environment {
    /// `DEVELOPMENT`, `STAGING` or `PRODUCTION`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The environment's id.
    #[serde(default)]
    pub id: Option<String>,
}

/// The `app.license` claim (unverified beyond `isActive`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct License {
    /// Whether the site holds an active license for the app.
    pub is_active: bool,
}

impl InvocationClaims {
    /// The account id of the user behind a UI call, if any.
    pub fn account_id(&self) -> Option<&str> {
        match self.principal.as_ref()? {
            Value::String(account_id) => Some(account_id),
            other => other.get("accountId").and_then(Value::as_str),
        }
    }

    /// Whether the app is licensed here: `app.license.isActive`, and `true`
    /// when Forge sends no license (free apps, development environments).
    pub fn is_licensed(&self) -> bool {
        self.app.license.as_ref().is_none_or(|license| license.is_active)
    }
}

/// The JWKS that signs tokens for an app calling the product at
/// `api_base_url`: staging's when the (still unverified) base URL is on
/// `https://api.stg.atlassian.com/`, else production's. Choosing by an
/// unverified claim is safe: a forged claim only picks which of Atlassian's
/// two key sets must then verify the signature.
pub fn jwks_url(api_base_url: &str) -> &'static str {
    if api_base_url.starts_with("https://api.stg.atlassian.com/") {
        STAGING_JWKS_URL
    } else {
        PRODUCTION_JWKS_URL
    }
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

/// Reads the header: checks size, that `alg` is RS256, and returns the `kid`.
pub fn key_id(token: &str) -> Result<String, InvocationTokenError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(InvocationTokenError::TooLarge(token.len()));
    }
    let header = token.split('.').next().unwrap_or_default();
    let bytes = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| InvocationTokenError::Malformed("header is not base64url"))?;
    let header: Header = serde_json::from_slice(&bytes)
        .map_err(|_| InvocationTokenError::Malformed("header is not a JSON object with `alg`"))?;
    if header.alg != "RS256" {
        return Err(InvocationTokenError::UnsupportedAlgorithm(header.alg));
    }
    header.kid.ok_or(InvocationTokenError::MissingKid)
}

/// The `app.apiBaseUrl` of a token, read *without* verifying it: only to
/// choose the key set ([`jwks_url`]), never to call anything.
pub fn unverified_api_base_url(token: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Claims {
        app: UnverifiedApp,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct UnverifiedApp {
        api_base_url: String,
    }
    if token.len() > MAX_TOKEN_BYTES {
        return None;
    }
    let claims = URL_SAFE_NO_PAD.decode(token.split('.').nth(1)?).ok()?;
    serde_json::from_slice::<Claims>(&claims).ok().map(|claims| claims.app.api_base_url)
}

/// Verifies an invocation token against a key set: see the module
/// documentation for the checks and their order.
pub fn verify(
    token: &str,
    jwks: &Jwks,
    expect: &Expectation<'_>,
) -> Result<InvocationClaims, InvocationTokenError> {
    let kid = key_id(token)?;
    let key = jwks.key(&kid).ok_or(InvocationTokenError::UnknownKey)?;
    // Claims are checked below with one error each and this module's leeway.
    let claims: Value = decode_rs256(token, key).map_err(|failure| match failure {
        Rs256Failure::BadSignature => InvocationTokenError::BadSignature,
        Rs256Failure::Malformed => InvocationTokenError::Malformed("claims are not a JSON object"),
    })?;
    if claims.get("iss").and_then(Value::as_str) != Some(ISSUER) {
        return Err(InvocationTokenError::WrongIssuer);
    }
    let app_id = app_ari(expect.app_id);
    if !audience_matches(claims.get("aud"), &app_id) {
        return Err(InvocationTokenError::WrongAudience);
    }
    let exp = claims.get("exp").and_then(Value::as_i64);
    let exp = exp.ok_or(InvocationTokenError::MissingClaim("exp"))?;
    if exp.saturating_add(LEEWAY_SECONDS) < expect.now {
        return Err(InvocationTokenError::Expired);
    }
    let nbf = claims.get("nbf").and_then(Value::as_i64);
    if nbf.is_some_and(|nbf| nbf.saturating_sub(LEEWAY_SECONDS) > expect.now) {
        return Err(InvocationTokenError::NotYetValid);
    }
    for (pointer, name) in [
        ("/app/id", "app.id"),
        ("/app/installationId", "app.installationId"),
        ("/app/apiBaseUrl", "app.apiBaseUrl"),
    ] {
        if claims.pointer(pointer).and_then(Value::as_str).is_none() {
            return Err(InvocationTokenError::MissingClaim(name));
        }
    }
    let claims: InvocationClaims = serde_json::from_value(claims)
        .map_err(|_| InvocationTokenError::Malformed("claims are not of the documented types"))?;
    if claims.app.id != app_id {
        return Err(InvocationTokenError::AppIdMismatch);
    }
    Ok(claims)
}

/// The app id as an ARI (a bare UUID gets the prefix).
fn app_ari(app_id: &str) -> String {
    if app_id.starts_with(APP_ARI_PREFIX) {
        app_id.to_owned()
    } else {
        format!("{APP_ARI_PREFIX}{app_id}")
    }
}

/// `aud` is a string or an array of strings; one must be the app's id.
fn audience_matches(aud: Option<&Value>, app_id: &str) -> bool {
    match aud {
        Some(Value::String(one)) => one == app_id,
        Some(Value::Array(many)) => many.iter().any(|v| v.as_str() == Some(app_id)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use jsonwebtoken::{Algorithm, EncodingKey, Header as JwtHeader};
    use rsa::pkcs8::{EncodePrivateKey, LineEnding};
    use rsa::traits::PublicKeyParts;
    use serde_json::json;

    use super::*;

    const APP: &str = "ari:cloud:ecosystem::app/8a1f0c7e-1111-4222-8333-944445555666";
    const NOW: i64 = 1_800_000_000;

    /// One key pair per test run: (private PEM, public PEM, JWKS document).
    fn keys() -> &'static (String, String, String) {
        static KEYS: OnceLock<(String, String, String)> = OnceLock::new();
        KEYS.get_or_init(|| {
            let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
            let public = private.to_public_key();
            let b64 = |bytes: Vec<u8>| URL_SAFE_NO_PAD.encode(bytes);
            let jwks = json!({"keys": [{"kty": "RSA", "kid": "forge-1", "use": "sig", "alg": "RS256",
                "n": b64(public.n().to_bytes_be()), "e": b64(public.e().to_bytes_be())}]});
            let public_pem = {
                use rsa::pkcs8::EncodePublicKey;
                public.to_public_key_pem(LineEnding::LF).unwrap()
            };
            (private.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(), public_pem, jwks.to_string())
        })
    }

    fn jwks() -> Jwks {
        Jwks::parse(keys().2.as_bytes()).unwrap()
    }

    fn claims() -> Value {
        json!({
            "iss": ISSUER, "aud": APP, "iat": NOW - 5, "nbf": NOW - 5, "exp": NOW + 55, "jti": "j-1",
            "app": {
                "id": APP, "appVersion": "2.1.0", "installationId": "ari:cloud:ecosystem::installation/i-1",
                "apiBaseUrl": "https://api.atlassian.com/ex/jira/c0ffee",
                "environment": {"type": "PRODUCTION", "id": "e-1"},
                "module": {"type": "xen:macro", "key": "remote"}, "license": {"isActive": false}
            },
            "context": {"cloudId": "c0ffee", "extension": {"issue": {"id": "10001"}}},
            "principal": "557058:abc"
        })
    }

    fn sign(claims: &Value, kid: &str) -> String {
        let mut header = JwtHeader::new(Algorithm::RS256);
        header.kid = Some(kid.into());
        let key = EncodingKey::from_rsa_pem(keys().0.as_bytes()).unwrap();
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }

    fn check(token: &str) -> Result<InvocationClaims, InvocationTokenError> {
        verify(token, &jwks(), &Expectation { app_id: APP, now: NOW })
    }

    fn with(pointer: &str, value: Value) -> String {
        let mut claims = claims();
        *claims.pointer_mut(pointer).unwrap() = value;
        sign(&claims, "forge-1")
    }

    #[test]
    fn accepts_a_token_forge_signed_and_reads_its_claims() {
        let claims = check(&sign(&claims(), "forge-1")).unwrap();
        assert_eq!(claims.app.api_base_url, "https://api.atlassian.com/ex/jira/c0ffee");
        assert_eq!(claims.app.installation_id, "ari:cloud:ecosystem::installation/i-1");
        assert_eq!(claims.app.environment.as_ref().map(|e| e.kind.as_str()), Some("PRODUCTION"));
        assert_eq!(claims.account_id(), Some("557058:abc"));
        assert!(!claims.is_licensed());
        let bare_uuid = APP.trim_start_matches(APP_ARI_PREFIX);
        let expect = Expectation { app_id: bare_uuid, now: NOW };
        assert!(verify(&sign(&self::claims(), "forge-1"), &jwks(), &expect).is_ok());
    }

    #[test]
    fn refuses_each_wrong_claim_with_its_own_error() {
        use InvocationTokenError::*;
        let other_app = json!("ari:cloud:ecosystem::app/other");
        assert_eq!(check(&with("/aud", other_app.clone())), Err(WrongAudience));
        assert_eq!(check(&with("/iss", json!("someone"))), Err(WrongIssuer));
        assert_eq!(check(&with("/exp", json!(NOW - LEEWAY_SECONDS - 1))), Err(Expired));
        assert!(check(&with("/exp", json!(NOW - LEEWAY_SECONDS + 1))).is_ok(), "within leeway");
        assert_eq!(check(&with("/nbf", json!(NOW + LEEWAY_SECONDS + 1))), Err(NotYetValid));
        assert_eq!(check(&with("/app/id", other_app)), Err(AppIdMismatch));
        let mut no_base = claims();
        no_base["app"].as_object_mut().unwrap().remove("apiBaseUrl");
        assert_eq!(check(&sign(&no_base, "forge-1")), Err(MissingClaim("app.apiBaseUrl")));
        let mut no_exp = claims();
        no_exp.as_object_mut().unwrap().remove("exp");
        assert_eq!(check(&sign(&no_exp, "forge-1")), Err(MissingClaim("exp")));
    }

    #[test]
    fn refuses_forged_signatures_keys_and_algorithms() {
        use InvocationTokenError::*;
        assert_eq!(check(&sign(&claims(), "not-published")), Err(UnknownKey));
        let token = sign(&claims(), "forge-1");
        let (rest, signature) = token.rsplit_once('.').unwrap();
        let flipped = if signature.starts_with('A') { "B" } else { "A" };
        assert_eq!(check(&format!("{rest}.{flipped}{}", &signature[1..])), Err(BadSignature));
        // The classic confusion: HS256 with the published public key as the secret.
        let mut header = JwtHeader::new(Algorithm::HS256);
        header.kid = Some("forge-1".into());
        let hs = jsonwebtoken::encode(
            &header,
            &claims(),
            &EncodingKey::from_secret(keys().1.as_bytes()),
        );
        assert_eq!(check(&hs.unwrap()), Err(UnsupportedAlgorithm("HS256".into())));
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"forge-1"}"#),
            URL_SAFE_NO_PAD.encode(claims().to_string())
        );
        assert_eq!(check(&none), Err(UnsupportedAlgorithm("none".into())));
        let mut no_kid = JwtHeader::new(Algorithm::RS256);
        no_kid.kid = None;
        let key = EncodingKey::from_rsa_pem(keys().0.as_bytes()).unwrap();
        assert_eq!(
            check(&jsonwebtoken::encode(&no_kid, &claims(), &key).unwrap()),
            Err(MissingKid)
        );
        assert_eq!(check(&"a".repeat(MAX_TOKEN_BYTES + 1)), Err(TooLarge(MAX_TOKEN_BYTES + 1)));
        assert!(matches!(check("%%%.x.y"), Err(Malformed(_))));
    }

    #[test]
    fn picks_the_staging_key_set_only_for_staging_sites() {
        let token = sign(&claims(), "forge-1");
        let base = unverified_api_base_url(&token).unwrap();
        assert_eq!(jwks_url(&base), PRODUCTION_JWKS_URL);
        assert_eq!(jwks_url("https://api.stg.atlassian.com/ex/jira/1"), STAGING_JWKS_URL);
        assert_eq!(jwks_url("https://api.stg.atlassian.com.evil.example/"), PRODUCTION_JWKS_URL);
    }
}
