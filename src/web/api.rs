//! The server API the app's pages call (`/api/...`), authenticated with a
//! context token plus the relayed credential (see [`super::auth`]).

use std::sync::Arc;

use serde_json::json;
use warp::{Filter, Rejection};

use super::auth::{RequestContext, Tokens, authenticated};
use super::state::AppState;

/// `GET /api/whoami`: what the server verified about the caller. The pages
/// use it to show that the round trip works; it returns no secret.
pub fn routes(
    state: Arc<AppState>,
) -> impl Filter<Extract = (warp::reply::Response,), Error = Rejection> + Clone {
    warp::get()
        .and(warp::path!("api" / "whoami"))
        .and(authenticated(state, Tokens::ContextOrRequestBound))
        .map(|caller: RequestContext| {
            use warp::Reply;
            warp::reply::json(&json!({
                "clientKey": caller.installation.client_key,
                "appKey": caller.installation.key,
                "productType": caller.installation.product_type,
                "accountId": caller.account_id,
                "context": caller.context,
            }))
            .into_response()
        })
}
