//! The inspector, which no Atlassian Cloud site has: a page on each
//! emulated site, `/dev/inspector`, listing every exchange between the
//! site and its apps, newest first, with its status, timing, the decoded
//! JWT or Forge invocation token claims (never a signature or a secret),
//! and for a refused request the exact check that refused it. The same
//! data is JSON at `/dev/inspector.json`, for tests.
//!
//! | file | what it does |
//! |---|---|
//! | [`exchanges`] | the model and the bounded record each site keeps ([`exchanges::CAPACITY`]) |
//! | [`record`] | making an exchange safe to show: URLs without `jwt`, tokens decoded |
//! | [`rest`] | REST calls made by apps, recorded around the router, and why one was refused |
//! | [`upm`] | calls to the Universal Plugin Manager with Basic auth (the user name only) |
//! | [`page`] | `GET /dev/inspector` and `GET /dev/inspector.json` |
//!
//! The other exchanges are recorded where they happen, one call each:
//! descriptor fetches and lifecycle callbacks ([`crate::platform::install`]),
//! iframe URLs and modules hidden by their conditions
//! ([`crate::platform::iframe`], [`crate::pages::modules`]), Forge Custom
//! UI frame documents ([`crate::forge::resources`]), webhook attempts
//! ([`crate::jira::webhooks::delivery`]), Forge trigger attempts
//! ([`crate::forge::triggers`]) and UI invocations, those that fail before
//! anything is sent included ([`crate::forge::invoke`]).

pub mod exchanges;
pub mod page;
pub mod record;
pub mod rest;
pub mod upm;
