//! HS256 JSON Web Tokens, the way Connect uses them.
//!
//! Between a host and an installed app every request is signed with the
//! installation's *shared secret* (Atlassian: "Understanding JWT for Connect
//! apps"). The host signs iframe URLs, webhooks and the `enabled`/`disabled`
//! callbacks; the app signs its REST calls to the host. Either way the token is
//! HS256 and carries:
//!
//! | claim | meaning |
//! |---|---|
//! | `iss` | who signed: the host's `clientKey`, or the app key when the app calls |
//! | `iat`, `exp` | issued at / expires at, in seconds (the host uses about 3 minutes) |
//! | `qsh` | the [query string hash](super::qsh) of the request, or `context-qsh` |
//! | `sub` | the user's Atlassian account id, when a user is involved |
//! | `context` | what the user is looking at (issue, project, content, …) |
//!
//! Verification is two steps because the secret depends on the issuer:
//! [`UnverifiedToken::parse`] reads `iss` without trusting it, the caller looks
//! up that tenant's secret, and [`UnverifiedToken::verify`] checks signature,
//! claims, time and `qsh`. Each failure has its own [`JwtError`] variant.
//!
//! ```
//! use lodger_connect::jwt::{self, Claims, Expectation, UnverifiedToken};
//! use lodger_connect::qsh::query_string_hash;
//! use lodger_connect::secret::Secret;
//!
//! let secret = Secret::new("shhh");
//! let qsh = query_string_hash("GET", "/panel", "issueKey=LOD-1");
//! let token = jwt::sign(&Claims::new("jira:1234", 1_700_000_000, 180, &qsh), &secret);
//!
//! let unverified = UnverifiedToken::parse(&token)?;
//! assert_eq!(unverified.issuer(), "jira:1234");
//! let claims = unverified.verify(&secret, &Expectation::request(&qsh, 1_700_000_060))?;
//! assert_eq!(claims.iss, "jira:1234");
//! # Ok::<(), lodger_connect::jwt::JwtError>(())
//! ```

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::qsh::CONTEXT_QSH;
use super::secret::Secret;

/// Tokens longer than this are rejected before any decoding: a real Connect
/// token is well under 2 KiB, and decoding costs the server, not the sender.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Clock skew tolerated on `exp`, `iat` and `nbf`, in seconds (the figure
/// Atlassian's own frameworks use).
pub const LEEWAY_SECONDS: i64 = 30;

/// Why a token was not accepted. Messages never contain the token, a claim
/// value or a secret, so they are safe to return to a caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// The token is larger than [`MAX_TOKEN_BYTES`].
    #[error("token is {0} bytes; at most 8192 are accepted")]
    TooLarge(usize),
    /// The token is not `header.claims.signature` in base64url JSON.
    #[error("token is malformed: {0}")]
    Malformed(&'static str),
    /// The header names an algorithm other than the one expected.
    #[error("token is signed with {found}; only {expected} is accepted here")]
    UnsupportedAlgorithm {
        /// The `alg` the token declares.
        found: String,
        /// The algorithm this endpoint accepts.
        expected: &'static str,
    },
    /// The signature does not match the key.
    #[error("token signature does not verify")]
    BadSignature,
    /// A required claim is absent.
    #[error("token has no `{0}` claim")]
    MissingClaim(&'static str),
    /// `exp` (plus leeway) is in the past.
    #[error("token expired")]
    Expired,
    /// `iat` or `nbf` (minus leeway) is in the future.
    #[error("token is not valid yet (check the clock)")]
    NotYetValid,
    /// The `qsh` claim is not the hash of this request.
    #[error("token `qsh` does not match this request")]
    QshMismatch,
    /// A context token (`qsh` = `context-qsh`) reached an endpoint that
    /// accepts only tokens bound to the request.
    #[error("a context token is not accepted on this endpoint")]
    ContextTokenNotAccepted,
    /// `iss` names no installation this app knows.
    #[error("token issuer is not an installation this app knows")]
    UnknownIssuer,
}

/// The claims of a Connect JWT, for signing and as the result of verification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer: the host's `clientKey`, or the app key for calls to the host.
    pub iss: String,
    /// Subject: the Atlassian account id of the user, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Expires at, seconds since the epoch.
    pub exp: i64,
    /// Query string hash, or `context-qsh`.
    pub qsh: String,
    /// Audience: a string or an array of strings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<serde_json::Value>,
    /// What the user is looking at (issue, project, …), when the host says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<serde_json::Value>,
}

impl Claims {
    /// Claims for a token issued by `iss` at `now`, valid `lifetime` seconds,
    /// bound to the request whose hash is `qsh`.
    pub fn new(iss: &str, now: i64, lifetime: i64, qsh: &str) -> Self {
        Claims {
            iss: iss.to_owned(),
            sub: None,
            iat: now,
            exp: now + lifetime,
            qsh: qsh.to_owned(),
            aud: None,
            context: None,
        }
    }
}

/// What the verifier expects of a token beyond its signature.
#[derive(Debug, Clone, Copy)]
pub struct Expectation<'a> {
    /// The current time, seconds since the epoch (a parameter so that tests
    /// and the CLI can verify old tokens).
    pub now: i64,
    /// The hash of the request the token arrived with.
    pub qsh: &'a str,
    /// Whether a context token (`qsh` = `context-qsh`) is acceptable instead.
    pub allow_context_qsh: bool,
}

impl<'a> Expectation<'a> {
    /// A token bound to this exact request (iframes, webhooks, lifecycle).
    pub fn request(qsh: &'a str, now: i64) -> Self {
        Expectation { now, qsh, allow_context_qsh: false }
    }

    /// A context token from `AP.context.getToken()`, or one bound to the
    /// request: for endpoints the app's own pages call.
    pub fn context_or_request(qsh: &'a str, now: i64) -> Self {
        Expectation { now, qsh, allow_context_qsh: true }
    }
}

/// A token whose structure has been read but whose signature has not been
/// checked: only [`UnverifiedToken::issuer`] may be used, to find the secret.
#[derive(Debug)]
pub struct UnverifiedToken<'a> {
    signing_input: &'a str,
    signature: Vec<u8>,
    claims: RawClaims,
}

/// Claims as found, each possibly missing, so that absence is a precise
/// error (shared by HS256 tokens and signed installs).
#[derive(Debug, Deserialize)]
pub(crate) struct RawClaims {
    pub(crate) iss: Option<String>,
    pub(crate) sub: Option<String>,
    pub(crate) iat: Option<f64>,
    pub(crate) exp: Option<f64>,
    pub(crate) nbf: Option<f64>,
    pub(crate) qsh: Option<String>,
    pub(crate) aud: Option<serde_json::Value>,
    pub(crate) context: Option<serde_json::Value>,
}

/// The JOSE header fields Connect uses.
#[derive(Deserialize)]
pub(crate) struct Header {
    /// The signing algorithm the token declares.
    pub(crate) alg: String,
    /// The key id (signed installs only).
    #[serde(default)]
    pub(crate) kid: Option<String>,
}

/// Decodes only the header of a token, after the size check.
pub(crate) fn header(token: &str) -> Result<Header, JwtError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(JwtError::TooLarge(token.len()));
    }
    let first = token.split('.').next().unwrap_or_default();
    let bytes = URL_SAFE_NO_PAD
        .decode(first)
        .map_err(|_| JwtError::Malformed("header is not base64url"))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| JwtError::Malformed("header is not JSON with an `alg`"))
}

impl<'a> UnverifiedToken<'a> {
    /// Reads an HS256 token: size, shape, algorithm and the `iss` claim.
    pub fn parse(token: &'a str) -> Result<Self, JwtError> {
        let (header, claims, signature) = split(token)?;
        if header.alg != "HS256" {
            return Err(JwtError::UnsupportedAlgorithm { found: header.alg, expected: "HS256" });
        }
        let claims: RawClaims = serde_json::from_slice(&claims).map_err(|_| {
            JwtError::Malformed("claims are not a JSON object of the expected types")
        })?;
        if claims.iss.is_none() {
            return Err(JwtError::MissingClaim("iss"));
        }
        let signing_input = token.rsplit_once('.').map_or("", |(input, _)| input);
        Ok(UnverifiedToken { signing_input, signature, claims })
    }

    /// The `iss` claim, not yet trusted: use it only to look up the secret.
    pub fn issuer(&self) -> &str {
        self.claims.iss.as_deref().unwrap_or_default()
    }

    /// Whether the token says it is a context token (`qsh` = `context-qsh`),
    /// not yet trusted: a caller may skip hashing the request for one, since
    /// [`UnverifiedToken::verify`] never compares its `qsh` to the request's.
    pub fn is_context_token(&self) -> bool {
        self.claims.qsh.as_deref() == Some(CONTEXT_QSH)
    }

    /// Checks the signature with `secret`, then the claims against `expect`.
    pub fn verify(self, secret: &Secret, expect: &Expectation<'_>) -> Result<Claims, JwtError> {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
            .map_err(|_| JwtError::BadSignature)?;
        mac.update(self.signing_input.as_bytes());
        mac.verify_slice(&self.signature).map_err(|_| JwtError::BadSignature)?;

        let raw = self.claims;
        let iat = raw.iat.ok_or(JwtError::MissingClaim("iat"))? as i64;
        let exp = raw.exp.ok_or(JwtError::MissingClaim("exp"))? as i64;
        let qsh = raw.qsh.ok_or(JwtError::MissingClaim("qsh"))?;
        check_time(iat, exp, raw.nbf.map(|nbf| nbf as i64), expect.now)?;
        if qsh == CONTEXT_QSH {
            if !expect.allow_context_qsh {
                return Err(JwtError::ContextTokenNotAccepted);
            }
        } else if !constant_time_eq(qsh.as_bytes(), expect.qsh.as_bytes()) {
            return Err(JwtError::QshMismatch);
        }
        Ok(Claims {
            iss: raw.iss.unwrap_or_default(),
            sub: raw.sub,
            iat,
            exp,
            qsh,
            aud: raw.aud,
            context: raw.context,
        })
    }
}

/// Why an RS256 token's signature check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rs256Failure {
    /// The signature does not verify with the key.
    BadSignature,
    /// The token or its claims are not of the shape asked for.
    Malformed,
}

/// Verifies only the RS256 signature of `token` with `key` and reads its
/// claims as `T`: the callers (signed installs, Forge invocation tokens)
/// check time, audience and issuer themselves, each with its own errors.
pub(crate) fn decode_rs256<T: serde::de::DeserializeOwned>(
    token: &str,
    key: &jsonwebtoken::DecodingKey,
) -> Result<T, Rs256Failure> {
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    jsonwebtoken::decode::<T>(token, key, &validation).map(|data| data.claims).map_err(|err| {
        match err.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => Rs256Failure::BadSignature,
            _ => Rs256Failure::Malformed,
        }
    })
}

/// Checks `exp`, `iat` and `nbf` against `now` with [`LEEWAY_SECONDS`].
pub(crate) fn check_time(iat: i64, exp: i64, nbf: Option<i64>, now: i64) -> Result<(), JwtError> {
    if exp.saturating_add(LEEWAY_SECONDS) < now {
        return Err(JwtError::Expired);
    }
    let not_before = nbf.map_or(iat, |nbf| nbf.max(iat));
    if not_before.saturating_sub(LEEWAY_SECONDS) > now {
        return Err(JwtError::NotYetValid);
    }
    Ok(())
}

/// Splits and decodes a compact JWS: (header, claims JSON bytes, signature).
fn split(token: &str) -> Result<(Header, Vec<u8>, Vec<u8>), JwtError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(JwtError::TooLarge(token.len()));
    }
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed("expected three dot-separated parts"));
    };
    let header = self::header(header)?;
    let claims = URL_SAFE_NO_PAD
        .decode(claims)
        .map_err(|_| JwtError::Malformed("claims are not base64url"))?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| JwtError::Malformed("signature is not base64url"))?;
    Ok((header, claims, signature))
}

/// Decodes a token's header and claims as JSON without verifying anything:
/// for diagnostics (`lodger jwt decode`), never for trust.
pub fn inspect(token: &str) -> Result<(serde_json::Value, serde_json::Value), JwtError> {
    let mut parts = token.split('.');
    let mut decode = |what| {
        let part = parts.next().ok_or(JwtError::Malformed("expected three dot-separated parts"))?;
        let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| JwtError::Malformed(what))?;
        serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed(what))
    };
    Ok((decode("header is not base64url JSON")?, decode("claims are not base64url JSON")?))
}

/// Signs `claims` as an HS256 token with `secret`.
pub fn sign(claims: &Claims, secret: &Secret) -> String {
    // {"alg":"HS256","typ":"JWT"}
    const HEADER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
    let payload = serde_json::to_vec(claims).unwrap_or_default();
    let mut token = String::with_capacity(HEADER.len() + payload.len() * 4 / 3 + 48);
    token.push_str(HEADER);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()) else {
        unreachable!("HMAC accepts keys of any length")
    };
    mac.update(token.as_bytes());
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(mac.finalize().into_bytes(), &mut token);
    token
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;
    const QSH: &str = "b0a2bd2c1a2b1d0f7d1c1dde3c2a8f0c6d0f0c7a8b7b0e2e3b4c5d6e7f8a9b0c";

    fn secret() -> Secret {
        Secret::new("ATCO-test-secret")
    }

    fn token(claims: &Claims) -> String {
        sign(claims, &secret())
    }

    fn verify(token: &str, expect: Expectation<'_>) -> Result<Claims, JwtError> {
        UnverifiedToken::parse(token)?.verify(&secret(), &expect)
    }

    fn forge(header: &str, claims: &str) -> String {
        let h = URL_SAFE_NO_PAD.encode(header);
        let c = URL_SAFE_NO_PAD.encode(claims);
        let mut mac = Hmac::<Sha256>::new_from_slice(secret().expose().as_bytes()).unwrap();
        mac.update(format!("{h}.{c}").as_bytes());
        format!("{h}.{c}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn accepts_a_token_it_signed() {
        let claims = Claims { sub: Some("acc-1".into()), ..Claims::new("jira:1", NOW, 180, QSH) };
        assert_eq!(verify(&token(&claims), Expectation::request(QSH, NOW)), Ok(claims));
    }

    #[test]
    fn rejects_oversized_token_before_decoding() {
        let huge = "a".repeat(MAX_TOKEN_BYTES + 1);
        assert_eq!(UnverifiedToken::parse(&huge).unwrap_err(), JwtError::TooLarge(8193));
    }

    #[test]
    fn rejects_token_without_three_parts() {
        assert!(matches!(UnverifiedToken::parse("a.b"), Err(JwtError::Malformed(_))));
        assert!(matches!(UnverifiedToken::parse("a.b.c.d"), Err(JwtError::Malformed(_))));
        assert!(matches!(UnverifiedToken::parse("!!.??.**"), Err(JwtError::Malformed(_))));
    }

    #[test]
    fn rejects_alg_none_and_rs256() {
        for alg in ["none", "RS256", "HS512", "hs256"] {
            let t = forge(&format!(r#"{{"alg":"{alg}"}}"#), r#"{"iss":"jira:1"}"#);
            assert!(
                matches!(UnverifiedToken::parse(&t), Err(JwtError::UnsupportedAlgorithm { .. })),
                "{alg}"
            );
        }
    }

    #[test]
    fn rejects_token_signed_with_another_secret() {
        let t = sign(&Claims::new("jira:1", NOW, 180, QSH), &Secret::new("other"));
        assert_eq!(verify(&t, Expectation::request(QSH, NOW)), Err(JwtError::BadSignature));
    }

    #[test]
    fn rejects_tampered_claims() {
        let t = token(&Claims::new("jira:1", NOW, 180, QSH));
        let (_, rest) = t.split_once('.').unwrap();
        let (_, sig) = rest.split_once('.').unwrap();
        let forged = format!(
            "{}.{}.{sig}",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#),
            URL_SAFE_NO_PAD.encode(format!(
                r#"{{"iss":"jira:1","iat":{NOW},"exp":{},"qsh":"{QSH}"}}"#,
                NOW + 999_999
            ))
        );
        assert_eq!(verify(&forged, Expectation::request(QSH, NOW)), Err(JwtError::BadSignature));
    }

    #[test]
    fn names_each_missing_claim() {
        let cases = [
            (r#"{"iat":1,"exp":2,"qsh":"x"}"#, "iss"),
            (r#"{"iss":"a","exp":2,"qsh":"x"}"#, "iat"),
            (r#"{"iss":"a","iat":1,"qsh":"x"}"#, "exp"),
            (r#"{"iss":"a","iat":1,"exp":2}"#, "qsh"),
        ];
        for (claims, missing) in cases {
            let t = forge(r#"{"alg":"HS256"}"#, claims);
            let err = UnverifiedToken::parse(&t)
                .and_then(|u| u.verify(&secret(), &Expectation::request("x", 1)));
            assert_eq!(err, Err(JwtError::MissingClaim(missing)));
        }
    }

    #[test]
    fn expiry_allows_thirty_seconds_of_skew_and_no_more() {
        let t = token(&Claims::new("jira:1", NOW, 180, QSH));
        assert!(verify(&t, Expectation::request(QSH, NOW + 180 + 30)).is_ok());
        assert_eq!(verify(&t, Expectation::request(QSH, NOW + 180 + 31)), Err(JwtError::Expired));
    }

    #[test]
    fn rejects_token_issued_in_the_future() {
        let t = token(&Claims::new("jira:1", NOW + 31, 180, QSH));
        assert_eq!(verify(&t, Expectation::request(QSH, NOW)), Err(JwtError::NotYetValid));
        let t = token(&Claims::new("jira:1", NOW + 30, 180, QSH));
        assert!(verify(&t, Expectation::request(QSH, NOW)).is_ok());
    }

    #[test]
    fn rejects_nbf_in_the_future() {
        let t = forge(
            r#"{"alg":"HS256"}"#,
            &format!(
                r#"{{"iss":"a","iat":{NOW},"nbf":{},"exp":{},"qsh":"{QSH}"}}"#,
                NOW + 100,
                NOW + 200
            ),
        );
        assert_eq!(verify(&t, Expectation::request(QSH, NOW)), Err(JwtError::NotYetValid));
    }

    #[test]
    fn rejects_qsh_of_another_request() {
        let t = token(&Claims::new("jira:1", NOW, 180, QSH));
        assert_eq!(verify(&t, Expectation::request("0000", NOW)), Err(JwtError::QshMismatch));
    }

    #[test]
    fn context_tokens_only_where_asked_for() {
        let t = token(&Claims::new("jira:1", NOW, 180, CONTEXT_QSH));
        assert_eq!(
            verify(&t, Expectation::request(QSH, NOW)),
            Err(JwtError::ContextTokenNotAccepted)
        );
        assert!(verify(&t, Expectation::context_or_request(QSH, NOW)).is_ok());
    }

    #[test]
    fn a_context_token_needs_no_request_hash_and_a_bound_one_does() {
        let context = token(&Claims::new("jira:1", NOW, 180, CONTEXT_QSH));
        let bound = token(&Claims::new("jira:1", NOW, 180, QSH));
        assert!(UnverifiedToken::parse(&context).unwrap().is_context_token());
        assert!(!UnverifiedToken::parse(&bound).unwrap().is_context_token());
        // What the server does for a context token: no hash to compare with.
        assert!(verify(&context, Expectation::context_or_request("", NOW)).is_ok());
        assert_eq!(
            verify(&bound, Expectation::context_or_request("", NOW)),
            Err(JwtError::QshMismatch)
        );
    }

    #[test]
    fn error_messages_carry_no_claim_values() {
        let t = token(&Claims::new("jira:secret-issuer", NOW, 180, QSH));
        let err = verify(&t, Expectation::request("0", NOW)).unwrap_err();
        assert!(!err.to_string().contains("secret-issuer") && !err.to_string().contains(QSH));
    }
}
