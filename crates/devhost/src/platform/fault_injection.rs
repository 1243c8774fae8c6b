//! Applying a site's [`Faults`] setting: the filter in front of the host's
//! REST API that answers 429, 5xx or late, and `GET`/`PUT /dev/api/faults`
//! to read and change the setting (see [`super::faults`] for what each
//! setting means and where it is real).
//!
//! What it is not: webhook faults, which delivery rolls itself.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use warp::http::{HeaderValue, StatusCode};
use warp::path::FullPath;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::platform::errors::error;
use crate::platform::faults::{Faults, FaultsError, RestFault};
use crate::site::Site;

impl Site {
    /// Replaces the site's fault setting (tests; `PUT /dev/api/faults`).
    ///
    /// ```
    /// use lodger_devhost::platform::faults::{Faults, RestFault};
    /// use lodger_devhost::site::Site;
    ///
    /// let site = Site::seeded("acme", "http://127.0.0.1:2990");
    /// site.set_faults(Faults { rate: 1.0, kind: Some(RestFault::ServerError(503)), ..Faults::default() })?;
    /// assert_eq!(site.faults().rate, 1.0);
    /// # Ok::<(), lodger_devhost::platform::faults::FaultsError>(())
    /// ```
    pub fn set_faults(&self, faults: Faults) -> Result<(), FaultsError> {
        faults.validate()?;
        tracing::info!(site = %self.name, ?faults, "fault injection set");
        self.data().faults = faults;
        Ok(())
    }

    /// The site's fault setting (a copy).
    pub fn faults(&self) -> Faults {
        self.data().faults.clone()
    }
}

/// Whether a request path is the host's REST API (and not UPM).
fn is_host_rest(path: &str) -> bool {
    let rest = path.strip_prefix("/wiki").unwrap_or(path);
    rest.starts_with("/rest/") && !rest.starts_with("/rest/plugins/")
}

/// Puts fault injection in front of the REST routes `rest`: a struck call
/// is answered here (429, 5xx) or delayed and passed on (slow).
///
/// Unaffected calls are passed on by rejecting with "not found", which
/// warp's `or` discards as soon as `rest` answers.
pub fn in_front_of<F>(
    site: Arc<Site>,
    rest: F,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone
where
    F: Filter<Extract = (Response,), Error = Rejection> + Clone + Send + Sync + 'static,
{
    let injected = warp::path::full().and_then(move |path: FullPath| {
        let fault = if is_host_rest(path.as_str()) {
            site.data().faults.roll_rest(path.as_str())
        } else {
            None
        };
        async move {
            match fault {
                Some(RestFault::Slow { millis }) => {
                    tokio::time::sleep(Duration::from_millis(millis)).await;
                    Err(warp::reject::not_found())
                }
                Some(fault) => Ok(answer(fault)),
                None => Err(warp::reject::not_found()),
            }
        }
    });
    injected.or(rest).unify()
}

/// The answer to a struck call, as Jira gives it.
fn answer(fault: RestFault) -> Response {
    match fault {
        RestFault::TooManyRequests { retry_after_secs } => {
            let mut response = error(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded.");
            response.headers_mut().insert("retry-after", HeaderValue::from(retry_after_secs));
            response
        }
        RestFault::ServerError(status) => error(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "Internal server error (injected by the lodger dev host).",
        ),
        RestFault::Slow { .. } => error(StatusCode::INTERNAL_SERVER_ERROR, "slow is not an answer"),
    }
}

/// `GET`, `PUT` and `DELETE /dev/api/faults`: read, set and clear the setting.
pub fn routes(site: Arc<Site>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let with = warp::any().map(move || Arc::clone(&site));
    let read = warp::get()
        .and(warp::path!("dev" / "api" / "faults"))
        .and(with.clone())
        .map(|site: Arc<Site>| warp::reply::json(&site.faults()).into_response());
    let set = warp::put()
        .and(warp::path!("dev" / "api" / "faults"))
        .and(warp::body::content_length_limit(16 * 1024))
        .and(warp::body::bytes())
        .and(with.clone())
        .map(|body: Bytes, site: Arc<Site>| {
            let faults = match serde_json::from_slice::<Faults>(&body) {
                Ok(faults) => faults,
                Err(e) => {
                    return error(StatusCode::BAD_REQUEST, &format!("expected faults JSON: {e}"));
                }
            };
            match site.set_faults(faults) {
                Ok(()) => warp::reply::json(&site.faults()).into_response(),
                Err(e) => error(StatusCode::BAD_REQUEST, &e.to_string()),
            }
        });
    let clear = warp::delete().and(warp::path!("dev" / "api" / "faults")).and(with).map(
        |site: Arc<Site>| {
            site.data().faults = Faults::default();
            StatusCode::NO_CONTENT.into_response()
        },
    );
    read.or(set).unify().or(clear).unify()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_host_rest_api_is_affected() {
        assert!(is_host_rest("/rest/api/3/issue/LOD-1"));
        assert!(is_host_rest("/wiki/rest/api/content/1"));
        assert!(!is_host_rest("/rest/plugins/1.0/"));
        assert!(!is_host_rest("/browse/LOD-1"));
        assert!(!is_host_rest("/dev/api/faults"));
    }
}
