//! Dynamic webhooks over REST (Atlassian: "Jira REST API v3: Webhooks"):
//! a Connect app registers them as the app (a user's `AP.request` is
//! refused: "The caller isn't an app."):
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
//! [`crate::platform::auth::scope_for`]).

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Value, json};
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::delivery::{ISSUE_CREATED, ISSUE_DELETED, ISSUE_UPDATED};
use super::filter;
use super::state::{FailedDelivery, LIFETIME_MS, Registration};
use crate::platform::auth::Caller;
use crate::platform::call::with_site;
use crate::platform::call::{Call, call};
use crate::platform::errors::error;
use crate::platform::http::{api_version, now_millis};
use crate::site::Site;

/// The events a dynamic webhook may name (Atlassian: "Jira REST API v3:
/// Webhooks", `WebhookDetails.events`). The emulator fires them all: the
/// issue, issue property and comment ones.
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

/// The largest page `GET /webhook` and `GET /webhook/failed` return.
const MAX_PAGE: usize = 100;

/// `/rest/api/{2|3}/webhook`, `/webhook/refresh` and `/webhook/failed`
/// (Atlassian: "Jira REST API v3: Webhooks").
pub fn routes(site: Arc<Site>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let with = with_site(Arc::clone(&site));
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
    data.webhooks.prune(now_ms, |key| data.installs.contains_key(key));
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
            filter::parse(jql).map_err(|e| errors.push(e)).ok()
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
    data.webhooks.prune(now_millis(), |key| data.installs.contains_key(key));
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
    data.webhooks.prune(now_ms, |key| data.installs.contains_key(key));
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
    data.webhooks.prune(now_millis(), |key| data.installs.contains_key(key));
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
