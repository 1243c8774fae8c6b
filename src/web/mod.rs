//! The web adapter: warp filters around the pure protocol core.
//!
//! | file | what it serves |
//! |---|---|
//! | [`lifecycle`] | `POST /lifecycle/*`: signed install, sealing, storing the credential |
//! | [`auth`] | the filter that turns a signed request into a verified [`auth::RequestContext`] |
//! | [`api`] | `/api/*`, what the pages call |
//! | [`assets`] | the embedded site: pages, scripts, styles, with ETags and precompression |
//! | [`security_headers`] | CSP (`frame-ancestors`), `X-Content-Type-Options`, `Referrer-Policy` |
//! | [`signed_request`] | method, path, query and token of a request, for its `qsh` |
//! | [`reject`] | the one mapping from failures to HTTP statuses |
//! | [`state`] | what handlers share |
//! | [`server`] | binding, serving, graceful shutdown |

pub mod api;
pub mod assets;
pub mod auth;
pub mod lifecycle;
pub mod reject;
pub mod security_headers;
pub mod server;
pub mod signed_request;
pub mod state;

use std::sync::Arc;

use warp::filters::BoxedFilter;
use warp::http::{HeaderMap, HeaderValue, header};
use warp::reply::Response;
use warp::{Filter, Reply};

use assets::Assets;
use security_headers::SecurityHeaders;
use state::AppState;

/// Every route of the app server, with errors recovered into JSON responses.
///
/// Order matters only where paths overlap: the descriptors and dynamic routes
/// come before the static site, whose catch-all answers 404 for the rest.
pub fn app(
    state: Arc<AppState>,
    assets: Arc<Assets>,
    security: Arc<SecurityHeaders>,
) -> BoxedFilter<(Response,)> {
    let realm = reject::realm(&state.keys.jira);
    let mut common = HeaderMap::new();
    security.apply(&mut common, false);
    let dynamic = descriptors(&state)
        .or(health())
        .unify()
        .or(lifecycle::routes(Arc::clone(&state)))
        .unify()
        .or(api::routes(Arc::clone(&state)))
        .unify()
        .with(warp::reply::with::headers(common))
        .map(Reply::into_response);
    dynamic
        .or(assets::routes(assets, security))
        .unify()
        .recover(move |rejection| reject::recover(rejection, realm.clone()))
        .unify()
        .boxed()
}

/// `GET /atlassian-connect.json` and `GET /confluence/atlassian-connect.json`
/// (the paths of [`crate::connect::descriptor::descriptor_path`]): the
/// descriptors, rendered once at start.
fn descriptors(state: &AppState) -> BoxedFilter<(Response,)> {
    let jira = bytes::Bytes::from(state.descriptors.jira.clone());
    let confluence = bytes::Bytes::from(state.descriptors.confluence.clone());
    let jira = warp::path!("atlassian-connect.json").map(move || json_document(&jira));
    let confluence = warp::path!("confluence" / "atlassian-connect.json")
        .map(move || json_document(&confluence));
    warp::get().and(jira.or(confluence).unify()).boxed()
}

/// A descriptor response: JSON, revalidated on every fetch, readable by any
/// origin (it holds nothing secret, and tools fetch it from browsers).
fn json_document(body: &bytes::Bytes) -> Response {
    let mut response = Response::new(body.clone().into());
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

/// `GET /healthz`: 200 when the process serves (for load balancers).
fn health() -> BoxedFilter<(Response,)> {
    warp::get().and(warp::path!("healthz")).map(|| "ok\n".into_response()).boxed()
}
