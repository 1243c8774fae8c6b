//! The bodies of the events the emulated platform sends a remote (Forge:
//! "Jira events" for `avi:jira:created:issue` and `avi:jira:commented:issue`, "Lifecycle events" for
//! `avi:forge:installed:app`, "Sending product events to a remote").
//!
//! An issue event:
//!
//! ```text
//! {eventType: "avi:jira:created:issue",
//!  issue: {id, key, fields: {summary, issuetype: {id, name, subtask},
//!          project: {id, key, name}, status: {id, name},
//!          created, updated ("2026-12-05T12:13:35.000+0000")}},
//!  atlassianId (the user who created it; absent for an app),
//!  associatedUsers: [{accountId}],
//!  context: {cloudId, moduleKey}}
//! ```
//!
//! A comment event (`avi:jira:commented:issue`, Forge: "Jira events",
//! issue commented) is the issue event's body with `eventType` changed and
//! `comment: {self, id, author, body (ADF), updateAuthor, created, updated,
//! jsdPublic}`, the comment as Jira's REST API v3 gives it.
//!
//! An install event: `{eventType, id, installerAccountId, app: {id,
//! version}, environment: {id}, installationId, context: {cloudId,
//! moduleKey}}`.
//!
//! Unverified, chosen here: the Forge docs show these fields by example
//! only; the timestamp format is Jira REST's (what `issue.fields.created`
//! reads as in Jira's own issue JSON); `installationId` on the install event.

use serde_json::{Value, json};

use super::state::ForgeInstallation;
use crate::jira::issue_types::{IssueType, STATUS};
use crate::platform::http::now_millis;
use crate::platform::keys::random_uuid;
use crate::site::{Issue, Site, User};

/// The Forge event of an issue creation.
pub const ISSUE_CREATED_EVENT: &str = "avi:jira:created:issue";

/// The body of `avi:jira:created:issue` (without `context.moduleKey`,
/// which each trigger adds).
pub fn issue_created(
    site: &Site,
    issue: &Issue,
    issue_type: IssueType,
    user: Option<&User>,
) -> Value {
    let project = site.project(&issue.project_id);
    let now = iso_timestamp(now_millis());
    let mut body = json!({
        "eventType": ISSUE_CREATED_EVENT,
        "issue": {
            "id": issue.id,
            "key": issue.key,
            "fields": {
                "summary": issue.summary,
                "issuetype": {"id": issue_type.id, "name": issue_type.name, "subtask": false},
                "project": project.map(|p| json!({"id": p.id, "key": p.key, "name": p.name})),
                "status": {"id": STATUS.0, "name": STATUS.1},
                "created": now,
                "updated": now,
            },
        },
        "context": {"cloudId": site.data().forge.cloud_id},
    });
    if let Some(user) = user {
        body["atlassianId"] = json!(user.account_id);
        body["associatedUsers"] = json!([{ "accountId": user.account_id }]);
    }
    body
}

/// The Forge event of a new comment on an issue.
pub const ISSUE_COMMENTED_EVENT: &str = "avi:jira:commented:issue";

/// The body of `avi:jira:commented:issue` about `comment` (its REST v3
/// JSON): the issue as in [`issue_created`], and the comment (unverified:
/// Forge shows the fields by example only).
pub fn issue_commented(
    site: &Site,
    issue: &Issue,
    issue_type: IssueType,
    user: Option<&User>,
    comment: &Value,
) -> Value {
    let mut body = issue_created(site, issue, issue_type, user);
    body["eventType"] = json!(ISSUE_COMMENTED_EVENT);
    body["comment"] = comment.clone();
    body
}

/// The body of `avi:forge:installed:app`.
pub fn installed(site: &Site, install: &ForgeInstallation, installer: Option<&str>) -> Value {
    json!({
        "eventType": super::install::INSTALLED_EVENT,
        "id": random_uuid(),
        "installerAccountId": installer,
        "app": {"id": install.app_id, "version": install.app_version},
        "environment": {"id": install.environment_id},
        "installationId": install.installation_id,
        "context": {"cloudId": site.data().forge.cloud_id},
    })
}

/// Milliseconds since the epoch as Jira REST writes times:
/// `2026-12-05T12:13:35.000+0000` (UTC).
pub fn iso_timestamp(millis: i64) -> String {
    let (days, in_day) = (millis.div_euclid(86_400_000), millis.rem_euclid(86_400_000));
    // Howard Hinnant's days-to-civil ("chrono-Compatible Low-Level Date Algorithms").
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (seconds, ms) = (in_day / 1000, in_day % 1000);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{ms:03}+0000",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_jira_shaped_utc() {
        assert_eq!(iso_timestamp(0), "1970-01-01T00:00:00.000+0000");
        assert_eq!(iso_timestamp(1_796_473_415_123), "2026-12-05T12:23:35.123+0000");
        assert_eq!(iso_timestamp(951_782_400_000), "2000-02-29T00:00:00.000+0000");
    }
}
