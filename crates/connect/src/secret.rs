//! Secrets that cannot leak through `Debug` or `Display`.
//!
//! A Connect app handles three kinds of secret: the shared secret the host
//! hands over at `installed` (it signs every HS256 token between host and
//! app), the operator's master keys (they seal installation credentials), and
//! the tokens themselves. Wrapping them in [`Secret`] means a stray `{:?}` in a
//! log line prints `[redacted]` instead of the value.

use std::fmt;

/// A string that must never be printed: `Debug` and `Display` show `[redacted]`.
///
/// ```
/// use lodger_connect::secret::Secret;
///
/// let secret = Secret::new("ATCOxyz");
/// assert_eq!(format!("{secret:?}"), "[redacted]");
/// assert_eq!(secret.expose(), "ATCOxyz");
/// ```
#[derive(Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself: call this only where the value is used (signing,
    /// sealing), never to print it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}
