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
//! # The workspace
//!
//! | crate | what |
//! |---|---|
//! | `lodger-connect` (re-exported here as [`connect`]) | the kit's core: the Connect protocol, pure (no web framework, HTTP client or async runtime) |
//! | `lodger-devhost` (re-exported as `devhost`, feature `dev-host`) | the emulated Jira + Confluence Cloud site |
//! | `lodger` (this crate) | the Checklists app: [`web`] serves, [`host`] calls the host, [`app`] is the product, `dev` is the dev world's glue |
#![deny(missing_docs)]

pub mod app;
pub mod cache;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod descriptor;
#[cfg(feature = "dev-host")]
pub mod dev;
pub mod export;
pub mod forge;
pub mod host;
pub mod state;
pub mod web;

/// The kit's core, the Connect protocol (the `lodger-connect` crate).
pub use lodger_connect as connect;
/// Seconds since the Unix epoch: the clock every token check uses.
pub use lodger_connect::now;
/// The emulated Atlassian Cloud site (the `lodger-devhost` crate).
#[cfg(feature = "dev-host")]
pub use lodger_devhost as devhost;

/// The label lodger's sealing keys are derived under (the HKDF salt of
/// [`connect::sealed::Keyring`]). Changing it would make every stored
/// credential unreadable: it is fixed for the life of the app.
pub const SEALING_PURPOSE: &str = "lodger sealed installation credential";
