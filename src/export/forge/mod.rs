//! `lodger export --forge DIR`: the same storage-free product as a native
//! Forge app folder, ready for `forge deploy` ("Manifest reference",
//! "Forge Remote essentials").
//!
//! | path | what | follows |
//! |---|---|---|
//! | `manifest.yml` | the app: id, runtime, licensing, modules, resources, the remote, scopes (see [`manifest`]) | "Manifest reference" |
//! | `resources/<key>/index.html` | one Custom UI resource per page, with the scripts, styles and images it loads beside it (see [`resources`]) | "Custom UI", "Resources" |
//!
//! The pages inside the resources are the Connect pages of `site/`, their
//! Connect adapter swapped for the Forge one bundled with `@forge/bridge`
//! ([`bundle`], needs `npm ci --prefix tools/forge`): the same pages and
//! the same bridge seam (`site/js/bridge.js`), which picks Forge at run
//! time. `@forge/manifest` validates the folder.
//!
//! Why one app for Jira and Confluence (`app.compatibility`: Jira required,
//! Confluence optional) rather than one folder per product: the remote
//! checks every Forge invocation token's `aud` against one app id, so one
//! app keeps one `--app-id`, one `forge register`, one remote configuration
//! and one licence; Jira is where most of the product lives (panel, glance,
//! JQL index, template trigger) and the Confluence macro is an optional
//! extra, exactly what "Build an app compatible with Confluence and Jira"
//! describes. The cost: app compatibility was a Forge Preview feature in
//! late 2025 (unverified whether it is generally available now); if a site
//! refuses it, the fallback is two registrations, which this module would
//! write as two manifests from the same tables.
//!
//! Deterministic like the Connect export: the same binary and options give
//! the same bytes (keys sorted by [`super::yaml`], files in a sorted tree),
//! written through the same temporary folder so nothing is half-written.
//!
//! Not for the remote itself (`lodger serve`, whose paths are in
//! [`crate::forge::paths`]) nor for deploying: that is the Forge CLI's job.

pub mod bundle;
pub mod manifest;
pub mod resources;

use std::path::Path;

use super::{ExportReport, Tree, refuse_non_empty, write_atomically};
use crate::connect::installation::is_acceptable_base_url;

/// The prefix of every Forge app id ("Manifest reference", `app.id`: what
/// `forge register` writes).
pub const APP_ID_PREFIX: &str = "ari:cloud:ecosystem::app/";

/// Why the options of `lodger export --forge` are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForgeOptionError {
    /// The app id is not `ari:cloud:ecosystem::app/<uuid>`.
    #[error(
        "--app-id {0:?} must be a Forge app id, ari:cloud:ecosystem::app/<uuid> \
         (what `forge register` prints and writes into manifest.yml)"
    )]
    AppId(String),
    /// The remote URL is neither https nor http on a loopback address.
    #[error(
        "--remote-url {0:?} must be https://host[:port][/path] where `lodger serve` answers \
         (http only on localhost, for the dev world)"
    )]
    RemoteUrl(String),
}

/// What to export, checked: build it with [`ForgeOptions::new`].
#[derive(Debug, Clone)]
pub struct ForgeOptions {
    app_id: String,
    remote_url: String,
    force: bool,
}

impl ForgeOptions {
    /// Checks the app id (`ari:cloud:ecosystem::app/<uuid>`, "Manifest
    /// reference", `app`) and the remote's base URL (`remotes[].baseUrl`:
    /// https, or http on loopback for the dev world), dropping the URL's
    /// trailing `/`.
    ///
    /// ```
    /// use lodger::export::forge::ForgeOptions;
    ///
    /// let app = "ari:cloud:ecosystem::app/8ab4c5e1-9d3f-4e2a-b1c0-123456789abc";
    /// assert!(ForgeOptions::new(app, "https://lodger.example.com/", false).is_ok());
    /// assert!(ForgeOptions::new("8ab4c5e1", "https://lodger.example.com", false).is_err());
    /// assert!(ForgeOptions::new(app, "http://lodger.example.com", false).is_err());
    /// ```
    pub fn new(app_id: &str, remote_url: &str, force: bool) -> Result<Self, ForgeOptionError> {
        if !is_app_id(app_id) {
            return Err(ForgeOptionError::AppId(app_id.to_owned()));
        }
        let remote_url = remote_url.trim_end_matches('/');
        if !is_acceptable_base_url(remote_url) {
            return Err(ForgeOptionError::RemoteUrl(remote_url.to_owned()));
        }
        Ok(ForgeOptions { app_id: app_id.to_owned(), remote_url: remote_url.to_owned(), force })
    }

    /// The app id (`app.id`).
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// The remote's base URL (`remotes[].baseUrl`), without a trailing `/`.
    pub fn remote_url(&self) -> &str {
        &self.remote_url
    }
}

/// Whether `id` is a Forge app id as `forge register` prints it:
/// `ari:cloud:ecosystem::app/` then a UUID in its 8-4-4-4-12 hex form.
pub fn is_app_id(id: &str) -> bool {
    let Some(uuid) = id.strip_prefix(APP_ID_PREFIX) else { return false };
    let groups: Vec<&str> = uuid.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Builds the whole Forge app folder in memory, bundling the Forge adapter
/// with the esbuild of [`bundle::tools_dir`].
pub fn build(options: &ForgeOptions) -> anyhow::Result<Tree> {
    build_with(options, &bundle::forge_bridge(&bundle::tools_dir())?)
}

/// [`build`] with an already bundled Forge adapter (`bridge`).
pub fn build_with(options: &ForgeOptions, bridge: &[u8]) -> anyhow::Result<Tree> {
    let mut tree = resources::files(options, bridge)?;
    let icon = resources::icon_path()?;
    let manifest = manifest::manifest(options, &icon);
    let Some(map) = manifest.as_object() else {
        anyhow::bail!("the Forge manifest is not a map");
    };
    tree.insert("manifest.yml".to_owned(), super::yaml::to_yaml(map).into_bytes());
    Ok(tree)
}

/// Writes the Forge app folder to `dir` (see the module documentation).
pub fn export(dir: &Path, options: &ForgeOptions) -> anyhow::Result<ExportReport> {
    refuse_non_empty(dir, options.force)?;
    write_atomically(dir, &build(options)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: &str = "ari:cloud:ecosystem::app/8ab4c5e1-9d3f-4e2a-b1c0-123456789abc";

    #[test]
    fn app_ids_must_be_forge_aris_with_a_uuid() {
        assert!(is_app_id(APP));
        for bad in [
            "",
            "8ab4c5e1-9d3f-4e2a-b1c0-123456789abc",
            "ari:cloud:ecosystem::app/",
            "ari:cloud:ecosystem::app/8ab4c5e1-9d3f-4e2a-b1c0-123456789ab",
            "ari:cloud:ecosystem::app/8ab4c5e1-9d3f-4e2a-b1c0-123456789abcd",
            "ari:cloud:ecosystem::app/8ab4c5e19d3f-4e2a-b1c0-123456789abc",
            "ari:cloud:ecosystem::app/8ab4c5e1-9d3f-4e2a-b1c0-12345678zabc",
            "ari:cloud:ecosystem::app/8ab4c5e1-9d3f-4e2a-b1c0-123456789abc/x",
            "ari:cloud:jira::app/8ab4c5e1-9d3f-4e2a-b1c0-123456789abc",
        ] {
            assert!(!is_app_id(bad), "{bad}");
        }
    }

    #[test]
    fn remote_urls_are_https_or_loopback_http() {
        let ok = ForgeOptions::new(APP, "https://lodger.example.com/forge/", false).unwrap();
        assert_eq!(ok.remote_url(), "https://lodger.example.com/forge");
        assert!(ForgeOptions::new(APP, "http://127.0.0.1:8080", false).is_ok());
        for bad in ["http://lodger.example.com", "ftp://x.example", "https://u@x.example", ""] {
            assert_eq!(
                ForgeOptions::new(APP, bad, false).unwrap_err(),
                ForgeOptionError::RemoteUrl(bad.trim_end_matches('/').to_owned()),
            );
        }
    }

    #[test]
    fn the_folder_is_the_same_bytes_every_time() {
        let options = ForgeOptions::new(APP, "https://lodger.example.com", false).unwrap();
        let first = build_with(&options, b"/* bridge */").unwrap();
        assert_eq!(first, build_with(&options, b"/* bridge */").unwrap());
        assert!(first.contains_key("manifest.yml"));
        assert!(first.contains_key("resources/issue-panel/index.html"));
    }
}
