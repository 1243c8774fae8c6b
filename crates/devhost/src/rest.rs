//! The REST resources of an emulated Jira site, with Atlassian's paths,
//! shapes, limits and status codes (Atlassian: "App properties API",
//! "Jira REST API v3"). Errors use Jira's body shape,
//! `{"errorMessages": [...], "errors": {}}`.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Value, json};
use warp::http::{Method, StatusCode};
use warp::path::FullPath;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::auth::{APP_HEADER, Caller, Refusal, RestRequest, SESSION_COOKIE, authenticate};
use super::site::Site;
use lodger_connect::installation::Product;

/// The largest request body the emulator reads.
const MAX_BODY_BYTES: u64 = 1024 * 1024;

/// A body over the emulator's limit of 1 MiB.
#[derive(Debug)]
pub struct TooLarge;
impl warp::reject::Reject for TooLarge {}

/// Atlassian's limits on properties.
const MAX_VALUE_BYTES: usize = 32 * 1024;
const MAX_APP_PROPERTY_KEY: usize = 127;
const MAX_APP_PROPERTIES: usize = 100;

/// A Jira-shaped error response.
pub fn error(status: StatusCode, message: &str) -> Response {
    let body = json!({ "errorMessages": [message], "errors": {} });
    warp::reply::with_status(warp::reply::json(&body), status).into_response()
}

impl warp::reject::Reject for Refusal {}

/// The response for a refused caller (used by the site's `recover`).
pub fn refused(refusal: &Refusal) -> Response {
    match refusal {
        Refusal::Unauthorized(m) => error(StatusCode::UNAUTHORIZED, m),
        Refusal::Forbidden(m) => error(StatusCode::FORBIDDEN, m),
    }
}

/// A verified REST call: the caller and the body.
pub struct Call {
    /// Who is calling.
    pub caller: Caller,
    /// The method.
    pub method: Method,
    /// The request body.
    pub body: Bytes,
}

/// Extracts and authenticates a call to Jira's REST API, or rejects with a
/// [`Refusal`].
pub(crate) fn call(site: Arc<Site>) -> impl Filter<Extract = (Call,), Error = Rejection> + Clone {
    call_in(site, Product::Jira)
}

/// Extracts and authenticates a call to `product`'s REST API. The path is
/// taken relative to the product's base URL (Confluence's `/wiki` removed),
/// as the app signed it. Confluence refusals reject with
/// [`super::confluence::Refused`], so that they get Confluence's error body.
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
                let full = path.as_str();
                let relative = match product {
                    Product::Jira => full,
                    Product::Confluence => full
                        .strip_prefix(super::confluence::CONTEXT_PATH)
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
                let outcome = authenticate(&site, &request, lodger_connect::now())
                    .map(|caller| Call { caller, method: method.clone(), body })
                    .map_err(|refusal| match product {
                        Product::Jira => warp::reject::custom(refusal),
                        Product::Confluence => {
                            warp::reject::custom(super::confluence::Refused(refusal))
                        }
                    });
                async move { outcome }
            },
        )
}

/// Every REST route of a site.
pub fn routes(site: Arc<Site>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let app_properties =
        warp::path!("rest" / "atlassian-connect" / "1" / "addons" / String / "properties" / ..)
            .and(warp::path::tail())
            .and(with(Arc::clone(&site)))
            .and(call(Arc::clone(&site)))
            .map(|app_key: String, tail: warp::path::Tail, site: Arc<Site>, call: Call| {
                app_property(&site, Product::Jira, &app_key, tail.as_str(), call)
            });
    let myself = warp::path!("rest" / "api" / String / "myself").and(call(Arc::clone(&site))).map(
        |_version: String, call: Call| match call.caller {
            Caller::User { user, .. } => warp::reply::json(&json!({
                "accountId": user.account_id,
                "displayName": user.display_name,
                "emailAddress": user.email,
                "active": true,
            }))
            .into_response(),
            Caller::App { .. } => {
                error(StatusCode::UNAUTHORIZED, "myself needs a user; the app has none")
            }
        },
    );
    let issue = warp::path!("rest" / "api" / String / "issue" / String)
        .and(with(Arc::clone(&site)))
        .and(call(Arc::clone(&site)))
        .map(|_version: String, key: String, site: Arc<Site>, _call: Call| {
            match site.issue(&key) {
                Some(issue) => warp::reply::json(&json!({
                    "id": issue.id,
                    "key": issue.key,
                    "self": format!("{}/rest/api/3/issue/{}", site.base_url, issue.id),
                    "fields": {
                        "summary": issue.summary,
                        "project": site.project(&issue.project_id).map(|p| json!({"id": p.id, "key": p.key, "name": p.name})),
                    },
                }))
                .into_response(),
                None => error(StatusCode::NOT_FOUND, "Issue does not exist or you do not have permission to see it."),
            }
        });
    app_properties
        .or(myself)
        .unify()
        // Before `issue`, which answers GET whatever the method.
        .or(super::issues::routes(Arc::clone(&site)))
        .unify()
        .or(issue)
        .unify()
        .or(super::entity_properties::routes(Arc::clone(&site)))
        .unify()
        .or(super::jira_rest::routes(Arc::clone(&site)))
        .unify()
        .or(super::webhooks::routes(Arc::clone(&site)))
        .unify()
}

fn with(
    site: Arc<Site>,
) -> impl Filter<Extract = (Arc<Site>,), Error = std::convert::Infallible> + Clone {
    warp::any().map(move || Arc::clone(&site))
}

/// `/rest/atlassian-connect/1/addons/{appKey}/properties[/{key}]` of
/// `product` (Confluence serves the same resource under `/wiki`, with the
/// same rules: it is the Connect framework's, not the product's).
pub(crate) fn app_property(
    site: &Site,
    product: Product,
    app_key: &str,
    key: &str,
    call: Call,
) -> Response {
    if call.caller.app_key() != Some(app_key) {
        return error(StatusCode::FORBIDDEN, "an app may only use its own app properties");
    }
    let base_url = site.base_url_of(product);
    let mut guard = site.data();
    let data = guard.app_properties_in_mut(product);
    let self_url = |key: &str| {
        format!("{base_url}/rest/atlassian-connect/1/addons/{app_key}/properties/{key}")
    };
    if key.is_empty() {
        if call.method != Method::GET {
            return error(StatusCode::METHOD_NOT_ALLOWED, "only GET lists properties");
        }
        let keys: Vec<Value> = data
            .keys()
            .filter(|(app, _)| app == app_key)
            .map(|(_, k)| json!({"key": k, "self": self_url(k)}))
            .collect();
        return warp::reply::json(&json!({ "keys": keys })).into_response();
    }
    let id = (app_key.to_owned(), key.to_owned());
    match call.method {
        Method::GET => match data.get(&id) {
            Some(value) => {
                warp::reply::json(&json!({"key": key, "value": value, "self": self_url(key)}))
                    .into_response()
            }
            None => error(StatusCode::NOT_FOUND, &format!("Property with key not found: {key}")),
        },
        Method::PUT => {
            if key.len() > MAX_APP_PROPERTY_KEY {
                return error(
                    StatusCode::BAD_REQUEST,
                    "The property key cannot be longer than 127 characters.",
                );
            }
            if call.body.len() > MAX_VALUE_BYTES {
                return error(StatusCode::BAD_REQUEST, "The value cannot be bigger than 32 KB.");
            }
            let Ok(value) = serde_json::from_slice::<Value>(&call.body) else {
                return error(StatusCode::BAD_REQUEST, "The property value must be valid JSON.");
            };
            let exists = data.contains_key(&id);
            let count = data.keys().filter(|(app, _)| app == app_key).count();
            if !exists && count >= MAX_APP_PROPERTIES {
                return error(StatusCode::CONFLICT, "An app cannot have more than 100 properties.");
            }
            data.insert(id, value);
            let status = if exists { StatusCode::OK } else { StatusCode::CREATED };
            warp::reply::with_status(warp::reply(), status).into_response()
        }
        Method::DELETE => match data.remove(&id) {
            Some(_) => StatusCode::NO_CONTENT.into_response(),
            None => error(StatusCode::NOT_FOUND, &format!("Property with key not found: {key}")),
        },
        _ => error(StatusCode::METHOD_NOT_ALLOWED, "use GET, PUT or DELETE"),
    }
}
