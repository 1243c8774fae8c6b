//! An emulated Atlassian Cloud site: Jira, and Confluence beside it under
//! `/wiki`, on localhost, with the real Connect JS bridge. lodger's dev world
//! (`lodger dev`) runs two of them beside the app; any Connect app can be
//! installed into one through the same UPM REST flow a real site uses.
//!
//! It behaves like Atlassian's hosts where apps depend on it, because apps
//! and their tests run against it:
//!
//! It is grouped by product, each folder's `mod.rs` listing its files:
//!
//! | folder or file | what of a real site it emulates |
//! |---|---|
//! | [`platform`] | what every product shares: UPM, installing, install keys, who is calling, iframe URLs, conditions, permissions, app properties, error replies, fault injection |
//! | [`jira`] | Jira's REST API: issues, entity properties, JQL search, tasks, the license, webhooks |
//! | [`confluence`] | Confluence under `/wiki`: content, content properties, the page view's macros, the macro editor |
//! | [`pages`] | the product pages that frame apps with connect-js: issue view, app pages, Confluence page, from templates |
//! | [`site`] | one site's people, projects, issues and every product's stored state |
//! | [`routes`](mod@routes) | the router: the one place that knows every resource |
//!
//! What it is not: a Jira or a Confluence. It implements the resources apps like lodger use, with
//! Atlassian's paths, shapes and status codes, and leaves the rest out.
#![deny(missing_docs)]

pub mod confluence;
pub mod jira;
pub mod pages;
pub mod platform;
pub mod routes;
pub mod site;

pub use routes::routes;

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use include_dir::{Dir, include_dir};
use warp::http::{HeaderValue, header};
use warp::reply::Response;

use platform::keys::InstallSigner;

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
