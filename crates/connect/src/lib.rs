//! The Atlassian Connect protocol, as a small pure library: the query string
//! hash, HS256 tokens, signed installs, lifecycle payloads, installations,
//! sealed credentials and descriptor checks; and, for the same app on Forge,
//! the Forge invocation token a Forge Remote verifies.
//!
//! Pure means no web framework, no HTTP client and no async runtime (this
//! crate's `Cargo.toml` has none, so the compiler keeps it that way): every
//! function takes bytes and strings and gives values or a precise error.
//! Fetching install keys, calling the host and serving requests are the
//! app's; lodger (the Checklists app this kit comes from) shows one way.
//!
//! | module | Connect concept |
//! |---|---|
//! | [`qsh`] | the query string hash that binds a JWT to one request |
//! | [`jwt`] | HS256 tokens the host signs (iframes, webhooks) and the app signs (REST calls) |
//! | [`signed_install`] | RS256 tokens on `installed` / `uninstalled` (the `signed-install` migration) |
//! | [`lifecycle`] | the lifecycle payload and its events |
//! | [`installation`] | what an install hands the app: clientKey, baseUrl, shared secret |
//! | [`sealed`] | the sealed installation credential a storage-free app keeps in the host |
//! | [`descriptor`] | the checks a host makes of an app descriptor at install |
//! | [`secret`] | secrets that never print |
//! | [`invocation_token`] | Forge: the invocation token (FIT) a Forge Remote verifies |
//! | [`jwks`] | Forge: the key set invocation tokens are signed with |
//!
//! A host-signed request, verified in three steps:
//!
//! ```
//! use lodger_connect::jwt::{self, Claims, Expectation, UnverifiedToken};
//! use lodger_connect::qsh::query_string_hash;
//! use lodger_connect::secret::Secret;
//!
//! // What the host does: sign the request with the tenant's shared secret.
//! let secret = Secret::new("shared-secret-from-installed");
//! let qsh = query_string_hash("GET", "/panel", "issueKey=LOD-1");
//! let token = jwt::sign(&Claims::new("client-key", lodger_connect::now(), 180, &qsh), &secret);
//!
//! // What the app does: read the issuer, find its secret, verify.
//! let unverified = UnverifiedToken::parse(&token)?;
//! assert_eq!(unverified.issuer(), "client-key");
//! let claims = unverified.verify(&secret, &Expectation::request(&qsh, lodger_connect::now()))?;
//! assert_eq!(claims.iss, "client-key");
//! # Ok::<(), lodger_connect::jwt::JwtError>(())
//! ```
#![deny(missing_docs)]

pub mod descriptor;
pub mod installation;
pub mod invocation_token;
pub mod jwks;
pub mod jwt;
pub mod lifecycle;
pub mod qsh;
pub mod sealed;
pub mod secret;
pub mod signed_install;

/// Seconds since the Unix epoch: the clock every token check here is given.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}
