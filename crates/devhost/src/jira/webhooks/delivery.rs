//! Delivering Jira webhooks, as an emulated site fires them: which apps get
//! told about an issue change (created, updated, deleted) or an issue
//! property change (`issue_property_set`, `issue_property_deleted`, fired by
//! [`crate::jira::entity_properties`]) or a comment change
//! (`comment_created`, `comment_updated`, `comment_deleted`, fired by
//! [`crate::jira::comments`], filtered by the comment's issue), how the request is signed, and how
//! failures are retried (Atlassian: "Webhooks" for Jira Cloud). An app
//! subscribes with *descriptor webhooks* in `modules.webhooks` (`{event,
//! url, excludeBody?, filter?}`, the URL relative to its base URL), which live as long as
//! the installation, or with dynamic webhooks registered over REST
//! ([`super::registration`]), whose `jqlFilter` is matched by
//! [`super::filter`].
//!
//! **A descriptor webhook's `filter`** (Atlassian: "Webhook" module,
//! `filter`; "Webhooks", JQL filtering of issue events) is a JQL query:
//! the event is sent only when its issue matches. The emulator reads it
//! with the same parser and subset as a dynamic webhook's `jqlFilter`
//! (`=`, `!=`, `IN`, `NOT IN`, `AND`, `OR` over project, issue key, issue
//! type and status). Whether Jira accepts more in a descriptor filter is
//! unverified; a filter outside the subset is never guessed at: that
//! webhook is not sent, and the inspector and the log say why, so the app's
//! developer sees it at once rather than receiving events the filter meant
//! to exclude. A filter is read when an event fires (not once at install).
//!
//! **Delivery** is a `POST` of `{timestamp, webhookEvent, issue, user?,
//! changelog?, property?, matchedWebhookIds?}` (dynamic webhooks of one app matching
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
//! [`DeliveryPolicy::base_backoff`] or the answer's `Retry-After` (seconds or an HTTP date,
//! capped). Jira spreads its retries over about 30 minutes; the emulator over
//! seconds. An app may therefore see one event more than once and must use
//! the identifier to stay idempotent. Any other answer, or the last failed
//! attempt, ends the delivery in the failed list.
//!
//! Deliveries run in background tasks and never hold up the REST call that
//! caused them. Each attempt is logged (event, URL without its query, status,
//! attempt); the token and the query never are.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value, json};

use super::filter::{self, Subject};
use super::state::{DeliveryPolicy, DeliveryRecord, FailedDelivery, Outcome, WebhookState};
use crate::inspector::exchanges::{Exchange, Kind};
use crate::inspector::record::outcome;
use crate::jira::issue_types::{IssueType, STATUS};
use crate::platform::faults::WebhookFault;
use crate::platform::http::now_millis;
use crate::platform::keys::random_id;
use crate::site::{AppInstall, Issue, Site, SiteData, User};
use lodger_connect::jwt::{self, Claims};
use lodger_connect::qsh::{query_string_hash, relative_path};
use lodger_connect::secret::Secret;

/// `webhookEvent` of an issue creation.
pub const ISSUE_CREATED: &str = "jira:issue_created";
/// `webhookEvent` of an issue edit.
pub const ISSUE_UPDATED: &str = "jira:issue_updated";
/// `webhookEvent` of an issue deletion.
pub const ISSUE_DELETED: &str = "jira:issue_deleted";
/// `webhookEvent` of an issue property written (Atlassian: "Webhooks",
/// issue property events).
pub const ISSUE_PROPERTY_SET: &str = "issue_property_set";
/// `webhookEvent` of an issue property removed.
pub const ISSUE_PROPERTY_DELETED: &str = "issue_property_deleted";
/// `webhookEvent` of a comment added (Atlassian: "Webhooks", comment events).
pub const COMMENT_CREATED: &str = "comment_created";
/// `webhookEvent` of a comment edited.
pub const COMMENT_UPDATED: &str = "comment_updated";
/// `webhookEvent` of a comment deleted.
pub const COMMENT_DELETED: &str = "comment_deleted";

/// How many deliveries [`WebhookState::deliveries`] remembers.
const DELIVERY_LOG: usize = 200;
/// The lifetime of a delivery's token, in seconds.
const TOKEN_SECONDS: i64 = 180;

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

/// The issue property an [`ISSUE_PROPERTY_SET`] or
/// [`ISSUE_PROPERTY_DELETED`] event is about.
#[derive(Debug, Clone)]
pub struct PropertyChange<'a> {
    /// The property key.
    pub key: &'a str,
    /// The new value; `None` for a deletion.
    pub value: Option<&'a Value>,
}

/// An issue change to tell apps about.
#[derive(Debug)]
pub struct IssueEvent<'a> {
    /// [`ISSUE_CREATED`], [`ISSUE_UPDATED`], [`ISSUE_DELETED`],
    /// [`ISSUE_PROPERTY_SET`] or [`ISSUE_PROPERTY_DELETED`].
    pub name: &'static str,
    /// The issue, after the change (before it, for a deletion).
    pub issue: &'a Issue,
    /// Its type.
    pub issue_type: IssueType,
    /// Who made the change; `None` for an app.
    pub user: Option<&'a User>,
    /// What an edit changed.
    pub changes: &'a [FieldChange],
    /// The property, for a property event.
    pub property: Option<PropertyChange<'a>>,
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
    let payload = payload(site, event, now_millis());
    send(site, event, &payload);
}

/// Fires a comment event ([`COMMENT_CREATED`], [`COMMENT_UPDATED`],
/// [`COMMENT_DELETED`]) about `comment` (its REST v2 JSON) on `event.issue`,
/// to descriptor and dynamic webhooks alike; filters apply to the
/// comment's issue (Atlassian: "Webhooks", comment events).
///
/// The body is `{timestamp, webhookEvent, comment: {self, id, author,
/// body, updateAuthor, created, updated, jsdPublic}, issue: {id, self, key,
/// fields: {summary, project, issuetype, status}}, matchedWebhookIds?}`.
/// Atlassian documents the event names and, for the issue events only,
/// the body; this shape follows observed deliveries (the comment's body a
/// string, as REST v2 gives it; no `user`), unverified beyond them.
///
/// Jira also tells [`ISSUE_UPDATED`] subscribers, as it does for every
/// issue event: the issue event's body with `comment` and the
/// `issue_event_type_name` of Jira's system events "Issue Commented",
/// "Issue Comment Edited" and "Issue Comment Deleted" (`issue_commented`,
/// `issue_comment_edited`, `issue_comment_deleted`; Atlassian: "Issue
/// events"). A comment changes no field, so a dynamic webhook with a
/// `fieldIdsFilter` does not get it (unverified, as is the deletion's).
pub fn fire_comment(site: &Arc<Site>, event: &IssueEvent<'_>, comment: &Value) {
    let now = now_millis();
    let mut body = payload(site, event, now);
    body["comment"] = comment.clone();
    if let Some(fields) = body.as_object_mut() {
        fields.remove("user");
    }
    send(site, event, &body);

    let type_name = match event.name {
        COMMENT_CREATED => "issue_commented",
        COMMENT_UPDATED => "issue_comment_edited",
        COMMENT_DELETED => "issue_comment_deleted",
        _ => return,
    };
    let updated = IssueEvent { name: ISSUE_UPDATED, property: None, ..*event };
    let mut body = payload(site, &updated, now);
    body["issue_event_type_name"] = json!(type_name);
    body["comment"] = comment.clone();
    send(site, &updated, &body);
}

/// Sends `payload` to every subscription of every enabled app to `event`.
fn send(site: &Arc<Site>, event: &IssueEvent<'_>, payload: &Value) {
    let (deliveries, policy, client) = {
        let mut guard = site.data();
        let data = &mut *guard;
        data.webhooks.prune(now_millis(), |key| data.installs.contains_key(key));
        let mut deliveries = Vec::new();
        for install in data.installs.values().filter(|i| i.enabled) {
            for (url, body) in subscriptions(site, install, &data.webhooks, event, payload) {
                deliveries.push(Delivery {
                    site: Arc::clone(site),
                    app_key: install.app_key.clone(),
                    app_base_url: install.app_base_url.clone(),
                    secret: install.shared_secret.clone(),
                    url,
                    event: event.name,
                    body,
                    identifier: random_id(16),
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
/// descriptor webhook (its `filter` passed), and one per URL of its
/// matching dynamic webhooks. A descriptor webhook whose `filter` the
/// emulator cannot read is left out and reported.
fn subscriptions(
    site: &Site,
    install: &AppInstall,
    state: &WebhookState,
    event: &IssueEvent<'_>,
    payload: &Value,
) -> Vec<(String, Option<String>)> {
    let project = site.project(&event.issue.project_id);
    let subject = Subject {
        project: project.map_or_else(Vec::new, |p| vec![p.id.as_str(), &p.key, &p.name]),
        issue: vec![event.issue.id.as_str(), &event.issue.key],
        issue_type: vec![event.issue_type.id, event.issue_type.name],
        status: vec![STATUS.0, STATUS.1],
    };
    let mut targets = Vec::new();
    let declared = install.descriptor["modules"]["webhooks"].as_array();
    for hook in declared.into_iter().flatten() {
        let (Some(name), Some(url)) = (hook["event"].as_str(), hook["url"].as_str()) else {
            continue;
        };
        if name != event.name {
            continue;
        }
        let url = absolute(&install.app_base_url, url);
        match descriptor_filter(hook, &subject) {
            Ok(true) => {
                let body = (hook["excludeBody"] != Value::Bool(true)).then(|| payload.to_string());
                targets.push((url, body));
            }
            Ok(false) => {}
            Err(why) => refuse_filter(site, &install.app_key, event.name, &url, &why),
        }
    }
    let changed = |fields: &[String]| event.changes.iter().any(|c| fields.contains(&c.field));
    let mut matched: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for registration in &state.registrations {
        let wanted = registration.app_key == install.app_key
            && registration.events.iter().any(|e| e == event.name)
            && registration.filter.matches(&subject)
            && match (&registration.field_ids_filter, event.name) {
                (Some(fields), ISSUE_UPDATED) if !fields.is_empty() => changed(fields),
                _ => true,
            }
            && match (&registration.issue_property_keys_filter, &event.property) {
                (Some(keys), Some(property)) if !keys.is_empty() => {
                    keys.iter().any(|k| k == property.key)
                }
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

/// Whether a descriptor webhook's `filter` lets the issue in `subject`
/// through: yes without a filter (or an empty one), else what the filter
/// says; `Err` with the sentence why when the filter cannot be read.
fn descriptor_filter(hook: &Value, subject: &Subject<'_>) -> Result<bool, String> {
    match hook.get("filter") {
        None | Some(Value::Null) => Ok(true),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(true),
        Some(Value::String(text)) => filter::parse(text).map(|f| f.matches(subject)),
        Some(_) => Err("The filter must be a string of JQL.".into()),
    }
}

/// Records a descriptor webhook not sent because its `filter` cannot be
/// read: in the inspector (with the reason) and the log.
fn refuse_filter(site: &Site, app_key: &str, event: &str, url: &str, why: &str) {
    site.record(
        Exchange::to_app(Kind::Webhook, app_key, "POST", url)
            .about(format!("{event}: not sent, the descriptor filter was refused"))
            .answered(Err::<u16, _>(format!("filter refused: {why}")), Instant::now()),
    );
    tracing::warn!(site = %site.name, app = %app_key, event, url = %loggable(url),
        "descriptor webhook not sent: its filter was refused: {why}");
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
            site.record(
                Exchange::to_app(Kind::Webhook, &delivery.app_key, "POST", &delivery.url)
                    .about(format!("{} ({})", delivery.event, delivery.identifier))
                    .answered(Err::<u16, _>("dropped by fault injection"), Instant::now()),
            );
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
    if let Some(property) = &event.property {
        // The property event's body beyond `timestamp` and `webhookEvent`
        // is not documented by Atlassian (unverified): the issue, as for
        // issue events, and the property as Jira's REST API shapes one.
        body["property"] = match property.value {
            Some(value) => json!({"key": property.key, "value": value}),
            None => json!({"key": property.key}),
        };
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
        let started = std::time::Instant::now();
        let sent = request.send().await;
        self.site.record(
            Exchange::to_app(Kind::Webhook, app, "POST", &self.url)
                .about(format!("{event} ({})", self.identifier))
                .attempt(attempt)
                .token("JWT", &token)
                .answered(outcome(&sent), started),
        );
        match sent {
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
                    .and_then(|v| retry_after(v, SystemTime::now()))
                    .map(|wait| wait.min(policy.retry_after_cap));
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

/// The wait an app's `Retry-After` asks for at `now`: seconds, or an HTTP
/// date (RFC 9110 §10.2.3; a past date is no wait); `None` when unreadable.
fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The wait after failed attempt `attempt` (0-based): base, 2×base, 4×base…
pub(crate) fn backoff(policy: &DeliveryPolicy, attempt: u32) -> Duration {
    policy.base_backoff.saturating_mul(1u32 << attempt.min(16))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jira::webhooks::filter::tests::lod_1;

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
    fn an_apps_retry_after_is_read_in_seconds_or_as_an_http_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(retry_after("Sun, 06 Nov 1994 08:49:40 GMT", now), Some(Duration::from_secs(3)));
        assert_eq!(retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(retry_after("later", now), None);
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

    #[test]
    fn a_descriptor_filter_decides_whether_its_webhook_is_sent() {
        let hook = |filter: Value| json!({"event": ISSUE_CREATED, "url": "/h", "filter": filter});
        let subject = lod_1();
        assert_eq!(
            descriptor_filter(&json!({"event": ISSUE_CREATED, "url": "/h"}), &subject),
            Ok(true)
        );
        assert_eq!(descriptor_filter(&hook(json!("")), &subject), Ok(true));
        assert_eq!(descriptor_filter(&hook(json!("project = LOD")), &subject), Ok(true));
        assert_eq!(descriptor_filter(&hook(json!("project = OTHER")), &subject), Ok(false));
        assert_eq!(
            descriptor_filter(&hook(json!("issuetype = Bug OR issuekey = LOD-1")), &subject),
            Ok(true)
        );
        assert_eq!(
            descriptor_filter(&hook(json!("summary ~ x")), &subject),
            Err("The clause summary is unsupported".into())
        );
        assert!(descriptor_filter(&hook(json!(7)), &subject).is_err());
    }
}
