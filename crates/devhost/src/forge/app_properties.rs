//! Forge app properties, `/rest/forge/1/app/properties[/{propertyKey}]`
//! (Jira REST API v3, "App properties": Get app property (Forge), Set app
//! property (Forge), Delete app property (Forge)): a Forge app's own
//! key-value store in a site, kept per app id.
//!
//! "Only Forge apps can make this request. This API can only be accessed
//! using asApp() requests": the caller must hold a system product token
//! (reached under `apiBaseUrl`, see [`super::rest_auth`]). A user token, a
//! session or a Connect JWT gets 403, as Atlassian's "403 Returned if the
//! request isn't made directly by an app or if it's an impersonated
//! request". PUT answers 201 when it creates and 200 when it updates; the
//! value is non-empty JSON of at most 32768 characters, the key at most
//! 127; GET of an unknown key is 404; a property reads as `{key, value}`.
//! Listing the keys (`GET` without a key, `{"keys": [{"key"}]}`) is the
//! emulator's convenience, shaped like the Connect list (unverified).
//!
//! What it is not: the Connect framework's app properties
//! ([`crate::platform::app_properties`]).

use std::sync::Arc;

use serde_json::{Value, json};
use warp::http::{Method, StatusCode};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::platform::call::{Call, call, with_site};
use crate::platform::errors::error;
use crate::site::Site;

/// The longest value, in characters.
const MAX_VALUE_CHARS: usize = 32_768;
/// The longest key.
const MAX_KEY_CHARS: usize = 127;

/// The Forge app properties resource (Jira's; mounted at the site root and
/// under `apiBaseUrl`, where only a system token reaches it).
pub fn routes(site: Arc<Site>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("rest" / "forge" / "1" / "app" / "properties" / ..)
        .and(warp::path::tail())
        .and(with_site(Arc::clone(&site)))
        .and(call(site))
        .map(|tail: warp::path::Tail, site: Arc<Site>, call: Call| {
            app_property(&site, tail.as_str(), &call)
        })
}

fn app_property(site: &Site, key: &str, call: &Call) -> Response {
    let Some(app_id) = call.forge.as_ref().filter(|f| f.as_app()).map(|f| f.app_id.clone()) else {
        return error(
            StatusCode::FORBIDDEN,
            "Only Forge apps can make this request, as the app itself (asApp).",
        );
    };
    let key = crate::platform::http::percent_decode(key, false);
    let mut data = site.data();
    let properties = &mut data.forge.app_properties;
    if key.is_empty() {
        if call.method != Method::GET {
            return error(StatusCode::METHOD_NOT_ALLOWED, "only GET lists properties");
        }
        let keys: Vec<Value> = properties
            .keys()
            .filter(|(app, _)| *app == app_id)
            .map(|(_, k)| json!({ "key": k }))
            .collect();
        return warp::reply::json(&json!({ "keys": keys })).into_response();
    }
    let id = (app_id, key.clone());
    match call.method {
        Method::GET => match properties.get(&id) {
            Some(value) => warp::reply::json(&json!({"key": key, "value": value})).into_response(),
            None => error(StatusCode::NOT_FOUND, &format!("Property with key not found: {key}")),
        },
        Method::PUT => {
            if key.chars().count() > MAX_KEY_CHARS {
                return error(
                    StatusCode::BAD_REQUEST,
                    "The property key cannot be longer than 127 characters.",
                );
            }
            let text = String::from_utf8_lossy(&call.body);
            if text.chars().count() > MAX_VALUE_CHARS {
                return error(
                    StatusCode::BAD_REQUEST,
                    "The value cannot be longer than 32768 characters.",
                );
            }
            let Ok(value) = serde_json::from_str::<Value>(&text) else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "The property value must be non-empty JSON.",
                );
            };
            let created = properties.insert(id, value).is_none();
            let status = if created { StatusCode::CREATED } else { StatusCode::OK };
            warp::reply::with_status(warp::reply::json(&json!({})), status).into_response()
        }
        Method::DELETE => match properties.remove(&id) {
            Some(_) => StatusCode::NO_CONTENT.into_response(),
            None => error(StatusCode::NOT_FOUND, &format!("Property with key not found: {key}")),
        },
        _ => error(StatusCode::METHOD_NOT_ALLOWED, "use GET, PUT or DELETE"),
    }
}
