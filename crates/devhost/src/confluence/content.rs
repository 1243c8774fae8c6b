//! The site's Confluence Cloud: its REST resources under `/wiki`, with the
//! paths, shapes and status codes of Atlassian's "Confluence Cloud REST API
//! v1" (groups "Content" and "Content properties").
//!
//! On Atlassian Cloud, Confluence sits beside Jira on one site: same origin,
//! everything under the context path `/wiki`. To an app it is a separate
//! tenant: its own `clientKey`, its own installation and shared secret, and
//! a base URL of `<site>/wiki`, relative to which the app signs its calls
//! (so the `qsh` never contains `/wiki`).
//!
//! What is here:
//! - `GET /wiki/rest/api/content/{id}` for the seeded pages of space `LOD`;
//! - `GET /wiki/rest/api/user?accountId=` (Atlassian: "Get user"): a person's
//!   `displayName` and `publicName`, `type: "known"`; 404 for an unknown id;
//! - content properties (`/wiki/rest/api/content/{id}/property[/{key}]`),
//!   which unlike Jira's properties are *versioned*: an update names the next
//!   version number and a stale one is refused with 409, so two writers
//!   cannot silently overwrite each other.
//!
//! Errors use Confluence's body, `{"statusCode", "data": {...}, "message"}`
//! (Atlassian: "Confluence Cloud REST API", section "Status codes").
//!
//! - content search by CQL ([`super::search`]).
//!
//! What it is not: a Confluence. No page editing, spaces API, blog posts
//! or attachments; no fault injection on these routes.
//!
//! App properties under `/wiki` are the Connect framework's resource, served
//! by [`crate::platform::app_properties`] with Jira's rules.

use std::sync::Arc;

use serde_json::{Value, json};
use warp::http::{Method, StatusCode};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::data::{ContentPage, ContentProperty, SPACE_NAME};
use crate::platform::call::{Call, call_in, with_site};
use crate::platform::errors::confluence_error as error;
use crate::platform::http::query_param;
use crate::platform::iframe::encode;
use crate::site::{CONFLUENCE_CONTEXT_PATH, Site};
use lodger_connect::installation::Product;

/// Atlassian's limits on content properties: keys up to 255 characters,
/// values up to 32 KB of JSON.
const MAX_KEY_CHARS: usize = 255;
const MAX_VALUE_BYTES: usize = 32 * 1024;

/// Confluence's REST routes, to mount under `wiki`.
pub fn routes(site: Arc<Site>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let with = with_site(Arc::clone(&site));
    let properties = warp::path!("rest" / "api" / "content" / String / "property" / ..)
        .and(warp::path::tail())
        .and(with.clone())
        .and(call_in(Arc::clone(&site), Product::Confluence))
        .map(|id: String, tail: warp::path::Tail, site: Arc<Site>, call: Call| {
            content_property(&site, &id, tail.as_str(), &call)
        });
    let content = warp::path!("rest" / "api" / "content" / String)
        .and(with.clone())
        .and(call_in(Arc::clone(&site), Product::Confluence))
        .map(|id: String, site: Arc<Site>, call: Call| {
            if call.method != Method::GET {
                return error(StatusCode::METHOD_NOT_ALLOWED, "the emulator only reads content");
            }
            match site.data().confluence.page(&id) {
                Some(page) => warp::reply::json(&content_json(&site, &page)).into_response(),
                None => error(StatusCode::NOT_FOUND, &not_found(&id)),
            }
        });
    let user = warp::path!("rest" / "api" / "user")
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .and(with)
        .and(call_in(Arc::clone(&site), Product::Confluence))
        .map(|query: String, site: Arc<Site>, call: Call| user(&site, &query, &call));
    let search = super::search::routes(Arc::clone(&site));
    search.or(properties).unify().or(content).unify().or(user).unify()
}

/// `GET /wiki/rest/api/user?accountId=`: the person as Confluence shows them
/// to anyone who may read (scope READ). The emulator has no private
/// profiles, so `publicName` is the display name.
fn user(site: &Site, query: &str, call: &Call) -> Response {
    if call.method != Method::GET {
        return error(StatusCode::METHOD_NOT_ALLOWED, "use GET");
    }
    let account_id = query_param(query, "accountId").unwrap_or_default();
    if account_id.is_empty() {
        return error(StatusCode::BAD_REQUEST, "accountId is required");
    }
    match site.user(&account_id) {
        Some(user) => warp::reply::json(&json!({
            "type": "known",
            "accountId": user.account_id,
            "accountType": "atlassian",
            "displayName": user.display_name,
            "publicName": user.display_name,
            "_links": {"self": format!("{}/rest/api/user?accountId={}", site.base_url_of(Product::Confluence), encode(&user.account_id))},
        }))
        .into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            &format!("No user found with accountId: {account_id}"),
        ),
    }
}

fn not_found(id: &str) -> String {
    format!(
        "com.atlassian.confluence.api.service.exceptions.NotFoundException: No content found with id: ContentId{{id={id}}}"
    )
}

/// `GET /wiki/rest/api/content/{id}`, without expansions.
pub(crate) fn content_json(site: &Site, page: &ContentPage) -> Value {
    let base = site.base_url_of(Product::Confluence);
    json!({
        "id": page.id,
        "type": "page",
        "status": "current",
        "title": page.title,
        "space": {"key": page.space_key, "name": SPACE_NAME, "type": "global"},
        "version": {"number": page.version},
        "_links": {
            "webui": format!("/spaces/{}/pages/{}", page.space_key, page.id),
            "self": format!("{base}/rest/api/content/{}", page.id),
            "base": base,
            "context": CONFLUENCE_CONTEXT_PATH,
        },
    })
}

fn property_json(site: &Site, content_id: &str, key: &str, property: &ContentProperty) -> Value {
    json!({
        "id": property.id,
        "key": key,
        "value": property.value,
        "version": {"number": property.version, "minorEdit": false, "message": ""},
        "_links": {"self": format!("{}/rest/api/content/{content_id}/property/{}", site.base_url_of(Product::Confluence), encode(key))},
    })
}

/// What a write of a content property carries.
struct Write {
    key: String,
    value: Value,
    version: Option<u64>,
}

/// Why a write is refused: the status and Confluence's message.
type WriteRefusal = (StatusCode, &'static str);

/// A value over Atlassian's limit: 413, as the v1 reference lists for
/// content property writes.
const TOO_LARGE: WriteRefusal = (
    StatusCode::PAYLOAD_TOO_LARGE,
    "The value of the content property is too long: at most 32 KB of JSON",
);

/// Parses `{key?, value, version?: {number}}`; `path_key` wins over the body's.
fn parse_write(body: &[u8], path_key: Option<&str>) -> Result<Write, WriteRefusal> {
    let bad = |m: &'static str| (StatusCode::BAD_REQUEST, m);
    if body.len() > MAX_VALUE_BYTES + 1024 {
        return Err(TOO_LARGE);
    }
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return Err(bad("The request body must be JSON: {key, value, version: {number}}"));
    };
    let key = match path_key.or_else(|| body["key"].as_str()) {
        Some(key) if !key.is_empty() => key.to_owned(),
        _ => return Err(bad("A content property needs a key")),
    };
    if key.chars().count() > MAX_KEY_CHARS {
        return Err(bad("The content property key cannot be longer than 255 characters"));
    }
    let Some(value) = body.get("value").cloned() else {
        return Err(bad("A content property needs a value"));
    };
    if value.to_string().len() > MAX_VALUE_BYTES {
        return Err(TOO_LARGE);
    }
    let version = match &body["version"]["number"] {
        Value::Null => None,
        number => match number.as_u64().or_else(|| number.as_str()?.parse().ok()) {
            Some(n) => Some(n),
            None => return Err(bad("version.number must be a positive number")),
        },
    };
    Ok(Write { key, value, version })
}

/// `/wiki/rest/api/content/{id}/property[/{key}]`.
fn content_property(site: &Site, content_id: &str, key: &str, call: &Call) -> Response {
    let mut data = site.data();
    let confluence = &mut data.confluence;
    if confluence.page(content_id).is_none() {
        return error(StatusCode::NOT_FOUND, &not_found(content_id));
    }
    let key = key.trim_end_matches('/');
    let absent = |key: &str| {
        error(
            StatusCode::NOT_FOUND,
            &format!(
                "com.atlassian.confluence.api.service.exceptions.NotFoundException: Cannot find property with key: {key}"
            ),
        )
    };
    match (&call.method, key.is_empty()) {
        (&Method::GET, true) => {
            let results: Vec<Value> = confluence
                .content_properties
                .iter()
                .filter(|((id, _), _)| id == content_id)
                .map(|((_, k), p)| property_json(site, content_id, k, p))
                .collect();
            let size = results.len();
            warp::reply::json(&json!({"results": results, "start": 0, "limit": 10, "size": size}))
                .into_response()
        }
        (&Method::GET, false) => {
            match confluence.content_properties.get(&(content_id.to_owned(), key.to_owned())) {
                Some(p) => {
                    warp::reply::json(&property_json(site, content_id, key, p)).into_response()
                }
                None => absent(key),
            }
        }
        (&Method::POST, _) => {
            let write = match parse_write(&call.body, (!key.is_empty()).then_some(key)) {
                Ok(write) => write,
                Err((status, message)) => return error(status, message),
            };
            let id = (content_id.to_owned(), write.key.clone());
            if confluence.content_properties.contains_key(&id) {
                return error(
                    StatusCode::CONFLICT,
                    &format!(
                        "com.atlassian.confluence.api.service.exceptions.ConflictException: Cannot add a property with key '{}' to content {content_id}: it already exists",
                        write.key
                    ),
                );
            }
            confluence.last_property_id += 1;
            let property = ContentProperty {
                id: confluence.last_property_id.to_string(),
                value: write.value,
                version: 1,
            };
            let body = property_json(site, content_id, &write.key, &property);
            confluence.content_properties.insert(id, property);
            warp::reply::json(&body).into_response()
        }
        (&Method::PUT, false) => {
            let write = match parse_write(&call.body, Some(key)) {
                Ok(write) => write,
                Err((status, message)) => return error(status, message),
            };
            let Some(number) = write.version else {
                return error(StatusCode::BAD_REQUEST, "version.number is required to update");
            };
            let id = (content_id.to_owned(), key.to_owned());
            let current = confluence.content_properties.get(&id).map(|p| (p.version, p.id.clone()));
            let property_id = match current {
                // Atlassian: "will also create a new property ... if the
                // property key does not exist and the property version is 1".
                None if number == 1 => {
                    confluence.last_property_id += 1;
                    confluence.last_property_id.to_string()
                }
                None => return absent(key),
                Some((version, property_id)) if number == version + 1 => property_id,
                Some((version, _)) => {
                    return error(
                        StatusCode::CONFLICT,
                        &format!(
                            "com.atlassian.confluence.api.service.exceptions.ConflictException: Version must be incremented on update. Current version is: {version}"
                        ),
                    );
                }
            };
            let property = ContentProperty { id: property_id, value: write.value, version: number };
            let body = property_json(site, content_id, key, &property);
            confluence.content_properties.insert(id, property);
            warp::reply::json(&body).into_response()
        }
        (&Method::DELETE, false) => {
            match confluence.content_properties.remove(&(content_id.to_owned(), key.to_owned())) {
                Some(_) => StatusCode::NO_CONTENT.into_response(),
                None => absent(key),
            }
        }
        _ => error(StatusCode::METHOD_NOT_ALLOWED, "use GET, POST, PUT or DELETE"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_takes_the_path_key_and_a_version_number_or_numeric_string() {
        let write =
            parse_write(br#"{"key":"body","value":[1],"version":{"number":"3"}}"#, Some("path"))
                .unwrap();
        assert_eq!((write.key.as_str(), write.version), ("path", Some(3)));
        let write = parse_write(br#"{"key":"k","value":null}"#, None).unwrap();
        assert_eq!((write.value, write.version), (Value::Null, None));
    }

    #[test]
    fn a_write_over_the_limits_is_refused_as_confluence_refuses_it() {
        let big = format!(r#"{{"key":"k","value":"{}"}}"#, "x".repeat(MAX_VALUE_BYTES));
        assert_eq!(
            parse_write(big.as_bytes(), None).err().map(|e| e.0),
            Some(StatusCode::PAYLOAD_TOO_LARGE)
        );
        let long = format!(r#"{{"key":"{}","value":1}}"#, "k".repeat(MAX_KEY_CHARS + 1));
        assert_eq!(
            parse_write(long.as_bytes(), None).err().map(|e| e.0),
            Some(StatusCode::BAD_REQUEST)
        );
        assert!(parse_write(br#"{"key":"k"}"#, None).is_err(), "a value is required");
    }
}
