//! An issue's checklist: the issue entity property `lodger-checklist`
//! (shape and merge rule in `docs/data.md`; the pages in `site/js/checklist.js`
//! do the merging). The server writes a checklist only when it applies a
//! project template to a new issue, and it writes the issue glance's status
//! beside it (Atlassian: "Issue Glance", status from an issue property).

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::template::Template;

/// The issue property that holds an issue's checklist.
pub const CHECKLIST_PROPERTY: &str = "lodger-checklist";

/// The key of the glance in the Jira descriptor (`jiraIssueGlances`).
pub const GLANCE_KEY: &str = "checklist-glance";

/// The issue property whose value Jira shows as the glance's badge:
/// `com.atlassian.jira.issue:<app key>:<glance key>:status`.
pub fn glance_status_property(app_key: &str) -> String {
    format!("com.atlassian.jira.issue:{app_key}:{GLANCE_KEY}:status")
}

/// A new checklist holding `template`'s items, none done, for the issue
/// `issue_id`, as changed at `changed_ms` (milliseconds since the epoch).
///
/// The value is a pure function of its inputs: item ids are derived from
/// the issue, the position and the text. A webhook retried or delivered to
/// two replicas (same `timestamp`) therefore builds the same bytes.
///
/// ```
/// use lodger::app::{checklist, template::Template};
///
/// let template = Template { items: vec!["Write tests".into(), "Ship".into()] };
/// let value = checklist::from_template(&template, "10001", 1_764_000_000_000);
/// assert_eq!(value["items"][1]["text"], "Ship");
/// assert_eq!((value["total"].as_u64(), value["open"].as_u64()), (Some(2), Some(2)));
/// assert_eq!(value, checklist::from_template(&template, "10001", 1_764_000_000_000));
/// ```
pub fn from_template(template: &Template, issue_id: &str, changed_ms: i64) -> Value {
    let items: Vec<Value> = template
        .items
        .iter()
        .enumerate()
        .map(|(index, text)| {
            json!({
                "id": item_id(issue_id, index, text),
                "text": text,
                "rank": index + 1,
                "done": false,
                "doneBy": null,
                "doneAt": null,
                "changed": { "text": changed_ms, "rank": changed_ms, "done": changed_ms },
            })
        })
        .collect();
    let total = items.len();
    json!({
        "v": 1,
        "items": items,
        "removed": {},
        "total": total,
        "done": 0,
        "open": total,
    })
}

/// The glance status for a checklist value: a badge `done/total`.
///
/// ```
/// use serde_json::json;
///
/// let status = lodger::app::checklist::glance_status(&json!({"done": 2, "total": 5}));
/// assert_eq!(status, json!({"type": "badge", "value": {"label": "2/5"}}));
/// ```
pub fn glance_status(checklist: &Value) -> Value {
    let count = |field: &str| checklist[field].as_u64().unwrap_or(0);
    json!({ "type": "badge", "value": { "label": format!("{}/{}", count("done"), count("total")) } })
}

/// 12 hexadecimal characters from the issue, position and text.
fn item_id(issue_id: &str, index: usize, text: &str) -> String {
    let digest = Sha256::digest(format!("lodger-template\n{issue_id}\n{index}\n{text}"));
    digest[..6].iter().map(|byte| format!("{byte:02x}")).collect()
}
