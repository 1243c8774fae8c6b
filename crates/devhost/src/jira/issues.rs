//! Creating, editing and deleting Jira issues, with the paths, bodies and
//! status codes of Atlassian's "Jira REST API v3: Issues" (v2 is the same
//! here), and the webhook each change fires.
//!
//! | request | answer | webhook |
//! |---|---|---|
//! | `POST /rest/api/3/issue` `{"fields": {"project", "summary", "issuetype"}}` | `201 {id, key, self}` | `jira:issue_created` |
//! | `PUT /rest/api/3/issue/{idOrKey}` `{"fields": {"summary"}}` or `{"update": {"summary": [{"set"}]}}` | `204` | `jira:issue_updated` (only if something changed) |
//! | `DELETE /rest/api/3/issue/{idOrKey}` | `204` | `jira:issue_deleted` |
//!
//! Invalid input is a `400` whose `errors` map names each field, as Jira
//! does (`{"errorMessages": [], "errors": {"summary": "You must specify a
//! summary of the issue."}}`); an unknown issue is a `404` that does not say
//! whether the issue exists.
//!
//! Who may: the caller is authenticated like every REST call ([`crate::platform::auth`]).
//! Apps need the `WRITE` scope (`DELETE` to delete), checked there. People
//! follow Jira's default permission scheme: every logged-in user may create
//! and edit issues, deleting needs the project's administrators (here a
//! project or site admin); anonymous callers never get this far (401).
//!
//! What it is not: the emulator knows one status (`To Do`), a handful of
//! issue types, and no other fields; `returnIssue`, transitions, sub-tasks
//! and screens are left out.

use std::sync::Arc;

use serde_json::{Map, Value, json};
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::issue_types::{ISSUE_TYPES, IssueType};
use super::webhooks::delivery::{self as webhooks, FieldChange, IssueEvent};
use crate::platform::auth::Caller;
use crate::platform::call::{Call, call, with_site};
use crate::platform::errors::error;
use crate::platform::http::api_version;
use crate::site::{Issue, Project, Role, Site, SiteData, User};

/// Jira's limit on a summary's length, in characters.
const MAX_SUMMARY_CHARS: usize = 254;

/// The type of an issue (a `Task` unless it was created as something else).
pub fn issue_type_of(data: &SiteData, issue_id: &str) -> IssueType {
    let id = data.issue_extras.types.get(issue_id).copied().unwrap_or(ISSUE_TYPES[0].id);
    ISSUE_TYPES.iter().copied().find(|t| t.id == id).unwrap_or(ISSUE_TYPES[0])
}

/// `POST /rest/api/{2|3}/issue`, `PUT` and `DELETE /rest/api/{2|3}/issue/{idOrKey}`
/// (Atlassian: "Jira REST API v3: Issues").
pub fn routes(site: Arc<Site>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let with = with_site(Arc::clone(&site));
    let create = warp::post()
        .and(warp::path!("rest" / "api" / String / "issue"))
        .and_then(api_version)
        .and(with.clone())
        .and(call(Arc::clone(&site)))
        .map(|version: String, site: Arc<Site>, call: Call| create(&site, &version, &call));
    let edit = warp::put()
        .and(warp::path!("rest" / "api" / String / "issue" / String))
        .and_then(|version, key| async move { api_version(version).await.map(|_| key) })
        .and(with.clone())
        .and(call(Arc::clone(&site)))
        .map(|key: String, site: Arc<Site>, call: Call| edit(&site, &key, &call));
    let delete = warp::delete()
        .and(warp::path!("rest" / "api" / String / "issue" / String))
        .and_then(|version, key| async move { api_version(version).await.map(|_| key) })
        .and(with)
        .and(call(site))
        .map(|key: String, site: Arc<Site>, call: Call| delete(&site, &key, &call));
    create.or(edit).unify().or(delete).unify()
}

/// A `400` with Jira's per-field `errors` map.
fn field_errors(errors: Map<String, Value>) -> Response {
    let body = json!({ "errorMessages": [], "errors": errors });
    warp::reply::with_status(warp::reply::json(&body), StatusCode::BAD_REQUEST).into_response()
}

fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "Issue does not exist or you do not have permission to see it.")
}

/// The user behind a call (`None` for an app), or why they may not change issues.
fn editor(caller: &Caller) -> Result<Option<&User>, &'static str> {
    match caller {
        Caller::App { .. } => Ok(None),
        Caller::User { user, .. }
            if matches!(user.role, Role::SiteAdmin | Role::ProjectAdmin | Role::User) =>
        {
            Ok(Some(user))
        }
        Caller::User { .. } => Err("You do not have permission to edit issues in this project."),
    }
}

/// The JSON object body of a call, if it has one.
fn object_body(call: &Call) -> Option<Map<String, Value>> {
    match serde_json::from_slice::<Value>(&call.body) {
        Ok(Value::Object(body)) => Some(body),
        _ => None,
    }
}

fn not_an_object() -> Response {
    error(StatusCode::BAD_REQUEST, "The request body must be a JSON object.")
}

/// Checks a summary as Jira does; `Err` is the message for `errors.summary`.
fn check_summary(value: Option<&Value>) -> Result<String, &'static str> {
    let summary = match value {
        None | Some(Value::Null) => return Err("You must specify a summary of the issue."),
        Some(Value::String(s)) => s.trim(),
        Some(_) => return Err("Operation value must be a string"),
    };
    if summary.is_empty() {
        Err("You must specify a summary of the issue.")
    } else if summary.contains(['\n', '\r']) {
        Err("The summary is invalid because it contains newline characters.")
    } else if summary.chars().count() > MAX_SUMMARY_CHARS {
        Err("Summary must be less than 255 characters.")
    } else {
        Ok(summary.to_owned())
    }
}

/// Finds a `{"key"}` / `{"id"}` (or `{"name"}`) reference in `candidates`.
fn find_ref<'a, T>(
    reference: &Value,
    candidates: impl IntoIterator<Item = &'a T>,
    names: impl Fn(&T) -> [&str; 2],
) -> Option<&'a T>
where
    T: 'a,
{
    let wanted: Vec<String> = ["key", "id", "name"]
        .iter()
        .filter_map(|field| match &reference[*field] {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .collect();
    candidates
        .into_iter()
        .find(|c| names(c).iter().any(|name| wanted.iter().any(|w| w.eq_ignore_ascii_case(name))))
}

/// `POST /rest/api/{2|3}/issue`.
fn create(site: &Arc<Site>, version: &str, call: &Call) -> Response {
    let user = match editor(&call.caller) {
        Ok(user) => user.cloned(),
        Err(refused) => return error(StatusCode::FORBIDDEN, refused),
    };
    let Some(body) = object_body(call) else {
        return not_an_object();
    };
    let fields = body.get("fields").cloned().unwrap_or(Value::Null);
    let mut errors = Map::new();
    let project: Option<Project> = match fields.get("project") {
        None | Some(Value::Null) => {
            errors.insert("project".into(), json!("project is required"));
            None
        }
        Some(reference) => {
            let found =
                find_ref(reference, &site.projects, |p: &Project| [p.key.as_str(), p.id.as_str()]);
            if found.is_none() {
                errors.insert("project".into(), json!("valid project is required"));
            }
            found.cloned()
        }
    };
    let summary = check_summary(fields.get("summary"))
        .map_err(|message| errors.insert("summary".into(), json!(message)))
        .ok();
    let issue_type = match fields.get("issuetype") {
        None | Some(Value::Null) => {
            errors.insert("issuetype".into(), json!("issue type is required"));
            None
        }
        Some(reference) => {
            let found = find_ref(reference, &ISSUE_TYPES, |t: &IssueType| [t.name, t.id]);
            if found.is_none() {
                errors.insert("issuetype".into(), json!("valid issue type is required"));
            }
            found.copied()
        }
    };
    if let Value::Object(fields) = &fields {
        for name in fields.keys() {
            if !matches!(name.as_str(), "project" | "summary" | "issuetype" | "description") {
                errors.insert(
                    name.clone(),
                    json!(format!(
                        "Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
                    )),
                );
            }
        }
    }
    let (Some(project), Some(summary), Some(issue_type)) = (project, summary, issue_type) else {
        return field_errors(errors);
    };
    if !errors.is_empty() {
        return field_errors(errors);
    }

    let issue = {
        let mut data = site.data();
        let highest_id = data.issues.iter().filter_map(|i| i.id.parse::<u64>().ok()).max();
        let id = highest_id.unwrap_or(10000).max(data.issue_extras.last_id) + 1;
        let prefix = format!("{}-", project.key);
        let highest_number = data
            .issues
            .iter()
            .filter_map(|i| i.key.strip_prefix(&prefix).and_then(|n| n.parse::<u64>().ok()))
            .max()
            .unwrap_or(0);
        let last_number = data.issue_extras.last_number.entry(project.id.clone()).or_insert(0);
        let number = highest_number.max(*last_number) + 1;
        *last_number = number;
        data.issue_extras.last_id = id;
        let issue = Issue {
            id: id.to_string(),
            key: format!("{}{number}", prefix),
            project_id: project.id.clone(),
            summary,
        };
        data.issue_extras.types.insert(issue.id.clone(), issue_type.id);
        data.issues.push(issue.clone());
        issue
    };
    tracing::info!(site = %site.name, issue = %issue.key, "issue created");
    webhooks::fire(
        site,
        &IssueEvent {
            name: webhooks::ISSUE_CREATED,
            issue: &issue,
            issue_type,
            user: user.as_ref(),
            changes: &[],
            property: None,
        },
    );
    crate::forge::triggers::issue_created(site, &issue, issue_type, user.as_ref());
    let version = if version == "2" { "2" } else { "3" };
    let self_url = format!("{}/rest/api/{version}/issue/{}", site.base_url, issue.id);
    warp::reply::with_status(
        warp::reply::json(&json!({"id": issue.id, "key": issue.key, "self": self_url})),
        StatusCode::CREATED,
    )
    .into_response()
}

/// `PUT /rest/api/{2|3}/issue/{idOrKey}`: only the summary is editable.
fn edit(site: &Arc<Site>, key: &str, call: &Call) -> Response {
    let user = match editor(&call.caller) {
        Ok(user) => user.cloned(),
        Err(refused) => return error(StatusCode::FORBIDDEN, refused),
    };
    let Some(body) = object_body(call) else {
        return not_an_object();
    };
    if site.issue(key).is_none() {
        return not_found();
    }
    let mut errors = Map::new();
    let mut new_summary = None;
    if let Some(fields) = body.get("fields").and_then(Value::as_object) {
        for (name, value) in fields {
            if name == "summary" {
                match check_summary(Some(value)) {
                    Ok(summary) => new_summary = Some(summary),
                    Err(message) => {
                        errors.insert(name.clone(), json!(message));
                    }
                }
            } else {
                errors.insert(
                    name.clone(),
                    json!(format!(
                        "Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
                    )),
                );
            }
        }
    }
    if let Some(update) = body.get("update").and_then(Value::as_object) {
        for (name, operations) in update {
            let set = operations.as_array().and_then(|ops| ops.last()).and_then(|op| op.get("set"));
            match (name.as_str(), set) {
                ("summary", Some(value)) => match check_summary(Some(value)) {
                    Ok(summary) => new_summary = Some(summary),
                    Err(message) => {
                        errors.insert(name.clone(), json!(message));
                    }
                },
                ("summary", None) => {
                    errors.insert(name.clone(), json!("Only the set operation is supported."));
                }
                _ => {
                    errors.insert(
                        name.clone(),
                        json!(format!(
                            "Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
                        )),
                    );
                }
            }
        }
    }
    if !errors.is_empty() {
        return field_errors(errors);
    }
    let changed = {
        let mut data = site.data();
        let Some(issue) = data.issues.iter_mut().find(|i| i.key == key || i.id == key) else {
            return not_found();
        };
        match new_summary {
            Some(summary) if summary != issue.summary => {
                let from = std::mem::replace(&mut issue.summary, summary.clone());
                let issue = issue.clone();
                let issue_type = issue_type_of(&data, &issue.id);
                Some((
                    issue,
                    issue_type,
                    FieldChange { field: "summary".into(), from, to: summary },
                ))
            }
            _ => None,
        }
    };
    if let Some((issue, issue_type, change)) = changed {
        tracing::info!(site = %site.name, issue = %issue.key, "issue edited");
        webhooks::fire(
            site,
            &IssueEvent {
                name: webhooks::ISSUE_UPDATED,
                issue: &issue,
                issue_type,
                user: user.as_ref(),
                changes: &[change],
                property: None,
            },
        );
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `DELETE /rest/api/{2|3}/issue/{idOrKey}`: the issue and its entity
/// properties go.
fn delete(site: &Arc<Site>, key: &str, call: &Call) -> Response {
    let user = match &call.caller {
        Caller::App { .. } => None,
        Caller::User { user, .. } if matches!(user.role, Role::SiteAdmin | Role::ProjectAdmin) => {
            Some(user.clone())
        }
        Caller::User { .. } => {
            // Jira answers 404 to those who cannot see the issue, 403 to
            // those who see it but may not delete it.
            if site.issue(key).is_none() {
                return not_found();
            }
            return error(
                StatusCode::FORBIDDEN,
                "You do not have permission to delete issues in this project.",
            );
        }
    };
    let removed = {
        let mut data = site.data();
        let Some(position) = data.issues.iter().position(|i| i.key == key || i.id == key) else {
            return not_found();
        };
        let issue = data.issues.remove(position);
        let issue_type = issue_type_of(&data, &issue.id);
        data.issue_properties.retain(|(issue_id, _), _| *issue_id != issue.id);
        data.issue_extras.types.remove(&issue.id);
        // Its comments and the content panels added to it go with it.
        data.comments.all.retain(|c| c.issue_id != issue.id);
        data.added_content.retain(|(issue_id, _, _)| *issue_id != issue.id);
        (issue, issue_type)
    };
    let (issue, issue_type) = removed;
    tracing::info!(site = %site.name, issue = %issue.key, "issue deleted");
    webhooks::fire(
        site,
        &IssueEvent {
            name: webhooks::ISSUE_DELETED,
            issue: &issue,
            issue_type,
            user: user.as_ref(),
            changes: &[],
            property: None,
        },
    );
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /rest/api/{2|3}/issue/{issueIdOrKey}` (Atlassian: "Get issue"):
/// `summary` and `project` only. Mounted after [`routes`], since it answers
/// whatever the method.
pub fn read_route(
    site: Arc<Site>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("rest" / "api" / String / "issue" / String)
        .and(with_site(Arc::clone(&site)))
        .and(call(Arc::clone(&site)))
        .map(|_version: String, key: String, site: Arc<Site>, _call: Call| {
            match site.issue(&key) {
                Some(issue) => warp::reply::json(&json!({
                    "id": issue.id,
                    "key": issue.key,
                    "self": format!("{}/rest/api/3/issue/{}", site.base_url, issue.id),
                    "fields": {
                        "summary": issue.summary,
                        "project": site.project(&issue.project_id).map(|p| json!({"id": p.id, "key": p.key, "name": p.name})),
                    },
                }))
                .into_response(),
                None => error(StatusCode::NOT_FOUND, "Issue does not exist or you do not have permission to see it."),
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_are_checked_like_jira_checks_them() {
        assert_eq!(check_summary(Some(&json!("  Fix it "))), Ok("Fix it".to_owned()));
        assert_eq!(check_summary(None), Err("You must specify a summary of the issue."));
        assert_eq!(
            check_summary(Some(&json!(""))),
            Err("You must specify a summary of the issue.")
        );
        assert_eq!(check_summary(Some(&json!(7))), Err("Operation value must be a string"));
        assert!(check_summary(Some(&json!("a\nb"))).is_err());
        assert!(check_summary(Some(&json!("x".repeat(255)))).is_err());
    }

    #[test]
    fn issue_types_are_found_by_name_or_id_in_any_case() {
        let by_name =
            find_ref(&json!({"name": "bug"}), &ISSUE_TYPES, |t: &IssueType| [t.name, t.id]);
        let by_id = find_ref(&json!({"id": 10003}), &ISSUE_TYPES, |t: &IssueType| [t.name, t.id]);
        assert_eq!(by_name.map(|t| t.name), Some("Bug"));
        assert_eq!(by_id.map(|t| t.name), Some("Story"));
    }
}
