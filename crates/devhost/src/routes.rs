//! The router of one emulated site: the one place that knows every
//! resource, in the order they are tried, and how failures are answered
//! (Jira's error shape, or Confluence's for refused calls under `/wiki`;
//! Atlassian: "Jira REST API v3", "Confluence Cloud REST API", status codes).
//!
//! Forge apps reach the same REST resources under an `apiBaseUrl`-style
//! prefix, `/ex/jira/{cloudId}/…` and `/ex/confluence/{cloudId}/wiki/…`
//! (Forge: "Calling Atlassian app APIs from a remote"), where only Forge
//! product tokens are accepted ([`crate::forge::rest_auth`]); the
//! emulated Forge platform's own routes are [`crate::forge::routes`].
//!
//! Forge Custom UI resources are tried first: a request whose `Host` is
//! `<app-uuid>.localhost:<port>` is a resource origin
//! ([`crate::forge::resources`]) and gets that app's files only. The Forge
//! pages (`/jira/settings/apps/…`, `/jira/software/projects/{key}/settings/apps/…`)
//! are [`crate::pages::forge_modules`]; the issue view frames Forge issue
//! panels and issue contexts beside the Connect modules.
//!
//! Each product's "Manage apps" page (UPM's admin page) is
//! [`crate::pages::manage_apps`].
//!
//! Around everything, the inspector records the REST calls apps make and
//! why any was refused ([`crate::inspector::rest`]); its page is
//! `/dev/inspector` ([`crate::inspector::page`]).
//!
//! What it is not: a resource. Each resource lives in its product's folder
//! and knows nothing of the others.

use std::sync::Arc;

use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use crate::DevHost;
use crate::confluence::{content, macro_editor};
use crate::forge;
use crate::inspector;
use crate::jira::webhooks::registration as webhooks;
use crate::jira::{
    bulk_properties, entity_properties, issues, license, people, search, task_resource,
};
use crate::pages::{
    app_pages, confluence_page, forge_modules, issue, issue_view, manage_apps, session,
};
use crate::platform::auth::Refusal;
use crate::platform::errors::{Refused, TooLarge, confluence_refused, error, refused};
use crate::platform::{app_properties, fault_injection, host, upm};
use crate::site::Site;
use lodger_connect::installation::Product;

/// Every route of one emulated site; failures answered in Jira's error
/// shape, or Confluence's for refused calls under `/wiki`.
pub fn routes(
    host: Arc<DevHost>,
    site: Arc<Site>,
) -> impl Filter<Extract = (Response,), Error = std::convert::Infallible> + Clone {
    // Each part is boxed: the whole site as one nested filter type is deep
    // enough to exceed the compiler's recursion limit in release builds.
    let wiki = warp::path("wiki")
        .and(
            upm::routes(Arc::clone(&host), Arc::clone(&site), Product::Confluence)
                .boxed()
                .or(confluence(Arc::clone(&site)).boxed())
                .unify()
                .or(confluence_page::routes(Arc::clone(&site)).boxed())
                .unify()
                .or(macro_editor::routes(Arc::clone(&site)).boxed())
                .unify()
                .or(manage_apps::routes(Arc::clone(&host), Arc::clone(&site), Product::Confluence)
                    .boxed())
                .unify(),
        )
        .boxed();
    // Without connect-js the pages that frame apps answer 503 first.
    let framing = Arc::clone(&host);
    let pages_unavailable =
        warp::get().and(warp::path::full()).and_then(move |path: warp::path::FullPath| {
            let unavailable = crate::frames_apps(path.as_str())
                .then(|| framing.connect_js_unavailable())
                .flatten();
            async move { unavailable.ok_or_else(warp::reject::not_found) }
        });
    let rest =
        fault_injection::in_front_of(Arc::clone(&site), jira(Arc::clone(&site)).boxed()).boxed();
    // A Forge app's apiBaseUrl: the products' REST under /ex/<product>/{cloudId}.
    // warp's path filters are relative, so the resources mount unchanged;
    // `platform::call` strips the prefix and checks the cloudId.
    let forge_jira = warp::path!("ex" / "jira" / String / ..)
        .map(|_cloud_id: String| ())
        .untuple_one()
        .and(fault_injection::in_front_of(Arc::clone(&site), jira(Arc::clone(&site)).boxed()))
        .boxed();
    let forge_confluence = warp::path!("ex" / "confluence" / String / "wiki" / ..)
        .map(|_cloud_id: String| ())
        .untuple_one()
        .and(confluence(Arc::clone(&site)))
        .boxed();
    // A Forge app's Custom UI resources, on an origin of its own: requests
    // whose Host is `<app-uuid>.localhost` get those files and nothing else.
    // Around everything, the inspector records the REST calls of apps.
    let recorded = Arc::clone(&site);
    let site_routes = forge::resources::routes(Arc::clone(&site))
        .boxed()
        .or(pages_unavailable)
        .unify()
        .or(wiki)
        .unify()
        .or(upm::routes(Arc::clone(&host), Arc::clone(&site), Product::Jira).boxed())
        .unify()
        .or(fault_injection::routes(Arc::clone(&site)).boxed())
        .unify()
        .or(forge_jira)
        .unify()
        .or(forge_confluence)
        .unify()
        .or(forge::routes::routes(Arc::clone(&host), Arc::clone(&site)).boxed())
        .unify()
        .or(rest)
        .unify()
        .or(pages(host, site).boxed())
        .unify()
        .recover(|rejection: Rejection| async move {
            if let Some(refusal) = rejection.find::<Refusal>() {
                return Ok(refused(refusal));
            }
            if let Some(refused) = rejection.find::<Refused>() {
                return Ok(confluence_refused(refused));
            }
            let (status, message) = if rejection.find::<TooLarge>().is_some() {
                (StatusCode::PAYLOAD_TOO_LARGE, "request body too large")
            } else if rejection.is_not_found() {
                (StatusCode::NOT_FOUND, "not found on this emulated site")
            } else if rejection.find::<warp::reject::MethodNotAllowed>().is_some() {
                (StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
            } else {
                (StatusCode::BAD_REQUEST, "malformed request")
            };
            Ok::<_, std::convert::Infallible>(error(status, message))
        })
        .unify();
    inspector::rest::around(recorded, site_routes)
}

/// Confluence's REST resources, to mount under `wiki`.
fn confluence(site: Arc<Site>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    app_properties::routes(Arc::clone(&site), Product::Confluence)
        .boxed()
        .or(content::routes(site).boxed())
        .unify()
}

/// Jira's REST resources (and the Connect framework's at the site root).
fn jira(site: Arc<Site>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    app_properties::routes(Arc::clone(&site), Product::Jira)
        .boxed()
        .or(forge::app_properties::routes(Arc::clone(&site)).boxed())
        .unify()
        .or(people::myself_route(Arc::clone(&site)).boxed())
        .unify()
        // Before `read_route`, which answers GET whatever the method.
        .or(issues::routes(Arc::clone(&site)).boxed())
        .unify()
        .or(issues::read_route(Arc::clone(&site)).boxed())
        .unify()
        .or(crate::jira::comments::routes(Arc::clone(&site)).boxed())
        .unify()
        // Before the per-issue property routes: `/issue/properties/{key}` is the bulk one.
        .or(bulk_properties::routes(Arc::clone(&site)).boxed())
        .unify()
        .or(entity_properties::routes(Arc::clone(&site)).boxed())
        .unify()
        .or(people::routes(Arc::clone(&site)).boxed())
        .unify()
        .or(search::routes(Arc::clone(&site)).boxed())
        .unify()
        .or(task_resource::routes(Arc::clone(&site)).boxed())
        .unify()
        .or(license::routes(Arc::clone(&site)).boxed())
        .unify()
        .or(webhooks::routes(site).boxed())
        .unify()
}

/// The product pages and their helper endpoints.
fn pages(
    host: Arc<DevHost>,
    site: Arc<Site>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    issue::routes(Arc::clone(&site))
        .boxed()
        .or(app_pages::routes(Arc::clone(&site)).boxed())
        .unify()
        .or(forge_modules::routes(Arc::clone(&site)).boxed())
        .unify()
        .or(issue::home_route(Arc::clone(&site)).boxed())
        .unify()
        .or(issue_view::routes(Arc::clone(&site)).boxed())
        .unify()
        .or(issue::fresh_module_route(Arc::clone(&site)).boxed())
        .unify()
        .or(session::login_route().boxed())
        .unify()
        .or(session::context_token_route(Arc::clone(&site)).boxed())
        .unify()
        .or(manage_apps::routes(Arc::clone(&host), Arc::clone(&site), Product::Jira).boxed())
        .unify()
        .or(host::routes(host).boxed())
        .unify()
        .or(inspector::page::routes(site).boxed())
        .unify()
}
