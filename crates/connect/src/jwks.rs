//! A JSON Web Key Set: the public keys Forge signs invocation tokens with.
//!
//! Forge publishes its keys as a JWKS document (RFC 7517) at
//! `https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json` (Forge:
//! "Forge Remote essentials", verifying remote requests). A token's header
//! names its key by `kid`. This module parses such a document into keys ready
//! to verify with; fetching it, caching it and refreshing it on an unknown
//! `kid` are the caller's (they need HTTP, which the core does not have).
//!
//! Only RSA signing keys are kept (`kty` = `RSA`, `use` absent or `sig`, `alg`
//! absent or `RS256`): invocation tokens are RS256, and a key of another kind
//! in the document is skipped rather than trusted for something else.
//!
//! ```
//! use lodger_connect::jwks::Jwks;
//!
//! let document = br#"{"keys": [{"kty": "EC", "kid": "other", "crv": "P-256", "x": "", "y": ""}]}"#;
//! let jwks = Jwks::parse(document)?;
//! assert!(jwks.key("other").is_none()); // not an RSA signing key
//! # Ok::<(), lodger_connect::jwks::JwksError>(())
//! ```

use jsonwebtoken::DecodingKey;
use serde::Deserialize;

/// The largest JWKS document accepted (Forge's holds a few keys, ~2 KiB).
pub const MAX_JWKS_BYTES: usize = 256 * 1024;

/// Why a JWKS document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwksError {
    /// The document is larger than [`MAX_JWKS_BYTES`].
    #[error("key set is {0} bytes; at most 262144 are accepted")]
    TooLarge(usize),
    /// The document is not `{"keys": [...]}` JSON.
    #[error("key set is not a JSON object with a `keys` array")]
    Malformed,
    /// An RSA key's modulus or exponent is not base64url of a usable key.
    #[error("key set holds an RSA key `{0}` whose `n` or `e` does not decode")]
    BadKey(String),
}

#[derive(Deserialize)]
struct Document {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default, rename = "use")]
    usage: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
}

/// The RS256 verification keys of a key set, by `kid`.
#[derive(Clone)]
pub struct Jwks {
    keys: Vec<(String, DecodingKey)>,
}

impl std::fmt::Debug for Jwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwks").field("kids", &self.kids().collect::<Vec<_>>()).finish()
    }
}

impl Jwks {
    /// Parses a JWKS document, keeping its RSA signing keys that have a `kid`.
    pub fn parse(document: &[u8]) -> Result<Jwks, JwksError> {
        if document.len() > MAX_JWKS_BYTES {
            return Err(JwksError::TooLarge(document.len()));
        }
        let document: Document =
            serde_json::from_slice(document).map_err(|_| JwksError::Malformed)?;
        let mut keys = Vec::new();
        for jwk in document.keys {
            let signing = jwk.kty == "RSA"
                && jwk.usage.as_deref().is_none_or(|usage| usage == "sig")
                && jwk.alg.as_deref().is_none_or(|alg| alg == "RS256");
            let (Some(kid), true) = (jwk.kid, signing) else { continue };
            let (Some(n), Some(e)) = (jwk.n, jwk.e) else { return Err(JwksError::BadKey(kid)) };
            let key = DecodingKey::from_rsa_components(&n, &e)
                .map_err(|_| JwksError::BadKey(kid.clone()))?;
            keys.push((kid, key));
        }
        Ok(Jwks { keys })
    }

    /// The key named `kid`, if the set has it.
    pub fn key(&self, kid: &str) -> Option<&DecodingKey> {
        self.keys.iter().find(|(id, _)| id == kid).map(|(_, key)| key)
    }

    /// The `kid`s of the keys held.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(id, _)| id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_rsa_signing_keys_with_a_kid() {
        let document = br#"{"keys": [
            {"kty": "RSA", "kid": "a", "n": "sXch", "e": "AQAB"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": "sXch", "e": "AQAB"},
            {"kty": "RSA", "kid": "ps", "alg": "PS256", "n": "sXch", "e": "AQAB"},
            {"kty": "RSA", "n": "sXch", "e": "AQAB"},
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"}
        ]}"#;
        let jwks = Jwks::parse(document).unwrap();
        assert_eq!(jwks.kids().collect::<Vec<_>>(), ["a"]);
    }

    #[test]
    fn refuses_what_is_not_a_key_set() {
        assert_eq!(Jwks::parse(b"[]").unwrap_err(), JwksError::Malformed);
        assert_eq!(Jwks::parse(b"{\"keys\": {}}").unwrap_err(), JwksError::Malformed);
        let missing = br#"{"keys": [{"kty": "RSA", "kid": "a", "e": "AQAB"}]}"#;
        assert_eq!(Jwks::parse(missing).unwrap_err(), JwksError::BadKey("a".into()));
        let huge = vec![b' '; MAX_JWKS_BYTES + 1];
        assert!(matches!(Jwks::parse(&huge), Err(JwksError::TooLarge(_))));
    }
}
