//! The emulator's own install-key server: the RSA key pair that signs its
//! `installed` and `uninstalled` callbacks, as Atlassian's does for real
//! sites (see [`lodger_connect::signed_install`]). The public key is served
//! as PEM at `/dev/install-keys/<kid>`; `lodger dev` points the app's
//! `--install-keys-url` there.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};

/// Signs lifecycle callbacks RS256 with a key generated at start.
pub struct InstallSigner {
    kid: String,
    encoding: EncodingKey,
    public_pem: String,
}

impl std::fmt::Debug for InstallSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstallSigner").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl InstallSigner {
    /// A fresh 2048-bit key pair (the smallest RSA size verifiers accept).
    pub fn generate() -> anyhow::Result<InstallSigner> {
        let mut rng = rand::thread_rng();
        let private = rsa::RsaPrivateKey::new(&mut rng, 2048)?;
        let private_pem = private.to_pkcs8_pem(LineEnding::LF)?;
        let public_pem = private.to_public_key().to_public_key_pem(LineEnding::LF)?;
        let kid = format!("dev-host/{}", random_id(8));
        Ok(InstallSigner {
            kid,
            encoding: EncodingKey::from_rsa_pem(private_pem.as_bytes())?,
            public_pem,
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
