//! Applying a site's [`Faults`] setting: the filter in front of the host's
//! REST API that answers 429, 5xx or late, and `GET`/`PUT /dev/api/faults`
//! to read and change the setting (see [`super::faults`] for what each
//! setting means and where it is real).
//!
//! What it is not: webhook faults, which delivery rolls itself.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use warp::http::{HeaderValue, StatusCode};
use warp::path::FullPath;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::platform::call::with_site;
use crate::platform::errors::error;
use crate::platform::faults::{
    Faults, FaultsError, MAX_RETRY_AFTER_DATE_SECS, RestFault, RetryAfterForm,
};
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
        RestFault::TooManyRequests { retry_after_secs, form } => {
            let mut response = error(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded.");
            let value = match form {
                RetryAfterForm::Seconds => HeaderValue::from(retry_after_secs),
                RetryAfterForm::HttpDate => {
                    HeaderValue::from_str(&retry_at(SystemTime::now(), retry_after_secs))
                        .unwrap_or_else(|_| HeaderValue::from(retry_after_secs))
                }
            };
            response.headers_mut().insert("retry-after", value);
            response
        }
        RestFault::ServerError(status) => error(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "Internal server error (injected by the lodger dev host).",
        ),
        RestFault::Slow { .. } => error(StatusCode::INTERNAL_SERVER_ERROR, "slow is not an answer"),
    }
}

/// `Retry-After` as an HTTP date (RFC 9110 §10.2.3, IMF-fixdate): `secs`
/// after `now`, rounded up to a whole second, since an HTTP date has no
/// fractions and a date rounded down would ask for less than `secs`.
fn retry_at(now: SystemTime, secs: u64) -> String {
    let secs = secs.min(MAX_RETRY_AFTER_DATE_SECS);
    let at = now + Duration::from_secs(secs);
    let fraction = at.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let at = if fraction == 0 { at } else { at + Duration::from_secs(1) };
    httpdate::fmt_http_date(at)
}

/// `GET`, `PUT` and `DELETE /dev/api/faults`: read, set and clear the setting.
pub fn routes(site: Arc<Site>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let with = with_site(site);
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

    #[test]
    fn retry_after_as_a_date_is_an_imf_fixdate_rounded_up_to_the_second() {
        let epoch = SystemTime::UNIX_EPOCH;
        // 1994-11-06 08:49:37 GMT, RFC 9110's own example of an HTTP date.
        let whole = epoch + Duration::from_secs(784_111_777);
        assert_eq!(retry_at(whole, 0), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(retry_at(whole, 3), "Sun, 06 Nov 1994 08:49:40 GMT");
        let later = whole + Duration::from_millis(200);
        assert_eq!(retry_at(later, 3), "Sun, 06 Nov 1994 08:49:41 GMT", "never less than asked");
    }

    #[test]
    fn a_struck_call_answers_429_with_retry_after_in_the_form_asked() {
        let seconds = answer(RestFault::TooManyRequests {
            retry_after_secs: 2,
            form: RetryAfterForm::Seconds,
        });
        assert_eq!(seconds.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(seconds.headers()["retry-after"], "2");
        let dated = answer(RestFault::TooManyRequests {
            retry_after_secs: 2,
            form: RetryAfterForm::HttpDate,
        });
        let value = dated.headers()["retry-after"].to_str().unwrap();
        let at = httpdate::parse_http_date(value).unwrap();
        let ahead = at.duration_since(SystemTime::now()).unwrap();
        assert!(ahead > Duration::from_secs(1) && ahead <= Duration::from_secs(3), "{value}");
    }
}
