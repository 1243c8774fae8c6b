//! UI invocations: a Custom UI page's `invokeRemote` (from `@forge/bridge`)
//! reaching the remote behind its module's `resolver.endpoint` (Forge:
//! "Forge remote invocation contract": UI modules, REST, GET/POST/PUT/
//! PATCH/DELETE, 25 s timeout, no retries; "Calling a remote backend from a
//! Forge frontend").
//!
//! The request goes to `<remote.baseUrl><route.path><path>` with the
//! method the page gave, `Authorization: Bearer <FIT>` carrying `context`
//! (`cloudId`, `siteUrl`, `moduleKey`, `extension`) and `principal` (the
//! user's account id), `x-forge-oauth-system` when the endpoint's
//! `auth.appSystemToken.enabled` and `x-forge-oauth-user` when its
//! `auth.appUserToken.enabled` and a user is logged in. The page's path is
//! appended after the route's path (unverified: the docs show the path in
//! the `invokeRemote` call, not how Forge joins it to `route.path`).
//!
//! [`invoke`] is the API; `POST /dev/forge/invoke` ([`super::routes`])
//! exposes it to the product page's bridge host half, answering like
//! `@forge/bridge`'s `invoke` reply: `{success: true, payload: {status,
//! headers, body}}`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use warp::http::Method;

use super::invocation_tokens::{Invocation, UiContext};
use super::product_tokens::{self, TokenKind};
use super::state::license_of;
use crate::DevHost;
use crate::inspector::exchanges::{Exchange, Kind};
use crate::inspector::record::outcome;
use crate::site::Site;

/// How long a UI invocation may take.
pub const UI_TIMEOUT: Duration = Duration::from_secs(25);

/// What the page asked for.
#[derive(Debug, Clone, Default)]
pub struct UiInvocation {
    /// The UI module's key; its `resolver.endpoint` picks the endpoint.
    pub module_key: String,
    /// The logged-in user, if any.
    pub account_id: Option<String>,
    /// The module's `extension` context (issue, project, content…).
    pub extension: Value,
    /// The method (`GET`, `POST`, `PUT`, `PATCH`, `DELETE`).
    pub method: String,
    /// The path the page passed, appended to the route's path.
    pub path: String,
    /// The body, if any.
    pub body: Option<String>,
}

/// The remote's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteAnswer {
    /// Its status.
    pub status: u16,
    /// Its headers (lowercase names; repeated ones joined with `, `).
    pub headers: BTreeMap<String, String>,
    /// Its body, as text.
    pub body: String,
}

/// Why an invocation could not reach the remote.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvokeError {
    /// The app is not installed in the site.
    #[error("Forge app {0} is not installed in this site")]
    NotInstalled(String),
    /// The manifest has no UI module by this key.
    #[error("the app has no UI module `{0}`")]
    UnknownModule(String),
    /// The module has no `resolver.endpoint`, or it names no remote.
    #[error("module `{0}` has no resolver endpoint on a remote")]
    NoEndpoint(String),
    /// The method is not one Forge remotes accept for UI calls.
    #[error("method {0} is not one of GET, POST, PUT, PATCH, DELETE")]
    BadMethod(String),
    /// The token could not be signed.
    #[error("cannot sign the invocation token")]
    Signing,
    /// No answer within [`UI_TIMEOUT`].
    #[error("the remote did not answer within 25 s")]
    TimedOut,
    /// The request failed (connection refused, bad URL…).
    #[error("the remote could not be reached: {0}")]
    Unreachable(String),
}

/// Invokes the remote behind `invocation.module_key` of app `app_id`.
/// Every invocation is recorded in the site's inspector, one that fails
/// before anything is sent (unknown app or module, no endpoint, a method
/// Forge does not accept) with why.
pub async fn invoke(
    host: &DevHost,
    site: &Arc<Site>,
    app_id: &str,
    invocation: UiInvocation,
) -> Result<RemoteAnswer, InvokeError> {
    let module_key = invocation.module_key.clone();
    let asked = invocation.method.to_ascii_uppercase();
    let started = std::time::Instant::now();
    let (request, url, fit, invocation_method) = match prepare(host, site, app_id, invocation) {
        Ok(prepared) => prepared,
        Err(e) => {
            site.record(
                Exchange::to_app(Kind::ForgeInvocation, app_id, &asked, "")
                    .about(format!("module {module_key}: not sent"))
                    .answered(Err::<u16, _>(&e), started),
            );
            return Err(e);
        }
    };
    tracing::info!(site = %site.name, app = %app_id, module = %module_key, "Forge UI invocation");
    let started = std::time::Instant::now();
    let sent = request.send().await;
    site.record(
        Exchange::to_app(Kind::ForgeInvocation, app_id, invocation_method.as_str(), &url)
            .about(format!("module {module_key}"))
            .token("FIT", &fit)
            .answered(outcome(&sent), started),
    );
    let response = sent.map_err(|e| {
        if e.is_timeout() {
            InvokeError::TimedOut
        } else {
            InvokeError::Unreachable(format!(
                "{} ({url})",
                if e.is_connect() { "connection failed" } else { "request failed" }
            ))
        }
    })?;
    let status = response.status().as_u16();
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in response.headers() {
        let value = value.to_str().unwrap_or_default().to_owned();
        headers
            .entry(name.as_str().to_owned())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    let body =
        response.text().await.map_err(|_| InvokeError::Unreachable("body unreadable".into()))?;
    Ok(RemoteAnswer { status, headers, body })
}

/// What [`prepare`] makes: the request, its URL, the FIT, the method.
type Prepared = (reqwest::RequestBuilder, String, String, Method);

/// The request to the remote, its URL, the FIT it carries and its method;
/// or why there is none.
fn prepare(
    host: &DevHost,
    site: &Site,
    app_id: &str,
    invocation: UiInvocation,
) -> Result<Prepared, InvokeError> {
    let method = invocation.method.to_ascii_uppercase();
    let method = match method.as_str() {
        "GET" | "POST" | "PUT" | "PATCH" | "DELETE" => Method::from_bytes(method.as_bytes())
            .map_err(|_| InvokeError::BadMethod(method.clone()))?,
        _ => return Err(InvokeError::BadMethod(method)),
    };
    let module_key = invocation.module_key.clone();
    let invocation_method = method.clone();
    let (request, url, fit) = {
        let mut data = site.data();
        let install = data
            .forge
            .installs
            .get(app_id)
            .cloned()
            .ok_or_else(|| InvokeError::NotInstalled(app_id.to_owned()))?;
        let manifest = &install.manifest;
        let module = manifest
            .ui_module(&module_key)
            .ok_or_else(|| InvokeError::UnknownModule(module_key.clone()))?;
        let no_endpoint = || InvokeError::NoEndpoint(module_key.clone());
        let endpoint = module
            .resolver_endpoint
            .as_deref()
            .and_then(|key| manifest.endpoint(key))
            .ok_or_else(no_endpoint)?;
        let remote = manifest.remote(&endpoint.remote).ok_or_else(no_endpoint)?;
        let license = license_of(&data, &install);
        let forge = &mut data.forge;
        let cloud_id = forge.cloud_id.clone().unwrap_or_default();
        let api_base_url =
            super::install::api_base_url_for(&site.base_url, &cloud_id, module.product());
        let signed = Invocation {
            install: &install,
            api_base_url: &api_base_url,
            module_type: &module.module_type,
            module_key: &module.key,
            license_active: license,
            ui: Some(UiContext {
                cloud_id,
                site_url: site.base_url.clone(),
                module_key: module.key.clone(),
                extension: invocation.extension.clone(),
                account_id: invocation.account_id.clone(),
            }),
        };
        let fit =
            host.forge.sign(&signed, lodger_connect::now()).map_err(|_| InvokeError::Signing)?;
        let now = lodger_connect::now();
        let system = endpoint
            .auth
            .system
            .then(|| product_tokens::mint(forge, &install, TokenKind::System, now));
        let user = match (&invocation.account_id, endpoint.auth.user) {
            (Some(account_id), true) => Some(product_tokens::mint(
                forge,
                &install,
                TokenKind::User { account_id: account_id.clone() },
                now,
            )),
            _ => None,
        };
        let url = join(&remote.base_url, &endpoint.route_path, &invocation.path);
        let mut request = host
            .http
            .request(method, &url)
            .timeout(UI_TIMEOUT)
            .header("Authorization", format!("Bearer {fit}"));
        if let Some(token) = system {
            request = request.header("x-forge-oauth-system", token);
        }
        if let Some(token) = user {
            request = request.header("x-forge-oauth-user", token);
        }
        if let Some(body) = invocation.body {
            request = request.header("Content-Type", "application/json").body(body);
        }
        (request, url, fit)
    };
    Ok((request, url, fit, invocation_method))
}

/// `base + route + path`, with one slash where two would meet.
fn join(base: &str, route: &str, path: &str) -> String {
    let mut url = format!("{base}{route}");
    if !path.is_empty() {
        if url.ends_with('/') && path.starts_with('/') {
            url.pop();
        } else if !url.ends_with('/') && !path.starts_with('/') {
            url.push('/');
        }
        url.push_str(path);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_route_and_page_path_with_one_slash() {
        assert_eq!(join("http://r", "/forge/invoke", ""), "http://r/forge/invoke");
        assert_eq!(join("http://r", "/forge/invoke", "/x"), "http://r/forge/invoke/x");
        assert_eq!(join("http://r", "/forge/", "/x"), "http://r/forge/x");
        assert_eq!(join("http://r", "/forge", "x?y=1"), "http://r/forge/x?y=1");
    }
}
