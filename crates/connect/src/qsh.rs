//! The query string hash (`qsh`): how Connect binds a JWT to one HTTP request.
//!
//! Every JWT the host signs for an app (iframe URLs, webhooks, lifecycle
//! callbacks), and every JWT an app signs to call the host, carries a `qsh` claim:
//! the SHA-256 of a *canonical request* built from the method, the path and the
//! query. A token lifted from one URL therefore cannot be replayed against
//! another. Atlassian documents the algorithm on the page "Understanding JWT for
//! Connect apps"; this module follows it exactly, and where Atlassian's Java
//! implementation (what the products run) and the `atlassian-jwt` npm library
//! disagree, it follows Java.
//!
//! The canonical request is `METHOD&path&query`:
//!
//! 1. **Method**: upper case (`get` becomes `GET`).
//! 2. **Path**: the raw (not decoded) path relative to the base URL of whoever
//!    is being called (the app's base URL, or the host's, `/wiki` included for
//!    Confluence); `/` if empty; one trailing `/` removed; every `&` written `%26`.
//! 3. **Query**: the raw query parsed as `application/x-www-form-urlencoded`
//!    pairs (`+` is a space, `%XX` is UTF-8, a name without `=` has an empty
//!    value, brackets mean nothing); every `jwt` parameter dropped; names and
//!    values percent-encoded leaving only `A-Z a-z 0-9 - . _ ~` as they are
//!    (uppercase hex); the values of one name sorted (as decoded text, in UTF-16
//!    order, as Java and JavaScript compare strings) and joined with `,`; the
//!    parameters sorted by encoded name and joined with `&`.
//!
//! ```
//! use lodger_connect::qsh::{canonical_request, query_string_hash};
//!
//! let canonical = canonical_request("get", "/test/", "b=y&a=x+1&a=%2B&jwt=ignored");
//! assert_eq!(canonical, "GET&/test&a=%2B,x%201&b=y");
//! assert_eq!(query_string_hash("GET", "/test/", "b=y&a=x+1&a=%2B"), lodger_connect::qsh::sha256_hex(&canonical));
//! ```
//!
//! This module is pure string work: no URL crate, no HTTP types.

use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::cmp::Ordering;

/// The `qsh` value of a context token (`AP.context.getToken()`): it binds the
/// token to no request at all, so only endpoints meant for browser calls may
/// accept it (Atlassian's `context-qsh` API migration).
pub const CONTEXT_QSH: &str = "context-qsh";

/// The canonical request `METHOD&path&query` of Atlassian's spec.
///
/// `path` must already be relative to the base URL (see [`relative_path`]);
/// `query` is the raw query string without the leading `?`.
pub fn canonical_request(method: &str, path: &str, query: &str) -> String {
    let mut out = String::with_capacity(method.len() + path.len() + query.len() + 8);
    out.push_str(&method.to_ascii_uppercase());
    out.push('&');
    push_canonical_path(&mut out, path);
    out.push('&');
    push_canonical_query(&mut out, query);
    out
}

/// The `qsh` claim for a request: lowercase hex SHA-256 of its [`canonical_request`].
pub fn query_string_hash(method: &str, path: &str, query: &str) -> String {
    sha256_hex(&canonical_request(method, path, query))
}

/// Lowercase hex SHA-256 of a string, the form the `qsh` claim uses.
pub fn sha256_hex(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// Splits a request target (`/path?query`, or an absolute URL) into the path
/// relative to `base_url` and the raw query, as the canonical request needs.
///
/// The base URL's own path (for example `/wiki` on Confluence, or a context
/// path an app is mounted under) is removed from the front of the path. A
/// fragment (`#...`) is not part of a request and is dropped.
///
/// ```
/// use lodger_connect::qsh::relative_path;
///
/// let (path, query) = relative_path("https://acme.atlassian.net/wiki/rest/api/space?limit=5", "https://acme.atlassian.net/wiki");
/// assert_eq!((path, query), ("/rest/api/space", "limit=5"));
/// assert_eq!(relative_path("/rest/api/3/myself", "https://acme.atlassian.net"), ("/rest/api/3/myself", ""));
/// ```
pub fn relative_path<'a>(target: &'a str, base_url: &str) -> (&'a str, &'a str) {
    let target = target.split('#').next().unwrap_or_default();
    let target = strip_origin(target);
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let base_path = strip_origin(base_url).split(['?', '#']).next().unwrap_or_default();
    let base_path = base_path.trim_end_matches('/');
    let path = match path.strip_prefix(base_path) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
        _ => path,
    };
    (path, query)
}

/// Removes `scheme://authority` from an absolute URL; leaves a path alone.
fn strip_origin(url: &str) -> &str {
    match url.find("://") {
        Some(i) if !url[..i].contains(['/', '?']) => {
            let rest = &url[i + 3..];
            rest.find(['/', '?', '#']).map_or("", |j| &rest[j..])
        }
        _ => url,
    }
}

fn push_canonical_path(out: &mut String, path: &str) {
    let path = match path.strip_suffix('/') {
        Some(trimmed) => trimmed,
        None => path,
    };
    if !path.starts_with('/') {
        out.push('/');
    }
    for c in path.chars() {
        if c == '&' {
            out.push_str("%26");
        } else {
            out.push(c);
        }
    }
}

fn push_canonical_query(out: &mut String, query: &str) {
    // (encoded name, decoded values): names sort in encoded form, values in
    // decoded form. Most names and values need no decoding or encoding, so
    // both are borrowed from the query unless an escape forces a copy.
    let mut params: Vec<(Cow<'_, str>, Vec<Cow<'_, str>>)> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = form_decode(name);
        if name == "jwt" {
            continue;
        }
        let name = percent_encode(name);
        let value = form_decode(value);
        match params.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value),
            None => params.push((name, vec![value])),
        }
    }
    params.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for (i, (name, values)) in params.iter_mut().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        values.sort_by(|a, b| utf16_cmp(a, b));
        for (j, value) in values.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            push_percent_encoded(out, value);
        }
    }
}

/// Compares strings by UTF-16 code units, as `java.lang.String` and JavaScript
/// do; it differs from Rust's byte order only above U+FFFF.
fn utf16_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// Decodes one `application/x-www-form-urlencoded` component: `+` is a space,
/// `%XX` a byte; malformed escapes stay literal, invalid UTF-8 becomes U+FFFD.
fn form_decode(raw: &str) -> Cow<'_, str> {
    if !raw.contains(['+', '%']) {
        return Cow::Borrowed(raw);
    }
    let bytes = raw.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => decoded.push(b' '),
            b'%' => match escaped_byte(&bytes[i + 1..]) {
                Some(byte) => {
                    decoded.push(byte);
                    i += 2;
                }
                None => decoded.push(b'%'),
            },
            byte => decoded.push(byte),
        }
        i += 1;
    }
    Cow::Owned(
        String::from_utf8(decoded)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
    )
}

/// The byte a `%XX` escape stands for, given the two bytes after the `%`.
fn escaped_byte(rest: &[u8]) -> Option<u8> {
    match rest {
        [high, low, ..] => Some(hex_value(*high)? << 4 | hex_value(*low)?),
        _ => None,
    }
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// RFC 3986's unreserved characters: the only ones left unencoded.
fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// Percent-encodes UTF-8, leaving only unreserved characters; borrows when
/// nothing needs encoding.
fn percent_encode(text: Cow<'_, str>) -> Cow<'_, str> {
    if text.bytes().all(is_unreserved) {
        return text;
    }
    let mut out = String::with_capacity(text.len() * 3);
    push_percent_encoded(&mut out, &text);
    Cow::Owned(out)
}

/// Appends `text` percent-encoded (uppercase hex) to `out`.
fn push_percent_encoded(out: &mut String, text: &str) {
    const UPPER_HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in text.as_bytes() {
        if is_unreserved(byte) {
            out.push(byte as char);
        } else {
            out.push('%');
            out.push(UPPER_HEX[usize::from(byte >> 4)] as char);
            out.push(UPPER_HEX[usize::from(byte & 0xF)] as char);
        }
    }
}

/// Lowercase hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const LOWER_HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        out.push(LOWER_HEX[usize::from(byte >> 4)] as char);
        out.push(LOWER_HEX[usize::from(byte & 0xF)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_cases_the_method_and_keeps_an_empty_query() {
        assert_eq!(
            canonical_request("post", "/lifecycle/installed", ""),
            "POST&/lifecycle/installed&"
        );
    }

    #[test]
    fn empty_path_becomes_slash_and_one_trailing_slash_goes() {
        assert_eq!(canonical_request("GET", "", ""), "GET&/&");
        assert_eq!(canonical_request("GET", "/", ""), "GET&/&");
        assert_eq!(canonical_request("GET", "/a//", ""), "GET&/a/&");
    }

    #[test]
    fn ampersand_in_path_is_encoded_but_other_characters_stay_raw() {
        assert_eq!(canonical_request("GET", "/p&q/%20x", ""), "GET&/p%26q/%20x&");
    }

    #[test]
    fn drops_every_jwt_parameter() {
        assert_eq!(canonical_request("GET", "/", "jwt=a&x=1&jwt=b"), "GET&/&x=1");
    }

    #[test]
    fn sorts_names_by_their_encoded_form_as_java_does() {
        // ':' encodes to "%3A", which sorts before '.'; JavaScript sorts raw names.
        assert_eq!(canonical_request("GET", "/", "a.b=1&a:b=2"), "GET&/&a%3Ab=2&a.b=1");
    }

    #[test]
    fn sorts_values_as_decoded_text() {
        assert_eq!(canonical_request("GET", "/", "v=%3A1&v=.1"), "GET&/&v=.1,%3A1");
    }

    #[test]
    fn values_above_the_bmp_sort_in_utf16_order() {
        // U+1F600 is a surrogate pair (0xD83D...), which sorts before U+FF21 in UTF-16.
        assert_eq!(
            canonical_request("GET", "/", "v=%EF%BC%A1&v=%F0%9F%98%80"),
            "GET&/&v=%F0%9F%98%80,%EF%BC%A1"
        );
    }

    #[test]
    fn malformed_escapes_stay_literal() {
        assert_eq!(canonical_request("GET", "/", "a=%zz&b=%4"), "GET&/&a=%25zz&b=%254");
    }

    #[test]
    fn name_without_equals_has_an_empty_value() {
        assert_eq!(canonical_request("GET", "/", "flag&x="), "GET&/&flag=&x=");
    }

    #[test]
    fn relative_path_strips_base_path_only_at_a_segment_boundary() {
        assert_eq!(relative_path("/wikipedia/x", "https://h/wiki"), ("/wikipedia/x", ""));
        assert_eq!(relative_path("/wiki/x?y=1#frag", "https://h/wiki/"), ("/x", "y=1"));
        assert_eq!(relative_path("https://h", "https://h"), ("", ""));
    }
}
