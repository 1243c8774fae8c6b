//! The host REST client: calls a tenant's API *as the app*.
//!
//! How each request is authorised depends on the flavour ([`Tenant`]): a
//! Connect request carries `Authorization: JWT <token>`, HS256 with the
//! installation's shared secret and the `qsh` of that exact request
//! (Atlassian: "Understanding JWT for Connect apps", "Making a service
//! call"); a Forge request carries the product token Forge handed the
//! remote (Forge: "Calling Atlassian app APIs from a remote").
//!
//! Requests go only to the tenant's own base URL (the sealed record's, or a
//! verified invocation token's), never to one from the incoming request. The client times out,
//! retries 429 and 5xx with exponential backoff that honours `Retry-After`
//! in both its forms (seconds, or an HTTP date: RFC 9110 §10.2.3), capped,
//! and logs method, path and status only: never the token or a body.

use std::time::{Duration, SystemTime};

use reqwest::{Method, StatusCode};

use super::tenant::Tenant;

/// Why a call to the host did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The host could not be reached, or did not answer in time, on every attempt.
    #[error("host did not answer {method} {path}: {reason}")]
    Unreachable {
        /// The method.
        method: Method,
        /// The path (no query: it may carry data).
        path: String,
        /// What the HTTP client said, without URL or headers.
        reason: String,
    },
    /// The host answered 2xx with a body that is not the JSON expected.
    #[error("host answered {path} with a body that is not the JSON expected")]
    Malformed {
        /// The path.
        path: String,
    },
    /// The host answered with a status that is not success.
    #[error("host answered {status} to {method} {path}")]
    Status {
        /// The method.
        method: Method,
        /// The path.
        path: String,
        /// The final status.
        status: StatusCode,
    },
}

/// What the host answered, read as JSON.
impl HostResponse {
    /// The body as JSON, or [`HostError::Malformed`] naming `path`.
    pub fn json(&self, path: &str) -> Result<serde_json::Value, HostError> {
        serde_json::from_slice(&self.body)
            .map_err(|_| HostError::Malformed { path: path.to_owned() })
    }
}

impl HostError {
    /// The HTTP status the host answered, if it answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            HostError::Status { status, .. } => Some(*status),
            HostError::Unreachable { .. } | HostError::Malformed { .. } => None,
        }
    }
}

/// How hard to try: attempts and backoff bounds.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Total attempts, the first included.
    pub attempts: u32,
    /// Delay before the first retry; doubles each time.
    pub first_delay: Duration,
    /// No single wait is longer than this, whatever `Retry-After` says.
    pub max_delay: Duration,
    /// Timeout of each attempt.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            first_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
        }
    }
}

/// A response from the host.
#[derive(Debug)]
pub struct HostResponse {
    /// The status: a success, or `303 See Other` (Jira's answer that an
    /// asynchronous task started; failures are [`HostError`]s).
    pub status: StatusCode,
    /// The `Location` header, which a `303` carries.
    pub location: Option<String>,
    /// The body.
    pub body: bytes::Bytes,
}

/// Whether the host did what was asked (or started doing it: a `303` to a task).
fn accepted(status: StatusCode) -> bool {
    status.is_success() || status == StatusCode::SEE_OTHER
}

/// Calls tenants' REST APIs as the app.
#[derive(Debug, Clone)]
pub struct HostClient {
    http: reqwest::Client,
    policy: RetryPolicy,
}

impl HostClient {
    /// A client with its own connection pool.
    pub fn new(policy: RetryPolicy) -> Result<HostClient, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(policy.timeout)
            .connect_timeout(policy.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("lodger/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(HostClient { http, policy })
    }

    /// `GET path` as JSON; `None` when the host answers 404 (no such thing).
    pub async fn get_json<'t>(
        &self,
        tenant: impl Into<Tenant<'t>>,
        path: &str,
    ) -> Result<Option<serde_json::Value>, HostError> {
        match self.send(tenant, Method::GET, path, None).await {
            Ok(response) => response.json(path).map(Some),
            Err(err) if err.status() == Some(StatusCode::NOT_FOUND) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Sends `method path_and_query` (relative to the tenant's base URL, e.g.
    /// `/rest/api/3/myself`) with an optional JSON body, as the app.
    pub async fn send<'t>(
        &self,
        tenant: impl Into<Tenant<'t>>,
        method: Method,
        path_and_query: &str,
        json: Option<&serde_json::Value>,
    ) -> Result<HostResponse, HostError> {
        let tenant = tenant.into();
        let url = format!("{}{path_and_query}", tenant.base_url());
        let path = path_and_query.split_once('?').map_or(path_and_query, |(path, _)| path);
        let body = json.map(|value| value.to_string());
        let mut attempt = 1;
        loop {
            let mut request = self
                .http
                .request(method.clone(), &url)
                .header("Authorization", tenant.authorization(method.as_str(), path_and_query))
                .header("Accept", "application/json");
            if let Some(body) = &body {
                request = request.header("Content-Type", "application/json").body(body.clone());
            }
            let outcome = request.send().await;
            let retry_after = match &outcome {
                Ok(response) if accepted(response.status()) => None,
                Ok(response) => retry_after(response.headers()),
                Err(_) => None,
            };
            let failure = match outcome {
                Ok(response) if accepted(response.status()) => {
                    let status = response.status();
                    let location = response
                        .headers()
                        .get(reqwest::header::LOCATION)
                        .and_then(|value| value.to_str().ok())
                        .map(str::to_owned);
                    let body = response.bytes().await.map_err(|err| HostError::Unreachable {
                        method: method.clone(),
                        path: path.to_owned(),
                        reason: without_url(&err),
                    })?;
                    return Ok(HostResponse { status, location, body });
                }
                Ok(response) => HostError::Status {
                    method: method.clone(),
                    path: path.to_owned(),
                    status: response.status(),
                },
                Err(err) => HostError::Unreachable {
                    method: method.clone(),
                    path: path.to_owned(),
                    reason: without_url(&err),
                },
            };
            if attempt >= self.policy.attempts || !is_retryable(&method, &failure) {
                tracing::warn!(%method, path, attempt, error = %failure, "host call failed");
                return Err(failure);
            }
            let delay = self.delay(attempt, retry_after);
            tracing::info!(%method, path, attempt, error = %failure, delay_ms = delay.as_millis() as u64, "host call failed; retrying");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// The wait before retry number `attempt`: `Retry-After` when the host
    /// gave one, else exponential backoff; never above the policy's maximum.
    fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let backoff = self.policy.first_delay.saturating_mul(1 << (attempt - 1).min(16));
        retry_after.unwrap_or(backoff).min(self.policy.max_delay)
    }
}

/// 429 and 5xx are worth retrying; connection failures too, for idempotent
/// methods only (a POST that timed out may have been applied). A 429 was
/// refused before any work, so it is retried whatever the method.
fn is_retryable(method: &Method, failure: &HostError) -> bool {
    let idempotent = matches!(*method, Method::GET | Method::HEAD | Method::PUT | Method::DELETE);
    match failure.status() {
        Some(StatusCode::TOO_MANY_REQUESTS) => true,
        Some(status) => status.is_server_error() && idempotent,
        None => idempotent,
    }
}

/// The wait a `Retry-After` header asks for, if it has one we can read.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    retry_after_at(value, SystemTime::now())
}

/// Reads `Retry-After` at `now` (RFC 9110 §10.2.3: `HTTP-date /
/// delay-seconds`). Atlassian's rate limits send seconds ("Rate limiting");
/// a proxy or gateway in front of a site may send a date. A date in the
/// past means "now" (no wait). Anything else (a negative or fractional
/// number, a date in no HTTP format) is `None`, and the caller falls back
/// to its backoff. The caller caps whatever is read here.
fn retry_after_at(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if value.bytes().all(|b| b.is_ascii_digit()) {
        // All digits: delay-seconds (a number too large for u64 is still a
        // long wait, and the cap applies).
        return (!value.is_empty())
            .then(|| value.parse().map_or(Duration::MAX, Duration::from_secs));
    }
    // IMF-fixdate, and the obsolete RFC 850 and asctime forms a recipient
    // must also accept.
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A reqwest error's text without the URL (which could carry a query).
fn without_url(err: &reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "connection failed"
    } else if err.is_body() || err.is_decode() {
        "response body failed"
    } else {
        "request failed"
    };
    kind.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_429_always_and_5xx_only_when_idempotent() {
        let status = |code: u16| HostError::Status {
            method: Method::POST,
            path: "/".into(),
            status: StatusCode::from_u16(code).unwrap(),
        };
        assert!(is_retryable(&Method::POST, &status(429)));
        assert!(!is_retryable(&Method::POST, &status(503)));
        assert!(is_retryable(&Method::PUT, &status(503)));
        assert!(!is_retryable(&Method::PUT, &status(404)));
    }

    #[test]
    fn retry_after_wins_over_backoff_but_is_capped() {
        let client = HostClient::new(RetryPolicy::default()).unwrap();
        assert_eq!(client.delay(1, None), Duration::from_millis(200));
        assert_eq!(client.delay(3, None), Duration::from_millis(800));
        assert_eq!(client.delay(1, Some(Duration::from_secs(2))), Duration::from_secs(2));
        assert_eq!(client.delay(1, Some(Duration::from_secs(600))), Duration::from_secs(5));
        assert_eq!(client.delay(40, None), Duration::from_secs(5));
    }

    /// 1994-11-06 08:49:37 GMT, RFC 9110's example date.
    fn rfc_example_moment() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777)
    }

    #[test]
    fn retry_after_in_seconds_is_read_as_seconds() {
        let now = rfc_example_moment();
        assert_eq!(retry_after_at("120", now), Some(Duration::from_secs(120)));
        assert_eq!(retry_after_at(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(retry_after_at("99999999999999999999999", now), Some(Duration::MAX));
    }

    #[test]
    fn retry_after_as_an_http_date_waits_until_that_date() {
        let now = rfc_example_moment();
        let wait = |value: &str| retry_after_at(value, now);
        assert_eq!(wait("Sun, 06 Nov 1994 08:49:40 GMT"), Some(Duration::from_secs(3)));
        // The two obsolete forms RFC 9110 still asks recipients to accept.
        assert_eq!(wait("Sunday, 06-Nov-94 08:49:40 GMT"), Some(Duration::from_secs(3)));
        assert_eq!(wait("Sun Nov  6 08:49:40 1994"), Some(Duration::from_secs(3)));
        let half_past = now + Duration::from_millis(500);
        assert_eq!(
            retry_after_at("Sun, 06 Nov 1994 08:49:40 GMT", half_past),
            Some(Duration::from_millis(2_500))
        );
    }

    #[test]
    fn retry_after_in_the_past_means_no_wait() {
        let now = rfc_example_moment();
        assert_eq!(retry_after_at("Sun, 06 Nov 1994 08:49:37 GMT", now), Some(Duration::ZERO));
        assert_eq!(retry_after_at("Thu, 01 Jan 1970 00:00:00 GMT", now), Some(Duration::ZERO));
    }

    #[test]
    fn garbage_in_retry_after_falls_back_to_backoff() {
        let now = rfc_example_moment();
        for garbage in ["", " ", "-1", "1.5", "soon", "2026-12-05T14:00:00Z", "Sun, 06 Nov 1994"] {
            assert_eq!(retry_after_at(garbage, now), None, "{garbage:?}");
        }
        let client = HostClient::new(RetryPolicy::default()).unwrap();
        assert_eq!(client.delay(2, retry_after_at("soon", now)), Duration::from_millis(400));
    }

    #[test]
    fn a_far_http_date_is_capped_like_a_long_delay() {
        let client = HostClient::new(RetryPolicy::default()).unwrap();
        let wait = retry_after_at("Fri, 31 Dec 9999 23:59:59 GMT", rfc_example_moment());
        assert_eq!(client.delay(1, wait), Duration::from_secs(5));
    }
}
