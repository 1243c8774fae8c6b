//! A Forge macro's configuration (Forge: "Macro" module, `config:
//! {resource, title, …}`; `@forge/bridge` `view.submit`): the Custom UI
//! resource a macro names as its `config` opens as the macro's editor, and
//! what it hands to `view.submit({config})` is what the next
//! `view.getContext()` of that macro answers as `extension.config`.
//!
//! On Confluence the config is saved into the macro in the page's draft
//! and published with the page. The emulator has no page editor: the
//! seeded page holds one instance of each Forge macro, the page view shows
//! an "Edit" button by it, `page/forge-host.js` opens the config resource
//! in a dialog, and a `view.submit` stores the config at once through
//! `PUT /wiki/dev/api/forge-macro-config` (no such endpoint on a real
//! site). Like the Connect macro editor, only people who may edit the page
//! save.
//!
//! Unverified: the payload shape. `@forge/bridge` 7.2.0's `view.submit`
//! passes its argument through as is (`out/view/submit.js`); the emulator
//! takes `{config: {...}}`, what lodger's adapter sends, and refuses
//! anything else. Whether `extension.config` is absent or `{}` before a
//! first save is also unverified (absent here).

use std::sync::Arc;

use serde_json::{Value, json};
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::forge::resources::resource_url;
use crate::platform::auth::{SESSION_COOKIE, current_user};
use crate::platform::errors::confluence_error as error;
use crate::site::{Role, Site};
use lodger_connect::installation::Product;

/// The largest config stored, in bytes of JSON.
const MAX_CONFIG_BYTES: usize = 32 * 1024;

/// The config saved for a Forge macro on a page, if any.
pub fn config_of(site: &Site, content_id: &str, app_id: &str, module_key: &str) -> Option<Value> {
    let key = (content_id.to_owned(), app_id.to_owned(), module_key.to_owned());
    site.data().confluence.forge_macro_configs.get(&key).cloned()
}

/// Adds to each Forge `macro` entry of a page view whose module names a
/// `config` resource the config editor's `{url, resource, title}` and an
/// `editor` (which draws the page's "Edit" button).
pub fn add_config_editors(site: &Site, entries: &mut [Value], content_id: &str) {
    let installs: Vec<_> = site.data().forge.installs.values().cloned().collect();
    for entry in entries.iter_mut().filter(|e| e["forge"] == true && e["moduleType"] == "macro") {
        let install = installs.iter().find(|i| entry["appId"] == i.app_id.as_str());
        let Some(install) = install else { continue };
        let module =
            install.manifest.ui_modules_of("macro").find(|m| entry["moduleKey"] == m.key.as_str());
        let Some(resource) = module.and_then(|m| m.config_resource.as_deref()) else { continue };
        let Some(url) = resource_url(site, install, resource) else { continue };
        let title = format!("Edit {}", entry["title"].as_str().unwrap_or("macro"));
        entry["config"] = json!({"url": url, "resource": resource, "title": title});
        entry["editor"] = json!({"contentId": content_id});
    }
}

/// `PUT /wiki/dev/api/forge-macro-config`, to mount under `wiki`.
pub fn routes(site: Arc<Site>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::put()
        .and(warp::path!("dev" / "api" / "forge-macro-config"))
        .and(warp::cookie::optional::<String>(SESSION_COOKIE))
        .and(warp::body::content_length_limit(64 * 1024))
        .and(warp::body::json::<Value>())
        .map(move |session: Option<String>, body: Value| save(&site, session.as_deref(), &body))
}

fn save(site: &Site, session: Option<&str>, body: &Value) -> Response {
    let text = |name: &str| body[name].as_str().unwrap_or_default().to_owned();
    let (app_id, module_key, content_id) = (text("appId"), text("moduleKey"), text("contentId"));
    let Some(user) = current_user(site, session) else {
        return error(StatusCode::UNAUTHORIZED, "log in to edit this page");
    };
    if user.role == Role::Viewer {
        return error(StatusCode::FORBIDDEN, "you may view this page but not edit it");
    }
    let has_config = site.data().forge.installs.values().any(|i| {
        i.app_id == app_id
            && i.manifest.products.contains(&Product::Confluence)
            && i.manifest
                .ui_modules_of("macro")
                .any(|m| m.key == module_key && m.config_resource.is_some())
    });
    if !has_config {
        return error(StatusCode::NOT_FOUND, "no Forge macro with a config resource by that key");
    }
    if site.data().confluence.page(&content_id).is_none() {
        return error(StatusCode::NOT_FOUND, "no such page");
    }
    let config = &body["payload"]["config"];
    if !config.is_object() {
        return error(
            StatusCode::BAD_REQUEST,
            "view.submit takes {config: {...}} for a macro's config (the emulator's reading; unverified)",
        );
    }
    if config.to_string().len() > MAX_CONFIG_BYTES {
        return error(StatusCode::PAYLOAD_TOO_LARGE, "a macro config is at most 32 KB of JSON");
    }
    site.data()
        .confluence
        .forge_macro_configs
        .insert((content_id, app_id, module_key), config.clone());
    warp::reply::json(&json!({ "config": config })).into_response()
}
