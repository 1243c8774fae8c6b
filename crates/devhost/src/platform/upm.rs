//! The Universal Plugin Manager's REST API: how an admin (or a tool such as
//! `lodger register` or atlassian-connect-express) installs an app by the URL
//! of its descriptor (see CONNECT-NOTES, "Installing by descriptor URL").
//!
//! 1. `GET /rest/plugins/1.0/` with Basic auth of a site admin answers the
//!    installed apps and an `upm-token` header;
//! 2. `POST /rest/plugins/1.0/?token=<upm-token>` with content type
//!    `application/vnd.atl.plugins.install.uri+json` (or
//!    `...remote.install+json`) and `{"pluginUri": ...}` installs it and
//!    answers 202 with a task to poll at `links.self` (with the same Basic
//!    auth), whether the install works or not: a failure is reported by
//!    the task, never by the POST;
//! 3. `DELETE /rest/plugins/1.0/<app-key>-key` uninstalls;
//! 4. `PUT /rest/plugins/1.0/<app-key>-key` with `{"enabled": false}` (or
//!    `true`) disables or enables the app, sending its `disabled` or
//!    `enabled` callback, and answers the app's entry (UPM's toggle; the
//!    body's other fields are ignored).
//!
//! `GET /rest/plugins/1.0/settings` answers UPM's settings, among them
//! development mode, which atlassian-connect-express checks before it
//! registers (see `settings` below).
//!
//! Each product of a site has its own plugin manager: Jira's at
//! `/rest/plugins/1.0/`, Confluence's at `/wiki/rest/plugins/1.0/`. An app
//! installed through one is installed in that product only.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Value, json};
use warp::http::{HeaderValue, StatusCode};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::install;
use crate::DevHost;
use crate::platform::call::with_host_and_site;
use crate::platform::errors::error;
use crate::site::{Site, User};
use lodger_connect::installation::Product;

/// The UPM routes of one product of a site (mount Confluence's under `wiki`).
pub fn routes(
    host: Arc<DevHost>,
    site: Arc<Site>,
    product: Product,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let with = with_host_and_site(Arc::clone(&host), Arc::clone(&site));
    let auth = warp::header::optional::<String>("authorization");
    let token =
        warp::get().and(warp::path!("rest" / "plugins" / "1.0")).and(auth).and(with.clone()).map(
            move |auth: Option<String>, (_, site): (Arc<DevHost>, Arc<Site>)| {
                list(&site, product, auth.as_deref())
            },
        );
    let post = warp::post()
        .and(warp::path!("rest" / "plugins" / "1.0"))
        .and(warp::query::<std::collections::HashMap<String, String>>())
        .and(auth)
        .and(warp::header::optional::<String>("content-type"))
        .and(warp::body::content_length_limit(64 * 1024))
        .and(warp::body::bytes())
        .and(with.clone())
        .then(
            move |query: std::collections::HashMap<String, String>,
                  auth: Option<String>,
                  content_type: Option<String>,
                  body: Bytes,
                  (host, site): (Arc<DevHost>, Arc<Site>)| async move {
                post_install(
                    &host,
                    &site,
                    product,
                    query.get("token").map(String::as_str),
                    auth.as_deref(),
                    content_type.as_deref(),
                    &body,
                )
                .await
            },
        );
    let settings = warp::get()
        .and(warp::path!("rest" / "plugins" / "1.0" / "settings"))
        .and(auth)
        .and(with.clone())
        .map(|auth: Option<String>, (_, site): (Arc<DevHost>, Arc<Site>)| {
            settings(&site, auth.as_deref())
        });
    let task = warp::get()
        .and(warp::path!("rest" / "plugins" / "1.0" / "pending" / String))
        .and(auth)
        .and(with.clone())
        .map(|id: String, auth: Option<String>, (_, site): (Arc<DevHost>, Arc<Site>)| {
            pending_task(&site, &id, auth.as_deref())
        });
    let delete =
        warp::delete()
            .and(warp::path!("rest" / "plugins" / "1.0" / String))
            .and(auth)
            .and(with.clone())
            .then(
                move |plugin: String,
                      auth: Option<String>,
                      (host, site): (Arc<DevHost>, Arc<Site>)| async move {
                    if let Some(refused) = unless_site_admin(&site, auth.as_deref()) {
                        return refused;
                    }
                    let key = plugin.strip_suffix("-key").unwrap_or(&plugin);
                    if install::uninstall(&host, &site, product, key).await {
                        StatusCode::NO_CONTENT.into_response()
                    } else {
                        error(StatusCode::NOT_FOUND, "no such app")
                    }
                },
            );
    let toggle = warp::put()
        .and(warp::path!("rest" / "plugins" / "1.0" / String))
        .and(auth)
        .and(warp::body::content_length_limit(64 * 1024))
        .and(warp::body::bytes())
        .and(with)
        .then(
            move |plugin: String,
                  auth: Option<String>,
                  body: Bytes,
                  (host, site): (Arc<DevHost>, Arc<Site>)| async move {
                toggle(&host, &site, product, &plugin, auth.as_deref(), &body).await
            },
        );
    let upm = token
        .or(post)
        .unify()
        .or(settings)
        .unify()
        .or(task)
        .unify()
        .or(delete)
        .unify()
        .or(toggle)
        .unify();
    crate::inspector::upm::around(site, upm)
}

/// `PUT /rest/plugins/1.0/<app-key>-key`: `{"enabled": bool}` turns the
/// app on or off.
async fn toggle(
    host: &DevHost,
    site: &Site,
    product: Product,
    plugin: &str,
    auth: Option<&str>,
    body: &[u8],
) -> Response {
    if let Some(refused) = unless_site_admin(site, auth) {
        return refused;
    }
    let Some(enabled) =
        serde_json::from_slice::<Value>(body).ok().and_then(|v| v["enabled"].as_bool())
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "expected a JSON body with \"enabled\": true or false",
        );
    };
    let key = plugin.strip_suffix("-key").unwrap_or(plugin);
    match install::set_enabled(host, site, product, key, enabled).await {
        Some(_) => {
            warp::reply::json(&json!({"key": key, "enabled": enabled, "userInstalled": true}))
                .into_response()
        }
        None => error(StatusCode::NOT_FOUND, "no such app"),
    }
}

/// Every UPM call needs a site admin's Basic credentials: the 401 for a
/// caller without them, `None` for a site admin.
fn unless_site_admin(site: &Site, auth: Option<&str>) -> Option<Response> {
    if site.basic_auth(auth).is_some_and(User::is_site_admin) {
        return None;
    }
    Some(error(
        StatusCode::UNAUTHORIZED,
        "site admin credentials required (Basic auth: email and API token)",
    ))
}

/// `GET /rest/plugins/1.0/`: installed apps and a fresh `upm-token`.
fn list(site: &Site, product: Product, auth: Option<&str>) -> Response {
    if let Some(refused) = unless_site_admin(site, auth) {
        return refused;
    }
    let token = crate::platform::keys::random_id(16);
    let mut data = site.data();
    data.upm_tokens_in_mut(product).push(token.clone());
    let plugins: Vec<Value> = data
        .installs_in(product)
        .values()
        .map(|i| json!({"key": i.app_key, "enabled": i.enabled, "userInstalled": true}))
        .collect();
    let mut response = warp::reply::json(&json!({ "plugins": plugins })).into_response();
    if let Ok(value) = HeaderValue::from_str(&token) {
        response.headers_mut().insert("upm-token", value);
    }
    response
}

/// `GET /rest/plugins/1.0/settings`: UPM's settings, for a site admin.
///
/// atlassian-connect-express 11.5.3 calls this before it registers
/// (`checkIfDevelopmentMode` in `lib/internal/registration/register-jira-conf.js`)
/// and refuses to go on unless it answers 2xx with `{"settings": [...]}`
/// whose `connectDeveloperListingsEnabled` entry, when present, is true:
/// the site's development mode (Atlassian: "Getting started", step 2,
/// "Enable development mode in your site"). An emulated site is always a
/// development site, so apps may be installed from any descriptor URL.
fn settings(site: &Site, auth: Option<&str>) -> Response {
    if let Some(refused) = unless_site_admin(site, auth) {
        return refused;
    }
    let setting =
        |key: &str| json!({"key": key, "value": true, "readOnly": false, "requiresRefresh": false});
    warp::reply::json(&json!({
        "settings": [setting("connectDeveloperListingsEnabled"), setting("pluginRequestsEnabled")]
    }))
    .into_response()
}

/// `POST /rest/plugins/1.0/?token=…`: install by descriptor URL.
async fn post_install(
    host: &DevHost,
    site: &Site,
    product: Product,
    token: Option<&str>,
    auth: Option<&str>,
    content_type: Option<&str>,
    body: &[u8],
) -> Response {
    if let Some(refused) = unless_site_admin(site, auth) {
        return refused;
    }
    let known = {
        let mut data = site.data();
        let tokens = data.upm_tokens_in_mut(product);
        let position = token.and_then(|t| tokens.iter().position(|known| known == t));
        position.map(|i| tokens.remove(i)).is_some()
    };
    if !known {
        return error(
            StatusCode::FORBIDDEN,
            "missing or used upm-token: GET /rest/plugins/1.0/ first",
        );
    }
    let media = content_type.unwrap_or_default().split(';').next().unwrap_or_default().trim();
    if !matches!(
        media,
        "application/vnd.atl.plugins.install.uri+json"
            | "application/vnd.atl.plugins.remote.install+json"
    ) {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected Content-Type application/vnd.atl.plugins.install.uri+json",
        );
    }
    let Some(uri) = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["pluginUri"].as_str().map(str::to_owned))
    else {
        return error(StatusCode::BAD_REQUEST, "expected a JSON body with pluginUri");
    };
    let task_id = install_task(host, site, product, &uri).await;
    let self_link = format!("{}/rest/plugins/1.0/pending/{task_id}", site.base_url_of(product));
    // UPM accepts the request and reports the outcome in the task; tools
    // poll it. The emulator installs before answering, but the 202 is
    // still a pending task (`status.done: false`), as UPM's is, whether the
    // install worked or not: a task whose later state has `status.done:
    // true` means the install *failed*, with `status.errorMessage`, and
    // that is how atlassian-connect-express 11.5.3 reads it
    // (`waitForRegistrationResult` in
    // `lib/internal/registration/register-jira-conf.js`); success is the
    // app (`key`, `enabled`) at `links.self`.
    warp::reply::with_status(
        warp::reply::json(&json!({"type": "INSTALL", "pingAfter": 100, "status": {"done": false}, "links": {"self": self_link}})),
        StatusCode::ACCEPTED,
    )
    .into_response()
}

/// Installs the descriptor at `uri` into the site's `product` and keeps the
/// outcome as a UPM pending task; answers the task's id. The "Manage apps"
/// page's "Upload app" takes this path too.
pub(crate) async fn install_task(
    host: &DevHost,
    site: &Site,
    product: Product,
    uri: &str,
) -> String {
    let task_id = crate::platform::keys::random_id(12);
    let outcome = install::install(host, site, product, uri).await.map_err(|e| e.to_string());
    site.data().upm_tasks.insert(task_id.clone(), outcome);
    task_id
}

/// `GET /rest/plugins/1.0/pending/{id}`, for a site admin like every UPM
/// call: the app once installed, or the finished task carrying the error
/// (`status.done: true`, `status.errorMessage`, `status.subCode`; the
/// subCode's value is the emulator's, unverified).
fn pending_task(site: &Site, id: &str, auth: Option<&str>) -> Response {
    if let Some(refused) = unless_site_admin(site, auth) {
        return refused;
    }
    match site.data().upm_tasks.get(id).cloned() {
        Some(Ok(key)) => warp::reply::json(&json!({"key": key, "enabled": true})).into_response(),
        Some(Err(message)) => warp::reply::json(&json!({
            "type": "INSTALL",
            "pingAfter": 100,
            "status": {"done": true, "errorMessage": message, "subCode": "upm.pluginInstall.error"},
        }))
        .into_response(),
        None => error(StatusCode::NOT_FOUND, "no such task"),
    }
}
