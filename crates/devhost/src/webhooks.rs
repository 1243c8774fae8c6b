//! Jira webhooks, as an emulated site fires them: which apps get told about
//! an issue change, how the request is signed, and how failures are retried
//! (Atlassian: "Webhooks" for Jira Cloud, and "Jira REST API v3: Webhooks").
//!
//! **Two kinds of subscription.** An app declares *descriptor webhooks* in
//! `modules.webhooks` (`{event, url, excludeBody?}`, the URL relative to its
//! base URL); they live as long as the installation. A Connect app may also
//! register *dynamic webhooks* over REST, as the app (a user's `AP.request`
//! is refused: "The caller isn't an app."):
//!
//! | request | answer |
//! |---|---|
//! | `POST /rest/api/3/webhook` `{url, webhooks: [{events, jqlFilter, fieldIdsFilter?}]}` | `200 {"webhookRegistrationResult": [{"createdWebhookId": 1000} \| {"errors": [...]}]}` |
//! | `GET /rest/api/3/webhook?startAt&maxResults` | a page of `{id, jqlFilter, events, expirationDate, url}` |
//! | `PUT /rest/api/3/webhook/refresh` `{"webhookIds": [...]}` | `200 {"expirationDate"}`, 30 days from now |
//! | `DELETE /rest/api/3/webhook` `{"webhookIds": [...]}` | `202` |
//! | `GET /rest/api/3/webhook/failed?after&maxResults` | deliveries that failed for good, oldest first, kept 72 hours |
//!
//! Registration rules, each an `errors` entry rather than a failed request:
//! the `url` is absolute and under the app's base URL, an app has one URL
//! (another one is refused while registrations for the first remain), and a
//! `jqlFilter` uses only `=`, `!=`, `IN`, `NOT IN`, `AND`, `OR` and
//! parentheses over `project`, `issuekey`, `issuetype` and `status`
//! ("The clause watchCount is unsupported"). Real Jira also knows
//! `assignee`, `reporter`, `issue.property` and one custom field; the
//! emulator's issues have none of those. A registration lapses 30 days
//! after it was created or last refreshed; ids are not reused.
//!
//! As on Jira, these operations need only the `READ` scope (see
//! [`super::auth::scope_for`]).
//!
//! **Delivery** is a `POST` of `{timestamp, webhookEvent, issue, user?,
//! changelog?, matchedWebhookIds?}` (dynamic webhooks of one app matching
//! one event share a request and are listed in `matchedWebhookIds`), signed
//! as the host signs everything it sends an app: `Authorization: JWT`, HS256
//! with the installation's shared secret, `iss` the site's `clientKey`, `qsh`
//! of the exact POST URL relative to the app's base URL, query included (so
//! a credential in `?c=…` survives and is covered by the signature), a three
//! minute `exp`. Each delivery has an `X-Atlassian-Webhook-Identifier` that
//! stays the same across its attempts and an `X-Atlassian-Webhook-Retry`
//! counting them from 0 (Atlassian documents the header on retries; a first
//! attempt carrying `0` reads the same to an app).
//!
//! **Retries**, like Jira Cloud's retry policy: on 408, 409, 425, 429, any 5xx,
//! a refused connection or a timeout the delivery is tried again, up to
//! [`DeliveryPolicy::max_attempts`], after an exponential backoff from
//! [`DeliveryPolicy::base_backoff`] or the answer's `Retry-After` (seconds,
//! capped). Jira spreads its retries over about 30 minutes; the emulator over
//! seconds. An app may therefore see one event more than once and must use
//! the identifier to stay idempotent. Any other answer, or the last failed
//! attempt, ends the delivery in the failed list.
//!
//! Deliveries run in background tasks and never hold up the REST call that
//! caused them. Each attempt is logged (event, URL without its query, status,
//! attempt); the token and the query never are.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::auth::Caller;
use super::faults::WebhookFault;
use super::issues::{IssueType, STATUS, api_version};
use super::rest::{Call, call, error};
use super::site::{AppInstall, Issue, Site, SiteData, User};
use lodger_connect::jwt::{self, Claims};
use lodger_connect::qsh::{query_string_hash, relative_path};
use lodger_connect::secret::Secret;

/// `webhookEvent` of an issue creation.
pub const ISSUE_CREATED: &str = "jira:issue_created";
/// `webhookEvent` of an issue edit.
pub const ISSUE_UPDATED: &str = "jira:issue_updated";
/// `webhookEvent` of an issue deletion.
pub const ISSUE_DELETED: &str = "jira:issue_deleted";

/// The events a dynamic webhook may name (Atlassian: "Jira REST API v3:
/// Webhooks", `WebhookDetails.events`). The emulator fires the issue ones.
const DYNAMIC_EVENTS: [&str; 8] = [
    ISSUE_CREATED,
    ISSUE_UPDATED,
    ISSUE_DELETED,
    "comment_created",
    "comment_updated",
    "comment_deleted",
    "issue_property_set",
    "issue_property_deleted",
];

/// How long a dynamic registration lives without a refresh.
const LIFETIME_MS: i64 = 30 * 24 * 60 * 60 * 1000;
/// How long a failed delivery stays listed.
const FAILED_KEPT_MS: i64 = 72 * 60 * 60 * 1000;
/// The largest page `GET /webhook` and `GET /webhook/failed` return.
const MAX_PAGE: usize = 100;
/// How many deliveries [`WebhookState::deliveries`] remembers.
const DELIVERY_LOG: usize = 200;
/// The lifetime of a delivery's token, in seconds.
const TOKEN_SECONDS: i64 = 180;

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
    /// Kept and listed; the emulator fires no property events.
    pub issue_property_keys_filter: Option<Vec<String>>,
    /// When it lapses, milliseconds since the epoch.
    pub expires_at_ms: i64,
    filter: jql_filter::Expr,
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
    last_id: u64,
    last_failure: u64,
    client: Option<reqwest::Client>,
}

impl WebhookState {
    /// Forgets lapsed registrations, those of apps no longer installed
    /// (Jira deletes an app's webhooks with the app), and failures older
    /// than 72 hours.
    fn prune(&mut self, now_ms: i64, installs: &HashMap<String, AppInstall>) {
        self.registrations
            .retain(|r| r.expires_at_ms > now_ms && installs.contains_key(&r.app_key));
        self.failed.retain(|f| now_ms - f.failure_time_ms < FAILED_KEPT_MS);
    }

    /// The HTTP client deliveries use, made on first use. One per site, so
    /// that no connection outlives the runtime (test) that opened it.
    fn client(&mut self) -> Option<reqwest::Client> {
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

    fn record(&mut self, identifier: &str, change: impl FnOnce(&mut DeliveryRecord)) {
        if let Some(record) = self.deliveries.iter_mut().rev().find(|r| r.identifier == identifier)
        {
            change(record);
        }
    }
}

impl Site {
    /// Replaces how the site delivers webhooks (tests shorten the backoff).
    pub fn set_delivery_policy(&self, policy: DeliveryPolicy) {
        self.data().webhooks.policy = policy;
    }
}

/// A field an edit changed, for `changelog` and `fieldIdsFilter`.
#[derive(Debug, Clone)]
pub struct FieldChange {
    /// The field id, e.g. `summary`.
    pub field: String,
    /// The value before.
    pub from: String,
    /// The value after.
    pub to: String,
}

/// An issue change to tell apps about.
#[derive(Debug)]
pub struct IssueEvent<'a> {
    /// [`ISSUE_CREATED`], [`ISSUE_UPDATED`] or [`ISSUE_DELETED`].
    pub name: &'static str,
    /// The issue, after the change (before it, for a deletion).
    pub issue: &'a Issue,
    /// Its type.
    pub issue_type: IssueType,
    /// Who made the change; `None` for an app.
    pub user: Option<&'a User>,
    /// What an edit changed.
    pub changes: &'a [FieldChange],
}

/// What a jqlFilter is evaluated against: each field's names (id, key, name).
struct Subject<'a> {
    project: Vec<&'a str>,
    issue: Vec<&'a str>,
    issue_type: Vec<&'a str>,
    status: Vec<&'a str>,
}

impl Subject<'_> {
    fn values(&self, field: jql_filter::Field) -> &[&str] {
        match field {
            jql_filter::Field::Project => &self.project,
            jql_filter::Field::IssueKey => &self.issue,
            jql_filter::Field::IssueType => &self.issue_type,
            jql_filter::Field::Status => &self.status,
        }
    }
}

/// One request to make, with its retries.
struct Delivery {
    site: Arc<Site>,
    app_key: String,
    app_base_url: String,
    secret: Secret,
    url: String,
    event: &'static str,
    body: Option<String>,
    identifier: String,
    delay: Option<Duration>,
}

/// Fires `event` to every enabled app that subscribed to it, descriptor and
/// dynamic webhooks alike, in background tasks (Atlassian: "Webhooks").
pub fn fire(site: &Arc<Site>, event: &IssueEvent<'_>) {
    let now_ms = now_millis();
    let payload = payload(site, event, now_ms);
    let (deliveries, policy, client) = {
        let mut guard = site.data();
        let data = &mut *guard;
        data.webhooks.prune(now_ms, &data.installs);
        let mut deliveries = Vec::new();
        for install in data.installs.values().filter(|i| i.enabled) {
            for (url, body) in subscriptions(site, install, &data.webhooks, event, &payload) {
                deliveries.push(Delivery {
                    site: Arc::clone(site),
                    app_key: install.app_key.clone(),
                    app_base_url: install.app_base_url.clone(),
                    secret: install.shared_secret.clone(),
                    url,
                    event: event.name,
                    body,
                    identifier: super::random_id(16),
                    delay: None,
                });
            }
        }
        let deliveries = apply_faults(site, data, deliveries);
        (deliveries, data.webhooks.policy, data.webhooks.client())
    };
    let Some(client) = client else {
        tracing::warn!(site = %site.name, "no HTTP client for webhooks; nothing delivered");
        return;
    };
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::warn!(site = %site.name, "no async runtime; webhooks not delivered");
        return;
    };
    for delivery in deliveries {
        runtime.spawn(deliver(delivery, policy, client.clone()));
    }
}

/// The (URL, body) pairs one app gets for `event`: one per matching
/// descriptor webhook, and one per URL of its matching dynamic webhooks.
fn subscriptions(
    site: &Site,
    install: &AppInstall,
    state: &WebhookState,
    event: &IssueEvent<'_>,
    payload: &Value,
) -> Vec<(String, Option<String>)> {
    let mut targets = Vec::new();
    let declared = install.descriptor["modules"]["webhooks"].as_array();
    for hook in declared.into_iter().flatten() {
        let (Some(name), Some(url)) = (hook["event"].as_str(), hook["url"].as_str()) else {
            continue;
        };
        if name == event.name {
            let body = (hook["excludeBody"] != Value::Bool(true)).then(|| payload.to_string());
            targets.push((absolute(&install.app_base_url, url), body));
        }
    }
    let project = site.project(&event.issue.project_id);
    let subject = Subject {
        project: project.map_or_else(Vec::new, |p| vec![p.id.as_str(), &p.key, &p.name]),
        issue: vec![event.issue.id.as_str(), &event.issue.key],
        issue_type: vec![event.issue_type.id, event.issue_type.name],
        status: vec![STATUS.0, STATUS.1],
    };
    let changed = |fields: &[String]| event.changes.iter().any(|c| fields.contains(&c.field));
    let mut matched: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for registration in &state.registrations {
        let wanted = registration.app_key == install.app_key
            && registration.events.iter().any(|e| e == event.name)
            && registration.filter.matches(&subject)
            && match (&registration.field_ids_filter, event.name) {
                (Some(fields), ISSUE_UPDATED) if !fields.is_empty() => changed(fields),
                _ => true,
            };
        if wanted {
            matched.entry(&registration.url).or_default().push(registration.id);
        }
    }
    for (url, ids) in matched {
        let mut body = payload.clone();
        body["matchedWebhookIds"] = json!(ids);
        targets.push((url.to_owned(), Some(body.to_string())));
    }
    targets
}

/// Rolls the site's webhook fault for each delivery, logs each one, and
/// returns those still to be sent (delayed ones carry their delay).
fn apply_faults(site: &Site, data: &mut SiteData, deliveries: Vec<Delivery>) -> Vec<Delivery> {
    let mut sent = Vec::with_capacity(deliveries.len());
    for mut delivery in deliveries {
        let outcome = match data.faults.roll_webhook() {
            WebhookFault::Drop => Outcome::Dropped,
            WebhookFault::Delay { millis } => {
                delivery.delay = Some(Duration::from_millis(millis));
                Outcome::Pending
            }
            WebhookFault::None => Outcome::Pending,
        };
        let log = &mut data.webhooks.deliveries;
        if log.len() >= DELIVERY_LOG {
            log.pop_front();
        }
        log.push_back(DeliveryRecord {
            identifier: delivery.identifier.clone(),
            app_key: delivery.app_key.clone(),
            event: delivery.event.to_owned(),
            url: loggable(&delivery.url),
            attempts: 0,
            outcome: outcome.clone(),
        });
        if outcome == Outcome::Dropped {
            tracing::info!(site = %site.name, app = %delivery.app_key, event = delivery.event,
                url = %loggable(&delivery.url), "webhook dropped (fault injection)");
        } else {
            sent.push(delivery);
        }
    }
    sent
}

/// The body Jira posts for an issue event.
fn payload(site: &Site, event: &IssueEvent<'_>, now_ms: i64) -> Value {
    let issue = event.issue;
    let project = site.project(&issue.project_id).map(|p| {
        json!({
            "self": format!("{}/rest/api/2/project/{}", site.base_url, p.id),
            "id": p.id, "key": p.key, "name": p.name, "projectTypeKey": "software",
        })
    });
    let mut body = json!({
        "timestamp": now_ms,
        "webhookEvent": event.name,
        "issue": {
            "id": issue.id,
            "key": issue.key,
            "self": format!("{}/rest/api/2/issue/{}", site.base_url, issue.id),
            "fields": {
                "summary": issue.summary,
                "project": project,
                "issuetype": {"id": event.issue_type.id, "name": event.issue_type.name, "subtask": false},
                "status": {"id": STATUS.0, "name": STATUS.1},
            },
        },
    });
    match event.name {
        ISSUE_CREATED => body["issue_event_type_name"] = json!("issue_created"),
        ISSUE_UPDATED => body["issue_event_type_name"] = json!("issue_updated"),
        _ => {}
    }
    if let Some(user) = event.user {
        body["user"] = json!({
            "self": format!("{}/rest/api/2/user?accountId={}", site.base_url, user.account_id),
            "accountId": user.account_id,
            "displayName": user.display_name,
            "active": true,
            "accountType": "atlassian",
        });
    }
    if !event.changes.is_empty() {
        let items: Vec<Value> = event
            .changes
            .iter()
            .map(|c| {
                json!({"field": c.field, "fieldId": c.field, "fieldtype": "jira",
                       "from": null, "fromString": c.from, "to": null, "toString": c.to})
            })
            .collect();
        body["changelog"] = json!({"id": now_ms.to_string(), "items": items});
    }
    body
}

/// A descriptor webhook's URL made absolute under the app's base URL.
fn absolute(app_base_url: &str, url: &str) -> String {
    if url.starts_with("https://") || url.starts_with("http://") {
        url.to_owned()
    } else if url.starts_with('/') {
        format!("{app_base_url}{url}")
    } else {
        format!("{app_base_url}/{url}")
    }
}

/// A URL fit for a log line: no query, no fragment, and no path segment
/// long enough to be a credential (an app may carry one in the path).
fn loggable(url: &str) -> String {
    let bare = url.split(['?', '#']).next().unwrap_or_default();
    let (origin, path) = match bare.find("://") {
        Some(i) => bare[i + 3..].find('/').map_or((bare, ""), |j| bare.split_at(i + 3 + j)),
        None => ("", bare),
    };
    let path: Vec<&str> = path
        .split('/')
        .map(|segment| if segment.len() > 40 { "[redacted]" } else { segment })
        .collect();
    format!("{origin}{}", path.join("/"))
}

/// Whether Jira retries after this answer (Atlassian: "Webhooks", retry policy).
fn is_retried(status: u16) -> bool {
    matches!(status, 408 | 409 | 425 | 429) || (500..=599).contains(&status)
}

/// How one attempt went.
enum Attempt {
    /// Answered 2xx with this status.
    Delivered(u16),
    /// Worth another try after `wait`.
    Retry { reason: String, wait: Duration },
    /// Not worth another try.
    GiveUp { reason: String },
}

impl Delivery {
    /// Makes attempt `attempt` (0-based), freshly signed.
    async fn attempt(
        &self,
        client: &reqwest::Client,
        policy: &DeliveryPolicy,
        qsh: &str,
        attempt: u32,
    ) -> Attempt {
        let claims = Claims::new(&self.site.client_key, lodger_connect::now(), TOKEN_SECONDS, qsh);
        let token = jwt::sign(&claims, &self.secret);
        let mut request = client
            .post(&self.url)
            .timeout(policy.timeout)
            .header("User-Agent", "Atlassian Webhook HTTP Client")
            .header("Authorization", format!("JWT {token}"))
            .header("X-Atlassian-Webhook-Identifier", &self.identifier)
            .header("X-Atlassian-Webhook-Retry", attempt.to_string());
        if let Some(body) = &self.body {
            request = request
                .header("Content-Type", "application/json; charset=utf-8")
                .body(body.clone());
        }
        let (site, app, event, url) =
            (&self.site.name, &self.app_key, self.event, loggable(&self.url));
        match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                tracing::info!(%site, %app, event, %url, status, attempt, "webhook delivery");
                if response.status().is_success() {
                    return Attempt::Delivered(status);
                }
                let reason = format!("answered {status}");
                if !is_retried(status) {
                    return Attempt::GiveUp { reason };
                }
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(|seconds| Duration::from_secs(seconds).min(policy.retry_after_cap));
                Attempt::Retry { reason, wait: retry_after.unwrap_or(backoff(policy, attempt)) }
            }
            Err(err) => {
                let reason = if err.is_timeout() {
                    "timed out"
                } else if err.is_connect() {
                    "connection failed"
                } else {
                    "request failed"
                };
                tracing::info!(%site, %app, event, %url, status = reason, attempt, "webhook delivery");
                Attempt::Retry { reason: reason.to_owned(), wait: backoff(policy, attempt) }
            }
        }
    }
}

/// Sends one delivery, retrying as Jira does, and records how it went.
async fn deliver(delivery: Delivery, policy: DeliveryPolicy, client: reqwest::Client) {
    if let Some(delay) = delivery.delay {
        tokio::time::sleep(delay).await;
    }
    let (path, query) = relative_path(&delivery.url, &delivery.app_base_url);
    let qsh = query_string_hash("POST", path, query);
    let record = |change: &dyn Fn(&mut DeliveryRecord)| {
        delivery.site.data().webhooks.record(&delivery.identifier, change);
    };
    let attempts = policy.max_attempts.max(1);
    let mut reason = String::new();
    for attempt in 0..attempts {
        let outcome = delivery.attempt(&client, &policy, &qsh, attempt).await;
        record(&|r| r.attempts = attempt + 1);
        match outcome {
            Attempt::Delivered(status) => {
                record(&|r| r.outcome = Outcome::Delivered { status });
                return;
            }
            Attempt::GiveUp { reason: why } => {
                reason = why;
                break;
            }
            Attempt::Retry { reason: why, wait } => {
                reason = why;
                if attempt + 1 < attempts {
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
    let Delivery { site, app_key, url, event, body, identifier, .. } = delivery;
    tracing::warn!(site = %site.name, app = %app_key, event, url = %loggable(&url), "webhook delivery failed: {reason}");
    let mut data = site.data();
    let state = &mut data.webhooks;
    state.record(&identifier, |r| r.outcome = Outcome::Failed { reason: reason.clone() });
    state.last_failure += 1;
    let id = state.last_failure.to_string();
    state.failed.push(FailedDelivery {
        id,
        app_key,
        url,
        body: body.unwrap_or_default(),
        failure_time_ms: now_millis(),
    });
}

/// The wait after failed attempt `attempt` (0-based): base, 2×base, 4×base…
fn backoff(policy: &DeliveryPolicy, attempt: u32) -> Duration {
    policy.base_backoff.saturating_mul(1u32 << attempt.min(16))
}

/// Milliseconds since the Unix epoch: webhook timestamps and expiry dates.
fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64)
}

// ---------------------------------------------------------------------------
// The REST resource.

/// `/rest/api/{2|3}/webhook`, `/webhook/refresh` and `/webhook/failed`
/// (Atlassian: "Jira REST API v3: Webhooks").
pub fn routes(site: Arc<Site>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let with = {
        let site = Arc::clone(&site);
        warp::any().map(move || Arc::clone(&site))
    };
    let query = warp::query::<HashMap<String, String>>();
    let register = warp::post()
        .and(warp::path!("rest" / "api" / String / "webhook"))
        .and_then(api_version)
        .and(with.clone())
        .and(call(Arc::clone(&site)))
        .map(|_: String, site: Arc<Site>, call: Call| {
            as_app(&call, |app| register(&site, app, &call.body))
        });
    let list = warp::get()
        .and(warp::path!("rest" / "api" / String / "webhook"))
        .and_then(api_version)
        .and(query)
        .and(with.clone())
        .and(call(Arc::clone(&site)))
        .map(|_: String, query: HashMap<String, String>, site: Arc<Site>, call: Call| {
            as_app(&call, |app| list(&site, app, &query))
        });
    let delete = warp::delete()
        .and(warp::path!("rest" / "api" / String / "webhook"))
        .and_then(api_version)
        .and(with.clone())
        .and(call(Arc::clone(&site)))
        .map(|_: String, site: Arc<Site>, call: Call| {
            as_app(&call, |app| delete(&site, app, &call.body))
        });
    let refresh = warp::put()
        .and(warp::path!("rest" / "api" / String / "webhook" / "refresh"))
        .and_then(api_version)
        .and(with.clone())
        .and(call(Arc::clone(&site)))
        .map(|_: String, site: Arc<Site>, call: Call| {
            as_app(&call, |app| refresh(&site, app, &call.body))
        });
    let failed = warp::get()
        .and(warp::path!("rest" / "api" / String / "webhook" / "failed"))
        .and_then(api_version)
        .and(query)
        .and(with)
        .and(call(site))
        .map(|version: String, query: HashMap<String, String>, site: Arc<Site>, call: Call| {
            as_app(&call, |app| failed(&site, app, &version, &query))
        });
    register.or(list).unify().or(delete).unify().or(refresh).unify().or(failed).unify()
}

/// Runs `then` for an app caller; people (even through an app's iframe) get 403.
fn as_app(call: &Call, then: impl FnOnce(&str) -> Response) -> Response {
    match &call.caller {
        Caller::App { app_key } => then(app_key),
        Caller::User { .. } => error(StatusCode::FORBIDDEN, "The caller isn't an app."),
    }
}

fn json_body(body: &Bytes) -> Option<Value> {
    serde_json::from_slice::<Value>(body).ok().filter(Value::is_object)
}

fn strings(value: &Value) -> Option<Vec<String>> {
    value.as_array()?.iter().map(|v| v.as_str().map(str::to_owned)).collect()
}

/// `POST /rest/api/{2|3}/webhook`.
fn register(site: &Site, app_key: &str, body: &Bytes) -> Response {
    let Some(body) = json_body(body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "The request body must be a JSON object with url and webhooks.",
        );
    };
    let (Some(url), Some(webhooks)) = (body["url"].as_str(), body["webhooks"].as_array()) else {
        return error(StatusCode::BAD_REQUEST, "url and webhooks are required.");
    };
    let now_ms = now_millis();
    let mut guard = site.data();
    let data = &mut *guard;
    data.webhooks.prune(now_ms, &data.installs);
    let base = data.installs.get(app_key).map(|i| i.app_base_url.clone()).unwrap_or_default();
    let under_base = !base.is_empty()
        && url
            .strip_prefix(base.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']));
    let url_problem = if !(url.starts_with("https://") || url.starts_with("http://")) {
        Some(format!("The webhook URL {url} must be absolute."))
    } else if !under_base {
        Some(format!("The webhook URL must use the same base URL as the app ({base})."))
    } else if data.webhooks.registrations.iter().any(|r| r.app_key == app_key && r.url != url) {
        Some("Only a single URL per app is allowed to be registered; delete the webhooks with the other URL first.".to_owned())
    } else {
        None
    };
    let mut results = Vec::new();
    for details in webhooks {
        let mut errors: Vec<String> = url_problem.iter().cloned().collect();
        let events = strings(&details["events"]).unwrap_or_default();
        if events.is_empty() {
            errors.push("At least one event is required.".into());
        }
        for event in &events {
            if !DYNAMIC_EVENTS.contains(&event.as_str()) {
                errors.push(format!("The event {event} is not supported by dynamic webhooks."));
            }
        }
        let jql = details["jqlFilter"].as_str().unwrap_or_default();
        let filter = if jql.trim().is_empty() {
            errors.push("The jqlFilter is required.".into());
            None
        } else {
            jql_filter::parse(jql).map_err(|e| errors.push(e)).ok()
        };
        let Some(filter) = filter.filter(|_| errors.is_empty()) else {
            results.push(json!({ "errors": errors }));
            continue;
        };
        let state = &mut data.webhooks;
        state.last_id = state.last_id.max(999) + 1;
        let registration = Registration {
            id: state.last_id,
            app_key: app_key.to_owned(),
            url: url.to_owned(),
            events,
            jql_filter: jql.to_owned(),
            field_ids_filter: strings(&details["fieldIdsFilter"]),
            issue_property_keys_filter: strings(&details["issuePropertyKeysFilter"]),
            expires_at_ms: now_ms + LIFETIME_MS,
            filter,
        };
        tracing::info!(site = %site.name, app = %app_key, id = registration.id, jql = %jql, "dynamic webhook registered");
        results.push(json!({ "createdWebhookId": registration.id }));
        state.registrations.push(registration);
    }
    warp::reply::json(&json!({ "webhookRegistrationResult": results })).into_response()
}

/// A non-negative integer query parameter, `default` when absent.
fn number(query: &HashMap<String, String>, name: &str, default: u64) -> Result<u64, String> {
    match query.get(name) {
        None => Ok(default),
        Some(text) => text
            .parse::<u64>()
            .map_err(|_| format!("The {name} parameter must be a non-negative integer.")),
    }
}

/// `GET /rest/api/{2|3}/webhook`: the calling app's registrations, paged.
fn list(site: &Site, app_key: &str, query: &HashMap<String, String>) -> Response {
    let (start_at, max_results) =
        match (number(query, "startAt", 0), number(query, "maxResults", MAX_PAGE as u64)) {
            (Ok(start), Ok(max)) => (start as usize, (max as usize).min(MAX_PAGE)),
            (Err(message), _) | (_, Err(message)) => {
                return error(StatusCode::BAD_REQUEST, &message);
            }
        };
    let mut guard = site.data();
    let data = &mut *guard;
    data.webhooks.prune(now_millis(), &data.installs);
    let mine: Vec<&Registration> =
        data.webhooks.registrations.iter().filter(|r| r.app_key == app_key).collect();
    let values: Vec<Value> = mine
        .iter()
        .skip(start_at)
        .take(max_results)
        .map(|r| {
            let mut value = json!({
                "id": r.id, "jqlFilter": r.jql_filter, "events": r.events,
                "expirationDate": r.expires_at_ms, "url": r.url,
            });
            if let Some(fields) = &r.field_ids_filter {
                value["fieldIdsFilter"] = json!(fields);
            }
            if let Some(keys) = &r.issue_property_keys_filter {
                value["issuePropertyKeysFilter"] = json!(keys);
            }
            value
        })
        .collect();
    let is_last = start_at.saturating_add(values.len()) >= mine.len();
    warp::reply::json(&json!({
        "values": values, "startAt": start_at, "maxResults": max_results,
        "total": mine.len(), "isLast": is_last,
    }))
    .into_response()
}

/// The `webhookIds` of a delete or refresh body, if it has a non-empty list.
fn webhook_ids(body: &Bytes) -> Option<Vec<u64>> {
    json_body(body)
        .and_then(|b| {
            b["webhookIds"]
                .as_array()
                .map(|ids| ids.iter().filter_map(Value::as_u64).collect::<Vec<_>>())
        })
        .filter(|ids: &Vec<u64>| !ids.is_empty())
}

fn no_webhook_ids() -> Response {
    error(StatusCode::BAD_REQUEST, "webhookIds must be a non-empty list of webhook ids.")
}

/// `DELETE /rest/api/{2|3}/webhook`: ids of other apps are ignored.
fn delete(site: &Site, app_key: &str, body: &Bytes) -> Response {
    let Some(ids) = webhook_ids(body) else {
        return no_webhook_ids();
    };
    site.data().webhooks.registrations.retain(|r| !(r.app_key == app_key && ids.contains(&r.id)));
    tracing::info!(site = %site.name, app = %app_key, ?ids, "dynamic webhooks deleted");
    StatusCode::ACCEPTED.into_response()
}

/// `PUT /rest/api/{2|3}/webhook/refresh`: 30 more days from now.
fn refresh(site: &Site, app_key: &str, body: &Bytes) -> Response {
    let Some(ids) = webhook_ids(body) else {
        return no_webhook_ids();
    };
    let now_ms = now_millis();
    let expires = now_ms + LIFETIME_MS;
    let mut guard = site.data();
    let data = &mut *guard;
    data.webhooks.prune(now_ms, &data.installs);
    for registration in data.webhooks.registrations.iter_mut() {
        if registration.app_key == app_key && ids.contains(&registration.id) {
            registration.expires_at_ms = expires;
        }
    }
    warp::reply::json(&json!({ "expirationDate": expires })).into_response()
}

/// `GET /rest/api/{2|3}/webhook/failed`: the calling app's failed
/// deliveries after `after`, oldest first, with a `next` link when more remain.
fn failed(site: &Site, app_key: &str, version: &str, query: &HashMap<String, String>) -> Response {
    let (after, max_results) =
        match (number(query, "after", 0), number(query, "maxResults", MAX_PAGE as u64)) {
            (Ok(after), Ok(max)) => (after as i64, (max as usize).clamp(1, MAX_PAGE)),
            (Err(message), _) | (_, Err(message)) => {
                return error(StatusCode::BAD_REQUEST, &message);
            }
        };
    let mut guard = site.data();
    let data = &mut *guard;
    data.webhooks.prune(now_millis(), &data.installs);
    let mine: Vec<&FailedDelivery> = data
        .webhooks
        .failed
        .iter()
        .filter(|f| f.app_key == app_key && f.failure_time_ms > after)
        .collect();
    let page = &mine[..mine.len().min(max_results)];
    let values: Vec<Value> = page
        .iter()
        .map(
            |f| json!({"id": f.id, "body": f.body, "url": f.url, "failureTime": f.failure_time_ms}),
        )
        .collect();
    let mut answer = json!({ "values": values, "maxResults": max_results });
    if let (true, Some(last)) = (mine.len() > page.len(), page.last()) {
        answer["next"] = json!(format!(
            "{}/rest/api/{version}/webhook/failed?after={}&maxResults={max_results}",
            site.base_url, last.failure_time_ms
        ));
    }
    warp::reply::json(&answer).into_response()
}

// ---------------------------------------------------------------------------

/// The subset of JQL a dynamic webhook's `jqlFilter` may use, parsed and
/// evaluated against one issue. Independent of the site's JQL search: this
/// is the webhook service's own, much smaller, language.
///
/// ```text
/// filter  := and ("OR" and)*
/// and     := primary ("AND" primary)*
/// primary := "(" filter ")" | field ("=" | "!=") value | field ["NOT"] "IN" "(" value ("," value)* ")"
/// field   := project | issuekey (key, issue, id) | issuetype (type) | status
/// value   := word | "quoted" | 'quoted'
/// ```
///
/// Keywords and field names are case-insensitive, and so are comparisons
/// (a project matches by id, key or name).
mod jql_filter {
    use super::Subject;

    /// A field a filter may test.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Field {
        Project,
        IssueKey,
        IssueType,
        Status,
    }

    /// A parsed filter.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Expr {
        Or(Vec<Expr>),
        And(Vec<Expr>),
        /// `field = v`, `field IN (…)`; negated for `!=` and `NOT IN`.
        Clause {
            field: Field,
            negated: bool,
            values: Vec<String>,
        },
    }

    impl Expr {
        pub fn matches(&self, subject: &Subject<'_>) -> bool {
            match self {
                Expr::Or(all) => all.iter().any(|e| e.matches(subject)),
                Expr::And(all) => all.iter().all(|e| e.matches(subject)),
                Expr::Clause { field, negated, values } => {
                    let names = subject.values(*field);
                    let hit =
                        values.iter().any(|v| names.iter().any(|n| n.eq_ignore_ascii_case(v)));
                    hit != *negated
                }
            }
        }
    }

    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Token {
        Open,
        Close,
        Comma,
        /// `=`, `!=`, `~`, `!~`, `<`, `<=`, `>`, `>=`.
        Operator(String),
        Word(String),
        Quoted(String),
    }

    fn tokens(text: &str) -> Result<Vec<Token>, String> {
        let mut out = Vec::new();
        let mut chars = text.chars().peekable();
        while let Some(&c) = chars.peek() {
            match c {
                c if c.is_whitespace() => {
                    chars.next();
                }
                '(' | ')' | ',' => {
                    chars.next();
                    out.push(match c {
                        '(' => Token::Open,
                        ')' => Token::Close,
                        _ => Token::Comma,
                    });
                }
                '=' | '!' | '~' | '<' | '>' => {
                    chars.next();
                    let mut op = c.to_string();
                    if let Some(&next) = chars.peek().filter(|n| matches!(n, '=' | '~')) {
                        op.push(next);
                        chars.next();
                    }
                    if op == "!" {
                        return Err("The operator '!' is unsupported.".into());
                    }
                    out.push(Token::Operator(op));
                }
                '"' | '\'' => {
                    chars.next();
                    let mut value = String::new();
                    loop {
                        match chars.next() {
                            Some('\\') => value.extend(chars.next()),
                            Some(q) if q == c => break,
                            Some(other) => value.push(other),
                            None => return Err("The jqlFilter has an unterminated string.".into()),
                        }
                    }
                    out.push(Token::Quoted(value));
                }
                _ => {
                    let mut word = String::new();
                    while let Some(&w) = chars.peek() {
                        if w.is_whitespace() || "(),=!~<>\"'".contains(w) {
                            break;
                        }
                        word.push(w);
                        chars.next();
                    }
                    out.push(Token::Word(word));
                }
            }
        }
        Ok(out)
    }

    /// How deep parentheses may nest: a filter is a line of JQL, and an
    /// unbounded recursion would let one request overflow the stack.
    const MAX_DEPTH: usize = 16;

    struct Parser {
        tokens: Vec<Token>,
        at: usize,
        depth: usize,
    }

    impl Parser {
        fn peek(&self) -> Option<&Token> {
            self.tokens.get(self.at)
        }

        fn next(&mut self) -> Option<Token> {
            let token = self.tokens.get(self.at).cloned();
            self.at += 1;
            token
        }

        fn keyword(&self, word: &str) -> bool {
            matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
        }

        fn or(&mut self) -> Result<Expr, String> {
            let mut all = vec![self.and()?];
            while self.keyword("OR") {
                self.at += 1;
                all.push(self.and()?);
            }
            Ok(if all.len() == 1 { all.remove(0) } else { Expr::Or(all) })
        }

        fn and(&mut self) -> Result<Expr, String> {
            let mut all = vec![self.primary()?];
            while self.keyword("AND") {
                self.at += 1;
                all.push(self.primary()?);
            }
            Ok(if all.len() == 1 { all.remove(0) } else { Expr::And(all) })
        }

        fn primary(&mut self) -> Result<Expr, String> {
            match self.next() {
                Some(Token::Open) => {
                    self.depth += 1;
                    if self.depth > MAX_DEPTH {
                        return Err("The jqlFilter nests parentheses too deeply.".into());
                    }
                    let inner = self.or()?;
                    self.depth -= 1;
                    match self.next() {
                        Some(Token::Close) => Ok(inner),
                        _ => Err("The jqlFilter is missing a closing parenthesis.".into()),
                    }
                }
                Some(Token::Word(word)) if word.eq_ignore_ascii_case("NOT") => {
                    Err("The operator NOT is unsupported.".into())
                }
                Some(Token::Word(word)) | Some(Token::Quoted(word)) => self.clause(&word),
                Some(other) => {
                    Err(format!("The jqlFilter has {} where a clause should start.", shown(&other)))
                }
                None => Err("The jqlFilter ends where a clause should start.".into()),
            }
        }

        fn clause(&mut self, name: &str) -> Result<Expr, String> {
            let field = match name.to_ascii_lowercase().as_str() {
                "project" => Field::Project,
                "issuekey" | "key" | "issue" | "id" => Field::IssueKey,
                "issuetype" | "type" => Field::IssueType,
                "status" => Field::Status,
                _ => return Err(format!("The clause {name} is unsupported")),
            };
            let negated = match self.next() {
                Some(Token::Operator(op)) if op == "=" || op == "!=" => {
                    let value = self.value()?;
                    return Ok(Expr::Clause { field, negated: op == "!=", values: vec![value] });
                }
                Some(Token::Operator(op)) => {
                    return Err(format!("The operator '{op}' is unsupported."));
                }
                Some(Token::Word(w)) if w.eq_ignore_ascii_case("IN") => false,
                Some(Token::Word(w)) if w.eq_ignore_ascii_case("NOT") && self.keyword("IN") => {
                    self.at += 1;
                    true
                }
                Some(Token::Word(w)) => return Err(format!("The operator '{w}' is unsupported.")),
                _ => return Err(format!("The clause {name} has no operator.")),
            };
            if self.next() != Some(Token::Open) {
                return Err("IN and NOT IN take a list in parentheses.".into());
            }
            let mut values = vec![self.value()?];
            loop {
                match self.next() {
                    Some(Token::Comma) => values.push(self.value()?),
                    Some(Token::Close) => break,
                    _ => {
                        return Err(
                            "The jqlFilter has a list without its closing parenthesis.".into()
                        );
                    }
                }
            }
            Ok(Expr::Clause { field, negated, values })
        }

        fn value(&mut self) -> Result<String, String> {
            match self.next() {
                Some(Token::Word(w)) | Some(Token::Quoted(w)) => Ok(w),
                Some(other) => {
                    Err(format!("The jqlFilter has {} where a value should be.", shown(&other)))
                }
                None => Err("The jqlFilter ends where a value should be.".into()),
            }
        }
    }

    fn shown(token: &Token) -> String {
        match token {
            Token::Open => "'('".into(),
            Token::Close => "')'".into(),
            Token::Comma => "','".into(),
            Token::Operator(op) => format!("'{op}'"),
            Token::Word(w) | Token::Quoted(w) => format!("'{w}'"),
        }
    }

    /// Parses a `jqlFilter`; the error is the sentence for the app.
    pub fn parse(text: &str) -> Result<Expr, String> {
        let mut parser = Parser { tokens: tokens(text)?, at: 0, depth: 0 };
        let expr = parser.or()?;
        match parser.peek() {
            None => Ok(expr),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("ORDER") => {
                Err("The clause ORDER BY is unsupported".into())
            }
            Some(other) => Err(format!("The jqlFilter has an unexpected {}.", shown(other))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lod_1() -> Subject<'static> {
        Subject {
            project: vec!["10000", "LOD", "Lodger demo"],
            issue: vec!["10001", "LOD-1"],
            issue_type: vec!["10001", "Task"],
            status: vec![STATUS.0, STATUS.1],
        }
    }

    fn matches(jql: &str) -> bool {
        jql_filter::parse(jql).unwrap().matches(&lod_1())
    }

    #[test]
    fn a_filter_matches_equality_lists_and_their_negations() {
        assert!(matches("project = LOD"));
        assert!(matches("project = lod"));
        assert!(matches("project = 10000"));
        assert!(matches(r#"project = "Lodger demo""#));
        assert!(!matches("project = OTHER"));
        assert!(matches("project != OTHER"));
        assert!(matches("issuekey IN (LOD-2, LOD-1)"));
        assert!(!matches("issuekey NOT IN (LOD-1)"));
        assert!(matches("project = LOD AND issuetype = Task AND status = 'To Do'"));
        assert!(matches("project = OTHER OR (issuetype in (Bug, Task) and status != Done)"));
        assert!(!matches("project = LOD AND issuetype = Bug"));
    }

    #[test]
    fn a_filter_outside_the_subset_says_which_part_is_unsupported() {
        let error = |jql: &str| jql_filter::parse(jql).unwrap_err();
        assert_eq!(error("watchCount = 3"), "The clause watchCount is unsupported");
        assert_eq!(error("project = LOD AND assignee = me"), "The clause assignee is unsupported");
        assert_eq!(error("summary ~ foo"), "The clause summary is unsupported");
        assert_eq!(error("project ~ LOD"), "The operator '~' is unsupported.");
        assert_eq!(error("project > 1"), "The operator '>' is unsupported.");
        assert_eq!(error("status WAS Done"), "The operator 'WAS' is unsupported.");
        assert_eq!(error("project = LOD ORDER BY key"), "The clause ORDER BY is unsupported");
        assert!(error("project IN (LOD").contains("closing parenthesis"));
        assert!(error("(project = LOD").contains("closing parenthesis"));
        assert!(error(&"(".repeat(100_000)).contains("too deeply"));
        assert!(matches(&format!("{}project = LOD{}", "(".repeat(16), ")".repeat(16))));
        for odd in
            ["", "(", ")", "project", "project =", "project IN", "project IN ()", "\"", "!", "a,b"]
        {
            assert!(jql_filter::parse(odd).is_err(), "{odd:?}");
        }
    }

    #[test]
    fn only_retryable_answers_are_retried() {
        for status in [408, 409, 425, 429, 500, 503, 599] {
            assert!(is_retried(status), "{status}");
        }
        for status in [200, 204, 301, 400, 401, 403, 404, 410] {
            assert!(!is_retried(status), "{status}");
        }
    }

    #[test]
    fn backoff_doubles_from_the_base() {
        let policy = DeliveryPolicy {
            base_backoff: Duration::from_millis(200),
            ..DeliveryPolicy::default()
        };
        let waits: Vec<u128> = (0..4).map(|a| backoff(&policy, a).as_millis()).collect();
        assert_eq!(waits, [200, 400, 800, 1600]);
    }

    #[test]
    fn log_lines_show_no_query_and_no_credential_in_the_path() {
        assert_eq!(
            loggable("http://app.test/hooks/jira?c=v1.secret"),
            "http://app.test/hooks/jira"
        );
        let sealed = "v1.k1.".to_owned() + &"x".repeat(60);
        assert_eq!(
            loggable(&format!("http://app.test/webhooks/jira/{sealed}")),
            "http://app.test/webhooks/jira/[redacted]"
        );
    }

    #[test]
    fn descriptor_urls_are_resolved_under_the_base_url() {
        assert_eq!(absolute("http://a.test", "/hook?x=1"), "http://a.test/hook?x=1");
        assert_eq!(absolute("http://a.test", "hook"), "http://a.test/hook");
        assert_eq!(absolute("http://a.test", "https://b.test/h"), "https://b.test/h");
    }
}
