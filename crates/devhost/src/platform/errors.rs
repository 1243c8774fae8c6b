//! The error replies of the emulated site: Jira's body shape,
//! `{"errorMessages": [...], "errors": {}}`, and Confluence's,
//! `{"statusCode", "data", "message", "reason"}` (Atlassian: "Jira REST API
//! v3", "Status codes"; "Confluence Cloud REST API", "Status codes"), and
//! the rejections that carry a refused caller to the site's `recover`.
//!
//! What it is not: a resource. It imports nothing from the `jira` or
//! `confluence` folders, so both can use it.

use serde_json::json;
use warp::Reply;
use warp::http::StatusCode;
use warp::reply::Response;

use crate::platform::auth::Refusal;

/// A body over the emulator's limit of 1 MiB.
#[derive(Debug)]
pub struct TooLarge;
impl warp::reject::Reject for TooLarge {}

/// The message of an error response, carried on it for the inspector
/// ([`crate::inspector::rest`]), which records why a call was refused.
#[derive(Debug, Clone)]
pub struct ErrorMessage(pub String);

/// A Jira-shaped error response.
pub fn error(status: StatusCode, message: &str) -> Response {
    let body = json!({ "errorMessages": [message], "errors": {} });
    let mut response = warp::reply::with_status(warp::reply::json(&body), status).into_response();
    response.extensions_mut().insert(ErrorMessage(message.to_owned()));
    response
}

impl warp::reject::Reject for Refusal {}

/// The response for a refused caller (used by the site's `recover`), with
/// the refusal carried on it for the inspector.
pub fn refused(refusal: &Refusal) -> Response {
    let mut response = error(refusal.status_code(), &refusal.message);
    response.extensions_mut().insert(refusal.clone());
    response
}

/// A refused call to Confluence's REST API (answered in Confluence's shape).
#[derive(Debug)]
pub struct Refused(pub Refusal);
impl warp::reject::Reject for Refused {}

/// A Confluence-shaped error response.
pub fn confluence_error(status: StatusCode, message: &str) -> Response {
    let body = json!({
        "statusCode": status.as_u16(),
        "data": {"authorized": status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN, "valid": true, "errors": [], "successful": false},
        "message": message,
        "reason": status.canonical_reason().unwrap_or(""),
    });
    let mut response = warp::reply::with_status(warp::reply::json(&body), status).into_response();
    response.extensions_mut().insert(ErrorMessage(message.to_owned()));
    response
}

/// The response for a refused Confluence caller (used by the site's `recover`).
pub fn confluence_refused(refused: &Refused) -> Response {
    let refusal = &refused.0;
    let mut response = confluence_error(refusal.status_code(), &refusal.message);
    response.extensions_mut().insert(refusal.clone());
    response
}
