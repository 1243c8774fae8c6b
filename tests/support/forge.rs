//! Forge's side of an invocation, for tests: a key pair published as a JWKS,
//! and invocation tokens signed the way Forge signs them.
#![allow(dead_code)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use lodger::connect::invocation_token::ISSUER;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};

/// The app id the tests' tokens are for.
pub const APP: &str = "ari:cloud:ecosystem::app/8a1f0c7e-1111-4222-8333-944445555666";

/// A Forge signing key: the private half signs, the JWKS publishes the public half.
pub struct ForgeKey {
    pub kid: String,
    pub private_pem: String,
    pub public_pem: String,
}

impl ForgeKey {
    pub fn generate(kid: &str) -> ForgeKey {
        let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
        let public = private.to_public_key();
        ForgeKey {
            kid: kid.into(),
            private_pem: private.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
            public_pem: public.to_public_key_pem(LineEnding::LF).unwrap(),
        }
    }

    /// This key as one JWK.
    pub fn jwk(&self) -> Value {
        use rsa::pkcs8::DecodePublicKey;
        let public = rsa::RsaPublicKey::from_public_key_pem(&self.public_pem).unwrap();
        let b64 = |bytes: Vec<u8>| URL_SAFE_NO_PAD.encode(bytes);
        json!({"kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256",
               "n": b64(public.n().to_bytes_be()), "e": b64(public.e().to_bytes_be())})
    }

    /// Signs `claims` RS256 with this key's `kid`.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        let key = EncodingKey::from_rsa_pem(self.private_pem.as_bytes()).unwrap();
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }
}

/// A JWKS document publishing `keys`.
pub fn jwks(keys: &[&ForgeKey]) -> Value {
    json!({"keys": keys.iter().map(|key| key.jwk()).collect::<Vec<_>>()})
}

/// The claims of a UI invocation at `now` for [`APP`] on a production site.
pub fn claims(now: i64) -> Value {
    json!({
        "iss": ISSUER, "aud": APP, "iat": now - 5, "nbf": now - 5, "exp": now + 55,
        "app": {"id": APP, "installationId": "ari:cloud:ecosystem::installation/i-1",
                "apiBaseUrl": "https://api.atlassian.com/ex/jira/c0ffee"},
        "principal": "557058:abc"
    })
}
