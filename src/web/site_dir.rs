//! The site served straight from a folder on disk: the dev world's way to
//! show a page edit on the next reload, without rebuilding.
//!
//! Files go out as written (no content hashes, no precompression) with
//! `Cache-Control: no-cache` and the same security headers as the embedded
//! site, so a page that works here works embedded.

use std::path::PathBuf;
use std::sync::Arc;

use warp::http::{HeaderValue, header};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::security_headers::SecurityHeaders;

/// `GET` any file under `dir`; `/` serves `index.html`.
pub fn routes(
    dir: PathBuf,
    security: Arc<SecurityHeaders>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let index = warp::path::end().and(warp::fs::file(dir.join("index.html")));
    warp::get().and(index.or(warp::fs::dir(dir)).unify()).map(move |file: warp::fs::File| {
        let mut response = file.into_response();
        let is_html = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|t| t.to_str().ok())
            .is_some_and(|t| t.starts_with("text/html"));
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        security.apply(headers, is_html);
        response
    })
}
