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
    connect_js_missing: Option<String>,
}

impl std::fmt::Debug for DevHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevHost").field("signer", &self.signer).finish_non_exhaustive()
    }
}

impl DevHost {
    /// Loads connect-js and jQuery from `node_modules` and makes a signing key.
    ///
    /// Without those npm files the site still starts: its REST API, UPM and
    /// install flow need none of them. Only the product pages that frame
    /// apps with connect-js, and the files themselves, then answer 503
    /// naming the command that installs them (see [`DevHost::connect_js_missing`]).
    pub fn new(node_modules: &Path) -> anyhow::Result<DevHost> {
        let js = "application/javascript; charset=utf-8";
        let mut statics = HashMap::new();
        let mut connect_js_missing = None;
        for (path, relative) in NPM_FILES {
            match std::fs::read(node_modules.join(relative)) {
                Ok(bytes) => {
                    statics.insert((*path).to_owned(), (js, bytes));
                }
                Err(_) => {
                    connect_js_missing = Some(format!(
                        "{} is missing: this page needs connect-js; run `{INSTALL_CONNECT_JS}` \
                         (needs Node.js and npm)",
                        node_modules.join(relative).display()
                    ));
                }
            }
        }
        for file in PAGE.files() {
            let name = file.path().to_string_lossy().into_owned();
            let kind = if name.ends_with(".css") { "text/css; charset=utf-8" } else { js };
            statics.insert(format!("/dev/static/{name}"), (kind, file.contents().to_vec()));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(DevHost { signer: InstallSigner::generate()?, http, statics, connect_js_missing })
    }

    /// Why the product pages cannot frame apps (a connect-js or jQuery file
    /// is not in `node_modules`), or `None` when they can.
    pub fn connect_js_missing(&self) -> Option<&str> {
        self.connect_js_missing.as_deref()
    }

    /// A static file of the product pages, by request path; 503 for the npm
    /// files when they were not installed.
    pub fn static_file(&self, path: &str) -> Option<Response> {
        let Some((content_type, bytes)) = self.statics.get(path) else {
            let npm = NPM_FILES.iter().any(|(served, _)| *served == path);
            return npm.then(|| self.connect_js_unavailable()).flatten();
        };
        let mut response = Response::new(bytes.clone().into());
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        // all.js is loaded by the app's pages, on another origin.
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        Some(response)
    }

    /// The 503 a page that needs connect-js answers while it is missing.
    fn connect_js_unavailable(&self) -> Option<Response> {
        let why = self.connect_js_missing.as_deref()?;
        let mut response = Response::new(format!("{why}\n").into());
        *response.status_mut() = warp::http::StatusCode::SERVICE_UNAVAILABLE;
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
        Some(response)
    }
}

/// The command that installs connect-js and jQuery for the product pages.
pub const INSTALL_CONNECT_JS: &str = "npm ci --prefix tools/devhost";

/// The npm files the product pages load: `(served at, path in node_modules)`.
const NPM_FILES: &[(&str, &str)] = &[
    ("/dev/static/jquery.js", "jquery/dist/jquery.min.js"),
    ("/dev/static/connect-host.js", "atlassian-connect-js/dist/connect-host.js"),
    ("/atlassian-connect/all.js", "atlassian-connect-js/dist/iframe.js"),
    ("/atlassian-connect/all-debug.js", "atlassian-connect-js/dist/iframe.js"),
];

/// Whether `path` is a product page that frames apps with connect-js: an
/// issue page, a general page, a Confluence page view.
fn frames_apps(path: &str) -> bool {
    path.starts_with("/browse/")
        || path.starts_with("/plugins/servlet/ac/")
        || (path.starts_with("/wiki/spaces/") && path.contains("/pages/"))
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
    // Without connect-js the pages that frame apps answer 503 first.
    let framing = Arc::clone(&host);
    let pages_unavailable =
        warp::get().and(warp::path::full()).and_then(move |path: warp::path::FullPath| {
            let unavailable =
                frames_apps(path.as_str()).then(|| framing.connect_js_unavailable()).flatten();
            async move { unavailable.ok_or_else(warp::reject::not_found) }
        });
    let rest =
        faults::in_front_of(Arc::clone(&site), rest::routes(Arc::clone(&site)).boxed()).boxed();
    pages_unavailable
        .or(wiki)
        .unify()
        .or(upm::routes(Arc::clone(&host), Arc::clone(&site), Product::Jira).boxed())
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
