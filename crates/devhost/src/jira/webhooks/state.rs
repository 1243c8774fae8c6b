//! A site's webhook state (Atlassian: "Webhooks" for Jira Cloud, "Jira
//! REST API v3: Webhooks"): dynamic registrations, the delivery policy,
//! deliveries that failed for good and a log of recent ones. The model
//! only, so that the site can hold it without knowing delivery
//! ([`super::delivery`]) or the REST resource ([`super::registration`]).

use std::collections::VecDeque;
use std::time::Duration;

use super::filter::Filter;

/// How long a dynamic registration lives without a refresh.
pub(crate) const LIFETIME_MS: i64 = 30 * 24 * 60 * 60 * 1000;
/// How long a failed delivery stays listed.
const FAILED_KEPT_MS: i64 = 72 * 60 * 60 * 1000;

/// How the site delivers webhooks (Atlassian: "Webhooks", retry policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryPolicy {
    /// The wait before the first retry; each further retry waits twice as long.
    pub base_backoff: Duration,
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The longest `Retry-After` honoured.
    pub retry_after_cap: Duration,
    /// How long one attempt may take before it counts as timed out.
    pub timeout: Duration,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        DeliveryPolicy {
            base_backoff: Duration::from_millis(200),
            max_attempts: 5,
            retry_after_cap: Duration::from_secs(10),
            timeout: Duration::from_secs(10),
        }
    }
}

/// A dynamic webhook registration (Atlassian: "Jira REST API v3: Webhooks",
/// `Webhook`).
#[derive(Debug, Clone)]
pub struct Registration {
    /// The id handed to the app (`createdWebhookId`).
    pub id: u64,
    /// The app that registered it.
    pub app_key: String,
    /// Where deliveries go: absolute, under the app's base URL.
    pub url: String,
    /// The events it wants.
    pub events: Vec<String>,
    /// The filter as the app wrote it.
    pub jql_filter: String,
    /// Only `jira:issue_updated` events changing one of these fields, if set.
    pub field_ids_filter: Option<Vec<String>>,
    /// Only `issue_property_set` / `issue_property_deleted` events for one
    /// of these property keys, if set (and not empty).
    pub issue_property_keys_filter: Option<Vec<String>>,
    /// When it lapses, milliseconds since the epoch.
    pub expires_at_ms: i64,
    /// The checked `jqlFilter`.
    pub(crate) filter: Filter,
}

/// A delivery that failed for good (Atlassian: "Jira REST API v3: Webhooks",
/// get failed webhooks).
#[derive(Debug, Clone)]
pub struct FailedDelivery {
    /// A sequence number, as a string (Jira's shape).
    pub id: String,
    /// The app it was for.
    pub app_key: String,
    /// Where it was sent (with its query: only that app may list it).
    pub url: String,
    /// The JSON body, as sent.
    pub body: String,
    /// When it failed, milliseconds since the epoch.
    pub failure_time_ms: i64,
}

/// Where a delivery stands, for tests and for reading the dev world.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Sent or about to be, not answered with success yet.
    Pending,
    /// Answered 2xx.
    Delivered {
        /// The status.
        status: u16,
    },
    /// Gave up: a status that is not retried, or the last attempt failed.
    Failed {
        /// What the last attempt got.
        reason: String,
    },
    /// Not sent: fault injection dropped it.
    Dropped,
}

/// One delivery in the site's recent log.
#[derive(Debug, Clone)]
pub struct DeliveryRecord {
    /// `X-Atlassian-Webhook-Identifier`.
    pub identifier: String,
    /// The app it was for.
    pub app_key: String,
    /// `webhookEvent`.
    pub event: String,
    /// The URL without its query.
    pub url: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// Where it stands.
    pub outcome: Outcome,
}

/// A site's webhook state: registrations, policy, failures and a log.
#[derive(Debug, Default)]
pub struct WebhookState {
    /// Dynamic registrations, every app's, in id order.
    pub registrations: Vec<Registration>,
    /// How deliveries are retried.
    pub policy: DeliveryPolicy,
    /// Deliveries that failed for good, oldest first.
    pub failed: Vec<FailedDelivery>,
    /// The most recent deliveries, oldest first.
    pub deliveries: VecDeque<DeliveryRecord>,
    pub(crate) last_id: u64,
    pub(crate) last_failure: u64,
    client: Option<reqwest::Client>,
}

impl WebhookState {
    /// Forgets lapsed registrations, those of apps no longer installed
    /// (`installed` says which are: Jira deletes an app's webhooks with the
    /// app), and failures older than 72 hours.
    pub(crate) fn prune(&mut self, now_ms: i64, installed: impl Fn(&str) -> bool) {
        self.registrations.retain(|r| r.expires_at_ms > now_ms && installed(&r.app_key));
        self.failed.retain(|f| now_ms - f.failure_time_ms < FAILED_KEPT_MS);
    }

    /// The HTTP client deliveries use, made on first use. One per site, so
    /// that no connection outlives the runtime (test) that opened it.
    pub(crate) fn client(&mut self) -> Option<reqwest::Client> {
        if self.client.is_none() {
            self.client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(Duration::from_secs(5))
                .pool_max_idle_per_host(0)
                .build()
                .ok();
        }
        self.client.clone()
    }

    /// Changes the log entry of delivery `identifier`, if it is still logged.
    pub(crate) fn record(&mut self, identifier: &str, change: impl FnOnce(&mut DeliveryRecord)) {
        if let Some(record) = self.deliveries.iter_mut().rev().find(|r| r.identifier == identifier)
        {
            change(record);
        }
    }
}
