//! The sealed installation credential: how a storage-free app keeps its
//! tenants' shared secrets in the tenants' own sites.
//!
//! At `installed` the host hands over a shared secret, and a storage-free app
//! has no database to put it in. So it *seals* the [`Installation`] with an
//! AEAD (XChaCha20-Poly1305) under a key derived with HKDF-SHA256 from the
//! operator's master key, and stores the sealed string in the host: in an app
//! property (lodger uses `lodger-installation`) and in the URL of the
//! tenant's dynamic webhooks. Pages relay it back with each call; any replica
//! holding the master key can open it. The format is
//!
//! ```text
//! v1.<key-id>.<base64url(nonce | ciphertext)>
//! ```
//!
//! The tenant's `clientKey` and the app key are the AEAD's associated data: a
//! credential copied to another tenant, or to another app sharing the master
//! key, does not open. Several master keys may be configured: the first seals,
//! all open, so keys rotate without reinstalling anything.
//!
//! ```
//! use lodger_connect::installation::{Installation, Product};
//! use lodger_connect::sealed::{Keyring, MasterKey};
//! use lodger_connect::secret::Secret;
//!
//! let keyring = Keyring::new("hello-panel credential", vec![MasterKey::generate()])?;
//! let installation = Installation {
//!     key: "lodger".into(),
//!     client_key: "ck-1".into(),
//!     base_url: "https://acme.atlassian.net".into(),
//!     shared_secret: Secret::new("s3cr3t"),
//!     product_type: Product::Jira,
//!     oauth_client_id: None,
//!     installed_at: 1_700_000_000,
//! };
//! let sealed = keyring.seal(&installation)?;
//! assert!(sealed.starts_with("v1."));
//! assert_eq!(keyring.open(&sealed, "ck-1", "lodger")?, installation);
//! assert!(keyring.open(&sealed, "ck-2", "lodger").is_err());
//! # Ok::<(), lodger_connect::sealed::SealError>(())
//! ```

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::{Digest, Sha256};

use super::installation::Installation;

const VERSION: &str = "v1";
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// Sealed credentials longer than this are refused unread: a real one is
/// well under 1 KiB (the shared secret is at most a few hundred bytes).
pub const MAX_SEALED_BYTES: usize = 4 * 1024;

/// Why a credential could not be sealed or opened. Messages say what failed,
/// never what the credential contains.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// Not `v1.<key-id>.<base64url>`, or too short to hold a nonce and tag.
    #[error("sealed credential is malformed")]
    Malformed,
    /// A format version this build does not know.
    #[error("sealed credential has an unknown version (expected v1)")]
    UnknownVersion,
    /// Sealed with a master key that is not configured (dropped after rotation?).
    #[error("sealed credential uses master key {0:?}, which is not configured")]
    UnknownKeyId(String),
    /// Tampered with, truncated, or sealed for another tenant or app.
    #[error("sealed credential does not open for this tenant and app")]
    DoesNotOpen,
    /// The master key list is empty or names one id twice.
    #[error("master keys: {0}")]
    BadKeyring(&'static str),
    /// A master key string is not `<id>:<base64url of 32 bytes>`.
    #[error("master key must be <id>:<base64url of 32 bytes> (make one with `lodger keygen`)")]
    BadMasterKey,
}

/// One operator master key: an id (named in every credential it seals) and
/// 32 secret bytes. Written as `<id>:<base64url>`; `lodger keygen` makes one.
#[derive(Clone)]
pub struct MasterKey {
    id: String,
    bytes: [u8; 32],
}

impl MasterKey {
    /// A fresh random key; its id is a short fingerprint of the key.
    pub fn generate() -> MasterKey {
        let bytes: [u8; 32] = XChaCha20Poly1305::generate_key(&mut OsRng).into();
        let id = super::qsh::hex(&Sha256::digest(bytes)[..4]);
        MasterKey { id, bytes }
    }

    /// The key's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The key in its `<id>:<base64url>` form: a secret, for `lodger keygen` to print.
    pub fn to_config_string(&self) -> String {
        format!("{}:{}", self.id, URL_SAFE_NO_PAD.encode(self.bytes))
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey({}:[redacted])", self.id)
    }
}

impl FromStr for MasterKey {
    type Err = SealError;

    fn from_str(text: &str) -> Result<Self, SealError> {
        let (id, key) = text.trim().split_once(':').ok_or(SealError::BadMasterKey)?;
        let id_ok = (1..=32).contains(&id.len())
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        let bytes = URL_SAFE_NO_PAD.decode(key).map_err(|_| SealError::BadMasterKey)?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| SealError::BadMasterKey)?;
        if !id_ok {
            return Err(SealError::BadMasterKey);
        }
        Ok(MasterKey { id: id.to_owned(), bytes })
    }
}

/// The configured master keys, each turned into its sealing key once.
pub struct Keyring {
    keys: Vec<(String, XChaCha20Poly1305)>,
    masters: Vec<MasterKey>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("Keyring").field("key_ids", &ids).finish_non_exhaustive()
    }
}

impl Keyring {
    /// A keyring whose first key seals and whose keys all open.
    ///
    /// `purpose` is the app's own label for its sealing keys (the HKDF salt):
    /// two apps, or two uses in one app, that share a master key but not a
    /// purpose cannot open each other's credentials. Choose it once: a
    /// credential opens only under the purpose it was sealed with.
    pub fn new(purpose: &str, master_keys: Vec<MasterKey>) -> Result<Keyring, SealError> {
        if master_keys.is_empty() {
            return Err(SealError::BadKeyring("at least one is needed"));
        }
        let mut keys: Vec<(String, XChaCha20Poly1305)> = Vec::with_capacity(master_keys.len());
        for master in &master_keys {
            if keys.iter().any(|(id, _)| *id == master.id) {
                return Err(SealError::BadKeyring("two keys have the same id"));
            }
            keys.push((master.id.clone(), derive(purpose, master)));
        }
        Ok(Keyring { keys, masters: master_keys })
    }

    /// A 32-byte key for another `purpose` from each master key, the
    /// sealing key's first: HKDF-SHA256 salted with `purpose`, with the key
    /// id as info, so no two purposes or ids share a key. (The settings MAC
    /// uses this.)
    pub fn derive_keys(&self, purpose: &[u8]) -> Vec<(String, [u8; 32])> {
        self.masters
            .iter()
            .map(|master| {
                let hkdf = Hkdf::<Sha256>::new(Some(purpose), &master.bytes);
                let mut key = [0u8; 32];
                // 32 bytes is far below HKDF-SHA256's limit: this cannot fail.
                let _ = hkdf.expand(master.id.as_bytes(), &mut key);
                (master.id.clone(), key)
            })
            .collect()
    }

    /// The id of the key that seals.
    pub fn sealing_key_id(&self) -> &str {
        self.keys.first().map_or("", |(id, _)| id.as_str())
    }

    /// Seals an installation for its own tenant and app.
    pub fn seal(&self, installation: &Installation) -> Result<String, SealError> {
        let (id, cipher) =
            self.keys.first().ok_or(SealError::BadKeyring("at least one is needed"))?;
        let plaintext = serde_json::to_vec(installation).map_err(|_| SealError::Malformed)?;
        let aad = associated_data(id, &installation.client_key, &installation.key);
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = cipher
            .encrypt(&nonce, Payload { msg: &plaintext, aad: &aad })
            .map_err(|_| SealError::Malformed)?;
        let mut blob = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&ciphertext);
        Ok(format!("{VERSION}.{id}.{}", URL_SAFE_NO_PAD.encode(blob)))
    }

    /// Opens a credential that must belong to tenant `client_key` and app `app_key`.
    pub fn open(
        &self,
        sealed: &str,
        client_key: &str,
        app_key: &str,
    ) -> Result<Installation, SealError> {
        if sealed.len() > MAX_SEALED_BYTES {
            return Err(SealError::Malformed);
        }
        let mut parts = sealed.splitn(3, '.');
        let (Some(version), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(SealError::Malformed);
        };
        if version != VERSION {
            return Err(SealError::UnknownVersion);
        }
        let (_, cipher) = self
            .keys
            .iter()
            .find(|(known, _)| known == id)
            .ok_or_else(|| SealError::UnknownKeyId(id.chars().take(32).collect()))?;
        let blob = URL_SAFE_NO_PAD.decode(body).map_err(|_| SealError::Malformed)?;
        if blob.len() < NONCE_LEN + TAG_LEN {
            return Err(SealError::Malformed);
        }
        let (nonce, ciphertext) = blob.split_at(NONCE_LEN);
        let aad = associated_data(id, client_key, app_key);
        let plaintext = cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad })
            .map_err(|_| SealError::DoesNotOpen)?;
        let installation: Installation =
            serde_json::from_slice(&plaintext).map_err(|_| SealError::Malformed)?;
        // The AEAD already binds both; this guards against a sealing bug.
        if installation.client_key != client_key || installation.key != app_key {
            return Err(SealError::DoesNotOpen);
        }
        Ok(installation)
    }
}

/// The id of the master key that sealed `sealed` (`v1.<key id>.…`), read
/// without opening it; `None` for anything that is not a credential.
///
/// ```
/// assert_eq!(lodger_connect::sealed::key_id_of("v1.k2.AAAA"), Some("k2"));
/// assert_eq!(lodger_connect::sealed::key_id_of("garbage"), None);
/// ```
pub fn key_id_of(sealed: &str) -> Option<&str> {
    let mut parts = sealed.splitn(3, '.');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(VERSION), Some(id), Some(_)) if !id.is_empty() => Some(id),
        _ => None,
    }
}

/// The sealing key for one master key: HKDF-SHA256, salted per purpose, with
/// the key id as info so two ids never share a derived key.
fn derive(purpose: &str, master: &MasterKey) -> XChaCha20Poly1305 {
    let hkdf = Hkdf::<Sha256>::new(Some(purpose.as_bytes()), &master.bytes);
    let mut key = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's limit of 255 * 32, so this cannot fail.
    let _ = hkdf.expand(master.id.as_bytes(), &mut key);
    XChaCha20Poly1305::new(&key.into())
}

/// Associated data: version, key id, tenant and app, each length-prefixed so
/// that no two different tuples give the same bytes.
fn associated_data(key_id: &str, client_key: &str, app_key: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(64 + client_key.len() + app_key.len());
    for part in [VERSION, key_id, client_key, app_key] {
        aad.extend_from_slice(&(part.len() as u32).to_be_bytes());
        aad.extend_from_slice(part.as_bytes());
    }
    aad
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::installation::Product;
    use crate::secret::Secret;

    const PURPOSE: &str = "test sealed installation credential";

    fn installation() -> Installation {
        Installation {
            key: "lodger".into(),
            client_key: "ck-1".into(),
            base_url: "https://acme.atlassian.net".into(),
            shared_secret: Secret::new("ATCO-s3cr3t"),
            product_type: Product::Jira,
            installed_at: 1_700_000_000,
            oauth_client_id: Some("oauth-1".into()),
        }
    }

    #[test]
    fn opens_what_it_sealed() {
        let ring = Keyring::new(PURPOSE, vec![MasterKey::generate()]).unwrap();
        let sealed = ring.seal(&installation()).unwrap();
        assert_eq!(ring.open(&sealed, "ck-1", "lodger").unwrap(), installation());
        assert!(!sealed.contains("s3cr3t"));
    }

    #[test]
    fn rejects_credential_of_another_tenant_or_app() {
        let ring = Keyring::new(PURPOSE, vec![MasterKey::generate()]).unwrap();
        let sealed = ring.seal(&installation()).unwrap();
        assert_eq!(ring.open(&sealed, "ck-2", "lodger"), Err(SealError::DoesNotOpen));
        assert_eq!(ring.open(&sealed, "ck-1", "lodger-confluence"), Err(SealError::DoesNotOpen));
    }

    #[test]
    fn rejects_every_single_bit_flip_without_panicking() {
        let ring = Keyring::new(PURPOSE, vec![MasterKey::generate()]).unwrap();
        let sealed = ring.seal(&installation()).unwrap();
        let prefix = sealed.rfind('.').unwrap() + 1;
        let body = URL_SAFE_NO_PAD.decode(&sealed[prefix..]).unwrap();
        for i in 0..body.len() * 8 {
            let mut flipped = body.clone();
            flipped[i / 8] ^= 1 << (i % 8);
            let forged = format!("{}{}", &sealed[..prefix], URL_SAFE_NO_PAD.encode(&flipped));
            assert_eq!(
                ring.open(&forged, "ck-1", "lodger"),
                Err(SealError::DoesNotOpen),
                "bit {i}"
            );
        }
    }

    #[test]
    fn rejects_truncation_at_every_length() {
        let ring = Keyring::new(PURPOSE, vec![MasterKey::generate()]).unwrap();
        let sealed = ring.seal(&installation()).unwrap();
        for len in 0..sealed.len() {
            assert!(ring.open(&sealed[..len], "ck-1", "lodger").is_err(), "length {len}");
        }
    }

    #[test]
    fn rotation_first_key_seals_and_every_key_opens() {
        let (old, new) = (MasterKey::generate(), MasterKey::generate());
        let before = Keyring::new(PURPOSE, vec![old.clone()]).unwrap();
        let sealed_with_old = before.seal(&installation()).unwrap();
        let after = Keyring::new(PURPOSE, vec![new.clone(), old]).unwrap();
        assert_eq!(after.open(&sealed_with_old, "ck-1", "lodger").unwrap(), installation());
        assert!(after.seal(&installation()).unwrap().starts_with(&format!("v1.{}.", new.id())));
        let dropped = Keyring::new(PURPOSE, vec![new]).unwrap();
        assert!(matches!(
            dropped.open(&sealed_with_old, "ck-1", "lodger"),
            Err(SealError::UnknownKeyId(_))
        ));
    }

    #[test]
    fn rejects_unknown_version_and_garbage() {
        let ring = Keyring::new(PURPOSE, vec![MasterKey::generate()]).unwrap();
        let sealed = ring.seal(&installation()).unwrap();
        assert_eq!(
            ring.open(&sealed.replacen("v1", "v2", 1), "ck-1", "lodger"),
            Err(SealError::UnknownVersion)
        );
        assert_eq!(ring.open("v1", "ck-1", "lodger"), Err(SealError::Malformed));
        assert_eq!(
            ring.open(&format!("v1.{}.%%%", ring.sealing_key_id()), "ck-1", "lodger"),
            Err(SealError::Malformed)
        );
        assert_eq!(ring.open(&"v1.x.".repeat(2000), "ck-1", "lodger"), Err(SealError::Malformed));
    }

    #[test]
    fn master_key_round_trips_through_its_config_string() {
        let key = MasterKey::generate();
        let parsed: MasterKey = key.to_config_string().parse().unwrap();
        assert_eq!(parsed.id(), key.id());
        assert!(!format!("{parsed:?}").contains(&key.to_config_string()[key.id().len() + 1..]));
        assert_eq!("nope".parse::<MasterKey>().unwrap_err(), SealError::BadMasterKey);
        assert_eq!("a:AAAA".parse::<MasterKey>().unwrap_err(), SealError::BadMasterKey);
        assert!("bad id:AAAA".parse::<MasterKey>().is_err());
    }

    #[test]
    fn keyring_refuses_empty_and_duplicate_ids() {
        assert!(Keyring::new(PURPOSE, vec![]).is_err());
        let key = MasterKey::generate();
        assert!(Keyring::new(PURPOSE, vec![key.clone(), key]).is_err());
    }
}
