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
//! - app properties (`/wiki/rest/atlassian-connect/1/addons/{key}/properties`),
//!   the Connect framework's resource with the same rules as Jira's;
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
//! What it is not: a Confluence. No page editing, CQL, spaces API, blog posts
//! or attachments; no fault injection on these routes.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::{Value, json};
use warp::http::{Method, StatusCode};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::auth;
use super::rest::{Call, call_in};
use super::site::{AppInstall, Site};
use lodger_connect::installation::Product;

/// Confluence's context path on a cloud site.
pub const CONTEXT_PATH: &str = "/wiki";
/// The seeded space.
pub const SPACE_KEY: &str = "LOD";
/// The seeded space's name.
pub const SPACE_NAME: &str = "Lodger demo";

/// Atlassian's limits on content properties: keys up to 255 characters,
/// values up to 32 KB of JSON.
const MAX_KEY_CHARS: usize = 255;
const MAX_VALUE_BYTES: usize = 32 * 1024;

/// A Confluence page.
#[derive(Debug, Clone)]
pub struct ContentPage {
    /// Numeric id, as a string.
    pub id: String,
    /// The title.
    pub title: String,
    /// The space key.
    pub space_key: String,
    /// The page's version number.
    pub version: u64,
    /// The body as HTML (the "view" representation).
    pub body_html: String,
}

/// A content property and its version.
#[derive(Debug, Clone)]
pub struct ContentProperty {
    /// The property's own id.
    pub id: String,
    /// The value (any JSON).
    pub value: Value,
    /// The version number, 1 when created.
    pub version: u64,
}

/// The mutable state of a site's Confluence.
#[derive(Debug, Default)]
pub struct ConfluenceData {
    /// Apps installed in Confluence, by key.
    pub installs: HashMap<String, AppInstall>,
    /// App properties by (app key, property key).
    pub app_properties: BTreeMap<(String, String), Value>,
    /// UPM tokens Confluence's plugin manager handed out.
    pub upm_tokens: Vec<String>,
    /// The pages, in creation order.
    pub pages: Vec<ContentPage>,
    /// Content properties by (content id, key).
    pub content_properties: BTreeMap<(String, String), ContentProperty>,
    /// The last content property id handed out.
    pub last_property_id: u64,
    /// Each macro instance's parameters, by (content id, macro id), once an
    /// editor saved them; before that, the descriptor's `defaultValue`s
    /// apply (see [`super::macro_editor`]).
    pub macro_parameters: BTreeMap<(String, String), BTreeMap<String, String>>,
}

impl ConfluenceData {
    /// Three pages in space `LOD`. Each body holds one instance of every
    /// installed app's dynamic content macro (the page view frames them).
    pub fn seeded() -> ConfluenceData {
        let pages = [
            ("Team checklist", "<p>What we do before every release.</p>"),
            ("Meeting notes", "<p>Notes from the weekly sync.</p>"),
            ("Onboarding", "<p>Everything a newcomer needs in week one.</p>"),
        ]
        .iter()
        .enumerate()
        .map(|(i, (title, body))| ContentPage {
            id: (65537 + i).to_string(),
            title: (*title).to_owned(),
            space_key: SPACE_KEY.to_owned(),
            version: 1,
            body_html: (*body).to_owned(),
        })
        .collect();
        ConfluenceData { pages, ..ConfluenceData::default() }
    }

    /// The page with this id (a copy).
    pub fn page(&self, id: &str) -> Option<ContentPage> {
        self.pages.iter().find(|p| p.id == id).cloned()
    }
}

/// A refused call to Confluence's REST API (answered in Confluence's shape).
#[derive(Debug)]
pub struct Refused(pub auth::Refusal);
impl warp::reject::Reject for Refused {}

/// A Confluence-shaped error response.
pub fn error(status: StatusCode, message: &str) -> Response {
    let body = json!({
        "statusCode": status.as_u16(),
        "data": {"authorized": status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN, "valid": true, "errors": [], "successful": false},
        "message": message,
        "reason": status.canonical_reason().unwrap_or(""),
    });
    warp::reply::with_status(warp::reply::json(&body), status).into_response()
}

/// The response for a refused caller (used by the site's `recover`).
pub fn refused(refused: &Refused) -> Response {
    match &refused.0 {
        auth::Refusal::Unauthorized(m) => error(StatusCode::UNAUTHORIZED, m),
        auth::Refusal::Forbidden(m) => error(StatusCode::FORBIDDEN, m),
    }
}

/// Confluence's REST routes, to mount under `wiki`.
pub fn routes(site: Arc<Site>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let with = {
        let site = Arc::clone(&site);
        warp::any().map(move || Arc::clone(&site))
    };
    let app_properties =
        warp::path!("rest" / "atlassian-connect" / "1" / "addons" / String / "properties" / ..)
            .and(warp::path::tail())
            .and(with.clone())
            .and(call_in(Arc::clone(&site), Product::Confluence))
            .map(|app_key: String, tail: warp::path::Tail, site: Arc<Site>, call: Call| {
                super::rest::app_property(&site, Product::Confluence, &app_key, tail.as_str(), call)
            });
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
        .and(call_in(site, Product::Confluence))
        .map(|query: String, site: Arc<Site>, call: Call| user(&site, &query, &call));
    app_properties.or(properties).unify().or(content).unify().or(user).unify()
}

/// `GET /wiki/rest/api/user?accountId=`: the person as Confluence shows them
/// to anyone who may read (scope READ). The emulator has no private
/// profiles, so `publicName` is the display name.
fn user(site: &Site, query: &str, call: &Call) -> Response {
    if call.method != Method::GET {
        return error(StatusCode::METHOD_NOT_ALLOWED, "use GET");
    }
    let account_id = super::jira_rest::query_param(query, "accountId").unwrap_or_default();
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
            "_links": {"self": format!("{}/rest/api/user?accountId={}", site.base_url_of(Product::Confluence), super::iframe::encode(&user.account_id))},
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
fn content_json(site: &Site, page: &ContentPage) -> Value {
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
            "context": CONTEXT_PATH,
        },
    })
}

fn property_json(site: &Site, content_id: &str, key: &str, property: &ContentProperty) -> Value {
    json!({
        "id": property.id,
        "key": key,
        "value": property.value,
        "version": {"number": property.version, "minorEdit": false, "message": ""},
        "_links": {"self": format!("{}/rest/api/content/{content_id}/property/{}", site.base_url_of(Product::Confluence), super::iframe::encode(key))},
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
