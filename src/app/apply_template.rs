//! A new issue gets its project's template: the one piece of automation
//! the server runs (Jira's `jira:issue_created` webhook, Forge's
//! `avi:jira:created:issue` trigger, or a page asking).
//!
//! Each step reads the host, as the app, and decides:
//!
//! 1. the tenant's settings (app property `lodger-settings`, see
//!    [`Tenancy::settings`]) must have `applyTemplates` on;
//! 2. the tenant's license must be active ([`Tenancy::is_licensed`]); an
//!    unlicensed tenant is skipped, with a log line;
//! 3. the issue's project must have a non-empty template;
//! 4. the checklist is written with Jira's conditional bulk write, eligible
//!    only if the issue has **no** checklist yet, so a webhook delivered
//!    twice, to two replicas, or racing a person's first edit never adds the
//!    items twice or overwrites what someone wrote;
//! 5. reading the property back says whether this write was the one that
//!    landed; if so, the glance status follows (Connect). A checklist that
//!    is exactly this template's gets the glance status again: the delivery
//!    that wrote it may have failed before that step, and Jira delivers it
//!    again.
//!
//! Any failure to reach the host is an error, so the webhook or trigger
//! answers 503 and the host delivers it again: the steps are safe to repeat.

use super::checklist::{self, CHECKLIST_PROPERTY};
use super::template::{TEMPLATE_PROPERTY, Template};
use super::tenancy::Tenancy;
use crate::host::client::{HostClient, HostError};
use crate::host::entity_properties::{self, Eligible, TaskError};

/// What happened to the issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The template's items are now the issue's checklist.
    Applied,
    /// The issue already had a checklist, which was left alone (if it is
    /// exactly this template's, its glance status was written again).
    AlreadyHasChecklist,
    /// The project has no template (or an empty one).
    NoTemplate,
    /// A site admin turned templates off.
    TurnedOff,
    /// The tenant's license is not active.
    Unlicensed,
}

impl Outcome {
    /// A short name, for logs and JSON answers.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::AlreadyHasChecklist => "already-has-checklist",
            Outcome::NoTemplate => "no-template",
            Outcome::TurnedOff => "turned-off",
            Outcome::Unlicensed => "unlicensed",
        }
    }
}

/// Why the template could not be applied (the host failed: try again later).
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// A call to the host failed.
    #[error(transparent)]
    Host(#[from] HostError),
    /// The conditional write did not finish.
    #[error(transparent)]
    Task(#[from] TaskError),
}

/// The issue whose checklist to seed.
#[derive(Debug, Clone, Copy)]
pub struct NewIssue<'a> {
    /// The issue's id.
    pub issue_id: &'a str,
    /// Its project's id.
    pub project_id: &'a str,
    /// When it was created (the webhook's `timestamp`, the trigger's
    /// `issue.fields.created`), in milliseconds: the items' change time,
    /// identical across retries.
    pub created_ms: i64,
}

/// Applies the project's template to `issue` if everything allows it.
pub async fn apply(
    host: &HostClient,
    tenancy: Tenancy<'_>,
    issue: NewIssue<'_>,
) -> Result<Outcome, ApplyError> {
    let tenant = tenancy.host();
    if !tenancy.settings(host).await?.apply_templates {
        return Ok(Outcome::TurnedOff);
    }
    if !tenancy.is_licensed(host).await? {
        tracing::info!(
            tenant = tenant.label(),
            issue = issue.issue_id,
            "license not active; template not applied"
        );
        return Ok(Outcome::Unlicensed);
    }
    let template =
        entity_properties::get_project_property(host, tenant, issue.project_id, TEMPLATE_PROPERTY)
            .await?
            .map(|value| Template::from_value(&value))
            .unwrap_or_default();
    if template.is_empty() {
        return Ok(Outcome::NoTemplate);
    }
    let read =
        || entity_properties::get_issue_property(host, tenant, issue.issue_id, CHECKLIST_PROPERTY);
    let value = checklist::from_template(&template, issue.issue_id, issue.created_ms);
    let outcome = match read().await? {
        // Written by an earlier delivery that failed (or whose process died)
        // before the glance status: finish its work below.
        Some(stored) if stored == value => Outcome::AlreadyHasChecklist,
        Some(_) => return Ok(Outcome::AlreadyHasChecklist),
        None => {
            entity_properties::bulk_set_issue_property(
                host,
                tenant,
                issue.issue_id,
                CHECKLIST_PROPERTY,
                &value,
                Eligible::WithoutProperty,
            )
            .await?;
            if read().await?.as_ref() != Some(&value) {
                return Ok(Outcome::AlreadyHasChecklist);
            }
            Outcome::Applied
        }
    };
    if let Some(glance) = tenancy.glance_status_property() {
        let status = checklist::glance_status(&value);
        entity_properties::put_issue_property(host, tenant, issue.issue_id, &glance, &status)
            .await?;
    }
    if outcome == Outcome::Applied {
        tracing::info!(
            tenant = tenant.label(),
            issue = issue.issue_id,
            items = template.items.len(),
            "template applied"
        );
    }
    Ok(outcome)
}
