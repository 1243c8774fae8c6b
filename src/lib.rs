//! lodger: a storage-free Atlassian Connect app for Jira and Confluence
//! Cloud, and the kit it is built with.
//!
//! # The Connect flow on one page
//!
//! 1. An admin installs the app by the URL of its **descriptor**
//!    ([`connect::descriptor`]), served at `/atlassian-connect.json`.
//! 2. The host POSTs the **`installed` lifecycle** callback
//!    ([`connect::lifecycle`], [`web::lifecycle`]), signed RS256 by Atlassian
//!    ([`connect::signed_install`]), carrying the tenant's shared secret.
//! 3. lodger **seals** that installation ([`connect::sealed`]) and stores it in
//!    the tenant's own site as an app property, with a request signed as the
//!    app ([`host::client`], [`host::app_properties`]). It keeps no database.
//! 4. Users open pages the host frames in iframes; the pages call lodger with
//!    a context token and the relayed credential, and lodger verifies both
//!    ([`web::auth`]): HS256 ([`connect::jwt`]) bound to the request by its
//!    query string hash ([`connect::qsh`]).
//!
//! The [`connect`] module is the protocol core: pure, no web framework, no
//! HTTP client, no async runtime. [`host`] calls out; [`web`] serves.
#![deny(missing_docs)]

pub mod app;
pub mod cache;
pub mod cli;
pub mod commands;
pub mod config;
pub mod connect;
#[cfg(feature = "dev-host")]
pub mod devhost;
pub mod export;
pub mod host;
pub mod web;

/// Seconds since the Unix epoch: the clock every token check uses.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}
