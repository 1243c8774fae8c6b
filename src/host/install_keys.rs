//! The install key server: where the public keys of signed installs live.
//!
//! `GET <key server>/<kid>` answers the PEM public key that verifies an
//! `installed` or `uninstalled` token (see [`crate::connect::signed_install`]).
//! Keys are cached by `kid` in a bounded map; a key server that is down, slow
//! or answers anything but 200 with a PEM is reported as
//! [`SignedInstallError::KeyUnavailable`], which lodger answers 503 so that the
//! host retries the install later, while cached keys keep working.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::DecodingKey;

use crate::cache::BoundedCache;
use crate::connect::signed_install::{SignedInstallError, decoding_key, key_url};

/// How many keys are remembered (Atlassian rotates rarely; a handful is plenty,
/// and a bound stops a flood of made-up `kid`s from growing memory).
const CACHED_KEYS: usize = 32;
/// The most a key may weigh; a PEM RSA public key is well under 1 KiB.
const MAX_KEY_BYTES: usize = 16 * 1024;

/// Fetches and caches install public keys.
pub struct InstallKeys {
    server: String,
    http: reqwest::Client,
    cache: BoundedCache<String, Arc<DecodingKey>>,
}

impl std::fmt::Debug for InstallKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstallKeys").field("server", &self.server).finish_non_exhaustive()
    }
}

impl InstallKeys {
    /// A fetcher for `server` (e.g. `https://connect-install-keys.atlassian.com`).
    pub fn new(server: &str, timeout: Duration) -> Result<InstallKeys, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(InstallKeys {
            server: server.trim_end_matches('/').to_owned(),
            http,
            cache: BoundedCache::new(CACHED_KEYS),
        })
    }

    /// The key for `kid`, from the cache or the key server.
    pub async fn get(&self, kid: &str) -> Result<Arc<DecodingKey>, SignedInstallError> {
        if let Some(key) = self.cache.get(kid) {
            return Ok(key);
        }
        let url = key_url(&self.server, kid)?;
        let unavailable = |reason: &str| SignedInstallError::KeyUnavailable(reason.to_owned());
        let response = self.http.get(&url).send().await.map_err(|err| {
            unavailable(if err.is_timeout() {
                "key server timed out"
            } else {
                "key server unreachable"
            })
        })?;
        if response.status().is_client_error() {
            tracing::warn!(kid, status = response.status().as_u16(), "install key not published");
            return Err(SignedInstallError::UnknownKey);
        }
        if !response.status().is_success() {
            let reason = format!("key server answered {}", response.status().as_u16());
            tracing::warn!(kid, status = response.status().as_u16(), "install key not served");
            return Err(SignedInstallError::KeyUnavailable(reason));
        }
        if response.content_length().is_some_and(|len| len > MAX_KEY_BYTES as u64) {
            return Err(unavailable("key server answered an oversized key"));
        }
        let pem = response.bytes().await.map_err(|_| unavailable("key server body failed"))?;
        if pem.len() > MAX_KEY_BYTES {
            return Err(unavailable("key server answered an oversized key"));
        }
        let key = Arc::new(decoding_key(&pem)?);
        self.cache.insert(kid.to_owned(), Arc::clone(&key));
        Ok(key)
    }
}
