//! An emulated Atlassian Cloud site: Jira, and Confluence beside it under
//! `/wiki`, on localhost, with the real Connect JS bridge. lodger's dev world
//! (`lodger dev`) runs two of them beside the app; any Connect app can be
//! installed into one through the same UPM REST flow a real site uses.
//!
//! It behaves like Atlassian's hosts where apps depend on it, because apps
//! and their tests run against it. It is grouped by product, each folder's
//! `mod.rs` listing its files:
//!
//! | folder or file | what of a real site it emulates |
//! |---|---|
//! | [`platform`] | what every product shares: UPM, installing, install keys, who is calling, iframe URLs, conditions, permissions, app properties, error replies, fault injection |
//! | [`jira`] | Jira's REST API: issues, entity properties, JQL search, tasks, the license, webhooks |
//! | [`confluence`] | Confluence under `/wiki`: content, content properties, the page view's macros, the macro editor |
//! | [`forge`] | the Forge platform beside the Connect host: installing a Forge app folder, invocation tokens and their JWKS, product tokens under `apiBaseUrl`, scopes, Forge app properties, triggers, UI invocations, Custom UI resources on an origin of their own (`<app-uuid>.localhost:<site port>`) |
//! | [`inspector`] | what no cloud site has: `/dev/inspector`, every exchange between the site and its apps (lifecycle callbacks, iframe URLs, webhook and Forge trigger attempts, Forge UI invocations, REST calls by apps), newest first, with decoded claims and the exact reason for each refusal; JSON at `/dev/inspector.json` |
//! | [`pages`] | the product pages that frame apps with connect-js: issue view, app pages, Confluence page, from templates; Forge UI modules (issue panel, issue context, admin and project settings pages) beside them with the host half of `@forge/bridge` (`page/forge-host.js`) |
//! | [`site`] | one site's people, projects, issues and every product's stored state |
//! | [`routes`](mod@routes) | the router: the one place that knows every resource |
//!
//! What it is not: a Jira or a Confluence. It implements the resources apps
//! like lodger use, with Atlassian's paths, shapes and status codes, and
//! leaves the rest out.
#![deny(missing_docs)]

pub mod confluence;
pub mod forge;
pub mod inspector;
pub mod jira;
pub mod pages;
pub mod platform;
pub mod routes;
pub mod site;

pub use routes::routes;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use include_dir::{Dir, include_dir};
use warp::http::{HeaderValue, header};
use warp::reply::Response;

use forge::invocation_tokens::ForgeSigner;
use platform::keys::InstallSigner;

/// The product page's own scripts and styles.
static PAGE: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/src/page");

/// What every emulated site shares: the install signer, the Forge signer,
/// an HTTP client for callbacks, and the static files of the product pages.
pub struct DevHost {
    /// Signs `installed` / `uninstalled` RS256.
    pub signer: InstallSigner,
    /// Signs Forge invocation tokens; its JWKS is served by every site at
    /// [`forge::invocation_tokens::JWKS_PATH`].
    pub forge: Arc<ForgeSigner>,
    /// Calls the app (descriptor, lifecycle).
    pub http: reqwest::Client,
    statics: HashMap<String, (&'static str, Vec<u8>)>,
    connect_js_missing: Option<String>,
}

impl std::fmt::Debug for DevHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevHost")
            .field("signer", &self.signer)
            .field("forge", &self.forge)
            .finish_non_exhaustive()
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
        Ok(DevHost {
            signer: InstallSigner::generate()?,
            forge: Arc::new(ForgeSigner::generate()?),
            http,
            statics,
            connect_js_missing,
        })
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
    pub(crate) fn connect_js_unavailable(&self) -> Option<Response> {
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
pub(crate) fn frames_apps(path: &str) -> bool {
    path.starts_with("/browse/")
        || path.starts_with("/plugins/servlet/ac/")
        || path.starts_with("/jira/settings/apps/")
        || (path.starts_with("/jira/software/projects/") && path.contains("/settings/apps/"))
        || (path.starts_with("/wiki/spaces/") && path.contains("/pages/"))
}
