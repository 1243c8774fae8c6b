//! Bulk issue properties, `PUT`/`DELETE /rest/api/3/issue/properties/{propertyKey}`
//! (Atlassian: "Bulk set issue property", "Bulk delete issue property"):
//! set or delete one property over many issues as an asynchronous task.
//! The request is checked at once and answered 303 with the task's URL;
//! the task waits, runs, and applies its `filter` (`entityIds`,
//! `hasProperty`, `currentValue`) atomically under the site's lock, so two
//! bulk writes racing on one issue cannot both see the old value. That is
//! the only compare-and-set Jira offers on entity properties.
//!
//! What it is not: bulk operations on project or user properties.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use warp::http::{Method, StatusCode};
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::entity_properties::{MAX_KEY_CHARS, MAX_VALUE_CHARS, key_too_long, value_too_long};
use super::task_resource::{next_task_id, start_task, submitter};
use super::tasks::{Task, TaskStatus};
use crate::platform::auth::Caller;
use crate::platform::call::{Call, call, with_site};
use crate::platform::errors::error;
use crate::platform::http::{api, now_millis, percent_decode};
use crate::platform::permissions::caller_may;
use crate::site::Site;

/// How long a bulk task waits in the queue, and then runs, before it
/// applies: long enough for a client to see `ENQUEUED` and `RUNNING`
/// (a site's `task_pace` overrides it).
const PACE: Duration = Duration::from_millis(150);

/// `/rest/api/{2|3}/issue/properties/{propertyKey}`: mounted before the
/// per-issue property routes, whose paths it shares a prefix with.
pub fn routes(site: Arc<Site>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    api()
        .and(warp::path("issue"))
        .and(warp::path("properties"))
        .and(warp::path::param::<String>())
        .and(warp::path::end())
        .and(with_site(Arc::clone(&site)))
        .and(call(site))
        .map(|version: String, key: String, site: Arc<Site>, call: Call| {
            bulk(&site, &version, &percent_decode(&key, false), call)
        })
}

/// What a bulk task does to each eligible issue.
#[derive(Debug, Clone)]
enum BulkChange {
    Set(Value),
    Delete,
}

/// A bulk task's request, kept until it runs.
#[derive(Debug, Clone)]
struct BulkJob {
    key: String,
    change: BulkChange,
    /// `filter.entityIds` (`None`: every issue).
    entity_ids: Option<Vec<String>>,
    /// `filter.hasProperty`.
    has_property: Option<bool>,
    /// `filter.currentValue`.
    current_value: Option<Value>,
    /// Whether the submitter may edit issues at all (a user needs Edit
    /// Issues; without it no issue is eligible).
    may_edit: bool,
}

/// `PUT` (set) or `DELETE` (delete) `/rest/api/3/issue/properties/{propertyKey}`:
/// validates, enqueues a task, and answers 303 with its URL (Atlassian:
/// "Bulk set issue property", "Bulk delete issue property").
fn bulk(site: &Arc<Site>, version: &str, key: &str, call: Call) -> Response {
    let change_is_set = match call.method {
        Method::PUT => true,
        Method::DELETE => false,
        _ => return error(StatusCode::METHOD_NOT_ALLOWED, "use PUT or DELETE"),
    };
    if key.chars().count() > MAX_KEY_CHARS {
        let (status, message) = key_too_long();
        return error(status, &message);
    }
    let Ok(body) = serde_json::from_slice::<Value>(&call.body) else {
        return error(StatusCode::BAD_REQUEST, "The request body must be a JSON object.");
    };
    if !body.is_object() {
        return error(StatusCode::BAD_REQUEST, "The request body must be a JSON object.");
    }
    // Set takes `filter: {…}`; delete takes the filter fields at the top.
    let filter = if change_is_set { &body["filter"] } else { &body };
    let change = if change_is_set {
        if body.get("expression").is_some() {
            return error(
                StatusCode::BAD_REQUEST,
                "Jira expressions are not supported by this emulated site: send a value.",
            );
        }
        let Some(value) = body.get("value").filter(|v| !v.is_null()) else {
            return error(StatusCode::BAD_REQUEST, "The property value must be provided.");
        };
        if value.to_string().chars().count() > MAX_VALUE_CHARS {
            let (status, message) = value_too_long();
            return error(status, &message);
        }
        BulkChange::Set(value.clone())
    } else {
        BulkChange::Delete
    };
    let entity_ids = match filter.get("entityIds") {
        None | Some(Value::Null) => None,
        Some(Value::Array(ids)) => {
            let mut parsed = Vec::new();
            for id in ids {
                match id.as_i64().map(|n| n.to_string()).or_else(|| id.as_str().map(str::to_owned))
                {
                    Some(id) => parsed.push(id),
                    None => return error(StatusCode::BAD_REQUEST, "entityIds must be issue ids."),
                }
            }
            Some(parsed)
        }
        Some(_) => return error(StatusCode::BAD_REQUEST, "entityIds must be a list of issue ids."),
    };
    let has_property = match filter.get("hasProperty") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) if change_is_set => Some(*b),
        Some(_) => return error(StatusCode::BAD_REQUEST, "hasProperty must be true or false."),
    };
    let current_value = filter.get("currentValue").filter(|v| !v.is_null()).cloned();
    if current_value.is_some() && has_property == Some(false) {
        return error(
            StatusCode::BAD_REQUEST,
            "The filter can match no issue: currentValue needs the property, hasProperty false excludes it.",
        );
    }
    let mut data = site.data();
    let job = BulkJob {
        key: key.to_owned(),
        change,
        entity_ids,
        has_property,
        current_value,
        may_edit: caller_may(&data, &call.caller, "EDIT_ISSUES")
            || matches!(call.caller, Caller::App { .. }),
    };
    let id = next_task_id(&data);
    let description = if change_is_set {
        format!("Bulk set of issue property {key}")
    } else {
        format!("Bulk delete of issue property {key}")
    };
    let task = Task::enqueued(id.clone(), description, submitter(&call.caller));
    let response = start_task(site, &mut data, version, task);
    drop(data);
    tokio::spawn(run_bulk(Arc::clone(site), id, job));
    response
}

/// Runs a bulk task: queued, running, then applied in one step under the
/// site's lock, each issue's filter checked against its value at that moment.
async fn run_bulk(site: Arc<Site>, task_id: String, job: BulkJob) {
    let pace = site.data().task_pace.unwrap_or(PACE);
    tokio::time::sleep(pace).await;
    if let Some(task) = site.data().tasks.get_mut(&task_id) {
        task.status = TaskStatus::Running;
        task.started = Some(now_millis());
        task.progress = 50;
    }
    tokio::time::sleep(pace).await;
    let mut data = site.data();
    let ids: Vec<String> = data
        .issues
        .iter()
        .map(|issue| issue.id.clone())
        .filter(|id| job.entity_ids.as_ref().is_none_or(|wanted| wanted.contains(id)))
        .collect();
    let mut changed = 0usize;
    for id in ids {
        if !job.may_edit {
            break;
        }
        let slot = (id, job.key.clone());
        let current = data.issue_properties.get(&slot);
        let eligible = job.has_property.is_none_or(|wanted| current.is_some() == wanted)
            && job.current_value.as_ref().is_none_or(|wanted| current == Some(wanted));
        if !eligible {
            continue;
        }
        match &job.change {
            BulkChange::Set(value) => {
                data.issue_properties.insert(slot, value.clone());
                changed += 1;
            }
            BulkChange::Delete => {
                if data.issue_properties.remove(&slot).is_some() {
                    changed += 1;
                }
            }
        }
    }
    tracing::info!(site = %site.name, task = %task_id, key = %job.key, "bulk issue property task changed {changed} issue(s)");
    if let Some(task) = data.tasks.get_mut(&task_id) {
        task.status = TaskStatus::Complete;
        task.progress = 100;
        task.finished = Some(now_millis());
    }
}
