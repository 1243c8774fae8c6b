//! The paths lodger's Forge remote answers on, in one place: the manifest
//! ([`crate::export::forge`]) routes Forge's calls to them through its
//! `endpoint` modules, and the remote (`lodger serve`) mounts them.
//!
//! Forge calls a remote at `remotes[].baseUrl` + `endpoint[].route.path`
//! ("Forge Remote essentials", "Forge remote invocation contract"). Every
//! path sits under `/forge/` so that it can never collide with the Connect
//! app's paths (`/lifecycle`, `/api`, `/webhooks`, the pages), which the same
//! binary keeps serving.
//!
//! | path | endpoint key | called for | tokens handed to the remote |
//! |---|---|---|---|
//! | [`INVOKE`] | [`ENDPOINT_UI`] | `invokeRemote` from the panel, glance, project settings page and macro | app system token |
//! | [`INVOKE_ADMIN`] | [`ENDPOINT_ADMIN`] | `invokeRemote` from the admin page (settings) | app system and user tokens |
//! | [`EVENT_ISSUE_CREATED`] | [`ENDPOINT_ISSUE_CREATED`] | the `avi:jira:created:issue` trigger | app system token |
//! | [`EVENT_INSTALLED`] | [`ENDPOINT_INSTALLED`] | the `avi:forge:installed:app` lifecycle event | app system token |
//!
//! Whether Forge appends the `path` given to `invokeRemote` to the
//! endpoint's route is not settled by any offline source (unverified): the
//! remote should accept [`INVOKE`] itself and any path below it.
//!
//! Not for the Connect paths, which the descriptors name.

/// The route UI invocations arrive on (`invokeRemote` from every page but the
/// admin page): the `endpoint` module [`ENDPOINT_UI`].
pub const INVOKE: &str = "/forge/invoke";

/// The route the admin page's invocations arrive on: the `endpoint` module
/// [`ENDPOINT_ADMIN`], the only one handed the user's token as well (writing
/// settings asks the site, as the user, whether they may).
pub const INVOKE_ADMIN: &str = "/forge/invoke-admin";

/// The route the `avi:jira:created:issue` trigger delivers to ("Sending
/// product events to a remote"): POST, 5 s timeout, up to 4 retries.
pub const EVENT_ISSUE_CREATED: &str = "/forge/events/issue-created";

/// The route the `avi:forge:installed:app` lifecycle event delivers to
/// ("Sending product events to a remote"). Forge has no uninstall event.
pub const EVENT_INSTALLED: &str = "/forge/events/installed";

/// The `endpoint` module key behind [`INVOKE`].
pub const ENDPOINT_UI: &str = "lodger-ui";

/// The `endpoint` module key behind [`INVOKE_ADMIN`].
pub const ENDPOINT_ADMIN: &str = "lodger-ui-admin";

/// The `endpoint` module key behind [`EVENT_ISSUE_CREATED`].
pub const ENDPOINT_ISSUE_CREATED: &str = "lodger-issue-created";

/// The `endpoint` module key behind [`EVENT_INSTALLED`].
pub const ENDPOINT_INSTALLED: &str = "lodger-installed";

/// The key of the one remote (`remotes[].key`): `lodger serve`.
pub const REMOTE: &str = "lodger";
