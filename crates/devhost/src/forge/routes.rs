//! The emulated Forge platform's own HTTP routes on every site: the JWKS
//! that verifies its invocation tokens (Forge: "Forge Remote essentials",
//! verifying remote requests; RFC 7517), and `POST /dev/forge/invoke`, the
//! way into [`super::invoke`] for the product page's `@forge/bridge` host
//! half (reply shaped like the bridge's `invoke`: `{success, payload |
//! error}`, the payload `{status, headers: {name: [value]}, body}` with a
//! JSON body parsed, as `RemoteInvokeResponse` in `@forge/bridge` 7.2.0).
//!
//! What it is not: the REST resources a Forge app calls (those are the
//! products', mounted under `apiBaseUrl` by [`crate::routes`](mod@crate::routes)).

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Value, json};
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::invocation_tokens::JWKS_PATH;
use super::invoke::{InvokeError, UiInvocation, invoke};
use crate::DevHost;
use crate::platform::auth::{SESSION_COOKIE, current_user};
use crate::site::Site;

/// The body of `POST /dev/forge/invoke`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InvokeRequest {
    app_id: String,
    module_key: String,
    #[serde(default)]
    extension: Value,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    path: String,
    #[serde(default)]
    body: Value,
}

/// `GET /dev/forge/jwks.json` and `POST /dev/forge/invoke`.
pub fn routes(
    host: Arc<DevHost>,
    site: Arc<Site>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    debug_assert_eq!(JWKS_PATH, "/dev/forge/jwks.json");
    let keys = Arc::clone(&host);
    let jwks = warp::get()
        .and(warp::path!("dev" / "forge" / "jwks.json"))
        .map(move || warp::reply::json(&keys.forge.jwks()).into_response());
    let invoke_route = warp::post()
        .and(warp::path!("dev" / "forge" / "invoke"))
        .and(warp::cookie::optional::<String>(SESSION_COOKIE))
        .and(warp::body::content_length_limit(1024 * 1024))
        .and(warp::body::json())
        .then(move |session: Option<String>, request: InvokeRequest| {
            let (host, site) = (Arc::clone(&host), Arc::clone(&site));
            async move { answer(&host, &site, session.as_deref(), request).await }
        });
    jwks.or(invoke_route).unify()
}

async fn answer(
    host: &DevHost,
    site: &Arc<Site>,
    session: Option<&str>,
    request: InvokeRequest,
) -> Response {
    let account_id = current_user(site, session).map(|u| u.account_id.clone());
    let body = match request.body {
        Value::Null => None,
        Value::String(text) => Some(text),
        other => Some(other.to_string()),
    };
    let invocation = UiInvocation {
        module_key: request.module_key,
        account_id,
        extension: request.extension,
        method: request.method.unwrap_or_else(|| "POST".to_owned()),
        path: request.path,
        body,
    };
    match invoke(host, site, &request.app_id, invocation).await {
        Ok(answer) => {
            // `RemoteInvokeResponse` of `@forge/bridge` 7.2.0 (`out/types.d.ts`):
            // `headers: Record<string, string[]>`, `body?: Record<string, any>`,
            // so a JSON answer reaches the page parsed; any other stays text.
            let json_body = answer
                .headers
                .get("content-type")
                .is_some_and(|t| t.starts_with("application/json"))
                .then(|| serde_json::from_str::<Value>(&answer.body).ok())
                .flatten();
            let headers: serde_json::Map<String, Value> =
                answer.headers.iter().map(|(n, v)| (n.clone(), json!([v]))).collect();
            warp::reply::json(&json!({
                "success": true,
                "payload": {
                    "status": answer.status,
                    "headers": headers,
                    "body": json_body.unwrap_or(Value::String(answer.body)),
                },
            }))
            .into_response()
        }
        Err(e) => {
            let status = match e {
                InvokeError::TimedOut | InvokeError::Unreachable(_) => StatusCode::BAD_GATEWAY,
                InvokeError::Signing => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::BAD_REQUEST,
            };
            let body = json!({"success": false, "error": {"message": e.to_string()}});
            warp::reply::with_status(warp::reply::json(&body), status).into_response()
        }
    }
}
