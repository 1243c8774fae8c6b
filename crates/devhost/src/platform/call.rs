//! An authenticated REST call: the filter every REST resource of the site
//! starts with. It reads the method, path, query, credentials and body,
//! and asks [`super::auth`] who is calling (Atlassian: "Understanding JWT
//! for Connect apps"; "Security for Connect apps", the user of an iframe's
//! `AP.request`). Refusals reject, so that the site's `recover` answers
//! them in the product's error shape.
//!
//! What it is not: a resource; it imports nothing from the `jira` or
//! `confluence` folders.

use std::sync::Arc;

use bytes::Bytes;
use warp::http::Method;
use warp::path::FullPath;
use warp::{Filter, Rejection};

use crate::DevHost;
use crate::forge::rest_auth::{self, ForgeCall};
use crate::platform::auth::{
    APP_HEADER, Caller, Refusal, RefusalReason, RestRequest, SESSION_COOKIE, authenticate,
};
use crate::platform::errors::{Refused, TooLarge};
use crate::site::{CONFLUENCE_CONTEXT_PATH, Site};
use lodger_connect::installation::Product;

/// The largest request body the emulator reads.
const MAX_BODY_BYTES: u64 = 1024 * 1024;

/// A verified REST call: the caller and the body.
pub struct Call {
    /// Who is calling.
    pub caller: Caller,
    /// The method.
    pub method: Method,
    /// The request body.
    pub body: Bytes,
    /// The Forge app and token kind, when the call came under `apiBaseUrl`
    /// with a product token ([`crate::forge::rest_auth`]).
    pub forge: Option<ForgeCall>,
}

/// Extracts and authenticates a call to Jira's REST API, or rejects with a
/// [`Refusal`].
pub(crate) fn call(site: Arc<Site>) -> impl Filter<Extract = (Call,), Error = Rejection> + Clone {
    call_in(site, Product::Jira)
}

/// Extracts and authenticates a call to `product`'s REST API. The path is
/// taken relative to the product's base URL (Confluence's `/wiki` removed),
/// as the app signed it. Confluence refusals reject with
/// [`Refused`], so that they get Confluence's error body.
pub(crate) fn call_in(
    site: Arc<Site>,
    product: Product,
) -> impl Filter<Extract = (Call,), Error = Rejection> + Clone {
    let query = warp::query::raw().or(warp::any().map(String::new)).unify();
    warp::method()
        .and(warp::path::full())
        .and(query)
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::cookie::optional::<String>(SESSION_COOKIE))
        .and(warp::header::optional::<String>(APP_HEADER))
        // Bodies are optional (GET has none), so the length is checked by hand.
        .and(warp::header::optional::<u64>("content-length"))
        .and_then(|method, path, query, auth, session, via_app, length: Option<u64>| async move {
            match length {
                Some(length) if length > MAX_BODY_BYTES => Err(warp::reject::custom(TooLarge)),
                _ => Ok((method, path, query, auth, session, via_app)),
            }
        })
        .untuple_one()
        .and(warp::body::bytes())
        .and_then(
            move |method: Method,
                  path: FullPath,
                  query: String,
                  auth: Option<String>,
                  session: Option<String>,
                  via_app: Option<String>,
                  body: Bytes| {
                let Some((cloud_id, full)) = api_base(path.as_str(), product) else {
                    return futures_ready(Err(warp::reject::not_found()));
                };
                let reject = move |refusal: Refusal| match product {
                    Product::Jira => warp::reject::custom(refusal),
                    Product::Confluence => warp::reject::custom(Refused(refusal)),
                };
                // A cloudId of no site here: 401, as for a token of another
                // site (a 404 would lose to warp's 405 of sibling routes).
                if let Some(cloud_id) = cloud_id {
                    if site.data().forge.cloud_id.as_deref() != Some(cloud_id) {
                        let why = "apiBaseUrl names a cloudId that is not this site's";
                        let refusal = Refusal::unauthorized(RefusalReason::WrongTenant, why);
                        return futures_ready(Err(reject(refusal)));
                    }
                }
                let relative = match product {
                    Product::Jira => full,
                    Product::Confluence => full
                        .strip_prefix(CONFLUENCE_CONTEXT_PATH)
                        .filter(|rest| rest.starts_with('/'))
                        .unwrap_or(full),
                };
                let request = RestRequest {
                    product,
                    method: &method,
                    path: relative,
                    query: &query,
                    authorization: auth.as_deref(),
                    session: session.as_deref(),
                    via_app: via_app.as_deref(),
                };
                let now = lodger_connect::now();
                let outcome =
                    match cloud_id {
                        Some(_) => {
                            rest_auth::authenticate(&site, &request, now).map(|(caller, forge)| {
                                Call { caller, method: method.clone(), body, forge: Some(forge) }
                            })
                        }
                        None => authenticate(&site, &request, now).map(|caller| Call {
                            caller,
                            method: method.clone(),
                            body,
                            forge: None,
                        }),
                    }
                    .map_err(reject);
                futures_ready(outcome)
            },
        )
}

/// A ready future: the filter's closure answers without awaiting.
fn futures_ready(outcome: Result<Call, Rejection>) -> std::future::Ready<Result<Call, Rejection>> {
    std::future::ready(outcome)
}

/// Splits a Forge `apiBaseUrl` prefix off `full` (Forge: "Calling
/// Atlassian app APIs from a remote": `<apiBaseUrl>/rest/…`): `/ex/jira/{cloudId}`
/// for Jira, `/ex/confluence/{cloudId}` for Confluence, whose REST then
/// goes on under `/wiki`. Returns the cloudId (`None` for the site's own
/// paths) and the path as the site would see it; `None` for a prefix of the
/// other product.
fn api_base(full: &str, product: Product) -> Option<(Option<&str>, &str)> {
    let Some(rest) = full.strip_prefix("/ex/") else { return Some((None, full)) };
    let name = match product {
        Product::Jira => "jira/",
        Product::Confluence => "confluence/",
    };
    let rest = rest.strip_prefix(name)?;
    let (cloud_id, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    Some((Some(cloud_id), tail))
}

/// The site, for handlers.
pub(crate) fn with_site(
    site: Arc<Site>,
) -> impl Filter<Extract = (Arc<Site>,), Error = std::convert::Infallible> + Clone {
    warp::any().map(move || Arc::clone(&site))
}

/// The dev host and the site, for handlers that install or uninstall apps.
pub(crate) fn with_host_and_site(
    host: Arc<DevHost>,
    site: Arc<Site>,
) -> impl Filter<Extract = ((Arc<DevHost>, Arc<Site>),), Error = std::convert::Infallible> + Clone {
    warp::any().map(move || (Arc::clone(&host), Arc::clone(&site)))
}
