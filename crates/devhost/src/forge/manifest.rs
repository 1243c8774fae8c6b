//! Reading a Forge app folder's `manifest.yml` (Forge: "Manifest
//! reference": `app`, `modules` with `endpoint` and `trigger`, `remotes`,
//! `permissions.scopes`) into the few typed facts the emulated platform
//! acts on: the app id, which products it is for, its remotes, endpoints,
//! triggers, UI modules and scopes.
//!
//! What it is not: a validator. `@forge/manifest` is the authority on what
//! a manifest may hold; this reader refuses only what would leave the
//! platform unable to act (no `app.id`, an endpoint naming an unknown
//! remote, a trigger or resolver naming an unknown endpoint) and ignores
//! the rest (titles, icons, resources' paths, `permissions.external`…).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use lodger_connect::installation::Product;

/// The file `forge deploy` reads in an app folder.
pub const MANIFEST_FILE: &str = "manifest.yml";

/// Why a Forge app folder could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// The folder has no `manifest.yml`.
    #[error("{0} has no manifest.yml: is it a Forge app folder?")]
    Missing(PathBuf),
    /// The file exists but could not be read.
    #[error("cannot read {path}: {reason}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        reason: String,
    },
    /// The file is not YAML of the manifest's shape.
    #[error("manifest.yml is not a Forge manifest: {0}")]
    Malformed(String),
    /// `app.id` is absent or not an app ARI.
    #[error("manifest.yml has no `app.id` of the form ari:cloud:ecosystem::app/<uuid>")]
    NoAppId,
    /// An endpoint names a remote the manifest does not declare.
    #[error("endpoint `{endpoint}` names remote `{remote}`, which `remotes` does not declare")]
    UnknownRemote {
        /// The endpoint's key.
        endpoint: String,
        /// The remote it names.
        remote: String,
    },
    /// A trigger or UI module names an endpoint `modules.endpoint` lacks.
    #[error(
        "module `{module}` names endpoint `{endpoint}`, which `modules.endpoint` does not declare"
    )]
    UnknownEndpoint {
        /// The module's key.
        module: String,
        /// The endpoint it names.
        endpoint: String,
    },
}

/// Which tokens Forge hands the remote (`auth.appSystemToken.enabled`,
/// `auth.appUserToken.enabled`; Forge: "Manifest reference", remotes and
/// endpoint).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenAuth {
    /// `x-forge-oauth-system` is sent.
    pub system: bool,
    /// `x-forge-oauth-user` is sent (UI invocations with a user only).
    pub user: bool,
}

/// A remote (`remotes[]`): a backend the app calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    /// Its key.
    pub key: String,
    /// Where it is served, without a trailing slash.
    pub base_url: String,
    /// `operations` (`compute`, `fetch`, `storage`, `other`).
    pub operations: Vec<String>,
    /// Its `auth`.
    pub auth: TokenAuth,
}

/// An endpoint module (`modules.endpoint[]`): a route on a remote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Its key.
    pub key: String,
    /// The remote's key.
    pub remote: String,
    /// `route.path` (empty when absent).
    pub route_path: String,
    /// Its `auth`, or the remote's when the endpoint has none (unverified:
    /// the manifest reference gives both places, not how they combine).
    pub auth: TokenAuth,
}

/// A trigger module (`modules.trigger[]`) routed to an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    /// Its key (the `moduleKey` of its deliveries).
    pub key: String,
    /// The events it subscribes to, e.g. `avi:jira:created:issue`.
    pub events: Vec<String>,
    /// The endpoint it is delivered to (`None`: a Forge function, which the
    /// emulator does not run).
    pub endpoint: Option<String>,
}

/// A UI module: any module with a `resource` (`jira:issuePanel`, `macro`…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UiModule {
    /// The module type, e.g. `jira:issuePanel`.
    pub module_type: String,
    /// Its key.
    pub key: String,
    /// The Custom UI resource's key.
    pub resource: String,
    /// `resolver.endpoint`: where its `invokeRemote` calls go.
    pub resolver_endpoint: Option<String>,
    /// Its `title` (the panel's or page's heading), if any.
    pub title: Option<String>,
    /// A macro's `config.resource`: the Custom UI resource that edits its
    /// configuration (Forge: "Macro" module, `config`), if any.
    pub config_resource: Option<String>,
    /// Its `label` (an issue context's collapsed line), if any.
    pub label: Option<String>,
    /// Its `displayConditions`, as written ([`super::display_conditions`]).
    pub display_conditions: Option<serde_json::Value>,
}

/// A Custom UI resource (`resources[]`): a folder of static files the
/// platform serves to the module's iframe, `index.html` first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// Its key, named by UI modules' `resource`.
    pub key: String,
    /// Its folder, relative to the app folder (e.g. `resources/issue-panel`).
    pub path: String,
}

impl UiModule {
    /// The product whose pages show the module: Confluence for `macro` and
    /// `confluence:*`, Jira otherwise.
    pub fn product(&self) -> Product {
        if self.module_type == "macro" || self.module_type.starts_with("confluence:") {
            Product::Confluence
        } else {
            Product::Jira
        }
    }
}

/// What the emulated platform needs of a `manifest.yml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForgeManifest {
    /// `app.id`, an ARI.
    pub app_id: String,
    /// The products of `app.compatibility`, the required first (just Jira
    /// when absent: a single-product Jira app).
    pub products: Vec<Product>,
    /// `app.licensing.enabled`.
    pub licensing: bool,
    /// `remotes`.
    pub remotes: Vec<Remote>,
    /// `modules.endpoint`.
    pub endpoints: Vec<Endpoint>,
    /// `modules.trigger`.
    pub triggers: Vec<Trigger>,
    /// The modules with a `resource`.
    pub ui_modules: Vec<UiModule>,
    /// `permissions.scopes`.
    pub scopes: Vec<String>,
    /// `resources`.
    pub resources: Vec<Resource>,
    /// `permissions.content.scripts` (e.g. `unsafe-inline`), for the
    /// resources' CSP.
    pub content_scripts: Vec<String>,
    /// `permissions.content.styles` (e.g. `unsafe-inline`).
    pub content_styles: Vec<String>,
    /// The issue property paths `jira:entityProperty` makes searchable.
    pub extractions: Vec<crate::jira::jql_run::Extraction>,
}

#[derive(Deserialize)]
struct Raw {
    app: RawApp,
    #[serde(default)]
    modules: BTreeMap<String, Vec<Value>>,
    #[serde(default)]
    remotes: Vec<RawRemote>,
    #[serde(default)]
    permissions: RawPermissions,
    #[serde(default)]
    resources: Vec<RawResource>,
}

#[derive(Deserialize)]
struct RawResource {
    key: String,
    path: String,
}

#[derive(Deserialize)]
struct RawApp {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    compatibility: BTreeMap<String, Value>,
    #[serde(default)]
    licensing: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRemote {
    key: String,
    base_url: String,
    #[serde(default)]
    operations: Vec<String>,
    #[serde(default)]
    auth: Option<Value>,
}

#[derive(Deserialize, Default)]
struct RawPermissions {
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    content: RawContent,
}

#[derive(Deserialize, Default)]
struct RawContent {
    #[serde(default)]
    scripts: Vec<String>,
    #[serde(default)]
    styles: Vec<String>,
}

impl ForgeManifest {
    /// Reads `<folder>/manifest.yml`.
    pub fn read(folder: &Path) -> Result<ForgeManifest, ManifestError> {
        let path = folder.join(MANIFEST_FILE);
        if !path.is_file() {
            return Err(ManifestError::Missing(folder.to_path_buf()));
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| ManifestError::Unreadable { path: path.clone(), reason: e.to_string() })?;
        ForgeManifest::parse(&text)
    }

    /// Parses a manifest's text.
    pub fn parse(text: &str) -> Result<ForgeManifest, ManifestError> {
        let raw: Raw =
            serde_norway::from_str(text).map_err(|e| ManifestError::Malformed(e.to_string()))?;
        let app_id = raw
            .app
            .id
            .filter(|id| id.starts_with(lodger_connect::invocation_token::APP_ARI_PREFIX))
            .ok_or(ManifestError::NoAppId)?;
        let required = |v: &Value| v["required"] == Value::Bool(true);
        let mut compatible: Vec<(bool, Product)> = Vec::new();
        for (name, entry) in &raw.app.compatibility {
            let product = match name.as_str() {
                "jira" => Product::Jira,
                "confluence" => Product::Confluence,
                _ => continue,
            };
            compatible.push((!required(entry), product));
        }
        compatible.sort_by_key(|(optional, _)| *optional);
        let mut products: Vec<Product> = compatible.into_iter().map(|(_, p)| p).collect();
        if products.is_empty() {
            products.push(Product::Jira);
        }
        let licensing = raw.app.licensing.as_ref().is_some_and(|l| l["enabled"] == true);
        let remotes: Vec<Remote> = raw
            .remotes
            .into_iter()
            .map(|r| Remote {
                auth: token_auth(r.auth.as_ref()).unwrap_or_default(),
                base_url: r.base_url.trim_end_matches('/').to_owned(),
                key: r.key,
                operations: r.operations,
            })
            .collect();
        let entries = |kind: &str| raw.modules.get(kind).map(Vec::as_slice).unwrap_or_default();
        let text_of = |v: &Value, field: &str| v[field].as_str().map(str::to_owned);
        let mut endpoints = Vec::new();
        for entry in entries("endpoint") {
            let key = text_of(entry, "key").unwrap_or_default();
            let remote_key = text_of(entry, "remote").unwrap_or_default();
            let Some(remote) = remotes.iter().find(|r| r.key == remote_key) else {
                return Err(ManifestError::UnknownRemote { endpoint: key, remote: remote_key });
            };
            endpoints.push(Endpoint {
                auth: token_auth(entry.get("auth")).unwrap_or(remote.auth),
                route_path: entry["route"]["path"].as_str().unwrap_or_default().to_owned(),
                remote: remote_key,
                key,
            });
        }
        let known = |module: &str, endpoint: Option<String>| match endpoint {
            Some(e) if !endpoints.iter().any(|known| known.key == e) => {
                Err(ManifestError::UnknownEndpoint { module: module.to_owned(), endpoint: e })
            }
            other => Ok(other),
        };
        let mut triggers = Vec::new();
        for entry in entries("trigger") {
            let key = text_of(entry, "key").unwrap_or_default();
            let events = entry["events"]
                .as_array()
                .map(|a| a.iter().filter_map(|e| e.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            let endpoint = known(&key, text_of(entry, "endpoint"))?;
            triggers.push(Trigger { key, events, endpoint });
        }
        let mut ui_modules = Vec::new();
        for (module_type, list) in &raw.modules {
            for entry in list {
                let Some(resource) = text_of(entry, "resource") else { continue };
                let key = text_of(entry, "key").unwrap_or_default();
                let resolver_endpoint = known(&key, text_of(&entry["resolver"], "endpoint"))?;
                ui_modules.push(UiModule {
                    module_type: module_type.clone(),
                    key,
                    resource,
                    resolver_endpoint,
                    title: text_of(entry, "title"),
                    config_resource: text_of(&entry["config"], "resource"),
                    label: text_of(entry, "label"),
                    display_conditions: entry.get("displayConditions").cloned(),
                });
            }
        }
        Ok(ForgeManifest {
            app_id,
            products,
            licensing,
            remotes,
            endpoints,
            triggers,
            ui_modules,
            scopes: raw.permissions.scopes,
            content_scripts: raw.permissions.content.scripts,
            content_styles: raw.permissions.content.styles,
            extractions: super::entity_property::extractions(entries("jira:entityProperty")),
            resources: raw
                .resources
                .into_iter()
                .map(|r| Resource { key: r.key, path: r.path })
                .collect(),
        })
    }

    /// The endpoint with this key.
    pub fn endpoint(&self, key: &str) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.key == key)
    }

    /// The remote with this key.
    pub fn remote(&self, key: &str) -> Option<&Remote> {
        self.remotes.iter().find(|r| r.key == key)
    }

    /// The UI module with this key.
    pub fn ui_module(&self, key: &str) -> Option<&UiModule> {
        self.ui_modules.iter().find(|m| m.key == key)
    }

    /// The resource with this key.
    pub fn resource(&self, key: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.key == key)
    }

    /// The UI modules of type `module_type`, in manifest order.
    pub fn ui_modules_of<'a>(
        &'a self,
        module_type: &'a str,
    ) -> impl Iterator<Item = &'a UiModule> + 'a {
        self.ui_modules.iter().filter(move |m| m.module_type == module_type)
    }

    /// The triggers routed to an endpoint that subscribe to `event`.
    pub fn triggers_on<'a>(&'a self, event: &'a str) -> impl Iterator<Item = &'a Trigger> + 'a {
        self.triggers
            .iter()
            .filter(move |t| t.endpoint.is_some() && t.events.iter().any(|e| e == event))
    }

    /// Whether `permissions.scopes` lists `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// Reads an `auth` block: `None` when there is none.
fn token_auth(auth: Option<&Value>) -> Option<TokenAuth> {
    let auth = auth.filter(|a| a.is_object())?;
    Some(TokenAuth {
        system: auth["appSystemToken"]["enabled"] == true,
        user: auth["appUserToken"]["enabled"] == true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = "
app:
  id: ari:cloud:ecosystem::app/00000000-0000-4000-8000-000000000001
  licensing: {enabled: true}
  compatibility: {confluence: {required: false}, jira: {required: true}}
modules:
  jira:issuePanel:
    - {key: panel, title: P, resource: main, resolver: {endpoint: ui}}
  trigger:
    - {key: created, events: [avi:jira:created:issue], endpoint: events}
  endpoint:
    - {key: ui, remote: r, route: {path: /forge/invoke}, auth: {appUserToken: {enabled: true}}}
    - {key: events, remote: r, route: {path: /forge/events}}
remotes:
  - {key: r, baseUrl: 'http://localhost:8080/', operations: [compute], auth: {appSystemToken: {enabled: true}}}
permissions:
  scopes: [read:jira-work]
";

    #[test]
    fn reads_what_the_platform_acts_on() {
        let manifest = ForgeManifest::parse(MANIFEST).unwrap();
        assert!(manifest.app_id.ends_with("000000000001"));
        assert_eq!(manifest.products, [Product::Jira, Product::Confluence]);
        assert!(manifest.licensing);
        assert_eq!(manifest.remotes[0].base_url, "http://localhost:8080");
        let ui = manifest.endpoint("ui").unwrap();
        assert_eq!((ui.auth.system, ui.auth.user), (false, true));
        assert_eq!(
            manifest.endpoint("events").unwrap().auth,
            TokenAuth { system: true, user: false }
        );
        assert_eq!(manifest.ui_module("panel").unwrap().resolver_endpoint.as_deref(), Some("ui"));
        assert_eq!(manifest.triggers_on("avi:jira:created:issue").count(), 1);
        assert!(manifest.has_scope("read:jira-work"));
    }

    #[test]
    fn refuses_unknown_remotes_and_endpoints() {
        let bad_remote = MANIFEST.replace("remote: r, route: {path: /forge/events}", "remote: x");
        assert!(matches!(
            ForgeManifest::parse(&bad_remote),
            Err(ManifestError::UnknownRemote { remote, .. }) if remote == "x"
        ));
        let bad_endpoint = MANIFEST.replace("endpoint: events}", "endpoint: nowhere}");
        assert!(matches!(
            ForgeManifest::parse(&bad_endpoint),
            Err(ManifestError::UnknownEndpoint { endpoint, .. }) if endpoint == "nowhere"
        ));
        let no_id = MANIFEST.replace("ari:cloud:ecosystem::app/", "");
        assert_eq!(ForgeManifest::parse(&no_id), Err(ManifestError::NoAppId));
        let missing = ForgeManifest::read(Path::new("/nonexistent-forge-folder"));
        assert!(matches!(missing, Err(ManifestError::Missing(_))));
    }
}
