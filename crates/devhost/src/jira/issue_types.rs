//! The issue types and the one status of the emulated Jira, and the
//! counters behind issue ids (Atlassian: "Jira REST API v3: Issue types",
//! "Workflow statuses"): the model only, so that the site can hold it
//! without knowing the issue resources ([`super::issues`]).

use std::collections::HashMap;

/// A Jira issue type (Atlassian: "Jira REST API v3: Issue types").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IssueType {
    /// The id, as a string.
    pub id: &'static str,
    /// The name, e.g. `Task`.
    pub name: &'static str,
}

/// The issue types of every emulated project; the first is the default.
pub const ISSUE_TYPES: [IssueType; 4] = [
    IssueType { id: "10001", name: "Task" },
    IssueType { id: "10002", name: "Bug" },
    IssueType { id: "10003", name: "Story" },
    IssueType { id: "10004", name: "Epic" },
];

/// The status every emulated issue is in (`id`, `name`): the emulator has
/// no workflows (Atlassian: "Jira REST API v3: Workflow statuses").
pub const STATUS: (&str, &str) = ("10000", "To Do");

/// What the emulator keeps about issues beyond [`Issue`](crate::site::Issue): their types and
/// the counters that make ids and keys never come back after a delete.
#[derive(Debug, Default)]
pub struct IssueExtras {
    /// Issue type id by issue id; an issue not listed is a `Task`.
    pub types: HashMap<String, &'static str>,
    /// The highest issue id handed out.
    pub(crate) last_id: u64,
    /// The highest key number handed out, by project id.
    pub(crate) last_number: HashMap<String, u64>,
}
