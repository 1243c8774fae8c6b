//! REST calls made by apps, recorded around the site's router: every
//! request to a product's REST API (`/rest/…`, `/wiki/rest/…`, and the
//! Forge `apiBaseUrl` prefixes `/ex/jira/{cloudId}/…`,
//! `/ex/confluence/{cloudId}/wiki/…`) that carries an app's credential (a
//! Connect JWT, a Forge product token, or a session naming the app's frame
//! in `X-Lodger-Dev-App`), with its status, timing and decoded token.
//!
//! A refused call (401 or 403) gets a [`Reason`]: the [`Refusal`] that
//! [`crate::platform::auth`] or [`crate::forge::rest_auth`] returned when
//! it checked the call, carried on the response (with its message, as
//! [`ErrorMessage`]) by [`crate::platform::errors::refused`]. So the check
//! shown is the one that refused, found once, at the time of the call:
//! which one failed and, for a `qsh` mismatch, the canonical request the
//! site computed next to the `qsh` the token carried. A refusal by the
//! resource itself (no [`Refusal`] on the response) is named by its status.
//!
//! What it is not: authentication. Nothing here decides what is allowed.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use warp::Filter;
use warp::http::{HeaderMap, Method};
use warp::path::FullPath;
use warp::reply::Response;

use super::exchanges::{Check, Direction, Exchange, Kind, Reason};
use super::record::{opaque, token_view};
use crate::forge::product_tokens::{self, TokenKind};
use crate::platform::auth::{APP_HEADER, Refusal, RefusalReason, SESSION_COOKIE};
use crate::platform::errors::ErrorMessage;
use crate::site::{CONFLUENCE_CONTEXT_PATH, Site};
use lodger_connect::installation::Product;

/// `inner`, with the REST calls of apps recorded in `site`'s inspector.
pub fn around<F>(
    site: Arc<Site>,
    inner: F,
) -> impl Filter<Extract = (Response,), Error = Infallible> + Clone
where
    F: Filter<Extract = (Response,), Error = Infallible> + Clone + Send + Sync + 'static,
{
    let query = warp::query::raw().or(warp::any().map(String::new)).unify();
    warp::any()
        .map(Instant::now)
        .and(warp::method())
        .and(warp::path::full())
        .and(query)
        .and(warp::header::headers_cloned())
        .and(inner)
        .map(
            move |started: Instant,
                  method: Method,
                  path: FullPath,
                  query: String,
                  headers: HeaderMap,
                  response: Response| {
                let request = Seen { method: &method, path: path.as_str(), query: &query };
                if let Some(exchange) = exchange(&site, &request, &headers, &response, started) {
                    site.record(exchange);
                }
                response
            },
        )
}

/// The request line as the site received it.
struct Seen<'a> {
    method: &'a Method,
    path: &'a str,
    query: &'a str,
}

/// The credential an app's request carried.
enum Credential<'a> {
    Jwt(&'a str),
    Bearer(&'a str),
    Session { account: Option<String>, app: &'a str },
}

/// The exchange for one request, or `None` when it is not an app's REST call.
fn exchange(
    site: &Site,
    request: &Seen<'_>,
    headers: &HeaderMap,
    response: &Response,
    started: Instant,
) -> Option<Exchange> {
    let (product, _, _) = product_path(request.path)?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let authorization = header("authorization").map(str::trim);
    let via_app = header(APP_HEADER).filter(|app| !app.is_empty());
    let credential = if let Some(token) = authorization.and_then(|h| h.strip_prefix("JWT ")) {
        Credential::Jwt(token.trim())
    } else if let Some(token) = authorization.and_then(|h| h.strip_prefix("Bearer ")) {
        Credential::Bearer(token.trim())
    } else if let Some(app) = via_app {
        Credential::Session { account: cookie(header("cookie"), SESSION_COOKIE), app }
    } else {
        return None;
    };
    let now = lodger_connect::now();
    let (app, token) = match &credential {
        Credential::Jwt(token) => {
            let view = token_view("JWT", token);
            let issuer = view.claims.as_ref().and_then(|c| c["iss"].as_str()).unwrap_or("?");
            (issuer.to_owned(), view)
        }
        Credential::Bearer(token) => match product_tokens::lookup(&site.data().forge, token, now) {
            Some(grant) => {
                let kind = match grant.kind {
                    TokenKind::System => "system (asApp)".to_owned(),
                    TokenKind::User { account_id } => format!("user {account_id} (asUser)"),
                };
                (grant.app_id, opaque("product token", kind))
            }
            None => ("?".to_owned(), opaque("product token", "unknown or expired")),
        },
        Credential::Session { account, app } => {
            let user = account.clone().unwrap_or_else(|| "no session".into());
            ((*app).to_owned(), opaque("session", format!("user {user} through the app's frame")))
        }
    };
    let full = match request.query {
        "" => request.path.to_owned(),
        query => format!("{}?{query}", request.path),
    };
    let status = response.status().as_u16();
    let mut exchange =
        Exchange::new(Direction::AppToSite, Kind::Rest, &app, request.method.as_str(), &full)
            .about(format!("{} REST", product.as_str()))
            .answered(Ok::<u16, Infallible>(status), started);
    if status == 401 || status == 403 {
        let as_user = match &credential {
            Credential::Session { .. } => true,
            Credential::Bearer(_) => {
                token.subject.as_deref().is_some_and(|s| s.starts_with("user "))
            }
            Credential::Jwt(_) => false,
        };
        exchange = exchange.refused(reason(response, status, as_user));
    }
    exchange.token = Some(token);
    Some(exchange)
}

/// The product, the path relative to its base URL, and whether it came
/// under a Forge `apiBaseUrl`; `None` for paths that are no product's REST.
fn product_path(path: &str) -> Option<(Product, &str, bool)> {
    if let Some(rest) = path.strip_prefix("/ex/jira/") {
        let tail = &rest[rest.find('/')?..];
        return tail.starts_with("/rest/").then_some((Product::Jira, tail, true));
    }
    if let Some(rest) = path.strip_prefix("/ex/confluence/") {
        let tail = rest[rest.find('/')?..].strip_prefix(CONFLUENCE_CONTEXT_PATH)?;
        return tail.starts_with("/rest/").then_some((Product::Confluence, tail, true));
    }
    if let Some(tail) = path.strip_prefix(CONFLUENCE_CONTEXT_PATH) {
        return tail.starts_with("/rest/").then_some((Product::Confluence, tail, false));
    }
    path.starts_with("/rest/").then_some((Product::Jira, path, false))
}

/// The value of cookie `name` in a `Cookie` header.
fn cookie(header: Option<&str>, name: &str) -> Option<String> {
    header?.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name).then(|| value.to_owned())
    })
}

/// Why a call answered `status` was refused: the [`Refusal`] the site's
/// checks returned, carried on the response by
/// [`crate::platform::errors::refused`], or for a refusal of the resource
/// itself (no [`Refusal`] on the response) what its status says: 401,
/// credentials; 403 to a user, the user's permission.
fn reason(response: &Response, status: u16, as_user: bool) -> Reason {
    let message = response.extensions().get::<ErrorMessage>().map_or_else(
        || response.status().canonical_reason().unwrap_or_default().to_owned(),
        |m| m.0.clone(),
    );
    if let Some(refusal) = response.extensions().get::<Refusal>() {
        return Reason { message, ..found(&refusal.reason) };
    }
    let check = match status {
        401 => Check::Credentials,
        _ if as_user => Check::UserPermission,
        _ => Check::Other,
    };
    Reason::new(check, message)
}

/// The inspector's view of the check that failed (the message is set by
/// the caller).
pub fn found(reason: &RefusalReason) -> Reason {
    let check = match reason {
        RefusalReason::NoCredentials
        | RefusalReason::UnknownUser
        | RefusalReason::UnknownProductToken => Check::Credentials,
        RefusalReason::Malformed => Check::Malformed,
        RefusalReason::UnknownIssuer => Check::IssuerUnknown,
        RefusalReason::Signature => Check::Signature,
        RefusalReason::Expired => Check::Expiry,
        RefusalReason::NotYetValid => Check::NotYetValid,
        RefusalReason::Qsh { canonical_request, expected, received } => {
            return Reason {
                canonical_request: Some(canonical_request.clone()),
                qsh_expected: Some(expected.clone()),
                qsh_received: received.clone(),
                ..Reason::new(Check::Qsh, "")
            };
        }
        RefusalReason::NotEnabled => Check::NotEnabled,
        RefusalReason::MissingScope { scope } => {
            return Reason { scope: Some(scope.clone()), ..Reason::new(Check::MissingScope, "") };
        }
        RefusalReason::CredentialKind => Check::CredentialKind,
        RefusalReason::WrongTenant => Check::WrongTenant,
        RefusalReason::NotAvailable => Check::Other,
    };
    Reason::new(check, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_paths_are_relative_to_the_products_base_url() {
        assert_eq!(
            product_path("/rest/api/3/myself"),
            Some((Product::Jira, "/rest/api/3/myself", false))
        );
        assert_eq!(
            product_path("/wiki/rest/api/content/1"),
            Some((Product::Confluence, "/rest/api/content/1", false))
        );
        assert_eq!(
            product_path("/ex/jira/abc/rest/api/3/issue/1"),
            Some((Product::Jira, "/rest/api/3/issue/1", true))
        );
        assert_eq!(
            product_path("/ex/confluence/abc/wiki/rest/api/content"),
            Some((Product::Confluence, "/rest/api/content", true))
        );
        assert_eq!(product_path("/browse/LOD-1"), None);
        assert_eq!(product_path("/dev/inspector.json"), None);
    }

    /// The reason shown is the one the response carries, not a second run
    /// of the checks: a re-check of this request would find an unknown
    /// issuer (no app is installed), the refusal says the token expired.
    #[test]
    fn the_refusal_recorded_is_the_one_the_response_carries() {
        use lodger_connect::jwt::{Claims, sign};
        use lodger_connect::secret::Secret;

        let site = Site::seeded("acme", "http://127.0.0.1:2990");
        let token = sign(&Claims::new("app", 1000, 180, "abc"), &Secret::new("s"));
        let mut headers = HeaderMap::new();
        headers.insert("authorization", format!("JWT {token}").parse().unwrap());
        let refusal =
            Refusal::unauthorized(RefusalReason::Expired, "JWT rejected: the token has expired");
        let response = crate::platform::errors::refused(&refusal);
        let seen = Seen { method: &Method::GET, path: "/rest/api/3/myself", query: "" };
        let exchange = exchange(&site, &seen, &headers, &response, Instant::now()).unwrap();
        let reason = exchange.refusal.unwrap();
        assert_eq!(reason.check, Check::Expiry);
        assert_eq!(reason.message, "JWT rejected: the token has expired");
        assert_eq!(exchange.status, Some(401));
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let header = Some("a=1; lodger_dev_user=557058:acme-dev; b=2");
        assert_eq!(cookie(header, SESSION_COOKIE).as_deref(), Some("557058:acme-dev"));
        assert_eq!(cookie(Some("a=1"), SESSION_COOKIE), None);
    }
}
