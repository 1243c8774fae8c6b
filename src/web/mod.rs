//! The web adapter: warp filters around the pure protocol core.
//!
//! | file | what it serves |
//! |---|---|
//! | [`lifecycle`] | `POST /lifecycle/*`: signed install, sealing, storing the credential |
//! | [`auth`] | the filter that turns a signed request into a verified [`auth::RequestContext`] |
//! | [`api`] | `/api/*`, what the pages call |
//! | [`webhooks`] | `POST /webhooks/jira`: Jira's deliveries, verified and handled once |
//! | [`body`] | JSON request bodies, bounded and typed |
//! | [`assets`] | the embedded site: pages, scripts, styles, with ETags and precompression |
//! | [`pages`] | HTML pages are templates, rendered once with the app key and base URL |
//! | [`security_headers`] | CSP (`frame-ancestors`), `X-Content-Type-Options`, `Referrer-Policy` |
//! | [`site_dir`] | the site served from disk, for the dev world's edit-and-reload |
//! | [`signed_request`] | method, path, query and token of a request, for its `qsh` |
//! | [`reject`] | the one mapping from failures to HTTP statuses |
//! | [`server`] | binding, serving, graceful shutdown |

pub mod api;
pub mod assets;
pub mod auth;
pub mod body;
pub mod install_replay;
pub mod lifecycle;
pub mod pages;
pub mod reject;
pub mod security_headers;
pub mod server;
pub mod signed_request;
pub mod site_dir;
pub mod webhooks;

use std::sync::Arc;

use warp::filters::BoxedFilter;
use warp::http::{HeaderMap, HeaderValue, header};
use warp::reply::Response;
use warp::{Filter, Reply};

use crate::connect::installation::Product;
use crate::state::AppState;
use assets::Assets;
use security_headers::SecurityHeaders;

/// Where the app's pages come from.
#[derive(Debug, Clone)]
pub enum SiteFiles {
    /// Embedded at build time: hashed, precompressed (production).
    Embedded(Arc<Assets>),
    /// A folder read on each request (the dev world's `site/`), its pages
    /// rendered with these values.
    Disk(std::path::PathBuf, Arc<pages::PageValues>),
}

/// Every route of the app server, with errors recovered into JSON responses.
/// Without `files` (`lodger serve --auth-only`) there are no descriptors and
/// no pages: only lifecycle, the API, webhooks and the health check.
///
/// Order matters only where paths overlap: the descriptors and dynamic routes
/// come before the static site, whose catch-all answers 404 for the rest.
pub fn app(
    state: Arc<AppState>,
    files: Option<SiteFiles>,
    security: Arc<SecurityHeaders>,
) -> BoxedFilter<(Response,)> {
    let realm = reject::realm(&state.keys.jira);
    let mut common = HeaderMap::new();
    security.apply(&mut common, false);
    let dynamic = health()
        .or(lifecycle::routes(Arc::clone(&state)))
        .unify()
        .or(api::routes(Arc::clone(&state)))
        .unify()
        .or(webhooks::routes(Arc::clone(&state)))
        .unify()
        .with(warp::reply::with::headers(common))
        .map(Reply::into_response);
    let site = match files {
        Some(SiteFiles::Embedded(assets)) => {
            descriptors(Arc::clone(&state)).or(assets::routes(assets, security)).unify().boxed()
        }
        Some(SiteFiles::Disk(dir, values)) => descriptors(Arc::clone(&state))
            .or(site_dir::routes(dir, values, security))
            .unify()
            .boxed(),
        None => warp::any().and_then(|| async { Err(warp::reject::not_found()) }).boxed(),
    };
    dynamic
        .or(site)
        .unify()
        .recover(move |rejection| reject::recover(rejection, realm.clone()))
        .unify()
        .boxed()
}

/// `GET /atlassian-connect.json` and `GET /confluence/atlassian-connect.json`
/// (the paths of [`crate::descriptor::descriptor_path`]): the
/// descriptors, rendered at start (and again by the dev world on edits).
fn descriptors(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let jira = warp::path!("atlassian-connect.json").map(|| Product::Jira);
    let confluence =
        warp::path!("confluence" / "atlassian-connect.json").map(|| Product::Confluence);
    jira.or(confluence)
        .unify()
        .and(warp::get())
        .map(move |product| json_document(state.descriptor(product)))
        .boxed()
}

/// A descriptor response: JSON, revalidated on every fetch, readable by any
/// origin (it holds nothing secret, and tools fetch it from browsers).
fn json_document(body: bytes::Bytes) -> Response {
    let mut response = Response::new(body.into());
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

/// `GET /healthz`: 200 when the process serves (for load balancers).
pub(crate) fn health() -> BoxedFilter<(Response,)> {
    warp::path!("healthz").and(warp::get()).map(|| "ok\n".into_response()).boxed()
}
