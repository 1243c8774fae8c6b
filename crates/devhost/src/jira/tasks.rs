//! Jira's long-running asynchronous tasks as the site keeps them
//! (Atlassian: "Jira REST API v3", "Asynchronous operations" and "Get
//! task"): the model only, so that the site can hold tasks without knowing
//! any resource. The resource is [`super::task_resource`].

use serde_json::{Value, json};

use crate::platform::http::now_millis;

/// Where a long-running task is (Atlassian: "Get task", `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    /// Waiting to run.
    Enqueued,
    /// Running.
    Running,
    /// Done.
    Complete,
    /// Gave up.
    Failed,
}

impl TaskStatus {
    /// Jira's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Enqueued => "ENQUEUED",
            TaskStatus::Running => "RUNNING",
            TaskStatus::Complete => "COMPLETE",
            TaskStatus::Failed => "FAILED",
        }
    }
}

/// A long-running asynchronous task (Atlassian: "Jira REST API v3",
/// "Asynchronous operations" and "Get task"): an operation answers 303 with
/// the task's URL, and `GET /rest/api/3/task/{taskId}` follows it.
#[derive(Debug, Clone)]
pub struct Task {
    /// The id.
    pub id: String,
    /// What it does.
    pub description: String,
    /// Who submitted it: an account id, or `app:<key>` for an app.
    pub submitted_by: String,
    /// Where it is.
    pub status: TaskStatus,
    /// Percent done.
    pub progress: u8,
    /// Submitted, started, finished: milliseconds since the epoch.
    pub submitted: i64,
    /// When it started running.
    pub started: Option<i64>,
    /// When it finished.
    pub finished: Option<i64>,
    /// The task's result, when it has one.
    pub result: Option<Value>,
}

impl Task {
    /// A new task, enqueued now.
    pub fn enqueued(id: String, description: String, submitted_by: String) -> Task {
        Task {
            id,
            description,
            submitted_by,
            status: TaskStatus::Enqueued,
            progress: 0,
            submitted: now_millis(),
            started: None,
            finished: None,
            result: None,
        }
    }

    /// Jira's task JSON.
    pub fn to_json(&self, base_url: &str, version: &str) -> Value {
        let now = now_millis();
        let elapsed = self.started.map_or(0, |started| self.finished.unwrap_or(now) - started);
        let mut body = json!({
            "self": format!("{base_url}/rest/api/{version}/task/{}", self.id),
            "id": self.id,
            "description": self.description,
            "status": self.status.as_str(),
            // Jira's numeric user id: the emulator has none to give.
            "submittedBy": 0,
            "progress": self.progress,
            "elapsedRuntime": elapsed,
            "submitted": self.submitted,
            "lastUpdate": self.finished.or(self.started).unwrap_or(self.submitted),
        });
        if let Some(started) = self.started {
            body["started"] = json!(started);
        }
        if let Some(finished) = self.finished {
            body["finished"] = json!(finished);
        }
        if let Some(result) = &self.result {
            body["result"] = result.clone();
        }
        body
    }
}
