//! Calling out: the host's REST API as the app, and Atlassian's key server.
//!
//! | file | what it calls |
//! |---|---|
//! | [`client`] | the tenant's REST API as the app, with retries and bounded waits |
//! | [`tenant`] | whom a call is for, and its credential: a Connect JWT with the request's `qsh`, or a Forge product token |
//! | [`app_properties`] | app properties: Connect's (the sealed credential, MACed settings) and Forge's (settings only the app can write) |
//! | [`entity_properties`] | issue and project properties; the conditional bulk write |
//! | [`webhooks`] | dynamic webhooks: register, list, refresh, delete |
//! | [`license`] | whether the tenant's license is active |
//! | [`permissions`] | whether a user is a site admin |
//! | [`install_keys`] | the key server whose public keys verify signed installs |
//! | [`forge_keys`] | Forge's key sets, whose public keys verify invocation tokens |
//! | [`upm`] | the Universal Plugin Manager: install an app by descriptor URL |

pub mod app_properties;
pub mod client;
pub mod entity_properties;
pub mod forge_keys;
pub mod install_keys;
pub mod license;
pub mod permissions;
pub mod tenant;
pub mod upm;
pub mod webhooks;
