//! The server API the app's pages call (`/api/...`), authenticated with a
//! context token plus the relayed credential (see [`super::auth`]). The pages
//! do everything they can through the host themselves (`AP.request` as the
//! user, so the host enforces permissions); the server does only what a
//! page must not be trusted with.
//!
//! | request | what |
//! |---|---|
//! | `GET /api/whoami` | what the server verified about the caller |
//! | `GET /api/settings` | the tenant's settings, MAC checked (defaults otherwise) |
//! | `PUT /api/settings` | a site admin changes them: checked with the host, then MACed and stored |
//! | `POST /api/issues/{issueId}/template` | apply the issue's project template now, if it has no checklist |
//!
//! Errors are JSON `{"error": "..."}` with the status of [`super::reject`].

use std::sync::Arc;

use serde_json::json;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::auth::{RequestContext, Tokens, authenticated};
use super::reject::Failure;
use crate::app::apply_template::{self, NewIssue};
use crate::app::settings::{ONLY_SITE_ADMINS, Settings};
use crate::app::upkeep;
use crate::connect::installation::Product;
use crate::host::permissions;
use crate::state::AppState;

/// The largest body an API call takes (settings are a few dozen bytes).
const MAX_BODY_BYTES: u64 = 4 * 1024;

/// Every `/api` route.
pub fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let caller = {
        let state = Arc::clone(&state);
        authenticated(Arc::clone(&state), Tokens::ContextOrRequestBound).map(
            move |caller: RequestContext| {
                upkeep::touch(&state, &caller.installation, caller.sealed_with.as_deref());
                caller
            },
        )
    };
    let with_state = warp::any().map(move || Arc::clone(&state));

    // Path before method: an unknown path is 404, a known one with the wrong method 405.
    let whoami = warp::path!("api" / "whoami").and(warp::get()).and(caller.clone()).map(whoami);
    let read_settings = warp::path!("api" / "settings")
        .and(warp::get())
        .and(caller.clone())
        .and(with_state.clone())
        .and_then(|caller, state| async move { get_settings(caller, state).await.map_err(reject) });
    let write_settings = warp::path!("api" / "settings")
        .and(warp::put())
        .and(caller.clone())
        .and(super::body::json::<Settings>(MAX_BODY_BYTES))
        .and(with_state.clone())
        .and_then(|caller, settings, state| async move {
            put_settings(caller, settings, state).await.map_err(reject)
        });
    let template = warp::path!("api" / "issues" / String / "template")
        .and(warp::post())
        .and(caller)
        .and(with_state)
        .and_then(|issue_id, caller, state| async move {
            apply_now(issue_id, caller, state).await.map_err(reject)
        });
    whoami.or(read_settings).unify().or(write_settings).unify().or(template).unify().boxed()
}

fn reject(failure: Failure) -> Rejection {
    Rejection::from(failure)
}

/// `GET /api/whoami`: the tenant, app, user and context the server verified.
fn whoami(caller: RequestContext) -> Response {
    /// The answer, borrowed from the verified caller (no copies).
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct WhoAmI<'a> {
        client_key: &'a str,
        app_key: &'a str,
        product_type: Product,
        account_id: Option<&'a str>,
        context: Option<&'a serde_json::Value>,
    }
    let installation = &caller.installation;
    warp::reply::json(&WhoAmI {
        client_key: &installation.client_key,
        app_key: &installation.key,
        product_type: installation.product_type,
        account_id: caller.account_id.as_deref(),
        context: caller.context.as_ref(),
    })
    .into_response()
}

/// `GET /api/settings`: `{"settings": {...}}`, the stored settings when their
/// MAC verifies, the defaults otherwise (never an error for a forged value).
async fn get_settings(caller: RequestContext, state: Arc<AppState>) -> Result<Response, Failure> {
    jira_only(&caller)?;
    let settings =
        state.tenancy(&caller.installation).settings(&state.host).await.map_err(Failure::Host)?;
    Ok(warp::reply::json(&json!({ "settings": settings })).into_response())
}

/// `PUT /api/settings`: only for a user the host says is a site admin
/// (asked as the app, for the account id in the verified token: a page's
/// word is not enough). Then MACed and stored.
async fn put_settings(
    caller: RequestContext,
    settings: Settings,
    state: Arc<AppState>,
) -> Result<Response, Failure> {
    jira_only(&caller)?;
    let account_id =
        caller.account_id.as_deref().ok_or(Failure::Forbidden("changing settings needs a user"))?;
    let installation = &caller.installation;
    if !permissions::is_site_admin(&state.host, installation.as_ref().into(), account_id)
        .await
        .map_err(Failure::Host)?
    {
        return Err(Failure::Forbidden(ONLY_SITE_ADMINS));
    }
    state
        .tenancy(installation)
        .write_settings(&state.host, &settings)
        .await
        .map_err(Failure::Host)?;
    tracing::info!(client_key = %installation.client_key, ?settings, "settings changed by a site admin");
    Ok(warp::reply::json(&json!({ "settings": settings })).into_response())
}

/// `POST /api/issues/{issueId}/template`: applies the project template to an
/// issue that has no checklist. The project is the one the host says the
/// issue is in, never one named by the page.
async fn apply_now(
    issue_id: String,
    caller: RequestContext,
    state: Arc<AppState>,
) -> Result<Response, Failure> {
    jira_only(&caller)?;
    if issue_id.is_empty() || !issue_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Failure::BadBody("the issue id must be numeric".to_owned()));
    }
    let installation = &caller.installation;
    let path = format!("/rest/api/3/issue/{issue_id}?fields=project");
    let issue = state.host.get_json(installation.as_ref(), &path).await.map_err(Failure::Host)?;
    let Some(project_id) = issue.as_ref().and_then(|i| i["fields"]["project"]["id"].as_str())
    else {
        return Err(Failure::Forbidden("no such issue, or the app may not see it"));
    };
    let outcome = apply_template::apply(
        &state.host,
        state.tenancy(installation),
        NewIssue { issue_id: &issue_id, project_id, created_ms: crate::now() * 1000 },
    )
    .await
    .map_err(Failure::Apply)?;
    Ok(warp::reply::json(&json!({ "outcome": outcome.as_str() })).into_response())
}

fn jira_only(caller: &RequestContext) -> Result<(), Failure> {
    match caller.installation.product_type {
        Product::Jira => Ok(()),
        Product::Confluence => Err(Failure::WrongProduct("Jira")),
    }
}
