//! Authentication of requests to the app: who is calling, for which tenant.
//!
//! A request proves itself with an HS256 token signed by the tenant's shared
//! secret. lodger finds that secret in one of two places:
//!
//! 1. **Relayed credential** (the storage-free way): the page sends the sealed
//!    credential it read from the app property `lodger-installation` in
//!    `X-Lodger-Installation`, beside `Authorization: JWT <context token>`
//!    from `AP.context.getToken()`. lodger opens the credential *for the
//!    token's issuer* (the clientKey is the AEAD's associated data, so another
//!    tenant's credential does not open), then verifies the token with the
//!    secret inside.
//! 2. **Known tenant**: a token whose issuer this process installed or has
//!    seen (host-signed iframe `jwt` parameters, webhooks).
//!
//! Then the installation must be current ([`crate::app::revocation`]): the
//! one this process holds for the tenant, confirmed with the host within the
//! revocation bound (a hot-path lookup), or confirmed now with one host call.
//! A revoked or superseded installation is refused (401) even though its
//! credential opens and its secret verifies the token.
//!
//! Only then are the user (`sub`) and the context claims trusted. Whether a
//! context token (`qsh` = `context-qsh`) is acceptable is the endpoint's
//! choice ([`Tokens`]): lifecycle and webhook endpoints never accept one.

use std::sync::Arc;

use warp::{Filter, Rejection};

use super::reject::Failure;
use super::signed_request::{SignedRequest, signed_request};
use crate::app::revocation;
use crate::connect::installation::Installation;
use crate::connect::jwt::{Expectation, JwtError, UnverifiedToken};
use crate::connect::sealed::key_id_of;
use crate::now;
use crate::state::AppState;

/// The header in which pages relay the sealed installation credential.
pub const CREDENTIAL_HEADER: &str = "x-lodger-installation";

/// Which tokens an endpoint accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tokens {
    /// Only tokens bound to this request by `qsh` (host-signed).
    RequestBound,
    /// Context tokens from the app's own pages too.
    ContextOrRequestBound,
}

/// Who made a request, verified.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The tenant's installation (its secret verified the token).
    pub installation: Arc<Installation>,
    /// The user's Atlassian account id (`sub`), when a user is involved.
    pub account_id: Option<String>,
    /// The `context` claim (issue, project, content, …), when present.
    pub context: Option<serde_json::Value>,
    /// The id of the master key that sealed the relayed credential, when
    /// one was relayed (an older key means the credential is due a re-seal).
    pub sealed_with: Option<String>,
}

/// A filter that yields the verified [`RequestContext`] or rejects with a
/// [`Failure`] (401 for anything unverifiable).
pub fn authenticated(
    state: Arc<AppState>,
    tokens: Tokens,
) -> impl Filter<Extract = (RequestContext,), Error = Rejection> + Clone {
    signed_request().and(warp::header::optional::<String>(CREDENTIAL_HEADER)).and_then(
        move |request: SignedRequest, credential: Option<String>| {
            let state = Arc::clone(&state);
            async move {
                authenticate(&state, &request, credential.as_deref(), tokens)
                    .await
                    .map_err(Rejection::from)
            }
        },
    )
}

/// A request whose token verified, and whether its installation is known
/// to be current.
#[derive(Debug)]
pub enum Checked {
    /// The tenant's current installation, confirmed within the bound.
    Current(RequestContext),
    /// Verified with an installation that must still be confirmed
    /// ([`revocation::confirm`]) before the request is served.
    Unconfirmed(RequestContext),
}

/// The verification, then the confirmation of the installation when the
/// hot path could not vouch for it.
pub async fn authenticate(
    state: &AppState,
    request: &SignedRequest,
    credential: Option<&str>,
    tokens: Tokens,
) -> Result<RequestContext, Failure> {
    match check(state, request, credential, tokens)? {
        Checked::Current(context) => Ok(context),
        Checked::Unconfirmed(context) => {
            revocation::confirm(state, &context.installation).await?;
            Ok(context)
        }
    }
}

/// The verification itself, free of warp and of the host so benchmarks and
/// tests can call it: opens the credential (or finds the known tenant),
/// verifies the token with its secret, and says whether the installation is
/// current without asking the host.
pub fn check(
    state: &AppState,
    request: &SignedRequest,
    credential: Option<&str>,
    tokens: Tokens,
) -> Result<Checked, Failure> {
    let token = request.token.as_deref().ok_or(Failure::MissingToken)?;
    let unverified = UnverifiedToken::parse(token)?;
    let (installation, current) = match credential {
        Some(sealed) => {
            let installation = state.open_credential(sealed, unverified.issuer())?;
            let current = revocation::is_current(state, &installation);
            (installation, current)
        }
        None => {
            let known = state.tenants.get(unverified.issuer()).ok_or(JwtError::UnknownIssuer)?;
            (known.installation, known.current_until > state.clock.now())
        }
    };
    // A context token is bound to no request: hashing this one would be wasted.
    let qsh =
        if unverified.is_context_token() { String::new() } else { request.qsh(&state.base_url) };
    let expect = match tokens {
        Tokens::RequestBound => Expectation::request(&qsh, now()),
        Tokens::ContextOrRequestBound => Expectation::context_or_request(&qsh, now()),
    };
    let claims = unverified.verify(&installation.shared_secret, &expect)?;
    let context = RequestContext {
        installation,
        account_id: claims.sub,
        context: claims.context,
        sealed_with: credential.and_then(key_id_of).map(str::to_owned),
    };
    Ok(if current { Checked::Current(context) } else { Checked::Unconfirmed(context) })
}
