//! The parts of an incoming request that Connect signs: method, path, raw
//! query, and the token itself (`Authorization: JWT …` or a `jwt` parameter).
//!
//! Extracted once, as a value, so that the lifecycle, API and webhook handlers
//! compute the request's `qsh` the same way.

use warp::Filter;
use warp::http::Method;
use warp::path::FullPath;

use crate::connect::qsh::{query_string_hash, relative_path};

/// A request as far as its signature is concerned.
#[derive(Debug, Clone)]
pub struct SignedRequest {
    /// The HTTP method.
    pub method: Method,
    /// The full path, as received (not decoded).
    pub path: String,
    /// The raw query, without `?`.
    pub query: String,
    /// The token, from the `Authorization` header (preferred) or the query.
    pub token: Option<String>,
}

impl SignedRequest {
    /// The query string hash of this request, relative to the app's base URL.
    pub fn qsh(&self, base_url: &str) -> String {
        let (path, _) = relative_path(&self.path, base_url);
        query_string_hash(self.method.as_str(), path, &self.query)
    }
}

/// Extracts a [`SignedRequest`]; rejects only an `Authorization` header that
/// is not valid text.
pub fn signed_request() -> impl Filter<Extract = (SignedRequest,), Error = warp::Rejection> + Clone
{
    let raw_query = warp::query::raw().or(warp::any().map(String::new)).unify();
    warp::method()
        .and(warp::path::full())
        .and(raw_query)
        .and(warp::header::optional::<String>("authorization"))
        .map(|method: Method, path: FullPath, query: String, authorization: Option<String>| {
            let token = authorization
                .as_deref()
                .and_then(token_from_header)
                .or_else(|| token_from_query(&query))
                .map(str::to_owned);
            SignedRequest { method, path: path.as_str().to_owned(), query, token }
        })
}

/// The token of an `Authorization: JWT <token>` header (scheme case-insensitive).
fn token_from_header(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("JWT").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// The first `jwt` parameter of a raw query.
fn token_from_query(query: &str) -> Option<&str> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == "jwt")
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_token_from_header_in_any_case_or_from_query() {
        assert_eq!(token_from_header("JWT abc"), Some("abc"));
        assert_eq!(token_from_header("jwt  abc "), Some("abc"));
        assert_eq!(token_from_header("Bearer abc"), None);
        assert_eq!(token_from_query("a=1&jwt=t.o.k&b=2"), Some("t.o.k"));
        assert_eq!(token_from_query("jwt="), None);
    }
}
