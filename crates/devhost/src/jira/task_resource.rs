//! `GET /rest/api/3/task/{taskId}` and starting a task (Atlassian: "Jira
//! REST API v3", "Asynchronous operations", "Get task"): an operation that
//! runs long answers 303 with the task's URL, and the app follows it.
//!
//! What it is not: task cancellation or the task list.

use std::sync::Arc;

use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;
use warp::{Filter, Reply};

use super::tasks::Task;
use crate::platform::auth::Caller;
use crate::platform::call::{Call, call, with_site};
use crate::platform::errors::error;
use crate::platform::http::{api, json_response};
use crate::site::{Site, SiteData};

/// `GET /rest/api/{2|3}/task/{taskId}`.
pub fn routes(
    site: Arc<Site>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::get()
        .and(api())
        .and(warp::path("task"))
        .and(warp::path::param::<String>())
        .and(warp::path::end())
        .and(with_site(Arc::clone(&site)))
        .and(call(Arc::clone(&site)))
        .map(|version: String, id: String, site: Arc<Site>, call: Call| {
            get_task(&site, &version, &id, &call)
        })
}

/// Who submitted a task, as [`Task::submitted_by`] records it.
pub fn submitter(caller: &Caller) -> String {
    match caller {
        Caller::App { app_key } => format!("app:{app_key}"),
        Caller::User { user, .. } => user.account_id.clone(),
    }
}

/// Adds a task to the site and returns the 303 that points at it.
pub fn start_task(site: &Site, data: &mut SiteData, version: &str, task: Task) -> Response {
    let location = format!("{}/rest/api/{version}/task/{}", site.base_url, task.id);
    data.tasks.insert(task.id.clone(), task);
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// A fresh task id: numeric, like Jira's.
pub fn next_task_id(data: &SiteData) -> String {
    (10_000 + data.tasks.len()).to_string()
}

/// `GET /rest/api/3/task/{taskId}`: for the task's submitter or a site
/// admin (Atlassian: "either of: Administer Jira, creator of the task").
fn get_task(site: &Site, version: &str, id: &str, call: &Call) -> Response {
    let data = site.data();
    let Some(task) = data.tasks.get(id) else {
        return error(StatusCode::NOT_FOUND, &format!("Task {id} not found."));
    };
    let admin = matches!(&call.caller, Caller::User { user, .. } if user.is_site_admin());
    if task.submitted_by != submitter(&call.caller) && !admin {
        return error(
            StatusCode::FORBIDDEN,
            "Only the task's creator or a Jira administrator may see it.",
        );
    }
    json_response(StatusCode::OK, &task.to_json(&site.base_url, version))
}
