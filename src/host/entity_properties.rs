//! Jira entity properties, called as the app (Atlassian: "Entity
//! properties"; "Issue properties" and "Project properties" in the Jira
//! REST API v3).
//!
//! A single property `PUT` overwrites blindly: Jira keeps no version. The one
//! conditional write Jira offers is the bulk operation
//! `PUT /rest/api/3/issue/properties/{propertyKey}` whose `filter` says which
//! issues are eligible (`entityIds`, `hasProperty`, `currentValue`). It runs
//! as an asynchronous task: the host answers `303 See Other` with the task's
//! URL, and [`bulk_set_issue_property`] follows it to the end.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use super::client::{HostClient, HostError};
use super::tenant::Tenant;

/// How often, and how many times, a task is polled before giving up.
const TASK_POLL_INTERVAL: Duration = Duration::from_millis(100);
const TASK_POLLS: u32 = 100;

/// Which issues a bulk write may change.
#[derive(Debug, Clone, Copy)]
pub enum Eligible<'a> {
    /// Only if the issue has no such property yet.
    WithoutProperty,
    /// Only if the property's value is exactly this one.
    CurrentValue(&'a Value),
}

/// Why a bulk write did not finish.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// Calling the host failed.
    #[error(transparent)]
    Host(#[from] HostError),
    /// The host did not answer `303` with a task under the tenant's base URL.
    #[error("the host did not start a task for the bulk property write")]
    NoTask,
    /// The task failed, or was cancelled.
    #[error("the bulk property task ended {0}")]
    Failed(String),
    /// The task was still running after the polls allowed.
    #[error("the bulk property task did not finish in time")]
    TimedOut,
}

/// An issue's property, or `None` when it has none.
pub async fn get_issue_property(
    client: &HostClient,
    tenant: Tenant<'_>,
    issue_id: &str,
    key: &str,
) -> Result<Option<Value>, HostError> {
    let path = format!("/rest/api/3/issue/{}/properties/{key}", segment(issue_id));
    Ok(client.get_json(tenant, &path).await?.map(|body| body["value"].clone()))
}

/// A project's property, or `None` when it has none.
pub async fn get_project_property(
    client: &HostClient,
    tenant: Tenant<'_>,
    project_id: &str,
    key: &str,
) -> Result<Option<Value>, HostError> {
    let path = format!("/rest/api/3/project/{}/properties/{key}", segment(project_id));
    Ok(client.get_json(tenant, &path).await?.map(|body| body["value"].clone()))
}

/// Sets an issue's property unconditionally (last writer wins).
pub async fn put_issue_property(
    client: &HostClient,
    tenant: Tenant<'_>,
    issue_id: &str,
    key: &str,
    value: &Value,
) -> Result<(), HostError> {
    let path = format!("/rest/api/3/issue/{}/properties/{key}", segment(issue_id));
    client.send(tenant, Method::PUT, &path, Some(value)).await.map(|_| ())
}

/// Sets `key` to `value` on issue `issue_id` if it is [`Eligible`], and
/// waits for the task to finish. Whether the issue was eligible is not in
/// Jira's answer: read the property afterwards to see what it holds.
pub async fn bulk_set_issue_property(
    client: &HostClient,
    tenant: Tenant<'_>,
    issue_id: &str,
    key: &str,
    value: &Value,
    eligible: Eligible<'_>,
) -> Result<(), TaskError> {
    let id: Value = issue_id.parse::<u64>().map_or_else(|_| json!(issue_id), |n| json!(n));
    let mut filter = json!({ "entityIds": [id] });
    match eligible {
        Eligible::WithoutProperty => filter["hasProperty"] = json!(false),
        Eligible::CurrentValue(current) => filter["currentValue"] = current.clone(),
    }
    let body = json!({ "value": value, "filter": filter });
    let path = format!("/rest/api/3/issue/properties/{key}");
    let started = client.send(tenant, Method::PUT, &path, Some(&body)).await?;
    let location = started.location.as_deref().ok_or(TaskError::NoTask)?;
    let task = task_path(location).ok_or(TaskError::NoTask)?;
    for _ in 0..TASK_POLLS {
        let status = client
            .get_json(tenant, &task)
            .await?
            .and_then(|body| body["status"].as_str().map(str::to_owned))
            .ok_or(TaskError::NoTask)?;
        match status.as_str() {
            "COMPLETE" => return Ok(()),
            "ENQUEUED" | "RUNNING" | "CANCEL_REQUESTED" => {
                tokio::time::sleep(TASK_POLL_INTERVAL).await;
            }
            other => return Err(TaskError::Failed(other.to_ascii_lowercase())),
        }
    }
    Err(TaskError::TimedOut)
}

/// The task a `Location` names, as a path to call at the tenant's own base
/// URL: only `/rest/api/{version}/task/{id}` is taken from it, never its
/// host. (Jira answers with the site's URL, e.g.
/// `https://acme.atlassian.net/rest/api/3/task/10010`, even to a Forge call
/// made through `api.atlassian.com`, where the product token is valid.)
fn task_path(location: &str) -> Option<String> {
    let start = location.find("/rest/api/")?;
    let path = &location[start..];
    let mut parts = path.trim_start_matches('/').split('/');
    let (Some("rest"), Some("api"), Some(version), Some("task"), Some(id), None) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let plain = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric());
    (plain(version) && plain(id)).then(|| format!("/rest/api/{version}/task/{id}"))
}

/// An id or key as one URL path segment: ids and keys are `[A-Za-z0-9_-]`;
/// anything else is percent-encoded so it cannot change the path.
fn segment(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::task_path;

    #[test]
    fn a_task_location_is_followed_only_as_a_task_path() {
        assert_eq!(
            task_path("https://acme.atlassian.net/rest/api/3/task/10010").as_deref(),
            Some("/rest/api/3/task/10010")
        );
        assert_eq!(task_path("https://evil.example/rest/api/3/task/1?x=y"), None);
        assert_eq!(task_path("https://evil.example/rest/api/3/task/1/../../x"), None);
        assert_eq!(task_path("https://evil.example/steal"), None);
    }
}
