//! Serving an installed Forge app's Custom UI resources to its iframes, as
//! Forge's CDN does (Forge: "Custom UI", resources; "Custom UI security" /
//! "Content security and egress controls" for the CSP; `@forge/bridge`
//! 7.2.0 `out/bridge.js` for `globalThis.__bridge`).
//!
//! **The origin.** Forge serves each app's resources from an origin of
//! its own, on `*.cdn.prod.atlassian-dev.net`, never the product's and
//! never the app's remote, so that a resource can reach neither the site's
//! cookies nor another app's storage. The emulator does the same on the
//! site's own port with a host name of the app's own:
//! `http://<app-uuid>.localhost:<site port>` ([`resource_origin`]). That is
//! a different origin from the site whether the site is opened as
//! `127.0.0.1` or as `localhost`, a different one for every app, and needs
//! no second listener: browsers resolve every `*.localhost` name to the
//! loopback address (RFC 6761 §6.3; Chromium does it without asking DNS).
//! Under such a host name the site serves nothing but that app's resources
//! ([`routes`] answers every request whose `Host` is one; 404 otherwise).
//! Clients that do not resolve `*.localhost` (curl, reqwest) reach it with
//! an explicit `Host` header.
//!
//! **What is served.** `/<resource key>/<file>` from the resource's folder
//! (`resources[].path` in the manifest, under the folder the app was
//! installed from). `index.html` gets one script injected at the very top
//! of `<head>`, before the app's bundle: the frame half of the bridge
//! ([`FRAME_SCRIPT`], `page/forge-frame.js`), which defines
//! `globalThis.__bridge.callBridge(name, payload)` and posts each call to
//! the product page. `@forge/bridge` reads `__bridge` when its modules
//! load, so it must exist before the app's first script runs.
//!
//! **The CSP** ([`content_security_policy`]) is Forge's default for Custom
//! UI: scripts, styles, images, fonts and `fetch` from the resource's own
//! origin only; inline script only the injected one (by its hash); inline
//! styles and scripts only when `permissions.content` allows
//! `unsafe-inline`; framed only by the site (`frame-ancestors`). The exact
//! directives Forge sends are not published in full (unverified beyond the
//! documented rules).
//!
//! Each frame's document (and each request that finds nothing) is
//! recorded in the site's inspector, kind `iframe`, under the Forge app id.
//!
//! What it is not: Forge's CDN. No cache headers beyond `no-cache`, no
//! asset hashing, no `permissions.external` egress beyond the above.

use std::convert::Infallible;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use base64::Engine;
use sha2::{Digest, Sha256};
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::state::ForgeInstallation;
use crate::inspector::exchanges::{Exchange, Kind};
use crate::site::Site;

/// The frame half of the bridge, injected into every resource's `index.html`.
pub const FRAME_SCRIPT: &str = include_str!("../page/forge-frame.js");

/// The host-name suffix of resource origins.
const SUFFIX: &str = ".localhost";

/// The DNS label of `app_id`'s resource origin: the uuid of its ARI
/// (`ari:cloud:ecosystem::app/<uuid>`), lowercase; `None` if it is not one.
pub fn origin_label(app_id: &str) -> Option<String> {
    let uuid = app_id.rsplit('/').next()?.to_ascii_lowercase();
    let ok = !uuid.is_empty()
        && uuid.len() <= 63
        && uuid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    ok.then_some(uuid)
}

/// `http://<app-uuid>.localhost:<site port>`: where `app_id`'s resources
/// are served for `site`.
pub fn resource_origin(site: &Site, app_id: &str) -> Option<String> {
    let label = origin_label(app_id)?;
    let url = reqwest::Url::parse(&site.base_url).ok()?;
    let port = url.port_or_known_default()?;
    Some(format!("{}://{label}{SUFFIX}:{port}", url.scheme()))
}

/// The URL of resource `resource_key`'s `index.html` of `install` on `site`.
pub fn resource_url(
    site: &Site,
    install: &ForgeInstallation,
    resource_key: &str,
) -> Option<String> {
    install.manifest.resource(resource_key)?;
    Some(format!("{}/{resource_key}/index.html", resource_origin(site, &install.app_id)?))
}

/// The origins allowed to frame resources: the site as `127.0.0.1` and as
/// `localhost` (both name the same emulated site).
fn frame_ancestors(site: &Site) -> String {
    let mut origins = vec![site.base_url.trim_end_matches('/').to_owned()];
    if let Ok(url) = reqwest::Url::parse(&site.base_url) {
        let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
        let other = match url.host_str() {
            Some("127.0.0.1") => Some("localhost"),
            Some("localhost") => Some("127.0.0.1"),
            _ => None,
        };
        if let Some(other) = other {
            origins.push(format!("{}://{other}{port}", url.scheme()));
        }
    }
    origins.join(" ")
}

/// `'sha256-…'` of [`FRAME_SCRIPT`], the one inline script allowed.
fn frame_script_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        let digest = Sha256::digest(FRAME_SCRIPT.as_bytes());
        format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest))
    })
}

/// The Content-Security-Policy of `install`'s resources on `site`.
pub fn content_security_policy(site: &Site, install: &ForgeInstallation) -> String {
    let manifest = &install.manifest;
    let inline = |list: &[String]| {
        if list.iter().any(|s| s.trim_matches('\'') == "unsafe-inline") {
            " 'unsafe-inline'"
        } else {
            ""
        }
    };
    // With 'unsafe-inline' allowed, a hash would switch it off again (CSP 3).
    let scripts = match inline(&manifest.content_scripts) {
        "" => format!("'self' {}", frame_script_hash()),
        any => format!("'self'{any}"),
    };
    format!(
        "default-src 'none'; script-src {scripts}; style-src 'self'{}; img-src 'self' data: blob:; \
         font-src 'self' data:; connect-src 'self'; media-src 'self'; base-uri 'self'; \
         form-action 'self'; object-src 'none'; frame-ancestors {}",
        inline(&manifest.content_styles),
        frame_ancestors(site)
    )
}

/// Every request to a resource origin of `site`: the app's files, or 404.
/// Requests to the site's own host names are rejected (not found) so that
/// the site's routes answer them.
pub fn routes(site: Arc<Site>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::header::optional::<String>("host").and(warp::path::full()).and_then(
        move |host: Option<String>, path: warp::path::FullPath| {
            let site = Arc::clone(&site);
            async move {
                let label = host.as_deref().and_then(resource_label);
                match (label, host) {
                    (Some(label), Some(host)) => {
                        let started = Instant::now();
                        let response = serve(&site, &label, path.as_str());
                        record(&site, &label, &host, path.as_str(), &response, started);
                        Ok(response)
                    }
                    _ => Err(warp::reject::not_found()),
                }
            }
        },
    )
}

/// The app label of a `Host` header naming a resource origin.
fn resource_label(host: &str) -> Option<String> {
    let name = host.rsplit_once(':').map_or(host, |(name, _port)| name).to_ascii_lowercase();
    let label = name.strip_suffix(SUFFIX)?;
    (!label.is_empty() && !label.contains('.')).then(|| label.to_owned())
}

/// Records a frame's load in the site's inspector: a document (HTML) or
/// a request that found nothing, under the Forge app id (the origin's
/// label when no app has it). Scripts, styles and images are left out.
fn record(site: &Site, label: &str, host: &str, path: &str, response: &Response, started: Instant) {
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
    if !html && response.status().is_success() {
        return;
    }
    let app = site
        .data()
        .forge
        .installs
        .values()
        .find(|i| origin_label(&i.app_id).as_deref() == Some(label))
        .map_or_else(|| label.to_owned(), |i| i.app_id.clone());
    let key = path.trim_start_matches('/').split('/').next().unwrap_or_default();
    let url = format!("http://{host}{path}");
    site.record(
        Exchange::to_app(Kind::Iframe, &app, "GET", &url)
            .about(format!("Custom UI resource {key}"))
            .answered(Ok::<u16, Infallible>(response.status().as_u16()), started),
    );
}

fn serve(site: &Site, label: &str, path: &str) -> Response {
    let install = site
        .data()
        .forge
        .installs
        .values()
        .find(|i| origin_label(&i.app_id).as_deref() == Some(label))
        .cloned();
    let Some(install) = install else { return plain(StatusCode::NOT_FOUND, "no such app") };
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let key = parts.next().unwrap_or_default();
    let rest = parts.next().unwrap_or_default();
    let Some(resource) = install.manifest.resource(key) else {
        return plain(StatusCode::NOT_FOUND, "the app has no resource by that key");
    };
    let rest = if rest.is_empty() || rest.ends_with('/') {
        format!("{rest}index.html")
    } else {
        rest.to_owned()
    };
    let root = install.folder.join(&resource.path);
    let Some(file) = inside(&root, &rest) else {
        return plain(StatusCode::NOT_FOUND, "no such file in the resource");
    };
    let Ok(bytes) = std::fs::read(&file) else {
        return plain(StatusCode::NOT_FOUND, "no such file in the resource");
    };
    let is_index = file.file_name().is_some_and(|n| n == "index.html");
    let body = if is_index { inject(&String::from_utf8_lossy(&bytes)).into_bytes() } else { bytes };
    let mut response = Response::new(body.into());
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(&file)));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    if let Ok(csp) = HeaderValue::from_str(&content_security_policy(site, &install)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    response
}

/// `root/relative` when every part of `relative` is a plain name (no `..`,
/// no absolute path), so that nothing outside the resource is served.
fn inside(root: &Path, relative: &str) -> Option<PathBuf> {
    let relative = Path::new(relative);
    relative.components().all(|c| matches!(c, Component::Normal(_))).then(|| root.join(relative))
}

/// `html` with the frame half of the bridge as the first child of `<head>`
/// (or first of all, when the page has no `<head>`).
pub fn inject(html: &str) -> String {
    let script = format!("<script>{FRAME_SCRIPT}</script>");
    let lower = html.to_ascii_lowercase();
    let at =
        lower.find("<head").and_then(|start| lower[start..].find('>').map(|end| start + end + 1));
    match at {
        Some(at) => format!("{}{script}{}", &html[..at], &html[at..]),
        None => format!("{script}{html}"),
    }
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()).unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "application/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn plain(status: StatusCode, text: &str) -> Response {
    let mut response = Response::new(format!("{text}\n").into());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bridge_goes_first_in_head() {
        let html = "<!doctype html><html><HEAD lang=x><script src=app.js></script></head></html>";
        let out = inject(html);
        let bridge = out.find("__bridge").unwrap();
        assert!(out.find("<HEAD lang=x>").unwrap() < bridge);
        assert!(bridge < out.find("app.js").unwrap());
        assert!(inject("<p>hi</p>").starts_with("<script>"));
    }

    #[test]
    fn resource_hosts_are_app_labels_under_localhost() {
        assert_eq!(resource_label("abc-1.localhost:8080").as_deref(), Some("abc-1"));
        assert_eq!(resource_label("localhost:8080"), None);
        assert_eq!(resource_label("127.0.0.1:8080"), None);
        assert_eq!(resource_label("a.b.localhost"), None);
        assert_eq!(origin_label("ari:cloud:ecosystem::app/AB-12").as_deref(), Some("ab-12"));
    }

    #[test]
    fn only_plain_names_are_served() {
        let root = Path::new("/r");
        assert_eq!(inside(root, "a/b.js"), Some(PathBuf::from("/r/a/b.js")));
        assert_eq!(inside(root, "../x"), None);
        assert_eq!(inside(root, "/etc/passwd"), None);
    }

    #[test]
    fn the_csp_allows_inline_styles_only_when_the_manifest_says_so() {
        let site = Site::seeded("acme", "http://127.0.0.1:2990");
        let manifest = |content: &str| {
            let yaml = format!(
                "app:\n  id: ari:cloud:ecosystem::app/ab-12\npermissions:\n  scopes: []\n{content}"
            );
            super::super::manifest::ForgeManifest::parse(&yaml).unwrap()
        };
        let install = |manifest| ForgeInstallation {
            app_id: "ari:cloud:ecosystem::app/ab-12".into(),
            installation_id: String::new(),
            environment_id: String::new(),
            app_version: String::new(),
            manifest: Arc::new(manifest),
            folder: PathBuf::new(),
        };
        let strict = content_security_policy(&site, &install(manifest("")));
        assert!(strict.starts_with("default-src 'none'; script-src 'self' 'sha256-"), "{strict}");
        assert!(strict.contains("style-src 'self';"), "{strict}");
        let styled = manifest("  content:\n    styles: ['unsafe-inline']\n");
        let styled = content_security_policy(&site, &install(styled));
        assert!(styled.contains("style-src 'self' 'unsafe-inline';"), "{styled}");
        assert!(styled.contains("script-src 'self' 'sha256-"), "{styled}");
    }

    #[test]
    fn the_site_under_either_loopback_name_may_frame_resources() {
        let site = Site::seeded("acme", "http://127.0.0.1:2990");
        assert_eq!(frame_ancestors(&site), "http://127.0.0.1:2990 http://localhost:2990");
    }
}
