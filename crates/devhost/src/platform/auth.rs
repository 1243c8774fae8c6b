//! Who is calling the emulated host's REST API, and may they?
//!
//! Like a real Atlassian site, the emulator accepts two kinds of caller:
//!
//! - **the app**, with `Authorization: JWT <token>` signed by the
//!   installation's shared secret, `iss` = app key and the `qsh` of the exact
//!   request (path relative to the site's base URL);
//! - **a user through an app's iframe** (`AP.request`): the emulated product
//!   page forwards the call with the user's session cookie and names the app
//!   in `X-Lodger-Dev-App`, so the host applies the user's permissions *and*
//!   the app's scopes, as Jira does. The header may name a Forge app id
//!   instead (a Custom UI frame's `requestJira` through the page's bridge
//!   host half): then the Forge app's manifest scopes are checked, with
//!   [`crate::forge::scopes`], as for its product tokens.
//!
//! Anything else is 401; a known caller outside the app's scopes is 403.
//!
//! Jira and the site's Confluence are separate tenants: a call to
//! Confluence's REST (under `/wiki`) is checked against the Confluence
//! installations only, and its `qsh` is computed on the path relative to
//! `<site>/wiki`, the base URL Confluence gave the app. A token signed with a
//! Jira installation's secret means nothing there.

use warp::http::Method;

use crate::forge::install::ForgeInstallation;
use crate::site::{AppInstall, Site, User};
use lodger_connect::installation::Product;
use lodger_connect::jwt::{Expectation, UnverifiedToken};
use lodger_connect::qsh::query_string_hash;

/// The cookie holding the emulated session's account id.
pub const SESSION_COOKIE: &str = "lodger_dev_user";
/// The header the product page adds to `AP.request` calls: which app's iframe asked.
pub const APP_HEADER: &str = "x-lodger-dev-app";

/// A verified caller.
#[derive(Debug, Clone)]
pub enum Caller {
    /// The app itself, signed with its shared secret.
    App {
        /// The app key.
        app_key: String,
    },
    /// A user, through an app's iframe (`AP.request`).
    User {
        /// The user.
        user: User,
        /// The app whose iframe made the call.
        app_key: Option<String>,
    },
}

impl Caller {
    /// The app on whose behalf the call is made, if any.
    pub fn app_key(&self) -> Option<&str> {
        match self {
            Caller::App { app_key } => Some(app_key),
            Caller::User { app_key, .. } => app_key.as_deref(),
        }
    }

    /// The user, if a user is calling.
    pub fn user(&self) -> Option<&User> {
        match self {
            Caller::User { user, .. } => Some(user),
            Caller::App { .. } => None,
        }
    }
}

/// Why the emulator refused a REST call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// No credentials, or credentials that do not verify.
    #[error("{0}")]
    Unauthorized(String),
    /// A known caller without the permission or scope.
    #[error("{0}")]
    Forbidden(String),
}

/// The parts of a request authentication needs.
#[derive(Debug)]
pub struct RestRequest<'a> {
    /// The product whose REST API is called.
    pub product: Product,
    /// The method.
    pub method: &'a Method,
    /// The path, relative to the product's base URL (no `/wiki`).
    pub path: &'a str,
    /// The raw query.
    pub query: &'a str,
    /// The `Authorization` header.
    pub authorization: Option<&'a str>,
    /// The session cookie's account id.
    pub session: Option<&'a str>,
    /// The `X-Lodger-Dev-App` header.
    pub via_app: Option<&'a str>,
}

/// Authenticates a REST call and checks the app's scopes for its method.
pub fn authenticate(site: &Site, request: &RestRequest<'_>, now: i64) -> Result<Caller, Refusal> {
    // Forge product tokens count only under the site's apiBaseUrl
    // ([`crate::forge::rest_auth`]), as they do only at api.atlassian.com.
    if request.authorization.is_some_and(|h| h.starts_with("Bearer ")) {
        return Err(Refusal::Unauthorized(
            "a Bearer product token is accepted only under apiBaseUrl (/ex/jira/{cloudId}/…)"
                .into(),
        ));
    }
    let caller = if let Some(token) = request.authorization.and_then(|h| h.strip_prefix("JWT ")) {
        let unverified = UnverifiedToken::parse(token.trim())
            .map_err(|e| Refusal::Unauthorized(format!("JWT rejected: {e}")))?;
        let app_key = unverified.issuer().to_owned();
        let install = install_of(site, request.product, &app_key).ok_or_else(|| {
            Refusal::Unauthorized("JWT issuer is not an app installed on this site".into())
        })?;
        let qsh = query_string_hash(request.method.as_str(), request.path, request.query);
        unverified
            .verify(&install.shared_secret, &Expectation::request(&qsh, now))
            .map_err(|e| Refusal::Unauthorized(format!("JWT rejected: {e}")))?;
        Caller::App { app_key }
    } else if let Some(account_id) = request.session {
        let user = site
            .user(account_id)
            .ok_or_else(|| Refusal::Unauthorized("session names no user of this site".into()))?
            .clone();
        // A session cookie counts only on calls the product page forwards for
        // an app's iframe (a custom header, so no other page can forge one
        // without a CORS preflight the emulator never grants).
        let Some(key) = request.via_app.filter(|k| !k.is_empty()) else {
            return Err(Refusal::Unauthorized(
                "a session is accepted only on AP.request calls from the product page".into(),
            ));
        };
        // A Forge app's Custom UI frame (`requestJira` / `requestConfluence`
        // through the page's bridge host half): the user's permissions and
        // the Forge app's manifest scopes, as for its product tokens.
        if let Some(forge) = forge_install_of(site, key) {
            return forge_scopes(&forge, request)
                .map(|()| Caller::User { user, app_key: Some(key.to_owned()) });
        }
        match install_of(site, request.product, key) {
            Some(install) if install.enabled => {}
            _ => return Err(Refusal::Forbidden(format!("app {key} is not enabled on this site"))),
        }
        Caller::User { user, app_key: Some(key.to_owned()) }
    } else {
        return Err(Refusal::Unauthorized("authentication required (JWT or session)".into()));
    };
    if let Some(app_key) = caller.app_key() {
        let install = install_of(site, request.product, app_key)
            .ok_or_else(|| Refusal::Forbidden("app not installed".into()))?;
        let needed = scope_for(request.method, request.path);
        if !has_scope(&install.scopes, needed) {
            return Err(Refusal::Forbidden(format!(
                "app {app_key} lacks the {needed} scope for {} {}",
                request.method, request.path
            )));
        }
    }
    Ok(caller)
}

/// The installation of `app_key` in `product`, including one whose
/// `installed` callback is still in flight (the app may call back with the
/// new secret).
///
/// Only the current installation's shared secret verifies an app's token:
/// a reinstall replaces the secret and an uninstall removes the
/// installation, so a token signed with a superseded or uninstalled secret
/// gets 401, as on Jira (Atlassian: "Security for Connect apps": the
/// installation secret is exchanged at install time, per installation).
/// lodger's revocation check relies on that 401 (`tests/dev_revocation.rs`).
fn install_of(site: &Site, product: Product, app_key: &str) -> Option<AppInstall> {
    site.data().installs_in(product).get(app_key).cloned()
}

/// The Forge app `app_id` installed in `site`, if it is one.
fn forge_install_of(site: &Site, app_id: &str) -> Option<ForgeInstallation> {
    site.data().forge.installs.get(app_id).cloned()
}

/// Whether Forge app `install` may make `request` from its Custom UI: it
/// is installed in the product, and its manifest grants the scope
/// [`crate::forge::scopes`] names for the call (Forge: "Permissions";
/// `requestJira` runs "as the current user" with the app's scopes).
fn forge_scopes(install: &ForgeInstallation, request: &RestRequest<'_>) -> Result<(), Refusal> {
    if !install.manifest.products.contains(&request.product) {
        return Err(Refusal::Forbidden(format!(
            "Forge app {} is not installed in {}",
            install.app_id,
            request.product.as_str()
        )));
    }
    crate::forge::scopes::check(install, request.product, request.method, request.path)
}

/// The scope a request needs (Atlassian: "Scopes for Connect apps"): by
/// method, except for the resources whose POST, PUT or DELETE only reads or
/// manages the app's own registrations, which Atlassian's REST reference
/// lists under READ (search, permission checks, comments by ids, dynamic
/// webhooks).
pub fn scope_for(method: &Method, path: &str) -> &'static str {
    let resource = path
        .strip_prefix("/rest/api/")
        .and_then(|rest| rest.split_once('/'))
        .map_or("", |(_version, resource)| resource);
    let reads = matches!(resource, "search" | "search/jql" | "permissions/check" | "comment/list")
        || resource == "webhook"
        || resource.starts_with("webhook/");
    match *method {
        Method::GET | Method::HEAD | Method::OPTIONS => "READ",
        _ if reads => "READ",
        Method::DELETE => "DELETE",
        _ => "WRITE",
    }
}

/// Scopes imply the ones below them: ADMIN > PROJECT_ADMIN > DELETE > WRITE > READ.
pub fn has_scope(granted: &[String], needed: &str) -> bool {
    const ORDER: [&str; 5] = ["READ", "WRITE", "DELETE", "PROJECT_ADMIN", "ADMIN"];
    let rank = |scope: &str| ORDER.iter().position(|s| *s == scope);
    let Some(needed) = rank(needed) else { return false };
    granted.iter().filter_map(|s| rank(s)).any(|g| g >= needed)
}

/// The session value of a visitor who logged out.
pub const ANONYMOUS: &str = "anonymous";

/// The logged-in user of a product page: the session's, or the site admin
/// for a first visit.
pub(crate) fn current_user<'a>(site: &'a Site, session: Option<&str>) -> Option<&'a User> {
    match session {
        Some(ANONYMOUS) => None,
        Some(account) => site.user(account),
        None => site.users.first(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_permission_checks_and_webhooks_need_only_read() {
        assert_eq!(scope_for(&Method::POST, "/rest/api/3/search"), "READ");
        assert_eq!(scope_for(&Method::POST, "/rest/api/2/permissions/check"), "READ");
        assert_eq!(scope_for(&Method::DELETE, "/rest/api/3/webhook"), "READ");
        assert_eq!(scope_for(&Method::PUT, "/rest/api/3/webhook/refresh"), "READ");
        assert_eq!(scope_for(&Method::POST, "/rest/api/3/issue"), "WRITE");
        assert_eq!(scope_for(&Method::DELETE, "/rest/api/3/issue/LOD-1"), "DELETE");
        assert_eq!(scope_for(&Method::PUT, "/rest/api/3/searchable"), "WRITE");
        assert_eq!(scope_for(&Method::POST, "/rest/api/3/comment/list"), "READ");
        assert_eq!(scope_for(&Method::POST, "/rest/api/3/issue/LOD-1/comment"), "WRITE");
        assert_eq!(scope_for(&Method::DELETE, "/rest/api/3/issue/LOD-1/comment/1"), "DELETE");
    }

    #[test]
    fn higher_scopes_imply_lower_ones() {
        let granted = vec!["WRITE".to_owned()];
        assert!(has_scope(&granted, "READ"));
        assert!(has_scope(&granted, "WRITE"));
        assert!(!has_scope(&granted, "DELETE"));
        assert!(!has_scope(&[], "READ"));
    }
}
