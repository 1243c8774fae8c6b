//! lodger's Forge Remote: what `lodger serve` answers on [`super::paths`]
//! (Forge: "Forge Remote essentials", "Forge remote invocation contract",
//! "Sending product events to a remote"). It does what the Connect server
//! does, nothing more, and keeps nothing: every call brings its own token.
//!
//! | route | what |
//! |---|---|
//! | [`INVOKE`] (and any path below it) | a page's `invokeRemote`: `whoami`, `getSettings`, `applyTemplate` |
//! | [`INVOKE_ADMIN`] (and below) | the admin page's: the same, and `putSettings` for a site admin |
//! | [`EVENT_ISSUE_CREATED`] | the `avi:jira:created:issue` trigger: the project's template, once |
//! | [`EVENT_INSTALLED`] | `avi:forge:installed:app`: acknowledged (nothing to store) |
//!
//! A UI call names what it wants in its JSON body (`{"action": "getSettings"}`),
//! not in its path: whether Forge appends `invokeRemote`'s `path` to the
//! endpoint's route is unverified, and this way it does not matter.
//!
//! Failures map to statuses in [`crate::web::reject`]: a host that did not do
//! its part is 503, so Forge delivers the event again; the steps are safe to
//! repeat ([`crate::app::apply_template`]).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::json;
use warp::filters::BoxedFilter;
use warp::http::{HeaderValue, StatusCode};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::events::IssueCreated;
use super::invocation::{ForgeRemote, Invocation, invocation};
use super::paths::{EVENT_INSTALLED, EVENT_ISSUE_CREATED, INVOKE, INVOKE_ADMIN};
use crate::app::apply_template::{self, NewIssue};
use crate::app::settings::{ONLY_SITE_ADMINS, Settings};
use crate::app::tenancy::Tenancy;
use crate::host::permissions;
use crate::web::reject::{self, Failure};

/// The largest UI call body (settings and an issue id: a few dozen bytes).
const MAX_CALL_BYTES: u64 = 4 * 1024;
/// The largest event body (an issue with its fields).
const MAX_EVENT_BYTES: u64 = 256 * 1024;

/// What a page asks of the remote.
#[derive(Debug, Deserialize)]
#[serde(tag = "action", rename_all = "camelCase", rename_all_fields = "camelCase")]
#[serde(deny_unknown_fields)]
enum UiCall {
    /// What the remote verified about the caller.
    Whoami,
    /// The site's settings (defaults when none are stored).
    GetSettings,
    /// A site admin changes the settings (admin endpoint only).
    PutSettings { settings: Settings },
    /// Apply the project's template to an issue without a checklist.
    ApplyTemplate { issue_id: String },
}

/// Which endpoint a UI call came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    /// Every page but the admin page: system token only.
    Ui,
    /// The admin page.
    Admin,
}

/// Every Forge route, its failures answered as JSON. Requests outside
/// `/forge/` are left to the routes after it (the Connect app's).
pub fn routes(remote: Arc<ForgeRemote>) -> BoxedFilter<(Response,)> {
    let ui = route(INVOKE).map(|| Endpoint::Ui).or(route(INVOKE_ADMIN).map(|| Endpoint::Admin));
    let calls = ui
        .unify()
        .and(warp::post())
        .and(invocation(Arc::clone(&remote)))
        .and(crate::web::body::json::<UiCall>(MAX_CALL_BYTES))
        .and(with(Arc::clone(&remote)))
        .and_then(|endpoint, invocation, call, remote| async move {
            ui_call(endpoint, invocation, call, remote).await.map_err(Rejection::from)
        });
    let issue_created = exact(EVENT_ISSUE_CREATED)
        .and(warp::post())
        .and(invocation(Arc::clone(&remote)))
        .and(crate::web::body::json::<IssueCreated>(MAX_EVENT_BYTES))
        .and(with(Arc::clone(&remote)))
        .and_then(|invocation, event, remote| async move {
            issue_created(invocation, event, remote).await.map_err(Rejection::from)
        });
    let installed = exact(EVENT_INSTALLED).and(warp::post()).and(invocation(remote)).map(installed);
    let forge = calls
        .or(issue_created)
        .unify()
        .or(installed)
        .unify()
        .recover(|rejection| reject::recover(rejection, HeaderValue::from_static("Bearer")))
        .unify();
    // Claim `/forge/` before anything else, so that only its own failures
    // are answered here.
    route("/forge").and(forge).boxed()
}

/// `path` itself or any path below it.
fn route(path: &'static str) -> impl Filter<Extract = (), Error = Rejection> + Clone {
    warp::path::full()
        .and_then(move |full: warp::path::FullPath| async move {
            let rest = full.as_str().strip_prefix(path);
            match rest {
                Some("") => Ok(()),
                Some(below) if below.starts_with('/') => Ok(()),
                _ => Err(warp::reject::not_found()),
            }
        })
        .untuple_one()
}

/// `path` exactly.
fn exact(path: &'static str) -> impl Filter<Extract = (), Error = Rejection> + Clone {
    warp::path::full()
        .and_then(move |full: warp::path::FullPath| async move {
            if full.as_str() == path { Ok(()) } else { Err(warp::reject::not_found()) }
        })
        .untuple_one()
}

fn with(
    remote: Arc<ForgeRemote>,
) -> impl Filter<Extract = (Arc<ForgeRemote>,), Error = std::convert::Infallible> + Clone {
    warp::any().map(move || Arc::clone(&remote))
}

async fn ui_call(
    endpoint: Endpoint,
    invocation: Invocation,
    call: UiCall,
    remote: Arc<ForgeRemote>,
) -> Result<Response, Failure> {
    let tenancy = Tenancy::Forge(&invocation.tenant);
    let host = &remote.host;
    let answer = match call {
        UiCall::Whoami => whoami(&invocation),
        UiCall::GetSettings => {
            jira_only(&invocation)?;
            json!({ "settings": tenancy.settings(host).await.map_err(Failure::Host)? })
        }
        UiCall::PutSettings { settings } => {
            jira_only(&invocation)?;
            if endpoint != Endpoint::Admin {
                return Err(Failure::Forbidden("settings are changed from the admin page only"));
            }
            let account_id = invocation
                .claims
                .account_id()
                .ok_or(Failure::Forbidden("changing settings needs a user"))?;
            if !permissions::is_site_admin(host, tenancy.host(), account_id)
                .await
                .map_err(Failure::Host)?
            {
                return Err(Failure::Forbidden(ONLY_SITE_ADMINS));
            }
            tenancy.write_settings(host, &settings).await.map_err(Failure::Host)?;
            tracing::info!(installation = %invocation.tenant.installation_id, ?settings, "settings changed by a site admin");
            json!({ "settings": settings })
        }
        UiCall::ApplyTemplate { issue_id } => {
            jira_only(&invocation)?;
            let outcome = apply_now(&remote, tenancy, &issue_id).await?;
            json!({ "outcome": outcome.as_str() })
        }
    };
    Ok(warp::reply::json(&answer).into_response())
}

/// What the remote verified: the app, the installation, the user, the context.
fn whoami(invocation: &Invocation) -> serde_json::Value {
    /// Borrowed from the verified claims.
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct WhoAmI<'a> {
        app_id: &'a str,
        installation_id: &'a str,
        environment: Option<&'a str>,
        account_id: Option<&'a str>,
        licensed: bool,
        context: Option<&'a serde_json::Value>,
    }
    let claims = &invocation.claims;
    serde_json::to_value(WhoAmI {
        app_id: &claims.app.id,
        installation_id: &claims.app.installation_id,
        environment: claims.app.environment.as_ref().map(|env| env.kind.as_str()),
        account_id: claims.account_id(),
        licensed: claims.is_licensed(),
        context: claims.context.as_ref(),
    })
    .unwrap_or_default()
}

/// Applies the template to `issue_id`, in the project the site says the
/// issue is in (never one named by the page).
async fn apply_now(
    remote: &ForgeRemote,
    tenancy: Tenancy<'_>,
    issue_id: &str,
) -> Result<apply_template::Outcome, Failure> {
    if issue_id.is_empty() || !issue_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Failure::BadBody("the issue id must be numeric".to_owned()));
    }
    let path = format!("/rest/api/3/issue/{issue_id}?fields=project");
    let issue = remote.host.get_json(tenancy.host(), &path).await.map_err(Failure::Host)?;
    let Some(project_id) = issue.as_ref().and_then(|i| i["fields"]["project"]["id"].as_str())
    else {
        return Err(Failure::Forbidden("no such issue, or the app may not see it"));
    };
    let issue = NewIssue { issue_id, project_id, created_ms: crate::now() * 1000 };
    Ok(apply_template::apply(&remote.host, tenancy, issue).await?)
}

/// `avi:jira:created:issue`: the template, once. 200 when done (or nothing
/// to do), 503 when the site did not do its part (Forge delivers again).
async fn issue_created(
    invocation: Invocation,
    event: IssueCreated,
    remote: Arc<ForgeRemote>,
) -> Result<Response, Failure> {
    jira_only(&invocation)?;
    let created_ms = event.created_ms().unwrap_or_else(|| crate::now() * 1000);
    let issue = NewIssue {
        issue_id: &event.issue.id,
        project_id: &event.issue.fields.project.id,
        created_ms,
    };
    let outcome =
        apply_template::apply(&remote.host, Tenancy::Forge(&invocation.tenant), issue).await?;
    tracing::info!(
        installation = %invocation.tenant.installation_id,
        issue = %event.issue.id,
        outcome = outcome.as_str(),
        "avi:jira:created:issue handled"
    );
    Ok(warp::reply::json(&json!({ "outcome": outcome.as_str() })).into_response())
}

/// `avi:forge:installed:app`: nothing to keep (the remote is stateless);
/// logged, and acknowledged so that Forge does not deliver it again.
fn installed(invocation: Invocation) -> Response {
    tracing::info!(
        installation = %invocation.tenant.installation_id,
        environment = invocation.claims.app.environment.as_ref().map_or("-", |env| env.kind.as_str()),
        "Forge installation"
    );
    StatusCode::NO_CONTENT.into_response()
}

/// Settings and templates are Jira's: a Confluence installation's calls
/// (`apiBaseUrl` `…/ex/confluence/<cloudId>`) are refused.
fn jira_only(invocation: &Invocation) -> Result<(), Failure> {
    if invocation.tenant.api_base_url.contains("/ex/confluence/") {
        return Err(Failure::WrongProduct("Jira"));
    }
    Ok(())
}
