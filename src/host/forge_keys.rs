//! Forge's key sets: where the public keys of invocation tokens live.
//!
//! A Forge Remote verifies each call's invocation token
//! ([`crate::connect::invocation_token`]) with a key from Forge's JWKS,
//! chosen by the token's `kid` (Forge: "Forge Remote essentials"). There are
//! two key sets, production's and staging's, picked by the token's
//! `app.apiBaseUrl`; both URLs are configurable, so the dev world can point
//! the remote at its own.
//!
//! Each set is fetched once and cached. A token whose `kid` is not in the
//! cached set makes one refresh (Forge rotates keys by adding one first),
//! at most once per [`ForgeKeys::min_refresh`] per set, so a flood of
//! made-up `kid`s costs one fetch a window, not one a request. A key set
//! that cannot be fetched is [`ForgeKeyError::Unavailable`]: answered 503,
//! never 2xx, while a cached set keeps working.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::connect::invocation_token::{
    self, Expectation, InvocationClaims, InvocationTokenError, PRODUCTION_JWKS_URL,
    STAGING_JWKS_URL,
};
use crate::connect::jwks::{Jwks, MAX_JWKS_BYTES};

/// The default wait between two refreshes of one key set.
pub const MIN_REFRESH: Duration = Duration::from_secs(60);

/// Why an invocation could not be verified.
#[derive(Debug, thiserror::Error)]
pub enum ForgeKeyError {
    /// The token failed a check: the caller is not Forge, or not for this app.
    #[error(transparent)]
    Token(#[from] InvocationTokenError),
    /// The key set could not be fetched or read: worth retrying later.
    #[error("Forge's key set could not be fetched: {0}")]
    Unavailable(String),
}

/// One key set and when it was last fetched.
#[derive(Default)]
struct Cached {
    jwks: Option<Arc<Jwks>>,
    fetched: Option<Instant>,
}

/// Fetches, caches and refreshes Forge's two key sets.
pub struct ForgeKeys {
    production: String,
    staging: String,
    http: reqwest::Client,
    /// The shortest time between two fetches of one set.
    pub min_refresh: Duration,
    sets: [RwLock<Cached>; 2],
}

impl std::fmt::Debug for ForgeKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForgeKeys")
            .field("production", &self.production)
            .field("staging", &self.staging)
            .finish_non_exhaustive()
    }
}

impl ForgeKeys {
    /// Key sets at Atlassian's URLs.
    pub fn atlassian(timeout: Duration) -> Result<ForgeKeys, reqwest::Error> {
        ForgeKeys::new(PRODUCTION_JWKS_URL, STAGING_JWKS_URL, timeout)
    }

    /// Key sets at the given URLs (the dev world serves its own).
    pub fn new(
        production: &str,
        staging: &str,
        timeout: Duration,
    ) -> Result<ForgeKeys, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(ForgeKeys {
            production: production.to_owned(),
            staging: staging.to_owned(),
            http,
            min_refresh: MIN_REFRESH,
            sets: Default::default(),
        })
    }

    /// Verifies an invocation token for the app `app_id` at `now`, fetching
    /// or refreshing the key set it needs.
    pub async fn verify(
        &self,
        token: &str,
        app_id: &str,
        now: i64,
    ) -> Result<InvocationClaims, ForgeKeyError> {
        let kid = invocation_token::key_id(token)?;
        let base = invocation_token::unverified_api_base_url(token).unwrap_or_default();
        let staging = invocation_token::jwks_url(&base) == STAGING_JWKS_URL;
        let (url, slot) = if staging {
            (&self.staging, &self.sets[1])
        } else {
            (&self.production, &self.sets[0])
        };
        let (cached, due) = {
            let cached = slot.read().unwrap_or_else(|poisoned| poisoned.into_inner());
            let due = cached.fetched.is_none_or(|at| at.elapsed() >= self.min_refresh);
            (cached.jwks.clone(), due)
        };
        let jwks = match cached {
            Some(jwks) if jwks.key(&kid).is_some() || !due => jwks,
            _ => match self.fetch(url, slot).await {
                Ok(jwks) => jwks,
                // A set we hold still verifies the keys it has.
                Err(err) => match slot.read().map(|c| c.jwks.clone()).ok().flatten() {
                    Some(jwks) if jwks.key(&kid).is_some() => jwks,
                    _ => return Err(err),
                },
            },
        };
        Ok(invocation_token::verify(token, &jwks, &Expectation { app_id, now })?)
    }

    async fn fetch(&self, url: &str, slot: &RwLock<Cached>) -> Result<Arc<Jwks>, ForgeKeyError> {
        // Claim the refresh first, so concurrent misses make one fetch.
        slot.write().unwrap_or_else(|poisoned| poisoned.into_inner()).fetched =
            Some(Instant::now());
        let unavailable = |reason: String| {
            tracing::warn!(url, reason = %reason, "Forge key set not fetched");
            ForgeKeyError::Unavailable(reason)
        };
        let response = self.http.get(url).send().await.map_err(|err| {
            unavailable(if err.is_timeout() { "timed out" } else { "unreachable" }.to_owned())
        })?;
        if !response.status().is_success() {
            return Err(unavailable(format!("answered {}", response.status().as_u16())));
        }
        if response.content_length().is_some_and(|len| len > MAX_JWKS_BYTES as u64) {
            return Err(unavailable("answered an oversized key set".to_owned()));
        }
        let body = response.bytes().await.map_err(|_| unavailable("body failed".to_owned()))?;
        let jwks = Arc::new(Jwks::parse(&body).map_err(|err| unavailable(err.to_string()))?);
        tracing::info!(url, kids = ?jwks.kids().collect::<Vec<_>>(), "Forge key set fetched");
        slot.write().unwrap_or_else(|poisoned| poisoned.into_inner()).jwks =
            Some(Arc::clone(&jwks));
        Ok(jwks)
    }
}
