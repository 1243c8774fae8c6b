//! REST calls made by apps, recorded around the site's router: every
//! request to a product's REST API (`/rest/…`, `/wiki/rest/…`, and the
//! Forge `apiBaseUrl` prefixes `/ex/jira/{cloudId}/…`,
//! `/ex/confluence/{cloudId}/wiki/…`) that carries an app's credential (a
//! Connect JWT, a Forge product token, or a session naming the app's frame
//! in `X-Lodger-Dev-App`), with its status, timing and decoded token.
//!
//! A refused call (401 or 403) gets a [`Reason`]: the checks of
//! [`crate::platform::auth`] and [`crate::forge::rest_auth`] are run again
//! on the same request, this time to say which one fails and, for a `qsh`
//! mismatch, the canonical request the site computed next to the `qsh` the
//! token carried. The message is the one the site answered (carried on the
//! response as [`ErrorMessage`]). A check that depends on the clock is run
//! a moment later than the refusal; a token expiring in between would show
//! as expired, which is what it then is.
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
use crate::forge::scopes::required_scope;
use crate::platform::auth::{APP_HEADER, SESSION_COOKIE, has_scope, scope_for};
use crate::platform::errors::ErrorMessage;
use crate::site::{CONFLUENCE_CONTEXT_PATH, Site};
use lodger_connect::installation::Product;
use lodger_connect::jwt::{Expectation, JwtError, UnverifiedToken};
use lodger_connect::qsh::{canonical_request, query_string_hash};

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
    let (product, relative, api_base) = product_path(request.path)?;
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
    exchange.token = Some(token);
    if status == 401 || status == 403 {
        let message = response.extensions().get::<ErrorMessage>().map_or_else(
            || response.status().canonical_reason().unwrap_or_default().to_owned(),
            |m| m.0.clone(),
        );
        let call = Call { product, method: request.method, path: relative, query: request.query };
        let reason = diagnose(site, &call, &credential, api_base, status, now, message);
        exchange = exchange.refused(reason);
    }
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

/// A refused call, as the site's checks saw it.
struct Call<'a> {
    product: Product,
    method: &'a Method,
    path: &'a str,
    query: &'a str,
}

/// Which check refused `call`, and what it found.
fn diagnose(
    site: &Site,
    call: &Call<'_>,
    credential: &Credential<'_>,
    api_base: bool,
    status: u16,
    now: i64,
    message: String,
) -> Reason {
    let found = match credential {
        Credential::Jwt(_) | Credential::Session { .. } if api_base => None,
        Credential::Bearer(_) if !api_base => None,
        Credential::Jwt(token) => jwt(site, call, token, now),
        Credential::Bearer(token) => bearer(site, call, token, now),
        Credential::Session { account, app } => session(site, call, account.as_deref(), app),
    };
    // A call that passed every check of the app's credential and scope was
    // refused by the resource: for a user, that is the user's permission.
    let as_user = match credential {
        Credential::Session { .. } => true,
        Credential::Bearer(token) => product_tokens::lookup(&site.data().forge, token, now)
            .is_some_and(|grant| matches!(grant.kind, TokenKind::User { .. })),
        Credential::Jwt(_) => false,
    };
    let mut reason = found.unwrap_or_else(|| {
        let check = match status {
            401 => Check::Credentials,
            _ if as_user => Check::UserPermission,
            _ => Check::Other,
        };
        Reason::new(check, String::new())
    });
    reason.message = message;
    reason
}

/// The Connect JWT checks: shape, issuer, signature, time, `qsh`, scope.
fn jwt(site: &Site, call: &Call<'_>, token: &str, now: i64) -> Option<Reason> {
    let unverified = match UnverifiedToken::parse(token) {
        Ok(unverified) => unverified,
        Err(_) => return Some(Reason::new(Check::Malformed, "")),
    };
    let issuer = unverified.issuer().to_owned();
    let install = site.data().installs_in(call.product).get(&issuer).cloned();
    let Some(install) = install else { return Some(Reason::new(Check::IssuerUnknown, "")) };
    let received = lodger_connect::jwt::inspect(token)
        .ok()
        .and_then(|(_, claims)| claims["qsh"].as_str().map(str::to_owned));
    let method = call.method.as_str();
    let qsh = query_string_hash(method, call.path, call.query);
    match unverified.verify(&install.shared_secret, &Expectation::request(&qsh, now)) {
        Err(JwtError::QshMismatch | JwtError::ContextTokenNotAccepted) => Some(Reason {
            canonical_request: Some(canonical_request(method, call.path, call.query)),
            qsh_expected: Some(qsh),
            qsh_received: received,
            ..Reason::new(Check::Qsh, "")
        }),
        Err(JwtError::BadSignature) => Some(Reason::new(Check::Signature, "")),
        Err(JwtError::Expired) => Some(Reason::new(Check::Expiry, "")),
        Err(JwtError::NotYetValid) => Some(Reason::new(Check::NotYetValid, "")),
        Err(_) => Some(Reason::new(Check::Malformed, "")),
        Ok(_) => connect_scope(&install.scopes, call),
    }
}

/// The scope a Connect app lacks for `call`, if it lacks one.
fn connect_scope(granted: &[String], call: &Call<'_>) -> Option<Reason> {
    let needed = scope_for(call.method, call.path);
    (!has_scope(granted, needed))
        .then(|| Reason { scope: Some(needed.to_owned()), ..Reason::new(Check::MissingScope, "") })
}

/// The Forge scope an app lacks for `call`, if it lacks one.
fn forge_scope(site: &Site, app_id: &str, call: &Call<'_>) -> Option<Reason> {
    let data = site.data();
    let install = data.forge.installs.get(app_id)?;
    match required_scope(call.product, call.method, call.path) {
        None => Some(Reason::new(Check::Other, "")),
        Some(scope) if !install.manifest.has_scope(scope) => {
            Some(Reason { scope: Some(scope.to_owned()), ..Reason::new(Check::MissingScope, "") })
        }
        Some(_) => None,
    }
}

/// The Forge product token checks: known and live, then the scope.
fn bearer(site: &Site, call: &Call<'_>, token: &str, now: i64) -> Option<Reason> {
    let grant = product_tokens::lookup(&site.data().forge, token, now);
    let Some(grant) = grant else { return Some(Reason::new(Check::Credentials, "")) };
    forge_scope(site, &grant.app_id, call)
}

/// The checks of a user's call through an app's frame: session, app
/// enabled, then the app's scope.
fn session(site: &Site, call: &Call<'_>, account: Option<&str>, app: &str) -> Option<Reason> {
    if account.and_then(|a| site.user(a)).is_none() {
        return Some(Reason::new(Check::Credentials, ""));
    }
    if site.data().forge.installs.contains_key(app) {
        return forge_scope(site, app, call);
    }
    let install = site.data().installs_in(call.product).get(app).cloned();
    match install {
        Some(install) if install.enabled => connect_scope(&install.scopes, call),
        _ => Some(Reason::new(Check::NotEnabled, "")),
    }
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

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let header = Some("a=1; lodger_dev_user=557058:acme-dev; b=2");
        assert_eq!(cookie(header, SESSION_COOKIE).as_deref(), Some("557058:acme-dev"));
        assert_eq!(cookie(Some("a=1"), SESSION_COOKIE), None);
    }
}
