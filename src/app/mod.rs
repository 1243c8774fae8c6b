//! The Checklists app: what lodger does for its users, on top of the
//! Connect foundation in [`crate::connect`]. Everything it keeps lives in the
//! host (see `docs/data.md`); this module holds the shapes of those values
//! and the one piece of automation the server runs.
//!
//! | file | what |
//! |---|---|
//! | [`checklist`] | the issue property `lodger-checklist`: items, tombstones, counts |
//! | [`template`] | the project property `lodger-template`: default items |
//! | [`settings`] | the app property `lodger-settings`, MACed by the server (Connect) |
//! | [`tenancy`] | what differs between a Connect and a Forge tenant: settings store, license, glance status |
//! | [`apply_template`] | a new issue gets its project's template, once |
//! | [`revocation`] | a superseded or uninstalled installation stops working, on every replica |
//! | [`upkeep`] | each tenant's dynamic webhooks kept registered and fresh; re-sealing under a new master key |
//! | [`webhook_url`] | the URL of those webhooks, which carries the sealed credential |

pub mod apply_template;
pub mod checklist;
pub mod revocation;
pub mod settings;
pub mod template;
pub mod tenancy;
pub mod upkeep;
pub mod webhook_url;
