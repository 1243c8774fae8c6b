//! The Forge manifest (`manifest.yml`) of lodger's Forge flavour, as a JSON
//! value that [`crate::export::yaml`] writes ("Manifest reference").
//!
//! The same product as the Connect descriptors (`descriptor/*.json.tera`),
//! module for module ("Connect–Forge equivalences"):
//!
//! | Connect | Forge | key |
//! |---|---|---|
//! | `webPanels` (issue right context) | `jira:issuePanel` | `checklist-panel` |
//! | `jiraIssueGlances` | `jira:issueContext` | `checklist-glance` |
//! | `jiraEntityProperties` | `jira:entityProperty` | `checklist-index` |
//! | `jiraProjectAdminTabPanels` | `jira:projectSettingsPage` | `checklist-template` |
//! | `adminPages` | `jira:adminPage` | `checklist-settings` |
//! | `dynamicContentMacros` (Confluence) | `macro` | `checklist` |
//! | the `jira:issue_created` webhook | `trigger` on `avi:jira:created:issue` | `issue-created` |
//! | the `installed` lifecycle callback | `trigger` on `avi:forge:installed:app` | `app-installed` |
//!
//! Every trigger and page reaches `lodger serve` through an `endpoint`
//! module on the one remote; the paths are [`crate::forge::paths`]. No
//! `connectModules` and no `*:connect-*` scopes: Connect modules are only
//! for Connect apps already on the Marketplace ("Manifest reference",
//! `connectModules`).
//!
//! Not for the resources' files: [`super::resources`].

use serde_json::{Value, json};

use super::ForgeOptions;
use super::resources::{self, Resource};
use crate::forge::paths;

/// The Forge runtime named in `app.runtime.name`. The app has no functions
/// (everything runs on the remote), but the manifest requires a runtime
/// ("Manifest reference", `app.runtime`); Node.js 22 is supported by
/// `@forge/manifest` 13.7.0 (20, 22 and 24 are).
pub const RUNTIME: &str = "nodejs22.x";

/// The issue property the checklist counts live in, which JQL indexes (the
/// same key the pages and the Connect descriptor use).
pub const CHECKLIST_PROPERTY: &str = "lodger-checklist";

/// The OAuth scopes, least privilege, each with why ("Forge scopes",
/// "Jira platform REST API" and "Confluence REST API" operation pages).
///
/// Scopes Forge accepts are the ones in `@forge/manifest`'s own list
/// (`out/scopes/shipyard-scopes.json`), which the validator checks.
pub const SCOPES: &[(&str, &str)] = &[
    // The remote calls the site as the app with `x-forge-oauth-system`.
    ("read:app-system-token", "the remote's system token (every endpoint)"),
    // The admin endpoint is also handed the user's token.
    ("read:app-user-token", "the admin endpoint's user token (settings writes)"),
    // Connect kept settings in Connect app properties; the Forge remote
    // keeps them in Forge app properties (`/rest/forge/1/app/properties`).
    // (unverified) No offline source names the scope that REST resource
    // needs: these are the app-data scopes of Atlassian's scope list.
    ("read:app-data:jira", "the remote reads the settings (Forge app properties)"),
    ("write:app-data:jira", "the remote writes the settings (Forge app properties)"),
    // Confluence content properties: GET/POST/PUT
    // /rest/api/content/{id}/property[/{key}] as the user (the macro).
    ("read:confluence-props", "the macro reads the page's checklist property"),
    ("write:confluence-props", "the macro writes the page's checklist property"),
    // GET /rest/api/user?accountId= (display names on the macro).
    ("read:confluence-user", "the macro shows who ticked an item"),
    // Issue and project properties (GET), mypermissions, tasks, the issue's
    // project; also what `avi:jira:created:issue` needs
    // (`out/mapping/product-event-to-scope-mapping.json`).
    ("read:jira-work", "read issue and project properties; the issue-created trigger"),
    // GET /rest/api/3/user?accountId= (display names on the panel).
    ("read:jira-user", "the panel shows who ticked an item"),
    // PUT issue properties (the checklist, the template applied) and
    // project properties (the template), as the user or the app.
    ("write:jira-work", "write issue and project properties"),
];

/// The manifest for `options`, with `icon` (a `resource:` path) on the
/// panel and the glance.
pub fn manifest(options: &ForgeOptions, icon: &str) -> Value {
    let mut scopes: Vec<&str> = SCOPES.iter().map(|(scope, _)| *scope).collect();
    scopes.sort_unstable();
    json!({
        "app": {
            "id": options.app_id(),
            "runtime": { "name": RUNTIME },
            "licensing": { "enabled": true },
            // One app for both products: see the parent module.
            "compatibility": {
                "jira": { "required": true },
                "confluence": { "required": false },
            },
        },
        "modules": {
            "jira:issuePanel": [{
                "key": "checklist-panel",
                "title": "Checklist",
                "icon": icon,
                "resource": resources::ISSUE_PANEL.key,
                "resolver": resolver(paths::ENDPOINT_UI),
            }],
            // The glance. Its label is static: whether a Forge issue context
            // can show a per-issue done/total label (as the Connect glance's
            // status property does) no offline source settles (unverified);
            // the panel it opens shows the counts.
            "jira:issueContext": [{
                "key": "checklist-glance",
                "title": "Checklist",
                "label": "Checklist",
                "icon": icon,
                "resource": resources::ISSUE_PANEL.key,
                "resolver": resolver(paths::ENDPOINT_UI),
            }],
            // As the Connect `jiraEntityProperties` module: JQL can search
            // `issue.property[lodger-checklist].open` (and done, total).
            "jira:entityProperty": [{
                "key": "checklist-index",
                "entityType": "issue",
                "propertyKey": CHECKLIST_PROPERTY,
                "values": [
                    { "path": "open", "type": "number" },
                    { "path": "done", "type": "number" },
                    { "path": "total", "type": "number" },
                ],
            }],
            "jira:adminPage": [{
                "key": "checklist-settings",
                "title": "Checklist settings",
                "resource": resources::ADMIN.key,
                "resolver": resolver(paths::ENDPOINT_ADMIN),
            }],
            "jira:projectSettingsPage": [{
                "key": "checklist-template",
                "title": "Checklist template",
                "resource": resources::PROJECT_TEMPLATE.key,
                "resolver": resolver(paths::ENDPOINT_UI),
            }],
            "macro": [{
                "key": "checklist",
                "title": "Checklist",
                "description": "A checklist on the page, kept in the page's own content property.",
                "layout": "block",
                "resource": resources::MACRO.key,
                "resolver": resolver(paths::ENDPOINT_UI),
                // Connect's macro editor as a Custom UI configuration.
                "config": {
                    "title": "Edit checklist",
                    "resource": resources::MACRO_EDITOR.key,
                    "openOnInsert": true,
                    "viewportSize": "medium",
                },
            }],
            "trigger": [
                {
                    "key": "app-installed",
                    "events": ["avi:forge:installed:app"],
                    "endpoint": paths::ENDPOINT_INSTALLED,
                },
                {
                    "key": "issue-created",
                    "events": ["avi:jira:created:issue"],
                    "endpoint": paths::ENDPOINT_ISSUE_CREATED,
                },
            ],
            "endpoint": [
                endpoint(paths::ENDPOINT_INSTALLED, paths::EVENT_INSTALLED, false),
                endpoint(paths::ENDPOINT_ISSUE_CREATED, paths::EVENT_ISSUE_CREATED, false),
                endpoint(paths::ENDPOINT_UI, paths::INVOKE, false),
                endpoint(paths::ENDPOINT_ADMIN, paths::INVOKE_ADMIN, true),
            ],
        },
        "resources": resources::ALL.iter().map(resource).collect::<Vec<Value>>(),
        "remotes": [{
            "key": paths::REMOTE,
            "baseUrl": options.remote_url(),
            // `compute`: Forge invokes it (invokeRemote, triggers, events).
            "operations": ["compute"],
            "auth": {
                "appSystemToken": { "enabled": true },
                "appUserToken": { "enabled": true },
            },
        }],
        "permissions": {
            "scopes": scopes,
            // The remote by key (the string form is deprecated in
            // @forge/manifest 13.7.0).
            "external": { "fetch": { "backend": [{ "remote": paths::REMOTE }] } },
            // No `permissions.content`: the pages have no inline scripts or
            // styles.
        },
    })
}

/// `resolver: {endpoint: <key>}`: the page's `invokeRemote` goes there.
fn resolver(endpoint: &str) -> Value {
    json!({ "endpoint": endpoint })
}

/// An `endpoint` module on the remote: always the system token, the user's
/// only where the call needs the user's rights.
fn endpoint(key: &str, path: &str, user_token: bool) -> Value {
    json!({
        "key": key,
        "remote": paths::REMOTE,
        "route": { "path": path },
        "auth": {
            "appSystemToken": { "enabled": true },
            "appUserToken": { "enabled": user_token },
        },
    })
}

fn resource(resource: &Resource) -> Value {
    json!({ "key": resource.key, "path": resource.path() })
}
