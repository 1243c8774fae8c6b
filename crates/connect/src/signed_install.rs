//! Signed install: how an app knows an `installed` or `uninstalled` callback
//! really comes from Atlassian.
//!
//! With the `signed-install` API migration on, Atlassian signs these two
//! callbacks RS256 with a key pair of its own (Atlassian: "Understanding JWT
//! for Connect apps", section "Signed installs"). The token's header names the
//! key (`kid`); its public key is served as PEM at `<key server>/<kid>`
//! (production: `https://connect-install-keys.atlassian.com`). The app checks:
//!
//! 1. `alg` is RS256 and `kid` matches a strict pattern *before* it goes into a
//!    URL (atlassian-connect-express 7 put it there unchecked);
//! 2. the signature, with the key fetched (and cached) for that `kid`;
//! 3. `iss` is the payload's `clientKey`, `aud` is the app's base URL (one
//!    trailing slash either way), `qsh` matches the request, `exp` with leeway.
//!
//! 4. the token lives no longer than Atlassian's do (`exp - iat` at most
//!    [`MAX_LIFETIME_SECONDS`]): the token binds the method and path but not
//!    the body, so a captured one could be replayed with another body until
//!    it expires, and a short life keeps that window small.
//!
//! This module does the checks; fetching the key is the web layer's job
//! (see `web::install_keys`), so the core stays free of HTTP. So is
//! remembering which tokens were used ([`replay_key`] names them): a process
//! accepts each token once.

use jsonwebtoken::DecodingKey;
use sha2::{Digest, Sha256};

use super::jwt::{JwtError, RawClaims, Rs256Failure, check_time, decode_rs256};

/// Atlassian's production key server for signed installs.
pub const ATLASSIAN_INSTALL_KEYS: &str = "https://connect-install-keys.atlassian.com";

/// The longest lifetime (`exp - iat`, seconds) accepted for a signed-install
/// token. Atlassian's hosts sign Connect tokens for about 3 minutes (180 s);
/// 300 s leaves room for a host that rounds or adds a little, and refuses
/// the long-lived token a replay would want. (Unverified: Atlassian documents
/// no exact lifetime for signed installs.)
pub const MAX_LIFETIME_SECONDS: i64 = 300;

/// The longest `kid` accepted (Atlassian's are UUID-length).
const MAX_KID_LEN: usize = 128;

/// Why a signed-install token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignedInstallError {
    /// A check shared with HS256 tokens failed (shape, size, claims, time, qsh).
    #[error(transparent)]
    Jwt(#[from] JwtError),
    /// The header has no `kid`, so no key can be found.
    #[error("signed install token has no `kid` header")]
    MissingKid,
    /// The `kid` has characters or a shape that could not safely go into a URL.
    #[error("signed install token has a `kid` outside [A-Za-z0-9_/-] or of bad shape")]
    BadKid,
    /// `aud` is not this app's base URL.
    #[error("signed install token `aud` is not this app's base URL")]
    AudienceMismatch,
    /// `iss` is not the `clientKey` of the payload it signs.
    #[error("signed install token `iss` is not the payload's clientKey")]
    IssuerMismatch,
    /// The key server says it has no key by that `kid` (a 4xx): the token
    /// was not signed by the key server's owner.
    #[error("no install key is published for this token's `kid`")]
    UnknownKey,
    /// The key server could not be reached, failed (5xx) or answered no key:
    /// worth retrying later.
    #[error("install key could not be fetched: {0}")]
    KeyUnavailable(String),
    /// `exp - iat` is longer than Atlassian's tokens live.
    #[error("signed install token lives longer than {MAX_LIFETIME_SECONDS} seconds")]
    LifetimeTooLong,
    /// This token was already used for another request (a replay).
    #[error("signed install token was already used")]
    Replayed,
}

/// What a signed-install token must match.
#[derive(Debug, Clone, Copy)]
pub struct InstallExpectation<'a> {
    /// The app's base URL, which `aud` must equal.
    pub app_base_url: &'a str,
    /// The `clientKey` of the payload, which `iss` must equal.
    pub client_key: &'a str,
    /// The query string hash of the lifecycle request.
    pub qsh: &'a str,
    /// Now, in seconds since the epoch.
    pub now: i64,
}

/// The verified claims of a signed-install token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallClaims {
    /// The tenant (`clientKey`).
    pub iss: String,
    /// The user who installed, when given.
    pub sub: Option<String>,
    /// When the host signed the token (seconds since the epoch).
    pub iat: i64,
    /// When the token expires (seconds since the epoch).
    pub exp: i64,
}

/// Reads the header of a signed-install token: checks size, that `alg` is
/// RS256 and that `kid` is safe, and returns the `kid`.
pub fn key_id(token: &str) -> Result<String, SignedInstallError> {
    let header = super::jwt::header(token)?;
    if header.alg != "RS256" {
        return Err(JwtError::UnsupportedAlgorithm { found: header.alg, expected: "RS256" }.into());
    }
    let kid = header.kid.ok_or(SignedInstallError::MissingKid)?;
    check_kid(&kid)?;
    Ok(kid)
}

/// Checks a `kid` before it becomes part of a URL: letters, digits, `_`, `-`
/// and `/`, at most 128 characters, no leading `/` and no empty segment.
/// Without `.` or `%` no path traversal is possible.
///
/// ```
/// use lodger_connect::signed_install::check_kid;
///
/// assert!(check_kid("0e50fccb-239d-4991-a5db-dc850ba3f236").is_ok());
/// assert!(check_kid("prod/key-1").is_ok());
/// assert!(check_kid("../../etc/passwd").is_err());
/// assert!(check_kid("%2e%2e").is_err());
/// assert!(check_kid("/abs").is_err());
/// ```
pub fn check_kid(kid: &str) -> Result<(), SignedInstallError> {
    let allowed = kid.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'/'));
    let shape = !kid.is_empty()
        && kid.len() <= MAX_KID_LEN
        && !kid.starts_with('/')
        && !kid.ends_with('/')
        && !kid.contains("//");
    if allowed && shape { Ok(()) } else { Err(SignedInstallError::BadKid) }
}

/// The URL of the public key for `kid` on `key_server`.
pub fn key_url(key_server: &str, kid: &str) -> Result<String, SignedInstallError> {
    check_kid(kid)?;
    Ok(format!("{}/{kid}", key_server.trim_end_matches('/')))
}

/// Parses a PEM public key served by the key server.
pub fn decoding_key(pem: &[u8]) -> Result<DecodingKey, SignedInstallError> {
    DecodingKey::from_rsa_pem(pem).map_err(|_| {
        SignedInstallError::KeyUnavailable("key server answered without an RSA PEM key".into())
    })
}

/// Verifies a signed-install token with the key for its `kid`.
pub fn verify(
    token: &str,
    key: &DecodingKey,
    expect: &InstallExpectation<'_>,
) -> Result<InstallClaims, SignedInstallError> {
    key_id(token)?;
    // Time, audience and required claims are checked below, with this
    // crate's own errors and leeway, so that both token kinds fail the same way.
    let raw: RawClaims = decode_rs256(token, key).map_err(|failure| match failure {
        Rs256Failure::BadSignature => JwtError::BadSignature,
        Rs256Failure::Malformed => {
            JwtError::Malformed("claims are not a JSON object of the expected types")
        }
    })?;
    let iss = raw.iss.ok_or(JwtError::MissingClaim("iss"))?;
    let iat = raw.iat.ok_or(JwtError::MissingClaim("iat"))? as i64;
    let exp = raw.exp.ok_or(JwtError::MissingClaim("exp"))? as i64;
    let qsh = raw.qsh.ok_or(JwtError::MissingClaim("qsh"))?;
    let aud = raw.aud.ok_or(JwtError::MissingClaim("aud"))?;
    check_time(iat, exp, raw.nbf.map(|nbf| nbf as i64), expect.now)?;
    check_lifetime(iat, exp)?;
    if qsh != expect.qsh {
        return Err(JwtError::QshMismatch.into());
    }
    if !audience_matches(&aud, expect.app_base_url) {
        return Err(SignedInstallError::AudienceMismatch);
    }
    if iss != expect.client_key {
        return Err(SignedInstallError::IssuerMismatch);
    }
    Ok(InstallClaims { iss, sub: raw.sub, iat, exp })
}

/// Checks that a token lives no longer than [`MAX_LIFETIME_SECONDS`].
///
/// ```
/// use lodger_connect::signed_install::check_lifetime;
///
/// assert!(check_lifetime(1000, 1180).is_ok());
/// assert!(check_lifetime(1000, 1000 + 3600).is_err());
/// ```
pub fn check_lifetime(iat: i64, exp: i64) -> Result<(), SignedInstallError> {
    if exp.saturating_sub(iat) > MAX_LIFETIME_SECONDS {
        return Err(SignedInstallError::LifetimeTooLong);
    }
    Ok(())
}

/// What a process remembers of a used token: its SHA-256, so that the
/// token itself is never kept.
pub fn replay_key(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// `aud` is a string or an array of strings; one must be the base URL,
/// ignoring one trailing slash on either side.
fn audience_matches(aud: &serde_json::Value, base_url: &str) -> bool {
    let want = base_url.strip_suffix('/').unwrap_or(base_url);
    let same = |candidate: &str| candidate.strip_suffix('/').unwrap_or(candidate) == want;
    match aud {
        serde_json::Value::String(one) => same(one),
        serde_json::Value::Array(many) => many.iter().filter_map(|v| v.as_str()).any(same),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kid_pattern_allows_uuids_and_slashes_and_refuses_traversal() {
        for good in ["abc", "0e50fccb-239d-4991-a5db-dc850ba3f236", "a/b_c-d"] {
            assert_eq!(check_kid(good), Ok(()), "{good}");
        }
        let long = "a".repeat(129);
        for bad in
            ["", "..", "a/../b", "a%2Fb", "a\\b", "a//b", "/a", "a/", "a.b", "a b", "ü", &long]
        {
            assert_eq!(check_kid(bad), Err(SignedInstallError::BadKid), "{bad}");
        }
    }

    #[test]
    fn key_url_joins_server_and_kid() {
        assert_eq!(key_url("https://keys.example/", "k1").unwrap(), "https://keys.example/k1");
        assert!(key_url("https://keys.example", "../k1").is_err());
    }

    #[test]
    fn audience_tolerates_one_trailing_slash_and_arrays() {
        assert!(audience_matches(&json!("https://app.example/"), "https://app.example"));
        assert!(audience_matches(&json!(["x", "https://app.example"]), "https://app.example/"));
        assert!(!audience_matches(&json!("https://app.example.evil"), "https://app.example"));
        assert!(!audience_matches(&json!(42), "https://app.example"));
    }

    #[test]
    fn refuses_tokens_that_live_longer_than_atlassians() {
        assert_eq!(check_lifetime(0, 180), Ok(()));
        assert_eq!(check_lifetime(0, MAX_LIFETIME_SECONDS), Ok(()));
        assert_eq!(
            check_lifetime(0, MAX_LIFETIME_SECONDS + 1),
            Err(SignedInstallError::LifetimeTooLong)
        );
        assert_eq!(check_lifetime(0, i64::MAX), Err(SignedInstallError::LifetimeTooLong));
    }

    #[test]
    fn replay_keys_differ_per_token_and_hide_it() {
        assert_eq!(replay_key("a.b.c"), replay_key("a.b.c"));
        assert_ne!(replay_key("a.b.c"), replay_key("a.b.d"));
    }

    #[test]
    fn rejects_hs256_header_before_any_key_lookup() {
        // {"alg":"HS256","kid":"k"}.{"iss":"x"}.sig
        let token = "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsifQ.eyJpc3MiOiJ4In0.c2ln";
        assert!(matches!(
            key_id(token),
            Err(SignedInstallError::Jwt(JwtError::UnsupportedAlgorithm { .. }))
        ));
        // {"alg":"none"}.{}.
        let none = "eyJhbGciOiJub25lIn0.e30.";
        assert!(matches!(
            key_id(none),
            Err(SignedInstallError::Jwt(JwtError::UnsupportedAlgorithm { .. }))
        ));
    }
}
