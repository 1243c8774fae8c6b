//! The "Manage apps" page of each product of a site, the Universal Plugin
//! Manager's admin page (Atlassian: "About the Universal Plugin Manager",
//! "Accessing the UPM": Apps > Manage apps; "Register apps" for Upload
//! app): `GET /plugins/servlet/upm` for Jira, `/wiki/plugins/servlet/upm`
//! for Confluence (the paths Jira and Confluence Cloud use in browsers).
//!
//! It lists the product's user-installed apps:
//!
//! - Connect apps: key, name, version, base URL, enabled or disabled,
//!   scopes, licensing, modules by kind with their keys, and the lifecycle
//!   state: the last lifecycle callback sent and how the app answered
//!   (kept by [`crate::platform::install`] beside the app);
//! - Forge apps compatible with the product: app id, environment, remotes,
//!   manifest modules, scopes, installation id.
//!
//! Each app has an **Uninstall** button: a form POST that runs UPM's own
//! uninstall ([`install::uninstall`]: `disabled`, then the signed
//! `uninstalled`, then the app's data goes), or for a Forge app
//! [`forge_install::uninstall`]. **Upload app** takes a descriptor URL and
//! installs it as UPM's REST install does (`upm::install_task`); the
//! page then shows the task's outcome.
//!
//! Only site admins may open it or post to it (others get a 403, as on the
//! Forge admin pages). Posts must be same-origin: an `Origin` (or, without
//! one, a `Referer`) naming the host the request was sent to, since the
//! emulator's default session (no cookie) is the site admin's. Jira checks
//! its own forms with an `atl_token` instead (not emulated).
//!
//! What it is not: UPM's REST API ([`upm`]), which tools use.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};
use tera::Context;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::session::redirect;
use super::shell::{self, Page, respond};
use crate::DevHost;
use crate::forge::install::{self as forge_install, ForgeInstallation};
use crate::forge::state::license_of;
use crate::platform::auth::{SESSION_COOKIE, current_user};
use crate::platform::call::with_host_and_site;
use crate::platform::errors::error;
use crate::platform::http::{encode, names_site, query_param, raw_query};
use crate::platform::iframe::ViewContext;
use crate::platform::installation::as_list;
use crate::platform::{install, upm};
use crate::site::{AppInstall, Site, User};
use lodger_connect::installation::Product;

/// The page and its two forms for `product` (mount Confluence's under `wiki`).
pub fn routes(
    host: Arc<DevHost>,
    site: Arc<Site>,
    product: Product,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let with = with_host_and_site(Arc::clone(&host), Arc::clone(&site));
    let session = warp::cookie::optional::<String>(SESSION_COOKIE);
    let page = warp::get()
        .and(warp::path!("plugins" / "servlet" / "upm"))
        .and(raw_query())
        .and(session)
        .and(with.clone())
        .map(
            move |query: String, session: Option<String>, (_, site): (Arc<DevHost>, Arc<Site>)| {
                manage_apps_page(&site, product, &query, session)
            },
        );
    let post = warp::post()
        .and(warp::path!("plugins" / "servlet" / "upm" / String))
        .and(session)
        .and(same_origin())
        .and(warp::header::optional::<String>("host"))
        .and(warp::body::content_length_limit(16 * 1024))
        .and(warp::body::form::<HashMap<String, String>>())
        .and(with)
        .then(
            move |action: String,
                  session: Option<String>,
                  same_origin: bool,
                  host_header: Option<String>,
                  form: HashMap<String, String>,
                  (host, site): (Arc<DevHost>, Arc<Site>)| async move {
                let user = current_user(&site, session.as_deref());
                // The Host must be the site's too: a page under another name
                // that resolves here (DNS rebinding) is "same-origin" to itself.
                if !same_origin || !names_site(&site.base_url, host_header.as_deref()) {
                    return error(StatusCode::FORBIDDEN, "cross-site form post refused");
                }
                if !is_site_admin(user) {
                    return forbidden();
                }
                let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
                match action.as_str() {
                    "uninstall" => {
                        uninstall(&host, &site, product, field("kind"), field("app")).await
                    }
                    "enable" | "disable" => {
                        let app = field("app");
                        let on = action == "enable";
                        match install::set_enabled(&host, &site, product, app, on).await {
                            Some(_) => redirect(
                                &format!("{}?{action}d={}", page_path(product), encode(app)),
                                None,
                            ),
                            None => error(StatusCode::NOT_FOUND, "no such app"),
                        }
                    }
                    "upload" => {
                        let task = upm::install_task(&host, &site, product, field("url")).await;
                        redirect(&format!("{}?task={}", page_path(product), encode(&task)), None)
                    }
                    _ => error(StatusCode::NOT_FOUND, "no such action"),
                }
            },
        );
    page.or(post).unify()
}

/// Where the page of `product` is: `/plugins/servlet/upm` or
/// `/wiki/plugins/servlet/upm`.
pub fn page_path(product: Product) -> String {
    format!("{}/plugins/servlet/upm", prefix(product))
}

fn prefix(product: Product) -> &'static str {
    match product {
        Product::Jira => "",
        Product::Confluence => "/wiki",
    }
}

fn is_site_admin(user: Option<&User>) -> bool {
    user.is_some_and(User::is_site_admin)
}

fn forbidden() -> Response {
    error(StatusCode::FORBIDDEN, "you do not have permission to see this page")
}

/// Whether a post comes from a page of the host it was sent to: its
/// `Origin`, or without one its `Referer`, names the `Host`.
fn same_origin() -> impl Filter<Extract = (bool,), Error = Rejection> + Clone {
    warp::header::optional::<String>("host")
        .and(warp::header::optional::<String>("origin"))
        .and(warp::header::optional::<String>("referer"))
        .map(|host: Option<String>, origin: Option<String>, referer: Option<String>| {
            is_same_origin(host.as_deref(), origin.as_deref(), referer.as_deref())
        })
}

fn is_same_origin(host: Option<&str>, origin: Option<&str>, referer: Option<&str>) -> bool {
    fn authority(url: &str) -> Option<&str> {
        url.split_once("://").map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(""))
    }
    let Some(host) = host else { return false };
    match origin.or(referer) {
        Some(url) => authority(url).is_some_and(|a| a.eq_ignore_ascii_case(host)),
        None => false,
    }
}

/// Uninstalls a Connect app through UPM's path, or a Forge app, then goes
/// back to the page.
async fn uninstall(
    host: &DevHost,
    site: &Site,
    product: Product,
    kind: &str,
    app: &str,
) -> Response {
    let removed = match kind {
        "connect" => install::uninstall(host, site, product, app).await,
        // Only from the page of a product the Forge app is installed in.
        "forge" => {
            let here = site
                .data()
                .forge
                .installs
                .get(app)
                .is_some_and(|i| i.manifest.products.contains(&product));
            here && forge_install::uninstall(site, app).is_ok()
        }
        _ => return error(StatusCode::BAD_REQUEST, "kind must be connect or forge"),
    };
    if !removed {
        return error(StatusCode::NOT_FOUND, "no such app");
    }
    redirect(&format!("{}?uninstalled={}", page_path(product), encode(app)), None)
}

fn manage_apps_page(
    site: &Site,
    product: Product,
    query: &str,
    session: Option<String>,
) -> Response {
    let user = current_user(site, session.as_deref());
    if !is_site_admin(user) {
        return forbidden();
    }
    let body = match render(site, product, query) {
        Ok(html) => html,
        Err(problem) => {
            tracing::error!(%problem, "the Manage apps template failed to render");
            return error(StatusCode::INTERNAL_SERVER_ERROR, "the page template failed to render");
        }
    };
    let page = Page {
        product,
        path: page_path(product),
        breadcrumb: "Administration / Apps".to_owned(),
        heading: "Manage apps".to_owned(),
        body_html: Some(body),
        context: ViewContext::default(),
        user,
        modules: Vec::new(),
        full_page: true,
    };
    respond(site, &page, session.is_none())
}

/// The page's body for `product`; `query` may name an upload's `task` or
/// an app just `uninstalled`.
fn render(site: &Site, product: Product, query: &str) -> Result<String, tera::Error> {
    let (mut connect, forge, task) = {
        let data = site.data();
        let connect: Vec<AppInstall> = data.installs_in(product).values().cloned().collect();
        let forge: Vec<(ForgeInstallation, Option<bool>)> = data
            .forge
            .installs
            .values()
            .filter(|i| i.manifest.products.contains(&product))
            .map(|i| (i.clone(), license_of(&data, i)))
            .collect();
        let task = query_param(query, "task").and_then(|id| data.upm_tasks.get(&id).cloned());
        (connect, forge, task)
    };
    connect.sort_by(|a, b| a.app_key.cmp(&b.app_key));
    let licenses = site.data().license_active.clone();
    let connect: Vec<Value> =
        connect.iter().map(|i| connect_app(site, product, i, &licenses)).collect();
    let forge: Vec<Value> = forge.iter().map(|(i, license)| forge_app(i, *license)).collect();
    let done = ["uninstalled", "enabled", "disabled"]
        .into_iter()
        .find_map(|what| query_param(query, what).map(|app| (what, app)));
    let notice = match (task, done) {
        (Some(Ok(key)), _) => Some(format!("Installed {key}.")),
        (Some(Err(message)), _) => Some(format!("The app could not be installed: {message}")),
        (None, Some((what, app))) => {
            let mut text = format!("{what} {app}.");
            text[..1].make_ascii_uppercase();
            Some(text)
        }
        (None, None) => None,
    };
    let context = Context::from_serialize(json!({
        "prefix": prefix(product),
        "product": match product { Product::Jira => "Jira", Product::Confluence => "Confluence" },
        "notice": notice,
        "connect": connect,
        "forge": forge,
    }))?;
    shell::render_template("manage_apps.html", &context)
}

/// A Connect app's entry.
fn connect_app(
    site: &Site,
    product: Product,
    install: &AppInstall,
    licenses: &HashMap<String, bool>,
) -> Value {
    let descriptor = &install.descriptor;
    let licensing = if descriptor["enableLicensing"] == true {
        let active = licenses.get(&install.app_key).copied().unwrap_or(true);
        format!("licensed, license {}", if active { "active" } else { "inactive" })
    } else {
        "free (enableLicensing is not true)".to_owned()
    };
    let modules: Vec<Value> = descriptor["modules"]
        .as_object()
        .map(|kinds| {
            kinds
                .iter()
                .map(|(kind, modules)| {
                    let list = as_list(modules);
                    let keys: Vec<String> = list
                        .iter()
                        .map(|m| {
                            m["key"].as_str().or_else(|| m["event"].as_str()).unwrap_or("?").into()
                        })
                        .collect();
                    json!({"kind": kind, "keys": keys})
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "key": install.app_key,
        "name": descriptor["name"].as_str().unwrap_or(&install.app_key),
        "version": descriptor["version"].as_str().unwrap_or("(not in the descriptor)"),
        "base_url": install.app_base_url,
        "enabled": install.enabled,
        "scopes": install.scopes,
        "licensing": licensing,
        "modules": modules,
        "lifecycle": lifecycle_state(site, product, &install.app_key),
    })
}

/// The last lifecycle callback sent to `app_key` in `product` and how it
/// was answered.
fn lifecycle_state(site: &Site, product: Product, app_key: &str) -> String {
    let key = (product.as_str().to_owned(), app_key.to_owned());
    site.data()
        .lifecycle_states
        .get(&key)
        .cloned()
        .unwrap_or_else(|| "no lifecycle callback recorded".to_owned())
}

/// A Forge app's entry.
fn forge_app(install: &ForgeInstallation, license: Option<bool>) -> Value {
    let manifest = &install.manifest;
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    let mut add = |kind: &str, key: String| match groups.iter_mut().find(|(k, _)| k == kind) {
        Some((_, keys)) => keys.push(key),
        None => groups.push((kind.to_owned(), vec![key])),
    };
    for module in &manifest.ui_modules {
        add(&module.module_type, module.key.clone());
    }
    for trigger in &manifest.triggers {
        add("trigger", format!("{} ({})", trigger.key, trigger.events.join(", ")));
    }
    for endpoint in &manifest.endpoints {
        add("endpoint", endpoint.key.clone());
    }
    let modules: Vec<Value> =
        groups.into_iter().map(|(kind, keys)| json!({"kind": kind, "keys": keys})).collect();
    let remotes: Vec<Value> =
        manifest.remotes.iter().map(|r| json!({"key": r.key, "url": r.base_url})).collect();
    let licensing = match license {
        None => "free (app.licensing is not enabled)".to_owned(),
        Some(active) => format!("licensed, license {}", if active { "active" } else { "inactive" }),
    };
    json!({
        "id": install.app_id,
        "version": install.app_version,
        "environment": install.environment_id,
        "installation": install.installation_id,
        "remotes": remotes,
        "scopes": manifest.scopes,
        "licensing": licensing,
        "modules": modules,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_post_is_same_origin_only_when_its_origin_or_referer_names_the_host() {
        let host = Some("127.0.0.1:2990");
        assert!(is_same_origin(host, Some("http://127.0.0.1:2990"), None));
        assert!(is_same_origin(host, None, Some("http://127.0.0.1:2990/plugins/servlet/upm")));
        assert!(!is_same_origin(host, Some("http://evil.test"), None));
        assert!(!is_same_origin(host, Some("null"), Some("http://127.0.0.1:2990/")));
        assert!(!is_same_origin(host, Some("http://127.0.0.1:29900"), None));
        assert!(!is_same_origin(host, None, None));
        assert!(!is_same_origin(None, Some("http://127.0.0.1:2990"), None));
    }
}
