//! The emulated Forge platform, beside the emulated Connect host: it
//! installs a Forge app folder into a site as `forge install` does, signs
//! Forge invocation tokens with its own JWKS, hands the remote product
//! tokens that the site's REST accepts under an `apiBaseUrl`-style path,
//! enforces the manifest's scopes, serves Forge app properties, and
//! delivers triggers and UI invocations to the app's remote (Forge: "Forge
//! Remote essentials", "Forge remote invocation contract").
//!
//! | file | what of Forge it emulates | the Atlassian doc it follows |
//! |---|---|---|
//! | [`manifest`] | reading `manifest.yml`: app id, compatibility, remotes, endpoints, triggers, UI modules, scopes | "Manifest reference" |
//! | [`entity_property`] | `jira:entityProperty`: issue property paths searchable with JQL | "Jira entity property" (Forge module) |
//! | [`invocation_tokens`] | the FIT signer and its JWKS at `/dev/forge/jwks.json` | "Forge remote invocation contract"; "Forge Remote essentials" |
//! | [`install`] | `forge install` / uninstall, the site's `cloudId`, `apiBaseUrl` | "CLI reference"; "Lifecycle events" |
//! | [`product_tokens`] | system and user tokens (`x-forge-oauth-system`, `-user`) | "Calling Atlassian app APIs from a remote" |
//! | [`rest_auth`] | Bearer product tokens at the REST API under `apiBaseUrl` | "Calling Atlassian app APIs from a remote" |
//! | [`scopes`] | which scope each REST call needs | Jira and Confluence REST references, each operation's scopes |
//! | [`app_properties`] | `/rest/forge/1/app/properties/{key}` | Jira REST v3 "App properties" (Forge) |
//! | [`events`] | the bodies of `avi:jira:created:issue` and `avi:forge:installed:app` | "Jira events"; "Lifecycle events" |
//! | [`triggers`] | delivering events to a remote: POST, 5 s, 4 retries | "Sending product events to a remote" |
//! | [`invoke`] | UI `invokeRemote` calls: 25 s, no retries | "Forge remote invocation contract"; "Calling a remote backend from a Forge frontend" |
//! | [`resources`] | Custom UI resources on an origin of their own (`http://<app-uuid>.localhost:<site port>`), the bridge's frame half injected first in `index.html`, Forge's CSP | "Custom UI"; "Custom UI security" / "Content security and egress controls"; `@forge/bridge` 7.2.0 `out/bridge.js` |
//! | [`routes`](mod@routes) | `GET /dev/forge/jwks.json`, `POST /dev/forge/invoke` | `@forge/bridge`'s `invoke` reply shape, `RemoteInvokeResponse` (`out/types.d.ts`) |
//! | [`state`] | one site's Forge state | — |
//!
//! The Custom UI host's other halves live with the product pages: which
//! Forge modules a page frames and the Forge pages
//! ([`crate::pages::forge_modules`]), the bridge's host half
//! (`page/forge-host.js`: `getContext`, `fetchProduct`, `invoke`, `emit`/`on`,
//! `showFlag`, theme) and its frame half (`page/forge-frame.js`); a frame's
//! `requestJira` is authenticated by [`crate::platform::auth`] with this
//! module's [`scopes`].
//!
//! What it is not: a Forge runtime. It runs no Forge functions (apps
//! reach it only through remotes) and no UI Kit.

pub mod app_properties;
pub mod display_conditions;
pub mod entity_property;
pub mod events;
pub mod install;
pub mod invocation_tokens;
pub mod invoke;
pub mod manifest;
pub mod product_tokens;
pub mod resources;
pub mod rest_auth;
pub mod routes;
pub mod scopes;
pub mod state;
pub mod triggers;
