//! The Connect protocol core: pure functions and types, no web framework, no
//! HTTP client, no async runtime. Everything here can be read, tested and
//! reused without a server.
//!
//! | file | Connect concept |
//! |---|---|
//! | [`qsh`] | the query string hash that binds a JWT to one request |
//! | [`jwt`] | HS256 tokens the host signs (iframes, webhooks) and the app signs (REST calls) |
//! | [`signed_install`] | RS256 tokens on `installed` / `uninstalled` (the `signed-install` migration) |
//! | [`lifecycle`] | the lifecycle payload and its events |
//! | [`installation`] | what an install hands the app: clientKey, baseUrl, shared secret |
//! | [`sealed`] | the sealed installation credential lodger stores in the host |
//! | [`descriptor`] | the app descriptor, rendered and checked |
//! | [`secret`] | secrets that never print |

pub mod descriptor;
pub mod installation;
pub mod jwt;
pub mod lifecycle;
pub mod qsh;
pub mod sealed;
pub mod secret;
pub mod signed_install;
