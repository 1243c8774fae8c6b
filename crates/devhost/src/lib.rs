//! An emulated Atlassian Cloud site: Jira, and Confluence beside it under
//! `/wiki`, on localhost, with the real Connect JS bridge. lodger's dev world
//! (`lodger dev`) runs two of them beside the app; any Connect app can be
//! installed into one through the same UPM REST flow a real site uses.
//!
//! It behaves like Atlassian's hosts where apps depend on it, because apps
//! and their tests run against it:
//!
//! | file | what of a real site it emulates |
//! |---|---|
//! | [`upm`] | the Universal Plugin Manager's install-by-URL REST flow |
//! | [`install`] | fetching and checking the descriptor, lifecycle callbacks |
//! | [`keys`] | the install-key server behind signed installs |
//! | [`auth`] | who may call the REST API: the app (JWT) or a user through an iframe |
//! | [`rest`] | REST resources: app properties, issues, `myself` |
//! | [`entity_properties`] | issue, project and user entity properties; the bulk issue-property task |
//! | [`jql`] | the JQL subset search understands, over indexed entity properties |
//! | [`jira_rest`] | projects, users, permissions, search, tasks, the license resource |
//! | [`issues`] | creating, editing and deleting issues, and the webhooks that fires |
//! | [`webhooks`] | descriptor and dynamic webhooks: matching, signing, retrying |
//! | [`faults`] | injected 429s, 5xx, latency, dropped or late webhooks |
//! | [`conditions`] | whether a module shows: logged in, entity properties |
//! | [`iframe`] | module iframe URLs: context variables, standard parameters, `jwt` |
//! | [`views`] | product pages that frame the app with connect-js |
//! | [`confluence`] | the site's Confluence under `/wiki`: content, versioned content properties |
//! | [`confluence_page`] | the Confluence page view with dynamic content macros |
//! | [`macro_editor`] | macro parameters, the macro editor dialog's endpoints |
//! | [`site`] | one site's people, projects, issues and stored app data |
//!
//! What it is not: a Jira or a Confluence. It implements the resources apps like lodger use, with
//! Atlassian's paths, shapes and status codes, and leaves the rest out.
#![deny(missing_docs)]

pub mod auth;
pub mod conditions;
pub mod confluence;
pub mod confluence_page;
pub mod entity_properties;
pub mod faults;
pub mod iframe;
pub mod install;
pub mod issues;
pub mod jira_rest;
pub mod jql;
pub mod keys;
pub mod macro_editor;
pub mod rest;
pub mod site;
pub mod upm;
pub mod views;
pub mod webhooks;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use include_dir::{Dir, include_dir};
use warp::http::{HeaderValue, header};
use warp::reply::Response;
use warp::{Filter, Rejection};

use keys::InstallSigner;
use lodger_connect::installation::Product;
use site::Site;

/// The product page's own scripts and styles.
static PAGE: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/src/page");

/// What every emulated site shares: the install signer, an HTTP client for
/// callbacks, and the static files of the product pages.
pub struct DevHost {
    /// Signs `installed` / `uninstalled` RS256.
    pub signer: InstallSigner,
    /// Calls the app (descriptor, lifecycle).
    pub http: reqwest::Client,
    statics: HashMap<String, (&'static str, Vec<u8>)>,
}

impl std::fmt::Debug for DevHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevHost").field("signer", &self.signer).finish_non_exhaustive()
    }
}

impl DevHost {
    /// Loads connect-js and jQuery from `node_modules` and makes a signing key.
    pub fn new(node_modules: &Path) -> anyhow::Result<DevHost> {
        let npm = |relative: &str| -> anyhow::Result<Vec<u8>> {
            let path = node_modules.join(relative);
            std::fs::read(&path).with_context(|| {
                format!(
                    "{} is missing: run `npm ci --prefix tools/devhost` (needs Node.js and npm)",
                    path.display()
                )
            })
        };
        let js = "application/javascript; charset=utf-8";
        let iframe = npm("atlassian-connect-js/dist/iframe.js")?;
        let mut statics = HashMap::new();
        statics.insert("/dev/static/jquery.js".into(), (js, npm("jquery/dist/jquery.min.js")?));
        statics.insert(
            "/dev/static/connect-host.js".into(),
            (js, npm("atlassian-connect-js/dist/connect-host.js")?),
        );
        statics.insert("/atlassian-connect/all.js".into(), (js, iframe.clone()));
        statics.insert("/atlassian-connect/all-debug.js".into(), (js, iframe));
        for file in PAGE.files() {
            let name = file.path().to_string_lossy().into_owned();
            let kind = if name.ends_with(".css") { "text/css; charset=utf-8" } else { js };
            statics.insert(format!("/dev/static/{name}"), (kind, file.contents().to_vec()));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(DevHost { signer: InstallSigner::generate()?, http, statics })
    }

    /// A static file of the product pages, by request path.
    pub fn static_file(&self, path: &str) -> Option<Response> {
        let (content_type, bytes) = self.statics.get(path)?;
        let mut response = Response::new(bytes.clone().into());
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        // all.js is loaded by the app's pages, on another origin.
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        Some(response)
    }
}

/// Every route of one emulated site; failures answered in Jira's error
/// shape, or Confluence's for refused calls under `/wiki`.
pub fn routes(
    host: Arc<DevHost>,
    site: Arc<Site>,
) -> impl Filter<Extract = (Response,), Error = std::convert::Infallible> + Clone {
    // Each part is boxed: the whole site as one nested filter type is deep
    // enough to exceed the compiler's recursion limit in release builds.
    let wiki = warp::path("wiki")
        .and(
            upm::routes(Arc::clone(&host), Arc::clone(&site), Product::Confluence)
                .boxed()
                .or(confluence::routes(Arc::clone(&site)).boxed())
                .unify()
                .or(confluence_page::routes(Arc::clone(&site)).boxed())
                .unify(),
        )
        .boxed();
    let rest =
        faults::in_front_of(Arc::clone(&site), rest::routes(Arc::clone(&site)).boxed()).boxed();
    wiki.or(upm::routes(Arc::clone(&host), Arc::clone(&site), Product::Jira).boxed())
        .unify()
        .or(faults::routes(Arc::clone(&site)).boxed())
        .unify()
        .or(rest)
        .unify()
        .or(views::routes(host, site).boxed())
        .unify()
        .recover(|rejection: Rejection| async move {
            use warp::http::StatusCode;
            if let Some(refusal) = rejection.find::<auth::Refusal>() {
                return Ok(rest::refused(refusal));
            }
            if let Some(refused) = rejection.find::<confluence::Refused>() {
                return Ok(confluence::refused(refused));
            }
            let (status, message) = if rejection.find::<rest::TooLarge>().is_some() {
                (StatusCode::PAYLOAD_TOO_LARGE, "request body too large")
            } else if rejection.is_not_found() {
                (StatusCode::NOT_FOUND, "not found on this emulated site")
            } else if rejection.find::<warp::reject::MethodNotAllowed>().is_some() {
                (StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
            } else {
                (StatusCode::BAD_REQUEST, "malformed request")
            };
            Ok::<_, std::convert::Infallible>(rest::error(status, message))
        })
        .unify()
}

/// A random id of `bytes` random bytes, hex.
pub(crate) fn random_id(bytes: usize) -> String {
    use rand::RngCore;
    let mut buffer = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buffer);
    buffer.iter().map(|byte| format!("{byte:02x}")).collect()
}
