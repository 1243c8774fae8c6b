//! One call from Forge to the remote, verified: the filter every Forge route
//! starts with.
//!
//! Forge: "Forge remote invocation contract". A call carries
//! `Authorization: Bearer <invocation token>` and, where the endpoint
//! enables them, `x-forge-oauth-system` (the app's product token) and
//! `x-forge-oauth-user` (the user's). The token is verified with Forge's key
//! set ([`ForgeKeys`]) for this app's id before anything else is read; the
//! product token is then used only at the token's verified
//! `app.apiBaseUrl` ([`ForgeTenant`]), whatever else the request says.
//!
//! | failure | status |
//! |---|---|
//! | no token, a token that fails a check, no system token | 401 |
//! | Forge's key set cannot be fetched | 503 (Forge retries events) |

use std::sync::Arc;

use warp::{Filter, Rejection};

use crate::connect::installation::is_acceptable_base_url;
use crate::connect::invocation_token::InvocationClaims;
use crate::connect::secret::Secret;
use crate::host::client::HostClient;
use crate::host::forge_keys::ForgeKeys;
use crate::host::tenant::ForgeTenant;
use crate::now;
use crate::web::reject::Failure;

/// The header carrying the app system token.
pub const SYSTEM_TOKEN_HEADER: &str = "x-forge-oauth-system";
/// The header carrying the user's token (UI calls to endpoints that enable it).
pub const USER_TOKEN_HEADER: &str = "x-forge-oauth-user";

/// What the remote needs to answer Forge: the app it is, Forge's keys, the
/// client that calls sites. No tenant state: every call brings its own.
#[derive(Debug)]
pub struct ForgeRemote {
    /// This app's id (`ari:cloud:ecosystem::app/<uuid>`): the tokens' audience.
    pub app_id: String,
    /// Forge's key sets.
    pub keys: ForgeKeys,
    /// Calls sites with the handed product token.
    pub host: HostClient,
}

/// A verified invocation.
#[derive(Debug)]
pub struct Invocation {
    /// The token's claims.
    pub claims: InvocationClaims,
    /// The site, as this invocation describes it, and its system token.
    pub tenant: ForgeTenant,
}

/// Verifies the invocation, or rejects with a [`Failure`].
pub fn invocation(
    remote: Arc<ForgeRemote>,
) -> impl Filter<Extract = (Invocation,), Error = Rejection> + Clone {
    warp::header::optional::<String>("authorization")
        .and(warp::header::optional::<String>(SYSTEM_TOKEN_HEADER))
        .and_then(move |authorization: Option<String>, system: Option<String>| {
            let remote = Arc::clone(&remote);
            async move { verify(&remote, authorization, system).await.map_err(Rejection::from) }
        })
}

async fn verify(
    remote: &ForgeRemote,
    authorization: Option<String>,
    system_token: Option<String>,
) -> Result<Invocation, Failure> {
    let token = authorization
        .as_deref()
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or(Failure::MissingInvocationToken)?;
    let claims = remote.keys.verify(token, &remote.app_id, now()).await?;
    let api_base_url = claims.app.api_base_url.trim_end_matches('/').to_owned();
    // Signed by Forge, but lodger still sends a credential only over https
    // (plain http to loopback only: the dev world).
    if !is_acceptable_base_url(&api_base_url) {
        return Err(Failure::UnusableApiBaseUrl);
    }
    let system_token = system_token
        .filter(|token| !token.is_empty())
        .ok_or(Failure::MissingProductToken(SYSTEM_TOKEN_HEADER))?;
    let tenant = ForgeTenant {
        api_base_url,
        system_token: Secret::new(system_token),
        installation_id: claims.app.installation_id.clone(),
        licensed: claims.is_licensed(),
    };
    Ok(Invocation { claims, tenant })
}
