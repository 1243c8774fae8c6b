//! `lodger export DIR`: the app as static files, for a CDN or any web
//! server, beside a small auth endpoint (`lodger serve --auth-only`) that
//! runs the code: lifecycle, the server API and webhooks.
//!
//! What is written (all of it deterministic: the same binary and options
//! give the same bytes, so a deploy can be diffed and cached):
//!
//! | path | what |
//! |---|---|
//! | `atlassian-connect.json`, `confluence/atlassian-connect.json` | the descriptors, rendered for `--base-url` |
//! | `*.html` | the pages, rendered once with the app key (see [`crate::web::pages`]) |
//! | `js/panel.0123456789.js` … | scripts, styles and images under content-hashed names, cached forever |
//! | `js/panel.js` … | the same under their plain names, revalidated, so old links work |
//! | `*.gz`, `*.br` | precompressed variants, where smaller |
//! | `_headers`, `_redirects` | Netlify-style headers and proxy rules |
//! | `hosting/nginx/*.conf`, `hosting/Caddyfile` | the same for nginx and Caddy |
//!
//! The hosting files send `/lifecycle/*`, `/api/*`, `/webhooks/*` and
//! `/healthz` to the auth endpoint (`--auth-url`) and set the cache and
//! security headers the binary sets itself (see [`hosting`]).
//!
//! Nothing is half-written: the export goes to a temporary folder beside
//! `DIR`, which replaces `DIR` only when complete.
//!
//! `lodger export --forge DIR` writes a different thing, the same product as
//! a native Forge app folder: see [`forge`].

pub mod forge;
pub mod hosting;
pub mod yaml;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::connect::installation::Product;
use crate::descriptor::{AppKeys, Templates};
use crate::state::Descriptors;
use crate::web::assets::Assets;
use crate::web::pages::PageValues;

/// What to export, checked by the CLI.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// The public base URL the pages and descriptors will be served at.
    pub base_url: String,
    /// The app keys.
    pub keys: AppKeys,
    /// Where the CDN sends dynamic paths: the auth endpoint's URL.
    pub auth_url: String,
    /// Host origins besides Atlassian's cloud, for the pages' CSP.
    pub extra_hosts: Vec<String>,
    /// Replace `DIR` when it already has files.
    pub force: bool,
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportReport {
    /// Files written.
    pub files: usize,
    /// Their total size.
    pub bytes: u64,
}

/// The export, as paths (relative, `/`-separated) to bytes, in order.
pub type Tree = BTreeMap<String, Vec<u8>>;

/// Builds the whole export in memory.
pub fn build(options: &ExportOptions) -> anyhow::Result<Tree> {
    let mut tree = Tree::new();
    let descriptors =
        Descriptors::render(&Templates::embedded()?, &options.base_url, &options.keys)?;
    for product in [Product::Jira, Product::Confluence] {
        let path = crate::descriptor::descriptor_path(product).trim_start_matches('/');
        tree.insert(path.to_owned(), descriptors.of(product).to_vec());
    }
    let assets = Assets::embedded(&PageValues::new(&options.base_url, &options.keys))?;
    let files = assets.files();
    for file in &files {
        let mut put = |path: &str, body: &[u8], gzip: Option<Vec<u8>>, br: Option<Vec<u8>>| {
            let path = path.trim_start_matches('/').to_owned();
            if let Some(gzip) = gzip {
                tree.insert(format!("{path}.gz"), gzip);
            }
            if let Some(br) = br {
                tree.insert(format!("{path}.br"), br);
            }
            tree.insert(path, body.to_vec());
        };
        let (gzip, br) = if file.is_html {
            (smaller(file.body, gzip(file.body)), smaller(file.body, brotli(file.body)))
        } else {
            (file.gzip.map(<[u8]>::to_vec), file.br.map(<[u8]>::to_vec))
        };
        if file.served != file.logical {
            put(file.logical, file.body, gzip.clone(), br.clone());
        }
        put(file.served, file.body, gzip, br);
    }
    for (path, body) in hosting::files(options, &files)? {
        tree.insert(path, body.into_bytes());
    }
    Ok(tree)
}

/// Writes the export to `dir` (see the module documentation).
pub fn export(dir: &Path, options: &ExportOptions) -> anyhow::Result<ExportReport> {
    refuse_non_empty(dir, options.force)?;
    write_atomically(dir, &build(options)?)
}

/// Refuses to export into a folder that has files, unless `force`.
fn refuse_non_empty(dir: &Path, force: bool) -> anyhow::Result<()> {
    if dir.exists() && !force && !is_empty_dir(dir)? {
        bail!(
            "{} is not empty: export into a new or empty folder, or pass --force to replace it",
            dir.display()
        );
    }
    Ok(())
}

/// Writes `tree` to a temporary folder beside `dir`, then puts it in
/// `dir`'s place: nothing is half-written.
fn write_atomically(dir: &Path, tree: &Tree) -> anyhow::Result<ExportReport> {
    let staging = staging_dir(dir)?;
    let written = write_tree(&staging, tree);
    if let Err(err) = written {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(err);
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir)
            .with_context(|| format!("cannot replace {}", dir.display()))?;
    }
    std::fs::rename(&staging, dir)
        .with_context(|| format!("cannot move the export into {}", dir.display()))?;
    let bytes = tree.values().map(|body| body.len() as u64).sum();
    Ok(ExportReport { files: tree.len(), bytes })
}

fn is_empty_dir(dir: &Path) -> anyhow::Result<bool> {
    let mut entries =
        std::fs::read_dir(dir).with_context(|| format!("{} is not a folder", dir.display()))?;
    Ok(entries.next().is_none())
}

/// A fresh folder beside `dir`, on the same file system so the final rename is atomic.
fn staging_dir(dir: &Path) -> anyhow::Result<PathBuf> {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let staging = parent.join(format!(".{name}.lodger-export-{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    std::fs::create_dir(&staging)
        .with_context(|| format!("cannot create {}", staging.display()))?;
    Ok(staging)
}

fn write_tree(root: &Path, tree: &Tree) -> anyhow::Result<()> {
    for (path, body) in tree {
        let target = root.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&target, body)
            .with_context(|| format!("cannot write {}", target.display()))?;
    }
    Ok(())
}

fn smaller(original: &[u8], compressed: Vec<u8>) -> Option<Vec<u8>> {
    (compressed.len() < original.len()).then_some(compressed)
}

/// gzip at the best level; the header's time is 0, so output is deterministic.
fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing into memory cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

/// brotli at quality 11, as `build.rs` compresses the other files.
fn brotli(bytes: &[u8]) -> Vec<u8> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        size_hint: bytes.len(),
        ..Default::default()
    };
    let mut out = Vec::new();
    let _ = brotli::BrotliCompress(&mut &bytes[..], &mut out, &params);
    out
}
