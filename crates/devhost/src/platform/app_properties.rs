//! App properties, `/rest/atlassian-connect/1/addons/{appKey}/properties[/{key}]`
//! (Atlassian: "App properties API"): the Connect framework's per-app
//! key-value store, which Jira serves and Confluence serves again under
//! `/wiki`, with the same rules and limits.
//!
//! What it is not: entity properties (those are Jira's, see the `jira`
//! folder) or Confluence's content properties.

use std::sync::Arc;

use serde_json::{Value, json};
use warp::http::{Method, StatusCode};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::platform::call::{Call, call_in, with_site};
use crate::platform::errors::error;
use crate::site::Site;
use lodger_connect::installation::Product;

/// Atlassian's limits on properties.
const MAX_VALUE_BYTES: usize = 32 * 1024;
const MAX_APP_PROPERTY_KEY: usize = 127;
const MAX_APP_PROPERTIES: usize = 100;

/// The app properties resource of `product` (Confluence's is mounted under `wiki`).
pub fn routes(
    site: Arc<Site>,
    product: Product,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("rest" / "atlassian-connect" / "1" / "addons" / String / "properties" / ..)
        .and(warp::path::tail())
        .and(with_site(Arc::clone(&site)))
        .and(call_in(Arc::clone(&site), product))
        .map(move |app_key: String, tail: warp::path::Tail, site: Arc<Site>, call: Call| {
            app_property(&site, product, &app_key, tail.as_str(), call)
        })
}

/// `/rest/atlassian-connect/1/addons/{appKey}/properties[/{key}]` of
/// `product` (Confluence serves the same resource under `/wiki`, with the
/// same rules: it is the Connect framework's, not the product's).
fn app_property(site: &Site, product: Product, app_key: &str, key: &str, call: Call) -> Response {
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
