//! Fault injection: make an emulated site misbehave on purpose, the ways a
//! real Atlassian site does under load, so that an app's retry and
//! idempotency code is exercised by tests instead of by customers.
//!
//! One [`Faults`] setting per site says how often (`rate`, 0 to 1) and how:
//!
//! | setting | what the app sees | where it is real |
//! |---|---|---|
//! | `kind: tooManyRequests` | `429` with `Retry-After` in seconds, or as an HTTP date with `retryAfterForm: httpDate` | Jira Cloud's rate limits ("Rate limiting" page); the header's two forms: RFC 9110 §10.2.3 |
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
//! Tests set faults with [`Site::set_faults`](crate::site::Site::set_faults);
//! the dev world (or `curl`) with `PUT /dev/api/faults` (see
//! [`super::fault_injection`], which applies the setting):
//! for example:
//!
//! ```text
//! curl -X PUT localhost:2990/dev/api/faults -H 'content-type: application/json' \
//!      -d '{"rate": 0.3, "kind": {"tooManyRequests": {"retryAfterSecs": 2}}}'
//! curl -X PUT localhost:2990/dev/api/faults -H 'content-type: application/json' \
//!      -d '{"rate": 1, "kind": {"tooManyRequests": {"retryAfterSecs": 2, "retryAfterForm": "httpDate"}}}'
//! ```
//!
//! Atlassian's rate-limit answers carry `Retry-After` in seconds; HTTP lets
//! any server send an HTTP date instead (RFC 9110 §10.2.3: `Retry-After =
//! HTTP-date / delay-seconds`), and proxies and gateways in front of a site
//! do. `retryAfterForm: httpDate` sends the date `retryAfterSecs` from now,
//! rounded up to the next whole second (an HTTP date has no fractions), so
//! that an app that honours it never waits less than asked.
//!
//! That endpoint has no authentication: the emulator listens on loopback
//! only, and a PUT with a JSON body needs a CORS preflight the emulator never
//! grants, so no web page can change the setting behind a developer's back.
//!
//! This file is the setting itself, a model the site holds.

use serde::{Deserialize, Serialize};

/// The longest injected latency or webhook delay: a minute, so that a typo
/// cannot hang a test suite.
const MAX_MILLIS: u64 = 60_000;

/// The furthest `Retry-After` date the emulator writes: a year ahead, far
/// inside what an HTTP date can spell (years up to 9999).
pub const MAX_RETRY_AFTER_DATE_SECS: u64 = 366 * 24 * 60 * 60;

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
        /// How `Retry-After` is written (seconds when absent).
        #[serde(rename = "retryAfterForm", default)]
        form: RetryAfterForm,
    },
    /// This `5xx` status, in Jira's error shape.
    ServerError(u16),
    /// The normal answer, `millis` late.
    Slow {
        /// The added latency.
        millis: u64,
    },
}

/// The two forms of `Retry-After` (RFC 9110 §10.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RetryAfterForm {
    /// `Retry-After: 2`, as Atlassian sends it.
    #[default]
    Seconds,
    /// `Retry-After: Sat, 05 Dec 2026 14:00:02 GMT`, the moment to retry at.
    HttpDate,
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
    /// A `Retry-After` date more than a year ahead.
    #[error("retryAfterSecs must be at most 31622400 with retryAfterForm httpDate, got {0}")]
    TooFar(u64),
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
            Some(RestFault::TooManyRequests {
                retry_after_secs,
                form: RetryAfterForm::HttpDate,
            }) if retry_after_secs > MAX_RETRY_AFTER_DATE_SECS => {
                Err(FaultsError::TooFar(retry_after_secs))
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
        let too_far = Faults {
            rate: 1.0,
            kind: Some(RestFault::TooManyRequests {
                retry_after_secs: u64::MAX,
                form: RetryAfterForm::HttpDate,
            }),
            ..Faults::default()
        };
        assert_eq!(too_far.validate(), Err(FaultsError::TooFar(u64::MAX)));
    }

    #[test]
    fn faults_read_from_json_in_camel_case() {
        let faults: Faults = serde_json::from_str(
            r#"{"rate": 1, "kind": {"tooManyRequests": {"retryAfterSecs": 2}}, "webhooks": {"delay": {"millis": 5}}}"#,
        )
        .unwrap();
        assert_eq!(
            faults.kind,
            Some(RestFault::TooManyRequests { retry_after_secs: 2, form: RetryAfterForm::Seconds })
        );
        let dated: Faults = serde_json::from_str(
            r#"{"rate": 1, "kind": {"tooManyRequests": {"retryAfterSecs": 3, "retryAfterForm": "httpDate"}}}"#,
        )
        .unwrap();
        assert_eq!(
            dated.kind,
            Some(RestFault::TooManyRequests {
                retry_after_secs: 3,
                form: RetryAfterForm::HttpDate
            })
        );
        let odd = r#"{"rate": 1, "kind": {"tooManyRequests": {"retryAfterSecs": 3, "retryAfterForm": "date"}}}"#;
        assert!(serde_json::from_str::<Faults>(odd).is_err(), "an unknown form is refused");
        assert_eq!(faults.webhooks, WebhookFault::Delay { millis: 5 });
        let drop: Faults = serde_json::from_str(r#"{"rate": 1, "webhooks": "drop"}"#).unwrap();
        assert_eq!((drop.kind, drop.webhooks), (None, WebhookFault::Drop));
    }
}
