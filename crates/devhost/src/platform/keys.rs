//! The emulator's own install-key server: the RSA key pair that signs its
//! `installed` and `uninstalled` callbacks, as Atlassian's does for real
//! sites (see [`lodger_connect::signed_install`]). The public key is served
//! as PEM at `/dev/install-keys/<kid>`; `lodger dev` points the app's
//! `--install-keys-url` there.
//!
//! The same kind of key signs the emulated Forge platform's invocation
//! tokens ([`crate::forge::invocation_tokens`]), published as a JWKS
//! (RFC 7517) with [`InstallSigner::jwk`].

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};

/// Signs lifecycle callbacks RS256 with a key generated at start.
pub struct InstallSigner {
    kid: String,
    encoding: EncodingKey,
    public_pem: String,
    jwk: Value,
}

impl std::fmt::Debug for InstallSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstallSigner").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl InstallSigner {
    /// A fresh 2048-bit key pair (the smallest RSA size verifiers accept).
    pub fn generate() -> anyhow::Result<InstallSigner> {
        InstallSigner::generate_named("dev-host/")
    }

    /// A fresh 2048-bit key pair whose `kid` starts with `kid_prefix`.
    pub fn generate_named(kid_prefix: &str) -> anyhow::Result<InstallSigner> {
        let mut rng = rand::thread_rng();
        let private = rsa::RsaPrivateKey::new(&mut rng, 2048)?;
        let private_pem = private.to_pkcs8_pem(LineEnding::LF)?;
        let public_pem = private.to_public_key().to_public_key_pem(LineEnding::LF)?;
        let kid = format!("{kid_prefix}{}", random_id(8));
        let public = private.to_public_key();
        let b64 = |bytes: Vec<u8>| URL_SAFE_NO_PAD.encode(bytes);
        let jwk = json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
                         "n": b64(public.n().to_bytes_be()), "e": b64(public.e().to_bytes_be())});
        Ok(InstallSigner {
            kid,
            encoding: EncodingKey::from_rsa_pem(private_pem.as_bytes())?,
            public_pem,
            jwk,
        })
    }

    /// The key id lifecycle tokens name.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key, PEM.
    pub fn public_pem(&self) -> &str {
        &self.public_pem
    }

    /// The public key as one JSON Web Key (RFC 7517: `kty`, `kid`, `use`,
    /// `alg`, `n`, `e`).
    pub fn jwk(&self) -> &Value {
        &self.jwk
    }

    /// Signs `claims` RS256 with this key's `kid` in the header.
    pub fn sign(&self, claims: &serde_json::Value) -> anyhow::Result<String> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(&header, claims, &self.encoding)?)
    }
}

/// A random id of `bytes` random bytes, hex.
pub(crate) fn random_id(bytes: usize) -> String {
    use rand::RngCore;
    let mut buffer = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buffer);
    buffer.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A random version 4 UUID, lowercase hex with dashes (RFC 9562).
pub(crate) fn random_uuid() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}
