//! The site served straight from a folder on disk: the dev world's way to
//! show a page edit on the next reload, without rebuilding.
//!
//! Files go out as written (no content hashes, no precompression) with
//! `Cache-Control: no-cache` and the same security headers as the embedded
//! site, so a page that works here works embedded. HTML pages are templates
//! (see [`super::pages`]): here each is rendered when requested, so an edit
//! shows at once; a page that does not render answers 500 with tera's reason.

use std::path::PathBuf;
use std::sync::Arc;

use warp::http::{HeaderValue, header};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::pages::PageValues;
use super::security_headers::SecurityHeaders;

/// `GET` any file under `dir`; `/` serves `index.html`.
pub fn routes(
    dir: PathBuf,
    values: Arc<PageValues>,
    security: Arc<SecurityHeaders>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let index = warp::path::end().and(warp::fs::file(dir.join("index.html")));
    warp::get().and(index.or(warp::fs::dir(dir)).unify()).then(move |file: warp::fs::File| {
        let values = Arc::clone(&values);
        let security = Arc::clone(&security);
        async move {
            let is_html = file.path().extension().is_some_and(|e| e == "html");
            let mut response =
                if is_html { render(&file, &values).await } else { file.into_response() };
            let headers = response.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            security.apply(headers, is_html);
            response
        }
    })
}

/// A page template from disk, rendered.
async fn render(file: &warp::fs::File, values: &PageValues) -> Response {
    let name = file.path().display().to_string();
    let rendered = match tokio::fs::read_to_string(file.path()).await {
        Ok(source) => values.render(&name, &source).map_err(|err| err.to_string()),
        Err(err) => Err(format!("cannot read {name}: {err}")),
    };
    match rendered {
        Ok(page) => {
            let mut response = Response::new(page.into());
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
            response
        }
        Err(reason) => {
            tracing::warn!(%reason, "page template does not render");
            warp::reply::with_status(reason, warp::http::StatusCode::INTERNAL_SERVER_ERROR)
                .into_response()
        }
    }
}
