//! `POST /webhooks/jira`: Jira tells lodger that something happened
//! (Atlassian: "Webhooks" for Connect apps).
//!
//! A delivery is signed like any request from the host: `Authorization: JWT`,
//! HS256 with the tenant's shared secret, its `qsh` bound to this exact URL,
//! query included. A dynamic webhook's URL carries the sealed credential
//! (`?c=<sealed>`, see [`crate::app::webhook_url`]), so any process can open it and
//! verify the delivery. A delivery without one (a descriptor webhook) can be
//! verified only by a process that holds the tenant already; any other
//! answers **503**, so that Jira delivers it again, never a 2xx for work
//! that was not done.
//!
//! Jira retries on 5xx and 429 and may deliver one event more than once
//! (`X-Atlassian-Webhook-Identifier` stays the same): handling is
//! idempotent, because the template is written only to an issue with no
//! checklist ([`crate::app::apply_template`]).
//!
//! | event | what lodger does |
//! |---|---|
//! | `jira:issue_created` | applies the project's template |
//! | anything else | nothing (204) |

use std::sync::Arc;

use serde::Deserialize;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::auth::{RequestContext, Tokens, authenticate};
use super::reject::Failure;
use super::signed_request::{SignedRequest, signed_request};
use crate::app::apply_template::{self, NewIssue};
use crate::app::upkeep;
use crate::app::webhook_url::WebhookUrl;
use crate::connect::installation::Product;
use crate::connect::jwt::UnverifiedToken;
use crate::state::AppState;

/// The largest delivery accepted (issue payloads are a few KiB; Jira's
/// largest, with a long changelog, stay well under this).
const MAX_BODY_BYTES: u64 = 1024 * 1024;

/// The parts of a delivery lodger reads; everything else is ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Delivery {
    webhook_event: String,
    #[serde(default)]
    timestamp: Option<i64>,
    #[serde(default)]
    issue: Option<IssueRef>,
}

#[derive(Debug, Deserialize)]
struct IssueRef {
    id: String,
    fields: IssueFields,
}

#[derive(Debug, Deserialize)]
struct IssueFields {
    project: ProjectRef,
}

#[derive(Debug, Deserialize)]
struct ProjectRef {
    id: String,
}

/// `POST /webhooks/jira[?c=<sealed>]`. The signature is checked before the
/// body is read: an unsigned request learns nothing about what is accepted.
pub fn routes(state: Arc<AppState>) -> warp::filters::BoxedFilter<(Response,)> {
    let with_state = warp::any().map(move || Arc::clone(&state));
    warp::path!("webhooks" / "jira")
        .and(warp::post())
        .and(signed_request())
        .and(with_state.clone())
        .and_then(|request: SignedRequest, state: Arc<AppState>| async move {
            // Not `warp::query`: its failure path logs the whole query, credential
            // included, at debug level (issue 7's hostile matrix found it).
            let credential = WebhookUrl::from_query(&request.query).map_err(Failure::from)?;
            verify(&state, &request, credential.map(|url| url.credential))
                .await
                .map_err(Rejection::from)
        })
        .and(super::body::json::<Delivery>(MAX_BODY_BYTES))
        .and(warp::header::optional::<String>("x-atlassian-webhook-identifier"))
        .and(with_state)
        .and_then(|caller, delivery, identifier, state| async move {
            handle(caller, delivery, identifier, state).await.map_err(Rejection::from)
        })
        .boxed()
}

async fn handle(
    caller: RequestContext,
    delivery: Delivery,
    identifier: Option<String>,
    state: Arc<AppState>,
) -> Result<Response, Failure> {
    upkeep::touch(&state, &caller.installation, caller.sealed_with.as_deref());
    let installation = &caller.installation;
    if installation.product_type != Product::Jira {
        return Err(Failure::WrongProduct("Jira"));
    }
    if delivery.webhook_event != "jira:issue_created" {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let issue = delivery
        .issue
        .ok_or_else(|| Failure::BadBody("an issue event needs its issue".to_owned()))?;
    let outcome = apply_template::apply(
        &state.host,
        state.tenancy(installation),
        NewIssue {
            issue_id: &issue.id,
            project_id: &issue.fields.project.id,
            created_ms: delivery.timestamp.unwrap_or_else(|| crate::now() * 1000),
        },
    )
    .await?;
    tracing::info!(
        client_key = %installation.client_key,
        issue = %issue.id,
        delivery = identifier.as_deref().unwrap_or("-"),
        outcome = outcome.as_str(),
        "issue_created handled"
    );
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Verifies the delivery: with the credential from the URL when there is
/// one, else only if this process holds the tenant (503 otherwise). Either
/// way the installation must be current: an old webhook URL carrying a
/// superseded or uninstalled credential is refused (401).
async fn verify(
    state: &AppState,
    request: &SignedRequest,
    credential: Option<&str>,
) -> Result<RequestContext, Failure> {
    if credential.is_none() {
        let token = request.token.as_deref().ok_or(Failure::MissingToken)?;
        let issuer = UnverifiedToken::parse(token)?.issuer().to_owned();
        if state.tenants.get(issuer.as_str()).is_none() {
            return Err(Failure::TenantNotAtHand);
        }
    }
    authenticate(state, request, credential, Tokens::RequestBound).await
}
