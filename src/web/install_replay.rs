//! Replayed signed installs: each `installed` or `uninstalled` token is
//! accepted once per process.
//!
//! Atlassian's signed-install token binds the method and path by its `qsh`,
//! not the body (Atlassian: "Understanding JWT for Connect apps", "Signed
//! installs"), so a captured `installed` token could be sent again with
//! another `sharedSecret` or `baseUrl` until it expires. This process
//! remembers the SHA-256 of each token it verified, with the SHA-256 of the
//! body it came with, until the token expires (plus the clock leeway):
//!
//! - a second use with another body is refused (401);
//! - a second use after the first succeeded is refused (401);
//! - the same token with the same body after the first use *failed* is let
//!   through: it is the host retrying the callback lodger answered 503, and
//!   it can only do what the first use would have done.
//!
//! Memory is bounded: tokens live at most
//! [`MAX_LIFETIME_SECONDS`](crate::connect::signed_install::MAX_LIFETIME_SECONDS),
//! expired entries are dropped, and when [`CAPACITY`] unexpired tokens are
//! held a new one is answered 503 (the host retries later) rather than
//! forgetting one that could then be replayed.
//!
//! Not covered: another replica has its own memory, so a token can be
//! replayed once at each other replica within its lifetime (RELIABILITY.md).

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::connect::jwt::LEEWAY_SECONDS;
use crate::connect::signed_install::{SignedInstallError, replay_key};

/// The most unexpired install tokens remembered at once.
pub const CAPACITY: usize = 10_000;

/// Why a signed-install token may not be used now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    /// Used before (with another body, or successfully).
    #[error(transparent)]
    Replayed(#[from] SignedInstallError),
    /// The memory is full of unexpired tokens: retry later.
    #[error("too many install callbacks at once; retry later")]
    Full,
}

#[derive(Debug, Clone, Copy)]
struct Use {
    forget_at: i64,
    body: [u8; 32],
    succeeded: bool,
}

/// The tokens this process has used.
#[derive(Debug, Default)]
pub struct InstallTokens {
    used: Mutex<HashMap<[u8; 32], Use>>,
}

impl InstallTokens {
    /// Records a use of `token` (verified, expiring at `exp`) with `body` at
    /// `now`; refuses a replay. Call [`InstallTokens::succeeded`] once done.
    pub fn claim(&self, token: &str, body: &[u8], exp: i64, now: i64) -> Result<(), ReplayError> {
        let key = replay_key(token);
        let body: [u8; 32] = Sha256::digest(body).into();
        let mut used = self.used.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(earlier) = used.get(&key).filter(|earlier| earlier.forget_at >= now) {
            if earlier.succeeded || earlier.body != body {
                return Err(SignedInstallError::Replayed.into());
            }
            return Ok(());
        }
        if used.len() >= CAPACITY {
            used.retain(|_, earlier| earlier.forget_at >= now);
            if used.len() >= CAPACITY {
                return Err(ReplayError::Full);
            }
        }
        let forget_at = exp.saturating_add(LEEWAY_SECONDS);
        used.insert(key, Use { forget_at, body, succeeded: false });
        Ok(())
    }

    /// Marks `token` as used successfully: no second use is accepted.
    pub fn succeeded(&self, token: &str) {
        let mut used = self.used.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(earlier) = used.get_mut(&replay_key(token)) {
            earlier.succeeded = true;
        }
    }

    /// How many tokens are remembered.
    pub fn len(&self) -> usize {
        self.used.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_second_use_after_success_or_with_another_body() {
        let tokens = InstallTokens::default();
        assert_eq!(tokens.claim("t1", b"body", 200, 100), Ok(()));
        assert!(tokens.claim("t1", b"other body", 200, 100).is_err());
        assert_eq!(tokens.claim("t1", b"body", 200, 101), Ok(()), "a retry after a failure");
        tokens.succeeded("t1");
        assert!(tokens.claim("t1", b"body", 200, 102).is_err());
        assert_eq!(tokens.claim("t2", b"body", 200, 102), Ok(()));
    }

    #[test]
    fn forgets_tokens_once_expired_and_refuses_when_full_of_live_ones() {
        let tokens = InstallTokens::default();
        for i in 0..CAPACITY {
            tokens.claim(&format!("t{i}"), b"", 200, 100).unwrap();
        }
        assert_eq!(tokens.claim("one more", b"", 200, 100), Err(ReplayError::Full));
        let after_expiry = 200 + LEEWAY_SECONDS + 1;
        assert_eq!(tokens.claim("one more", b"", 900, after_expiry), Ok(()));
        assert_eq!(tokens.len(), 1);
    }
}
