//! Fault injection: make an emulated site misbehave on purpose, the ways a
//! real Atlassian site does under load, so that an app's retry and
//! idempotency code is exercised by tests instead of by customers.
//!
//! One [`Faults`] setting per site says how often (`rate`, 0 to 1) and how:
//!
//! | setting | what the app sees | where it is real |
//! |---|---|---|
//! | `kind: tooManyRequests` | `429` with `Retry-After` | Jira Cloud's rate limits ("Rate limiting" page) |
//! | `kind: serverError` | a `5xx` in Jira's error shape | outages, deploys |
//! | `kind: slow` | the right answer, late | a busy site |
//! | `webhooks: drop` | no delivery at all | deliveries lost past the retry window |
//! | `webhooks: delay` | a delivery, late | the webhook queue backing up |
//! | `path: "/properties/"` | `kind` only on calls whose path contains it | one API failing, the rest up |
//!
//! `kind` applies to the host's REST API only (`/rest/…` and `/wiki/rest/…`):
//! never to product pages, never to UPM (`/rest/plugins/…`), never to
//! `/dev/…`, so a test can still install apps and read the site while the
//! API fails. `webhooks` applies to each delivery, at the same `rate`, before
//! its first attempt. A rate of 0 or 1 is deterministic; anything between
//! rolls the dice per request (`rand`).
//!
//! Tests set faults with [`Site::set_faults`]; the dev world (or `curl`)
//! with `PUT /dev/api/faults`:
//!
//! ```text
//! curl -X PUT localhost:2990/dev/api/faults -H 'content-type: application/json' \
//!      -d '{"rate": 0.3, "kind": {"tooManyRequests": {"retryAfterSecs": 2}}}'
//! ```
//!
//! That endpoint has no authentication: the emulator listens on loopback
//! only, and a PUT with a JSON body needs a CORS preflight the emulator never
//! grants, so no web page can change the setting behind a developer's back.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use warp::http::{HeaderValue, StatusCode};
use warp::path::FullPath;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::rest::error;
use super::site::Site;

/// The longest injected latency or webhook delay: a minute, so that a typo
/// cannot hang a test suite.
const MAX_MILLIS: u64 = 60_000;

/// How a site misbehaves (Atlassian: "Rate limiting", "Webhooks" retry policy).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Faults {
    /// The share of REST calls and webhook deliveries affected, 0 to 1.
    #[serde(default)]
    pub rate: f64,
    /// What an affected REST call gets; `None` leaves REST alone.
    #[serde(default)]
    pub kind: Option<RestFault>,
    /// What happens to an affected webhook delivery.
    #[serde(default)]
    pub webhooks: WebhookFault,
    /// Only REST calls whose path contains this text are affected (all when
    /// absent): `"/properties/"` fails property calls and nothing else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// What an affected REST call gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RestFault {
    /// `429 Too Many Requests` with `Retry-After: retry_after_secs`.
    TooManyRequests {
        /// The `Retry-After` value, in seconds.
        #[serde(rename = "retryAfterSecs")]
        retry_after_secs: u64,
    },
    /// This `5xx` status, in Jira's error shape.
    ServerError(u16),
    /// The normal answer, `millis` late.
    Slow {
        /// The added latency.
        millis: u64,
    },
}

/// What happens to an affected webhook delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum WebhookFault {
    /// Not sent at all (recorded as dropped in the site's delivery log).
    Drop,
    /// Sent `millis` late (then retried as usual).
    Delay {
        /// The delay before the first attempt.
        millis: u64,
    },
    /// Sent normally.
    #[default]
    None,
}

/// A fault setting the emulator cannot apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultsError {
    /// `rate` outside 0 to 1 (or not a number).
    #[error("rate must be a number from 0 to 1")]
    Rate,
    /// `serverError` with a status outside 500 to 599.
    #[error("serverError must be a status from 500 to 599, got {0}")]
    Status(u16),
    /// A latency or delay over a minute.
    #[error("millis must be at most 60000, got {0}")]
    TooLong(u64),
}

impl Faults {
    /// Checks the setting once, when it is set, never per request.
    pub fn validate(&self) -> Result<(), FaultsError> {
        if !(0.0..=1.0).contains(&self.rate) {
            return Err(FaultsError::Rate);
        }
        match self.kind {
            Some(RestFault::ServerError(status)) if !(500..=599).contains(&status) => {
                Err(FaultsError::Status(status))
            }
            Some(RestFault::Slow { millis }) if millis > MAX_MILLIS => {
                Err(FaultsError::TooLong(millis))
            }
            _ => match self.webhooks {
                WebhookFault::Delay { millis } if millis > MAX_MILLIS => {
                    Err(FaultsError::TooLong(millis))
                }
                _ => Ok(()),
            },
        }
    }

    /// Whether this request or delivery is affected: exact at 0 and 1.
    fn strikes(&self) -> bool {
        use rand::Rng;
        if self.rate <= 0.0 {
            false
        } else if self.rate >= 1.0 {
            true
        } else {
            rand::thread_rng().gen_bool(self.rate)
        }
    }

    /// The fault for one REST call to `path`, if it is struck.
    pub fn roll_rest(&self, path: &str) -> Option<RestFault> {
        let aimed = self.path.as_deref().is_none_or(|part| path.contains(part));
        self.kind.filter(|_| aimed && self.strikes())
    }

    /// The fault for one webhook delivery, if it is struck.
    pub fn roll_webhook(&self) -> WebhookFault {
        match self.webhooks {
            WebhookFault::None => WebhookFault::None,
            fault if self.strikes() => fault,
            _ => WebhookFault::None,
        }
    }
}

impl Site {
    /// Replaces the site's fault setting (tests; `PUT /dev/api/faults`).
    ///
    /// ```
    /// use lodger_devhost::faults::{Faults, RestFault};
    /// use lodger_devhost::site::Site;
    ///
    /// let site = Site::seeded("acme", "http://127.0.0.1:2990");
    /// site.set_faults(Faults { rate: 1.0, kind: Some(RestFault::ServerError(503)), ..Faults::default() })?;
    /// assert_eq!(site.faults().rate, 1.0);
    /// # Ok::<(), lodger_devhost::faults::FaultsError>(())
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
    fn rates_of_zero_and_one_are_deterministic() {
        let mut faults =
            Faults { rate: 1.0, kind: Some(RestFault::ServerError(503)), ..Faults::default() };
        assert!(
            (0..100).all(
                |_| faults.roll_rest("/rest/api/3/myself") == Some(RestFault::ServerError(503))
            )
        );
        faults.rate = 0.0;
        assert!((0..100).all(|_| faults.roll_rest("/rest/api/3/myself").is_none()));
    }

    #[test]
    fn a_path_aims_the_faults_at_the_calls_that_contain_it() {
        let faults = Faults {
            rate: 1.0,
            kind: Some(RestFault::ServerError(503)),
            path: Some("/properties/".into()),
            ..Faults::default()
        };
        assert_eq!(
            faults.roll_rest("/rest/api/3/issue/10001/properties/x"),
            Some(RestFault::ServerError(503))
        );
        assert_eq!(faults.roll_rest("/rest/api/3/issue/10001"), None);
    }

    #[test]
    fn settings_a_site_cannot_apply_are_refused() {
        let bad_rate = Faults { rate: 1.5, ..Faults::default() };
        assert_eq!(bad_rate.validate(), Err(FaultsError::Rate));
        let bad_status =
            Faults { rate: 1.0, kind: Some(RestFault::ServerError(404)), ..Faults::default() };
        assert_eq!(bad_status.validate(), Err(FaultsError::Status(404)));
    }

    #[test]
    fn faults_read_from_json_in_camel_case() {
        let faults: Faults = serde_json::from_str(
            r#"{"rate": 1, "kind": {"tooManyRequests": {"retryAfterSecs": 2}}, "webhooks": {"delay": {"millis": 5}}}"#,
        )
        .unwrap();
        assert_eq!(faults.kind, Some(RestFault::TooManyRequests { retry_after_secs: 2 }));
        assert_eq!(faults.webhooks, WebhookFault::Delay { millis: 5 });
        let drop: Faults = serde_json::from_str(r#"{"rate": 1, "webhooks": "drop"}"#).unwrap();
        assert_eq!((drop.kind, drop.webhooks), (None, WebhookFault::Drop));
    }

    #[test]
    fn only_the_host_rest_api_is_affected() {
        assert!(is_host_rest("/rest/api/3/issue/LOD-1"));
        assert!(is_host_rest("/wiki/rest/api/content/1"));
        assert!(!is_host_rest("/rest/plugins/1.0/"));
        assert!(!is_host_rest("/browse/LOD-1"));
        assert!(!is_host_rest("/dev/api/faults"));
    }
}
