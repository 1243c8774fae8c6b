//! HTTP helpers every REST resource of the emulated site shares: the
//! `/rest/api/{2|3}` prefix, query parameters, percent-encoding, JSON
//! responses and the clock (Atlassian: "The Jira Cloud platform REST API",
//! "About" section on versions and URIs).
//!
//! What it is not: a resource. It knows no product and imports nothing from
//! the `jira` or `confluence` folders, so both can use it.

use serde_json::Value;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

/// `/rest/api/{2|3}/`: both versions answer alike (only the rich-text
/// format of some issue fields differs between them, and no field here has
/// rich text). Extracts the version, for `self` links.
pub(crate) fn api() -> impl Filter<Extract = (String,), Error = Rejection> + Clone {
    warp::path("rest").and(warp::path("api")).and(warp::path::param::<String>()).and_then(
        |version: String| async move {
            if version == "2" || version == "3" {
                Ok(version)
            } else {
                Err(warp::reject::not_found())
            }
        },
    )
}

/// The raw query string, empty when there is none.
pub(crate) fn raw_query()
-> impl Filter<Extract = (String,), Error = std::convert::Infallible> + Clone {
    warp::query::raw().or(warp::any().map(String::new)).unify()
}

/// The decoded value of `name` in a raw `application/x-www-form-urlencoded`
/// query (the first one, if repeated).
pub(crate) fn query_param(raw: &str, name: &str) -> Option<String> {
    raw.split('&').filter(|pair| !pair.is_empty()).find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(key, true) == name).then(|| percent_decode(value, true))
    })
}

/// Decodes `%XX` escapes (and `+` as a space in queries); invalid escapes
/// stay as they are, invalid UTF-8 becomes U+FFFD.
pub(crate) fn percent_decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
        match bytes[i] {
            b'%' => match (hex(i + 1), hex(i + 2)) {
                (Some(high), Some(low)) => {
                    out.push((high * 16 + low) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus_is_space => out.push(b' '),
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes everything but `A-Z a-z 0-9 - . _ ~`, for URLs this
/// site writes into `self` links and `Location` headers.
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A JSON response with a status.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    warp::reply::with_status(warp::reply::json(body), status).into_response()
}

/// Milliseconds since the epoch (Jira's task timestamps).
pub(crate) fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
}

/// Passes the REST API versions Jira serves (`2`, `3`, `latest`); rejects
/// others as not found.
pub(crate) async fn api_version(version: String) -> Result<String, Rejection> {
    match version.as_str() {
        "2" | "3" | "latest" => Ok(version),
        _ => Err(warp::reject::not_found()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_params_decode_like_forms() {
        let raw = "jql=project%20%3D%20LOD+AND+x&accountId=557058%3Aabc&empty";
        assert_eq!(query_param(raw, "jql").as_deref(), Some("project = LOD AND x"));
        assert_eq!(query_param(raw, "accountId").as_deref(), Some("557058:abc"));
        assert_eq!(query_param(raw, "empty").as_deref(), Some(""));
        assert_eq!(query_param(raw, "missing"), None);
        assert_eq!(percent_decode("%zz%4", false), "%zz%4");
        assert_eq!(encode("a b:c"), "a%20b%3Ac");
    }
}

/// Whether a request's `Host` header names this site (its base URL's
/// authority; on loopback `localhost` and `127.0.0.1` are the same place).
/// The dev host's own forms and page calls check it, so that a page served
/// from another name that resolves to this machine (DNS rebinding) cannot
/// drive them; a session-less request acts as the site admin.
pub(crate) fn names_site(site_base_url: &str, host: Option<&str>) -> bool {
    let Some(host) = host else { return false };
    let authority = site_base_url.split_once("://").map_or(site_base_url, |(_, rest)| rest);
    let authority = authority.split('/').next().unwrap_or(authority);
    let loopback = |a: &str| {
        a.strip_prefix("localhost:").or_else(|| a.strip_prefix("127.0.0.1:")).map(str::to_owned)
    };
    host.eq_ignore_ascii_case(authority)
        || loopback(authority).is_some_and(|port| loopback(host) == Some(port))
}

#[cfg(test)]
mod site_host_tests {
    use super::names_site;

    #[test]
    fn a_host_names_the_site_by_its_authority_or_its_loopback_twin() {
        let base = "http://127.0.0.1:2990";
        assert!(names_site(base, Some("127.0.0.1:2990")));
        assert!(names_site(base, Some("localhost:2990")));
        assert!(!names_site(base, Some("localhost:2991")));
        assert!(!names_site(base, Some("evil.example:2990")));
        assert!(!names_site(base, None));
        assert!(names_site("http://127.0.0.1:2990/wiki", Some("127.0.0.1:2990")));
    }
}
