//! The embedded site: pages, scripts, styles and images, served from memory.
//!
//! `build.rs` did the work: it gave every non-HTML file a content-hashed name
//! (`/js/panel.0123456789.js`), rewrote the references in HTML and CSS to those
//! names, compressed text files with gzip and brotli, and wrote a manifest. At
//! start-up [`Assets::embedded`] reads the manifest once, renders the HTML pages
//! (they are templates, see [`super::pages`]) and builds every header value a
//! response can need, so a request is a hash-map lookup plus a few
//! reference-counted copies: nothing is rendered, compressed or formatted per
//! request.
//!
//! Caching follows from the names:
//!
//! | request path | `Cache-Control` |
//! |---|---|
//! | hashed (`/js/panel.0123456789.js`) | `public, max-age=31536000, immutable` |
//! | logical (`/js/panel.js`), kept so old links work | `no-cache` |
//! | HTML (`/jira/issue-panel.html`, `/` for `/index.html`) | `no-cache` |
//!
//! `no-cache` means "revalidate", and revalidation is cheap: every variant has
//! a strong `ETag`, and a matching `If-None-Match` gets `304 Not Modified`.
//!
//! What this module is not: a file server. It serves only what was embedded at
//! build time, answers only `GET` and `HEAD`, and rejects every other request
//! with `not_found` so that routes placed before it keep their own rejections.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future;
use std::str::FromStr;
use std::sync::Arc;

use include_dir::{Dir, include_dir};
use serde::Deserialize;
use sha2::Digest as _;
use warp::http::header::{
    CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, ETAG, HeaderValue, VARY,
};
use warp::http::{Method, StatusCode};
use warp::path::FullPath;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::pages::{PageError, PageValues};
use super::security_headers::SecurityHeaders;

/// The output of `build.rs`: served files, their `.gz` and `.br` variants, and
/// the manifest.
static SITE: Dir<'static> = include_dir!("$OUT_DIR/site");

/// The manifest's name inside [`SITE`].
const MANIFEST: &str = "manifest.json";

/// Why the embedded site cannot be served. Each is a build defect, found at
/// start-up rather than on some later request.
#[derive(Debug, thiserror::Error)]
pub enum AssetError {
    /// The site has no manifest.
    #[error("the embedded site has no {MANIFEST}; expected build.rs to write one")]
    MissingManifest,
    /// The manifest is not the JSON `build.rs` writes.
    #[error("the embedded {MANIFEST} is not a list of asset entries")]
    Manifest(#[source] serde_json::Error),
    /// The manifest names a file (or variant) that was not embedded.
    #[error("the manifest lists {path:?}, but no such file is embedded")]
    MissingFile {
        /// The missing file, relative to the site root.
        path: String,
    },
    /// A manifest value cannot be an HTTP header value.
    #[error("the manifest entry for {logical:?} has a {field} that is not a valid header value")]
    InvalidHeader {
        /// The entry's logical path.
        logical: String,
        /// Which field (`content_type`, `etag`).
        field: &'static str,
    },
    /// An HTML page template does not render.
    #[error(transparent)]
    Page(#[from] PageError),
    /// Two entries claim one request path.
    #[error("the manifest lists {path:?} twice; expected every request path to be unique")]
    DuplicatePath {
        /// The request path claimed twice.
        path: String,
    },
}

/// One line of the manifest (see `build.rs`).
#[derive(Deserialize)]
struct ManifestEntry {
    logical: String,
    served: String,
    content_type: String,
    etag: String,
    immutable: bool,
    gzip: bool,
    br: bool,
}

/// One encoding of one file, with its headers ready.
struct Variant {
    /// Embedded bytes, or a page rendered at start.
    body: bytes::Bytes,
    etag: HeaderValue,
    content_length: HeaderValue,
}

/// One file of the site.
struct Asset {
    logical: String,
    served: String,
    content_type: HeaderValue,
    is_html: bool,
    identity: Variant,
    gzip: Option<Variant>,
    br: Option<Variant>,
}

/// One file of the site, for writing it out ([`Assets::files`]).
#[derive(Debug, Clone, Copy)]
pub struct SiteFile<'a> {
    /// The path the site's sources use (`/js/panel.js`).
    pub logical: &'a str,
    /// The path it is served at: content-hashed for all but HTML.
    pub served: &'a str,
    /// Its `Content-Type`.
    pub content_type: &'a str,
    /// An HTML page (rendered, revalidated, framed by the host).
    pub is_html: bool,
    /// The bytes.
    pub body: &'a [u8],
    /// The gzip variant, when it is smaller.
    pub gzip: Option<&'a [u8]>,
    /// The brotli variant, when it is smaller.
    pub br: Option<&'a [u8]>,
}

/// What a request path resolves to.
#[derive(Clone, Copy)]
struct Route {
    asset: usize,
    /// True only for a hashed name: its bytes can never change.
    immutable: bool,
}

/// A request this module will answer.
#[derive(Clone, Copy)]
struct Found {
    route: Route,
    head: bool,
}

/// The embedded site, indexed by request path. Build it once and share it.
pub struct Assets {
    assets: Vec<Asset>,
    routes: HashMap<String, Route>,
}

impl std::fmt::Debug for Assets {
    /// Counts rather than contents: the bodies are the whole site.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Assets")
            .field("files", &self.assets.len())
            .field("paths", &self.routes.len())
            .finish_non_exhaustive()
    }
}

impl Assets {
    /// Loads the site embedded by `build.rs`, renders its HTML pages with
    /// `values` (see [`super::pages`]) and prepares every response header.
    ///
    /// # Errors
    ///
    /// An [`AssetError`] when the embedded manifest and files disagree, or a
    /// page does not render: a defect of the build, reported at start-up
    /// instead of on a request.
    ///
    /// ```
    /// use lodger::descriptor::AppKeys;
    /// use lodger::web::{assets::Assets, pages::PageValues};
    ///
    /// let values = PageValues::new("https://lodger.example", &AppKeys::new("lodger")?);
    /// let assets = Assets::embedded(&values)?;
    /// assert_eq!(assets.hashed_path("/index.html"), Some("/index.html"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn embedded(values: &PageValues) -> Result<Assets, AssetError> {
        Assets::from_dir(&SITE, values)
    }

    /// The name a browser should use for a site file: the hashed path for
    /// `logical` (an absolute path such as `/js/panel.js`), or the same path
    /// for HTML. `None` if the site has no such file.
    ///
    /// ```
    /// use lodger::descriptor::AppKeys;
    /// use lodger::web::{assets::Assets, pages::PageValues};
    ///
    /// let values = PageValues::new("https://lodger.example", &AppKeys::new("lodger")?);
    /// let assets = Assets::embedded(&values)?;
    /// let script = assets.hashed_path("/js/panel.js");
    /// assert!(script.is_some_and(|s| s.starts_with("/js/panel.") && s.ends_with(".js")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn hashed_path(&self, logical: &str) -> Option<&str> {
        let route = self.routes.get(logical)?;
        Some(&self.assets[route.asset].served)
    }

    /// Every file, as `lodger export` writes it: sorted by logical path.
    pub fn files(&self) -> Vec<SiteFile<'_>> {
        let mut files: Vec<SiteFile<'_>> = self
            .assets
            .iter()
            .map(|asset| SiteFile {
                logical: &asset.logical,
                served: &asset.served,
                content_type: asset.content_type.to_str().unwrap_or("application/octet-stream"),
                is_html: asset.is_html,
                body: &asset.identity.body,
                gzip: asset.gzip.as_ref().map(|v| &v.body[..]),
                br: asset.br.as_ref().map(|v| &v.body[..]),
            })
            .collect();
        files.sort_by(|a, b| a.logical.cmp(b.logical));
        files
    }

    fn from_dir(site: &Dir<'static>, values: &PageValues) -> Result<Assets, AssetError> {
        let manifest = site.get_file(MANIFEST).ok_or(AssetError::MissingManifest)?;
        let entries: Vec<ManifestEntry> =
            serde_json::from_slice(manifest.contents()).map_err(AssetError::Manifest)?;
        let mut assets =
            Assets { assets: Vec::with_capacity(entries.len()), routes: HashMap::new() };
        for entry in entries {
            let asset = assets.assets.len();
            let served = Route { asset, immutable: entry.immutable };
            let logical = Route { asset, immutable: false };
            if entry.logical == "/index.html" {
                assets.add_route("/", logical)?;
            }
            if entry.served != entry.logical {
                assets.add_route(&entry.served, served)?;
            }
            assets.add_route(&entry.logical, logical)?;
            assets.assets.push(Asset::load(site, entry, values)?);
        }
        Ok(assets)
    }

    fn add_route(&mut self, path: &str, route: Route) -> Result<(), AssetError> {
        match self.routes.insert(path.to_string(), route) {
            None => Ok(()),
            Some(_) => Err(AssetError::DuplicatePath { path: path.to_string() }),
        }
    }

    /// The route for a `GET` or `HEAD` of a known path.
    fn find(&self, method: &Method, path: &str) -> Option<Found> {
        let head = match *method {
            Method::GET => false,
            Method::HEAD => true,
            _ => return None,
        };
        let route = *self.routes.get(path)?;
        Some(Found { route, head })
    }

    /// The response for a found asset.
    fn respond(
        &self,
        found: Found,
        accept: AcceptEncoding,
        if_none_match: Option<&str>,
        security: &SecurityHeaders,
    ) -> Response {
        let asset = &self.assets[found.route.asset];
        let (variant, coding) = asset.negotiate(accept);
        let not_modified = if_none_match.is_some_and(|tags| matches_any(tags, &variant.etag));

        let mut response = Response::default();
        let headers = response.headers_mut();
        headers.insert(ETAG, variant.etag.clone());
        headers.insert(CACHE_CONTROL, cache_control(found.route.immutable && !asset.is_html));
        if asset.gzip.is_some() || asset.br.is_some() {
            headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
        }
        security.apply(headers, asset.is_html);
        if not_modified {
            *response.status_mut() = StatusCode::NOT_MODIFIED;
            return response;
        }
        headers.insert(CONTENT_TYPE, asset.content_type.clone());
        headers.insert(CONTENT_LENGTH, variant.content_length.clone());
        if let Some(coding) = coding.header() {
            headers.insert(CONTENT_ENCODING, coding);
        }
        if !found.head {
            *response.body_mut() = variant.body.clone().into();
        }
        response
    }
}

impl Asset {
    fn load(
        site: &Dir<'static>,
        entry: ManifestEntry,
        values: &PageValues,
    ) -> Result<Asset, AssetError> {
        let invalid = |field| AssetError::InvalidHeader { logical: entry.logical.clone(), field };
        let content_type =
            HeaderValue::from_str(&entry.content_type).map_err(|_| invalid("content_type"))?;
        if entry.content_type.starts_with("text/html") {
            return Asset::render(site, entry, content_type, values);
        }
        let variant = |suffix: &str, tag: &str| -> Result<Variant, AssetError> {
            let path = format!("{}{suffix}", entry.served.trim_start_matches('/'));
            let body = site.get_file(&path).ok_or(AssetError::MissingFile { path })?.contents();
            // `"abc"` -> `"abc-br"`: one strong tag per encoding, since the bytes differ.
            let etag = format!("{}{tag}\"", entry.etag.trim_end_matches('"'));
            Ok(Variant {
                body: bytes::Bytes::from_static(body),
                etag: HeaderValue::from_str(&etag).map_err(|_| invalid("etag"))?,
                content_length: HeaderValue::from(body.len()),
            })
        };
        Ok(Asset {
            content_type,
            is_html: entry.content_type.starts_with("text/html"),
            identity: variant("", "")?,
            gzip: entry.gzip.then(|| variant(".gz", "-gz")).transpose()?,
            br: entry.br.then(|| variant(".br", "-br")).transpose()?,
            logical: entry.logical,
            served: entry.served,
        })
    }

    /// An HTML page: rendered once with `values`, served as rendered. Pages
    /// are small and revalidated (`no-cache`), so they go uncompressed; the
    /// ETag is the rendered bytes' hash, so it changes with the values.
    fn render(
        site: &Dir<'static>,
        entry: ManifestEntry,
        content_type: HeaderValue,
        values: &PageValues,
    ) -> Result<Asset, AssetError> {
        let path = entry.served.trim_start_matches('/').to_owned();
        let source = site.get_file(&path).ok_or(AssetError::MissingFile { path })?.contents();
        let source = String::from_utf8_lossy(source);
        let page = values.render(&entry.logical, &source)?;
        let digest = hex(&sha2::Sha256::digest(page.as_bytes())[..8]);
        let identity = Variant {
            content_length: HeaderValue::from(page.len()),
            etag: HeaderValue::from_str(&format!("\"{digest}\"")).map_err(|_| {
                AssetError::InvalidHeader { logical: entry.logical.clone(), field: "etag" }
            })?,
            body: page.into(),
        };
        Ok(Asset {
            logical: entry.logical,
            served: entry.served,
            content_type,
            is_html: true,
            identity,
            gzip: None,
            br: None,
        })
    }

    /// The best variant the client accepts, and its coding.
    fn negotiate(&self, accept: AcceptEncoding) -> (&Variant, Coding) {
        match accept.choose(self.br.is_some(), self.gzip.is_some()) {
            Coding::Br => (self.br.as_ref().unwrap_or(&self.identity), Coding::Br),
            Coding::Gzip => (self.gzip.as_ref().unwrap_or(&self.identity), Coding::Gzip),
            Coding::Identity => (&self.identity, Coding::Identity),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn cache_control(immutable: bool) -> HeaderValue {
    // `from_static` borrows the text: no allocation.
    HeaderValue::from_static(if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    })
}

/// Whether an `If-None-Match` value (`*`, or a list of tags) matches `etag`.
/// The comparison is weak, as RFC 9110 requires for `If-None-Match`: `W/"x"`
/// matches `"x"` (a proxy that recompresses may weaken our tags).
fn matches_any(if_none_match: &str, etag: &HeaderValue) -> bool {
    if_none_match.split(',').map(str::trim).any(|tag| {
        tag == "*" || tag.strip_prefix("W/").unwrap_or(tag).as_bytes() == etag.as_bytes()
    })
}

/// `GET` and `HEAD` of the embedded site, with content negotiation and
/// revalidation. Any other request is rejected with `not_found`.
///
/// Ordering trap: mount this last. It rejects with `not_found` (the weakest
/// rejection) rather than `405`, so it never hides the rejection of a route
/// before it, and it reads request headers only for paths it serves.
///
/// ```
/// use std::sync::Arc;
/// use lodger::web::{assets::{self, Assets}, security_headers::SecurityHeaders};
///
/// use lodger::descriptor::AppKeys;
/// use lodger::web::pages::PageValues;
///
/// let values = PageValues::new("https://lodger.example", &AppKeys::new("lodger")?);
/// let site = assets::routes(Arc::new(Assets::embedded(&values)?), Arc::new(SecurityHeaders::new(&[])));
/// # let _ = site;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn routes(
    assets: Arc<Assets>,
    security: Arc<SecurityHeaders>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let found = {
        let assets = Arc::clone(&assets);
        warp::method().and(warp::path::full()).and_then(move |method: Method, path: FullPath| {
            future::ready(assets.find(&method, path.as_str()).ok_or_else(warp::reject::not_found))
        })
    };
    found
        .and(warp::header::optional::<AcceptEncoding>("accept-encoding"))
        // A `String` only when the header is present, on revalidation.
        .and(warp::header::optional::<String>("if-none-match"))
        .map(move |found: Found, accept: Option<AcceptEncoding>, if_none_match: Option<String>| {
            assets.respond(found, accept.unwrap_or_default(), if_none_match.as_deref(), &security)
        })
}

/// A content coding lodger can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Br,
    Gzip,
    Identity,
}

impl Coding {
    fn header(self) -> Option<HeaderValue> {
        match self {
            Coding::Br => Some(HeaderValue::from_static("br")),
            Coding::Gzip => Some(HeaderValue::from_static("gzip")),
            Coding::Identity => None,
        }
    }
}

/// An `Accept-Encoding` header reduced to what matters here: the quality (in
/// thousandths) the client gives `br`, `gzip`, `identity` and `*`, if named.
/// Parsing never fails: what cannot be read is ignored, as if absent. No header
/// at all (the default) means "send identity".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct AcceptEncoding {
    br: Option<u16>,
    gzip: Option<u16>,
    identity: Option<u16>,
    any: Option<u16>,
}

impl FromStr for AcceptEncoding {
    type Err = Infallible;

    fn from_str(header: &str) -> Result<Self, Infallible> {
        let mut accept = AcceptEncoding::default();
        for element in header.split(',') {
            let mut parts = element.split(';').map(str::trim);
            let coding = parts.next().unwrap_or("");
            let mut quality = Some(1000);
            for parameter in parts {
                if let Some((name, value)) = parameter.split_once('=') {
                    if name.trim().eq_ignore_ascii_case("q") {
                        quality = parse_quality(value.trim());
                    }
                }
            }
            let Some(quality) = quality else { continue };
            let slot = if coding.eq_ignore_ascii_case("br") {
                &mut accept.br
            } else if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                &mut accept.gzip
            } else if coding.eq_ignore_ascii_case("identity") {
                &mut accept.identity
            } else if coding == "*" {
                &mut accept.any
            } else {
                continue;
            };
            // The first mention of a coding counts.
            slot.get_or_insert(quality);
        }
        Ok(accept)
    }
}

impl AcceptEncoding {
    /// The coding to send, given which variants exist.
    ///
    /// The highest quality wins; on a tie, the smaller encoding (`br`, then
    /// `gzip`). `q=0` means "never". A coding not named takes the quality of
    /// `*`. `identity` not named (and no `*`) is acceptable but least preferred,
    /// and it is also the answer when nothing is acceptable: RFC 9110 lets a
    /// server send an unencoded body rather than fail.
    fn choose(self, has_br: bool, has_gzip: bool) -> Coding {
        let quality = |named: Option<u16>, exists: bool| {
            if exists { named.or(self.any).unwrap_or(0) } else { 0 }
        };
        let br = quality(self.br, has_br);
        let gzip = quality(self.gzip, has_gzip);
        let (coded, coding) = if br >= gzip { (br, Coding::Br) } else { (gzip, Coding::Gzip) };
        let identity = self.identity.or(self.any).unwrap_or(0);
        if coded > 0 && coded >= identity { coding } else { Coding::Identity }
    }
}

/// A `qvalue` (`0`, `0.5`, `1.000`) in thousandths; `None` if malformed.
fn parse_quality(value: &str) -> Option<u16> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0, |acc, digit| acc * 10 + u16::from(digit - b'0'));
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptor::AppKeys;

    fn choose(header: &str, has_br: bool, has_gzip: bool) -> Coding {
        let accept: AcceptEncoding = header.parse().unwrap_or_else(|never| match never {});
        accept.choose(has_br, has_gzip)
    }

    #[test]
    fn browsers_get_brotli() {
        assert_eq!(choose("gzip, deflate, br, zstd", true, true), Coding::Br);
        assert_eq!(choose("gzip, deflate, br, zstd", false, true), Coding::Gzip);
        assert_eq!(choose("gzip, deflate, br, zstd", false, false), Coding::Identity);
    }

    #[test]
    fn q_zero_excludes_a_coding() {
        assert_eq!(choose("br;q=0, gzip", true, true), Coding::Gzip);
        assert_eq!(choose("br; q=0.000, gzip;q=0", true, true), Coding::Identity);
        assert_eq!(choose("*;q=0", true, true), Coding::Identity);
        assert_eq!(choose("*;q=0, gzip", true, true), Coding::Gzip);
    }

    #[test]
    fn higher_quality_wins_and_ties_prefer_brotli() {
        assert_eq!(choose("br;q=0.5, gzip;q=0.8", true, true), Coding::Gzip);
        assert_eq!(choose("gzip;q=0.8, br;q=0.8", true, true), Coding::Br);
        assert_eq!(choose("gzip;q=0.5, identity", true, true), Coding::Identity);
        assert_eq!(choose("br;q=0.1", true, true), Coding::Br);
        assert_eq!(choose("*", true, true), Coding::Br);
    }

    #[test]
    fn no_or_empty_or_unreadable_header_means_identity() {
        assert_eq!(AcceptEncoding::default().choose(true, true), Coding::Identity);
        assert_eq!(choose("", true, true), Coding::Identity);
        assert_eq!(choose("identity", true, true), Coding::Identity);
        assert_eq!(choose("br;q=2, gzip;q=abc, compress", true, true), Coding::Identity);
    }

    #[test]
    fn codings_are_case_insensitive_and_x_gzip_is_gzip() {
        assert_eq!(choose("BR", true, true), Coding::Br);
        assert_eq!(choose("X-Gzip;Q=1.0", true, true), Coding::Gzip);
    }

    #[test]
    fn first_mention_of_a_coding_counts() {
        assert_eq!(choose("br;q=0, br", true, true), Coding::Identity);
    }

    #[test]
    fn parses_qvalues() {
        assert_eq!(parse_quality("0"), Some(0));
        assert_eq!(parse_quality("0.5"), Some(500));
        assert_eq!(parse_quality("0.05"), Some(50));
        assert_eq!(parse_quality("0.123"), Some(123));
        assert_eq!(parse_quality("1"), Some(1000));
        assert_eq!(parse_quality("1.000"), Some(1000));
        assert_eq!(parse_quality("1.001"), None);
        assert_eq!(parse_quality("0.1234"), None);
        assert_eq!(parse_quality("-1"), None);
        assert_eq!(parse_quality(""), None);
    }

    #[test]
    fn if_none_match_accepts_lists_star_and_weak_tags() {
        let etag = HeaderValue::from_static("\"abc-br\"");
        assert!(matches_any("\"abc-br\"", &etag));
        assert!(matches_any("\"x\", W/\"abc-br\"", &etag));
        assert!(matches_any("*", &etag));
        assert!(!matches_any("\"abc\"", &etag));
        assert!(!matches_any("\"abc-gz\"", &etag));
    }

    fn values() -> PageValues {
        PageValues::new("https://lodger.example", &AppKeys::new("lodger").unwrap())
    }

    #[test]
    fn a_page_that_does_not_render_fails_the_start() {
        static SITE: Dir<'static> = Dir::new(
            "",
            &[
                include_dir::DirEntry::File(include_dir::File::new(
                    "manifest.json",
                    br#"[{"logical": "/a.html", "served": "/a.html",
                        "content_type": "text/html; charset=utf-8", "etag": "\"0123\"",
                        "immutable": false, "gzip": false, "br": false}]"#,
                )),
                include_dir::DirEntry::File(include_dir::File::new("a.html", b"{{ nope(")),
            ],
        );
        match Assets::from_dir(&SITE, &values()) {
            Err(AssetError::Page(err)) => assert_eq!(err.page, "/a.html"),
            other => panic!("expected a page error, got {:?}", other.err()),
        }
    }

    #[test]
    fn loading_fails_without_a_manifest() {
        static EMPTY: Dir<'static> = Dir::new("", &[]);
        assert!(matches!(Assets::from_dir(&EMPTY, &values()), Err(AssetError::MissingManifest)));
    }

    #[test]
    fn loading_fails_when_a_listed_variant_is_missing() {
        static SITE: Dir<'static> = Dir::new(
            "",
            &[
                include_dir::DirEntry::File(include_dir::File::new(
                    "manifest.json",
                    br#"[{"logical": "/a.css", "served": "/a.0123456789.css",
                        "content_type": "text/css; charset=utf-8", "etag": "\"0123\"",
                        "immutable": true, "gzip": true, "br": false}]"#,
                )),
                include_dir::DirEntry::File(include_dir::File::new("a.0123456789.css", b"a{}")),
            ],
        );
        match Assets::from_dir(&SITE, &values()) {
            Err(AssetError::MissingFile { path }) => assert_eq!(path, "a.0123456789.css.gz"),
            other => panic!("expected a missing file, got {:?}", other.err()),
        }
    }
}
