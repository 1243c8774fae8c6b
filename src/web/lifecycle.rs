//! The lifecycle endpoints: `POST /lifecycle/{installed,uninstalled,enabled,disabled}`.
//!
//! `installed` is where a storage-free app earns its name. After verifying
//! the signed install, lodger seals the installation and writes it to the
//! tenant's app property `lodger-installation`, signed with the new shared
//! secret; for Jira it then registers its dynamic webhooks with the sealed
//! credential in their URL (see [`crate::app::upkeep`]). Only when the host has
//! stored both does lodger answer 204; if a write fails after retries it
//! answers 503, so the host retries the install rather than believing an
//! install that left no trace.
//!
//! Atlassian staff have said that an app may not be able to call the host
//! until it has answered `installed` (community thread "JIRA installed
//! event", 2017); Atlassian documents no contract either way. lodger writes
//! during the callback as its design asks; if a real host refuses that
//! write, the 503 makes the failure loud rather than silent.
//!
//! `enabled` and `disabled` change nothing in a storage-free app: they are
//! verified when the tenant is known here and answered 204.
//!
//! Each signed-install token is used once ([`super::install_replay`]).
//! `installed` makes the new installation this process's current one and
//! `uninstalled` leaves a tombstone, so the old credential is refused here
//! at once ([`crate::app::revocation`]); an `installed` for a tenant takes
//! the signed token's `iat` as the installation's `installed_at`.

use std::sync::Arc;

use bytes::Bytes;
use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

use super::reject::Failure;
use super::signed_request::{SignedRequest, signed_request};
use crate::app::revocation;
use crate::app::upkeep::{self, Replace};
use crate::connect::installation::Product;
use crate::connect::jwt::{Expectation, UnverifiedToken};
use crate::connect::lifecycle::{Event, LifecycleError, Payload};
use crate::connect::signed_install::{self, InstallClaims, InstallExpectation};
use crate::host::app_properties::{self, INSTALLATION_PROPERTY};
use crate::host::tenant::Tenant;
use crate::now;
use crate::state::AppState;

/// The largest lifecycle payload accepted (real ones are under 2 KiB).
const MAX_PAYLOAD_BYTES: u64 = 64 * 1024;

/// `POST /lifecycle/<event>` for the four events.
pub fn routes(
    state: Arc<AppState>,
) -> impl Filter<Extract = (warp::reply::Response,), Error = Rejection> + Clone {
    warp::path!("lifecycle" / String)
        .and(warp::post())
        .and_then(|name: String| async move {
            Event::parse(&name)
                .ok_or_else(|| Rejection::from(Failure::Lifecycle(LifecycleError::UnknownEvent)))
        })
        .and(signed_request())
        .and(warp::body::content_length_limit(MAX_PAYLOAD_BYTES))
        .and(warp::body::bytes())
        .and(warp::any().map(move || Arc::clone(&state)))
        .and_then(|event, request, body, state| async move {
            handle(event, request, body, state).await.map_err(Rejection::from)
        })
}

async fn handle(
    event: Event,
    request: SignedRequest,
    body: Bytes,
    state: Arc<AppState>,
) -> Result<warp::reply::Response, Failure> {
    let token = request.token.as_deref();
    if token.is_none() && event != Event::Disabled {
        return Err(Failure::MissingToken);
    }
    let payload = Payload::parse(&body, event, &state.keys.all())?;
    match (event, token) {
        (Event::Installed, Some(token)) => {
            let claims = verify_signed_install(token, &request, &payload, &body, &state).await?;
            let answer = installed(claims, payload, &state).await?;
            state.install_tokens.succeeded(token);
            Ok(answer)
        }
        (Event::Uninstalled, Some(token)) => {
            let claims = verify_signed_install(token, &request, &payload, &body, &state).await?;
            revocation::uninstalled(&state, &payload.client_key, claims.iat);
            state.install_tokens.succeeded(token);
            tracing::info!(client_key = %payload.client_key, app_key = %payload.key, "uninstalled");
            Ok(no_content())
        }
        (_, token) => {
            verify_shared_secret(token, &request, &payload, &state)?;
            tracing::info!(client_key = %payload.client_key, event = event.as_str(), "lifecycle event");
            Ok(no_content())
        }
    }
}

async fn installed(
    claims: InstallClaims,
    payload: Payload,
    state: &AppState,
) -> Result<warp::reply::Response, Failure> {
    let installation = payload.into_installation(claims.iat)?;
    let sealed = state.keyring.seal(&installation).map_err(Failure::Seal)?;
    let value = app_properties::installation_value(&sealed);
    app_properties::put(&state.host, Tenant::Connect(&installation), INSTALLATION_PROPERTY, &value)
        .await
        .map_err(Failure::HostStorage)?;
    if installation.product_type == Product::Jira {
        // The old registrations carry the old credential: replace them.
        upkeep::ensure(state, &installation, Replace::Always).await.map_err(Failure::Webhooks)?;
        upkeep::checked(state, &installation.client_key);
    }
    tracing::info!(
        client_key = %installation.client_key,
        app_key = %installation.key,
        product = installation.product_type.as_str(),
        key_id = state.keyring.sealing_key_id(),
        "installed; credential stored in the host"
    );
    state.remember(Arc::new(installation));
    Ok(no_content())
}

/// RS256 check of `installed` / `uninstalled`, key fetched by `kid`; then
/// the token is claimed for this use (a replay is refused).
async fn verify_signed_install(
    token: &str,
    request: &SignedRequest,
    payload: &Payload,
    body: &[u8],
    state: &AppState,
) -> Result<InstallClaims, Failure> {
    let kid = signed_install::key_id(token)?;
    let key = state.install_keys.get(&kid).await?;
    let qsh = request.qsh(&state.base_url);
    let expect = InstallExpectation {
        app_base_url: &state.base_url,
        client_key: &payload.client_key,
        qsh: &qsh,
        now: now(),
    };
    let claims = signed_install::verify(token, &key, &expect)?;
    if let Err(err) = state.install_tokens.claim(token, body, claims.exp, now()) {
        tracing::warn!(client_key = %payload.client_key, error = %err, "refused a signed-install token");
        return Err(err.into());
    }
    Ok(claims)
}

/// HS256 check of `enabled` / `disabled` where the tenant's secret is at hand.
/// A tenant this process does not know cannot be verified, and nothing is
/// done for it either, so the event is acknowledged.
fn verify_shared_secret(
    token: Option<&str>,
    request: &SignedRequest,
    payload: &Payload,
    state: &AppState,
) -> Result<(), Failure> {
    let Some(token) = token else {
        return Ok(()); // `disabled` may come unsigned (handle() refused others).
    };
    let unverified = UnverifiedToken::parse(token)?;
    if unverified.issuer() != payload.client_key {
        return Err(Failure::IssuerMismatch);
    }
    let Some(installation) = state.tenant(payload.client_key.as_str()) else {
        return Ok(());
    };
    let qsh = request.qsh(&state.base_url);
    unverified.verify(&installation.shared_secret, &Expectation::request(&qsh, now()))?;
    Ok(())
}

fn no_content() -> warp::reply::Response {
    StatusCode::NO_CONTENT.into_response()
}
