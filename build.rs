//! Build script: turns `site/` into the embedded, ready-to-serve site.
//!
//! Everything a browser could be sent is decided here, once, so that serving is
//! a table lookup (see `src/web/assets.rs`). For every file under `site/` it writes
//! into `$OUT_DIR/site/`:
//!
//! - the file under its **served name**: HTML keeps its own name (the descriptor
//!   points at it), every other file gets a content hash in its name
//!   (`js/panel.js` -> `js/panel.0123456789.js`), so it can be cached forever;
//! - inside HTML and CSS, every reference to another site file's absolute path
//!   (`"/js/panel.js"`, `'/css/lodger.css'`, `url(/img/lodger.svg)`) rewritten to
//!   that file's served name;
//! - a `.gz` (gzip, best) and a `.br` (brotli, quality 11) variant next to
//!   compressible files other than HTML, when the variant is smaller (HTML
//!   pages are templates that the server renders once at start);
//! - `manifest.json`: one entry per logical path, with the served path, content
//!   type, strong ETag, whether the name is hashed, and which variants exist.
//!
//! What it is not: a bundler or minifier. Files are served as written, but
//! for JavaScript's whole-line `//` comments, which stay in the sources to
//! teach and are left out of what browsers download.
//!
//! The output is deterministic (sorted walk, no timestamps: gzip's mtime is 0),
//! so identical sources give identical binaries.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The source folder, relative to the crate root.
const SITE: &str = "site";
/// Hex digits of SHA-256 in a hashed file name: 40 bits, plenty against collisions
/// among a site's own versions, short enough to read.
const NAME_HASH_LEN: usize = 10;
/// Hex digits of SHA-256 in an ETag.
const ETAG_HASH_LEN: usize = 16;
/// The manifest's file name inside `$OUT_DIR/site/`.
const MANIFEST: &str = "manifest.json";

/// A file read from `site/`.
struct Source {
    /// Path below `site/` with `/` separators and no leading slash (`js/panel.js`).
    logical: String,
    bytes: Vec<u8>,
}

/// A file ready to write: its final bytes and the name it is served under.
struct Built {
    logical: String,
    /// Path below `$OUT_DIR/site/`, no leading slash (`js/panel.0123456789.js`).
    served: String,
    bytes: Vec<u8>,
}

/// One line of the manifest.
struct Entry {
    logical: String,
    served: String,
    content_type: &'static str,
    etag: String,
    immutable: bool,
    gzip: bool,
    br: bool,
}

fn main() {
    println!("cargo:rerun-if-changed={SITE}");
    // `src/connect/descriptor.rs` embeds `descriptor/` with `include_dir!`, which
    // cargo cannot see. Once a build script prints any `rerun-if-changed`, cargo
    // stops rerunning it (and so recompiling the crate) on other file changes, so
    // name the folder here to keep descriptor edits rebuilding the binary.
    println!("cargo:rerun-if-changed=descriptor");

    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join(SITE);
    let sources = read_site(Path::new(SITE));
    let built = resolve_names(sources);

    if out.exists() {
        // Start clean: a renamed or deleted file must not linger in the binary.
        fs::remove_dir_all(&out).expect("remove the previous $OUT_DIR/site");
    }
    let entries: Vec<Entry> = built.iter().map(|file| write_file(&out, file)).collect();
    fs::write(out.join(MANIFEST), manifest_json(&entries)).expect("write manifest.json");
}

/// Reads every file below `root`, sorted by path, skipping dot files (editor and
/// OS litter such as `.DS_Store`).
fn read_site(root: &Path) -> Vec<Source> {
    let mut sources = Vec::new();
    walk(root, root, &mut sources);
    sources.sort_by(|a, b| a.logical.cmp(&b.logical));
    assert!(
        sources.iter().all(|s| s.logical != MANIFEST),
        "site/{MANIFEST} would clash with the generated manifest; rename it"
    );
    sources
}

/// Recursive step of [`read_site`].
fn walk(root: &Path, dir: &Path, sources: &mut Vec<Source>) {
    let mut children: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("read a directory entry").path())
        .collect();
    children.sort();
    for path in children {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            // `site/forge/` is the Forge adapter's source, bundled into the
            // Forge resources only (src/export/forge/bundle.rs): no Connect
            // page may load Forge code.
            if path == root.join("forge") {
                continue;
            }
            walk(root, &path, sources);
            continue;
        }
        println!("cargo:rerun-if-changed={}", path.display());
        let logical = logical_path(root, &path);
        let bytes = fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        sources.push(Source { logical, bytes });
    }
}

/// `site/js/panel.js` -> `js/panel.js`. Names are limited to characters that need
/// no percent-encoding in a URL, so a request path can be looked up as it comes
/// and the manifest needs no JSON escaping.
fn logical_path(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).expect("walk stays below the root");
    let parts: Vec<&str> = relative
        .components()
        .map(|c| c.as_os_str().to_str().expect("site file names are UTF-8"))
        .collect();
    let logical = parts.join("/");
    let url_safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/');
    assert!(
        logical.chars().all(url_safe),
        "site/{logical}: use only letters, digits, '.', '-' and '_' in site file names"
    );
    logical
}

/// Decides every file's served name and final bytes.
///
/// A hashed name depends on the file's final bytes, and a CSS file's final bytes
/// depend on the hashed names of what it references. So files are finished in
/// dependency order: HTML names are known up front; a file is finished once
/// every hashed file it references is. A reference cycle between hashed files
/// cannot be given stable names, and fails the build.
fn resolve_names(sources: Vec<Source>) -> Vec<Built> {
    let all: BTreeSet<String> = sources.iter().map(|s| absolute(&s.logical)).collect();
    let mut served: BTreeMap<String, String> = sources
        .iter()
        .filter(|s| is_html(&s.logical))
        .map(|s| (absolute(&s.logical), absolute(&s.logical)))
        .collect();
    let mut built = Vec::new();
    let mut pending = sources;
    while !pending.is_empty() {
        let (ready, waiting): (Vec<Source>, Vec<Source>) = pending.into_iter().partition(|s| {
            !rewrites_references(&s.logical)
                || references(&s.bytes).all(|r| !all.contains(r) || served.contains_key(r))
        });
        assert!(
            !ready.is_empty(),
            "site files reference each other in a cycle: {:?}",
            waiting.iter().map(|s| &s.logical).collect::<Vec<_>>()
        );
        for source in ready {
            let file = finish(source, &served);
            served.insert(absolute(&file.logical), absolute(&file.served));
            built.push(file);
        }
        pending = waiting;
    }
    built.sort_by(|a, b| a.logical.cmp(&b.logical));
    built
}

/// Rewrites references (HTML, CSS), drops JavaScript's comment lines, and
/// gives non-HTML files their hashed name.
fn finish(source: Source, served: &BTreeMap<String, String>) -> Built {
    let bytes = if rewrites_references(&source.logical) {
        rewrite_references(&source.bytes, served)
    } else if source.logical.ends_with(".js") {
        without_comment_lines(&source.bytes)
    } else {
        source.bytes
    };
    let served = if is_html(&source.logical) {
        source.logical.clone()
    } else {
        hashed_name(&source.logical, &hex_sha256(&bytes)[..NAME_HASH_LEN])
    };
    Built { logical: source.logical, served, bytes }
}

/// JavaScript without its whole-line `//` comments. The sources teach, line
/// by line; the browser needs none of it, and the panel's budget is 15 KB.
/// Only lines that are nothing but a comment go: a `//` after code, or
/// inside a string, stays as written (lodger's scripts have no multi-line
/// template literals, where a line starting with `//` would be text).
fn without_comment_lines(bytes: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes);
    let kept: Vec<&str> =
        text.split('\n').filter(|line| !line.trim_start().starts_with("//")).collect();
    kept.join("\n").into_bytes()
}

/// `js/panel.js` + `0123456789` -> `js/panel.0123456789.js`; a name without an
/// extension gets the hash appended (`LICENSE.0123456789`).
fn hashed_name(logical: &str, hash: &str) -> String {
    let file_start = logical.rfind('/').map_or(0, |i| i + 1);
    match logical[file_start..].rfind('.') {
        Some(dot) if dot > 0 => {
            let dot = file_start + dot;
            format!("{}.{hash}{}", &logical[..dot], &logical[dot..])
        }
        _ => format!("{logical}.{hash}"),
    }
}

/// Byte ranges of candidate absolute paths: text that starts with `/`, follows a
/// quote or `(`, and runs up to the next quote or `)` with no whitespace between.
/// A single pass, so a rewritten name is never rewritten again.
fn reference_ranges(text: &[u8]) -> impl Iterator<Item = Range<usize>> + '_ {
    let is_close = |b: &u8| matches!(b, b'"' | b'\'' | b')');
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < text.len() {
            let open = text[i];
            i += 1;
            if !matches!(open, b'"' | b'\'' | b'(') || text.get(i) != Some(&b'/') {
                continue;
            }
            let start = i;
            let len = text[start..].iter().position(|b| is_close(b) || b.is_ascii_whitespace())?;
            i = start + len;
            if is_close(&text[i]) {
                return Some(start..i);
            }
        }
        None
    })
}

/// The candidate absolute paths in `text` (see [`reference_ranges`]).
fn references(text: &[u8]) -> impl Iterator<Item = &str> {
    reference_ranges(text).filter_map(|range| std::str::from_utf8(&text[range]).ok())
}

/// Replaces every reference to a key of `served` by its value.
fn rewrite_references(text: &[u8], served: &BTreeMap<String, String>) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 64);
    let mut copied = 0;
    for range in reference_ranges(text) {
        let target = std::str::from_utf8(&text[range.clone()]).ok().and_then(|r| served.get(r));
        if let Some(target) = target {
            out.extend_from_slice(&text[copied..range.start]);
            out.extend_from_slice(target.as_bytes());
            copied = range.end;
        }
    }
    out.extend_from_slice(&text[copied..]);
    out
}

/// Writes a file and its compressed variants; returns its manifest entry.
fn write_file(out: &Path, file: &Built) -> Entry {
    let path = out.join(&file.served);
    fs::create_dir_all(path.parent().expect("a file has a parent")).expect("create output dir");
    fs::write(&path, &file.bytes).expect("write a site file");

    let content_type = content_type(&file.logical);
    let (mut gzip, mut br) = (false, false);
    // HTML pages are templates, rendered at start (src/web/pages.rs): their
    // compressed variants would be of the wrong text.
    if is_compressible(content_type) && !is_html(&file.logical) {
        gzip = write_if_smaller(&path, "gz", &file.bytes, gzip_best(&file.bytes));
        br = write_if_smaller(&path, "br", &file.bytes, brotli_best(&file.bytes));
    }
    Entry {
        logical: absolute(&file.logical),
        served: absolute(&file.served),
        content_type,
        etag: format!("\"{}\"", &hex_sha256(&file.bytes)[..ETAG_HASH_LEN]),
        immutable: file.served != file.logical,
        gzip,
        br,
    }
}

/// Writes `compressed` to `<path>.<extension>` when it saves bytes.
fn write_if_smaller(path: &Path, extension: &str, original: &[u8], compressed: Vec<u8>) -> bool {
    if compressed.len() >= original.len() {
        return false;
    }
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(extension);
    fs::write(PathBuf::from(name), compressed).expect("write a compressed variant");
    true
}

/// gzip at the best level. The header carries no name and mtime 0.
fn gzip_best(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).expect("gzip into memory");
    encoder.finish().expect("gzip into memory")
}

/// brotli at quality 11 (the smallest output; build time pays, not requests).
fn brotli_best(bytes: &[u8]) -> Vec<u8> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        size_hint: bytes.len(),
        ..Default::default()
    };
    let mut out = Vec::new();
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).expect("brotli into memory");
    out
}

/// The `Content-Type` for a file, by extension; text types name their charset so
/// the browser does not guess. Unknown types are opaque bytes (and, with
/// `X-Content-Type-Options: nosniff`, never executed).
fn content_type(logical: &str) -> &'static str {
    let extension = logical.rsplit_once('.').map_or("", |(_, e)| e);
    match extension.to_ascii_lowercase().as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        _ => "application/octet-stream",
    }
}

/// Whether a type is text-like and worth compressing (images and fonts already are).
fn is_compressible(content_type: &str) -> bool {
    content_type.starts_with("text/")
        || content_type.starts_with("application/json")
        || content_type.starts_with("image/svg+xml")
}

/// HTML keeps its name: the descriptor links to it.
fn is_html(logical: &str) -> bool {
    content_type(logical).starts_with("text/html")
}

/// The files whose text may reference other site files by path.
fn rewrites_references(logical: &str) -> bool {
    is_html(logical) || content_type(logical).starts_with("text/css")
}

/// `js/panel.js` -> `/js/panel.js`: the form used in URLs and the manifest.
fn absolute(path: &str) -> String {
    format!("/{path}")
}

/// Lowercase hex of SHA-256.
fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().fold(String::with_capacity(64), |mut hex, byte| {
        write!(hex, "{byte:02x}").expect("write to a String");
        hex
    })
}

/// The manifest as pretty JSON, one entry per line. Paths were checked to be
/// URL-safe and the other values are fixed strings or hex, so nothing needs
/// escaping beyond the ETag's quotes.
fn manifest_json(entries: &[Entry]) -> String {
    let mut json = String::from("[\n");
    for (i, e) in entries.iter().enumerate() {
        let separator = if i + 1 < entries.len() { "," } else { "" };
        writeln!(
            json,
            r#"  {{"logical": "{}", "served": "{}", "content_type": "{}", "etag": "{}", "immutable": {}, "gzip": {}, "br": {}}}{separator}"#,
            e.logical,
            e.served,
            e.content_type,
            e.etag.replace('"', "\\\""),
            e.immutable,
            e.gzip,
            e.br,
        )
        .expect("write to a String");
    }
    json.push_str("]\n");
    json
}
