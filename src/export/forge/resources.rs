//! The Forge app folder's `resources`: one Custom UI resource per page, a
//! folder with `index.html` ("Manifest reference", `resources`; "Custom
//! UI"). `forge deploy` uploads each folder as it is, so each holds its page
//! and the scripts, styles and images the page loads.
//!
//! The pages are the embedded `site/` pages ([`Assets::embedded`], what the
//! Connect export writes), rendered with the remote's URL as their base URL,
//! with two changes:
//!
//! - Forge serves a resource from its own path, not from a site root, so
//!   root-relative references (`/js/panel.0123456789.js`) become relative
//!   (`./js/panel.0123456789.js`);
//! - the Connect adapter of the bridge seam (`js/connect.js`, which loads
//!   `AP` from Atlassian's CDN) is swapped for the Forge adapter bundled
//!   with `@forge/bridge` ([`super::bundle`]), [`FORGE_BRIDGE`] with its
//!   content hash in the name, in the same place in `<head>`; the folder
//!   holds no `connect.js`. The seam (`js/bridge.js`) then finds the Forge
//!   host's `globalThis.__bridge` and uses it.
//!
//! Forge's Content-Security-Policy for Custom UI allows only scripts and
//! styles from the resource itself unless `permissions.content` says
//! otherwise: the pages have no inline scripts, styles or `style`
//! attributes, and every file they load is in their folder (tested below).
//!
//! Not for choosing which module shows which resource: that is
//! [`super::manifest`].

use anyhow::Context as _;

use super::ForgeOptions;
use crate::descriptor::AppKeys;
use crate::export::Tree;
use crate::web::assets::Assets;
use crate::web::pages::PageValues;

/// The folder every resource is written under.
pub const RESOURCES_DIR: &str = "resources";

/// One Custom UI resource: its manifest key (`resources[].key`, at most 23
/// of `[A-Za-z0-9_-]`) and the `site/` page it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resource {
    /// `resources[].key`, which modules name in `resource:`.
    pub key: &'static str,
    /// The page's logical path in the embedded site.
    pub page: &'static str,
}

impl Resource {
    /// `resources[].path`: the folder, relative to `manifest.yml`.
    pub fn path(&self) -> String {
        format!("{RESOURCES_DIR}/{}", self.key)
    }
}

/// The issue panel (also opened by the glance, as in Connect).
pub const ISSUE_PANEL: Resource = Resource { key: "issue-panel", page: "/jira/issue-panel.html" };
/// The Jira admin page: the app's settings.
pub const ADMIN: Resource = Resource { key: "admin", page: "/jira/admin.html" };
/// The project settings page: the project's checklist template.
pub const PROJECT_TEMPLATE: Resource =
    Resource { key: "project-template", page: "/jira/project-template.html" };
/// The Confluence macro.
pub const MACRO: Resource = Resource { key: "macro", page: "/confluence/macro.html" };
/// The Confluence macro's configuration (Connect's macro editor).
pub const MACRO_EDITOR: Resource =
    Resource { key: "macro-editor", page: "/confluence/macro-editor.html" };

/// Every resource, sorted by key (the order `manifest.yml` lists them in).
pub const ALL: [Resource; 5] = [ADMIN, ISSUE_PANEL, MACRO, MACRO_EDITOR, PROJECT_TEMPLATE];

/// The icon the panel and the glance show, as a path inside the
/// [`ISSUE_PANEL`] resource (the content-hashed name the folder holds).
pub const ICON: &str = "/img/lodger.svg";

/// The icon in the manifest's form, `resource:<key>;<path in the resource>`
/// ("jira:issuePanel", `icon`).
pub fn icon_path() -> anyhow::Result<String> {
    let assets = embedded_assets(&PageValues::new("https://lodger.invalid", &default_keys()?))?;
    let served = assets.hashed_path(ICON).context("the embedded site has no /img/lodger.svg")?;
    Ok(format!("resource:{};{}", ISSUE_PANEL.key, served.trim_start_matches('/')))
}

/// The bundled Forge adapter's logical name; in a resource it is
/// `js/forge-bridge.<10 hex digits of its SHA-256>.js`.
pub const FORGE_BRIDGE: &str = "js/forge-bridge.js";

/// The Connect adapter, which no resource holds.
const CONNECT_ADAPTER: &str = "/js/connect.js";

/// Every resource folder's files, keyed by their path in the app folder;
/// `bridge` is the bundled Forge adapter ([`super::bundle::forge_bridge`]).
pub fn files(options: &ForgeOptions, bridge: &[u8]) -> anyhow::Result<Tree> {
    let assets = embedded_assets(&PageValues::new(options.remote_url(), &default_keys()?))?;
    let connect =
        assets.hashed_path(CONNECT_ADAPTER).context("the embedded site has no connect.js")?;
    let connect_tag = format!("<script src=\".{connect}\"></script>");
    let bridge_name = hashed_name(FORGE_BRIDGE, bridge);
    let bridge_tag = format!("<script src=\"./{bridge_name}\"></script>");
    let files = assets.files();
    let mut tree = Tree::new();
    for resource in ALL {
        let folder = resource.path();
        let page = files
            .iter()
            .find(|file| file.logical == resource.page)
            .with_context(|| format!("the embedded site has no page {}", resource.page))?;
        let html = std::str::from_utf8(page.body)
            .with_context(|| format!("{} is not UTF-8", resource.page))?;
        let html = relative_references(html);
        anyhow::ensure!(
            html.contains(&connect_tag),
            "{}: expected {connect_tag} to swap for the Forge adapter",
            resource.page
        );
        tree.insert(
            format!("{folder}/index.html"),
            html.replace(&connect_tag, &bridge_tag).into_bytes(),
        );
        let connect_files = [CONNECT_ADAPTER, connect];
        for file in files.iter().filter(|file| !file.is_html) {
            if connect_files.contains(&file.served) || connect_files.contains(&file.logical) {
                continue;
            }
            tree.insert(format!("{folder}{}", file.served), file.body.to_vec());
        }
        tree.insert(format!("{folder}/{bridge_name}"), bridge.to_vec());
    }
    Ok(tree)
}

/// `js/x.js` named by its content, as build.rs names the site's files:
/// `js/x.<10 hex digits of SHA-256>.js`.
fn hashed_name(logical: &str, bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(bytes);
    let hex: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    match logical.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.{hex}.{ext}"),
        None => format!("{logical}.{hex}"),
    }
}

/// The app key the pages are rendered with: the Connect default. (Under
/// Forge the pages will not read Connect app properties by it.)
fn default_keys() -> anyhow::Result<AppKeys> {
    AppKeys::new("lodger").context("the default app key")
}

fn embedded_assets(values: &PageValues) -> anyhow::Result<Assets> {
    Assets::embedded(values).context("the embedded site")
}

/// `href="/x"` and `src="/x"` made `./x`; protocol-relative `//host` and
/// everything else left alone.
fn relative_references(html: &str) -> String {
    let mut out = html.to_owned();
    for attribute in ["href=\"/", "src=\"/"] {
        let mut rewritten = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(at) = rest.find(attribute) {
            let end = at + attribute.len();
            rewritten.push_str(&rest[..end - 1]);
            if !rest[end..].starts_with('/') {
                rewritten.push('.');
            }
            rewritten.push('/');
            rest = &rest[end..];
        }
        rewritten.push_str(rest);
        out = rewritten;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_relative_references_become_relative() {
        let html = r#"<link href="/css/a.1.css"><script src="/js/b.2.js"></script><script src="//cdn.example/x.js"></script><a href="https://x.example/">"#;
        assert_eq!(
            relative_references(html),
            r#"<link href="./css/a.1.css"><script src="./js/b.2.js"></script><script src="//cdn.example/x.js"></script><a href="https://x.example/">"#
        );
    }

    #[test]
    fn every_page_loads_only_files_its_folder_holds() {
        let options = ForgeOptions::new(
            "ari:cloud:ecosystem::app/8ab4c5e1-9d3f-4e2a-b1c0-123456789abc",
            "https://lodger.example.com",
            false,
        )
        .unwrap();
        let tree = files(&options, b"/* bridge */").unwrap();
        for resource in ALL {
            let html = String::from_utf8(tree[&format!("{}/index.html", resource.path())].clone())
                .unwrap();
            assert!(!html.contains("=\"/"), "{}: a root-relative reference is left", resource.key);
            let mut references = 0;
            for part in html.split("=\"./").skip(1) {
                let target = &part[..part.find('"').unwrap()];
                let path = format!("{}/{target}", resource.path());
                assert!(
                    tree.contains_key(&path),
                    "{} loads {target}, not in the folder",
                    resource.key
                );
                references += 1;
            }
            assert!(references >= 2, "{}: expected its scripts and styles", resource.key);
            // Forge's Custom UI CSP: no inline script or style.
            for part in html.split("<script").skip(1) {
                assert!(
                    part[..part.find('>').unwrap()].contains("src=\"./"),
                    "{}: inline script",
                    resource.key
                );
            }
            assert!(
                !html.contains("<style") && !html.contains(" style="),
                "{}: inline style",
                resource.key
            );
            assert!(
                !html.contains("src=\"./js/connect."),
                "{}: loads the Connect adapter",
                resource.key
            );
            let bridge = format!("src=\"./{}\"", hashed_name(FORGE_BRIDGE, b"/* bridge */"));
            let seam = html.find("/js/bridge.").expect("the seam");
            assert!(
                html.find(&bridge).is_some_and(|at| at < seam),
                "{}: the bundle before the seam",
                resource.key
            );
        }
        assert!(
            !tree.keys().any(|path| path.contains("/js/connect.")),
            "no resource holds connect.js"
        );
    }
}
