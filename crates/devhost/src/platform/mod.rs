//! What every product of an emulated site shares, and nothing
//! product-specific: no file here imports from `jira`, `confluence` or
//! `pages`, so all of them may use it.
//!
//! | file | what of a real site it emulates |
//! |---|---|
//! | [`upm`] | the Universal Plugin Manager's install-by-URL REST flow |
//! | [`install`] | fetching and checking the descriptor, lifecycle callbacks |
//! | [`installation`] | the record of an app installed in one product |
//! | [`keys`] | the install-key server behind signed installs; random ids |
//! | [`host`] | the install-key and static-file routes of the dev host |
//! | [`auth`] | who may call the REST API: the app (JWT) or a user through an iframe |
//! | [`call`] | the authenticated REST call every resource starts with |
//! | [`permissions`] | the site's permission scheme: roles and app scopes |
//! | [`app_properties`] | the Connect framework's app properties, in Jira and Confluence |
//! | [`errors`] | Jira's and Confluence's error replies, refused callers |
//! | [`http`] | REST path versions, query parameters, encoding, JSON replies, the clock |
//! | [`conditions`] | whether a module shows: logged in, entity properties |
//! | [`iframe`] | module iframe URLs: context variables, standard parameters, `jwt` |
//! | [`faults`] | the fault setting: injected 429s, 5xx, latency, dropped or late webhooks |
//! | [`fault_injection`] | applying it in front of the REST API; `/dev/api/faults` |

pub mod app_properties;
pub mod auth;
pub mod call;
pub mod conditions;
pub mod errors;
pub mod fault_injection;
pub mod faults;
pub mod host;
pub mod http;
pub mod iframe;
pub mod install;
pub mod installation;
pub mod keys;
pub mod permissions;
pub mod upm;
