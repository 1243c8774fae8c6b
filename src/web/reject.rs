//! The one place where failures become HTTP statuses.
//!
//! Handlers reject with a [`Failure`]; [`recover`] turns it (or one of warp's
//! own rejections) into a JSON body `{"error": "..."}` whose text says what
//! failed without echoing a token, a claim or a secret. The statuses follow
//! Atlassian's frameworks, so hosts react as they expect:
//!
//! | failure | status | host reaction |
//! |---|---|---|
//! | malformed or wrong lifecycle payload | 400 | gives up |
//! | missing or bad signature, unknown tenant, revoked or superseded installation, replayed install token | 401 + `WWW-Authenticate: JWT` | gives up |
//! | body `clientKey` is not the signed issuer | 403 | gives up |
//! | a user may not do this (not a site admin) | 403 | |
//! | a request body that is not the JSON expected, a query that is not the one expected | 400 | |
//! | the host refused a call lodger made for the request | 502 | |
//! | Forge: no invocation token, one that fails a check, no system token, an `apiBaseUrl` lodger will not send a token to | 401 + `WWW-Authenticate: Bearer` | |
//! | Forge's key set cannot be fetched | 503 | Forge retries events |
//! | key server or host unavailable (also when confirming an installation), or a webhook for a tenant whose credential is not at hand | 503 | retries later |

use std::convert::Infallible;

use serde_json::json;
use warp::http::{HeaderValue, StatusCode};
use warp::reply::Response;
use warp::{Rejection, Reply};

use super::install_replay::ReplayError;
use crate::app::apply_template::ApplyError;
use crate::app::revocation::RevocationError;
use crate::app::upkeep::UpkeepError;
use crate::app::webhook_url::WebhookUrlError;
use crate::connect::jwt::JwtError;
use crate::connect::lifecycle::LifecycleError;
use crate::connect::sealed::SealError;
use crate::connect::signed_install::SignedInstallError;
use crate::host::client::HostError;
use crate::host::forge_keys::ForgeKeyError;

/// Every way a lodger request can fail.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// No `Authorization: JWT …` header and no `jwt` parameter.
    #[error(
        "request is not signed: expected `Authorization: JWT <token>` or a `jwt` query parameter"
    )]
    MissingToken,
    /// An HS256 token failed a check.
    #[error(transparent)]
    Jwt(#[from] JwtError),
    /// A signed-install token failed a check.
    #[error(transparent)]
    SignedInstall(#[from] SignedInstallError),
    /// The lifecycle payload is malformed or for the wrong event.
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    /// A relayed credential (`X-Lodger-Installation`) did not open.
    #[error(transparent)]
    Credential(#[from] SealError),
    /// The body's `clientKey` is not the tenant that signed the request.
    #[error("payload clientKey is not the signed issuer")]
    IssuerMismatch,
    /// Storing the credential in the host failed after retries.
    #[error("could not store the installation in the host; retry later")]
    HostStorage(#[source] HostError),
    /// Sealing failed (a bug or a misconfigured keyring).
    #[error("could not seal the installation credential")]
    Seal(#[source] SealError),
    /// The body is not the JSON this endpoint takes (the reason says why:
    /// a wrong type, an unknown field, not JSON at all).
    #[error("request body is not what this endpoint takes: {0}")]
    BadBody(String),
    /// The webhook URL's query is not one lodger registers (the reason says
    /// why, without the query's values).
    #[error("request query is not what this endpoint takes: {0}")]
    BadQuery(#[from] WebhookUrlError),
    /// The verified user may not do this.
    #[error("{0}")]
    Forbidden(&'static str),
    /// The endpoint serves another product's tenants.
    #[error("this endpoint serves {0} sites only")]
    WrongProduct(&'static str),
    /// A call to the host that this request needed failed.
    #[error("the site did not do what lodger asked ({0}); retry later")]
    Host(#[source] HostError),
    /// Applying a template failed because the host did not do its part.
    #[error("could not apply the template ({0}); retry later")]
    Apply(#[from] ApplyError),
    /// The tenant's webhooks could not be registered at install.
    #[error("could not register the site's webhooks ({0}); retry later")]
    Webhooks(#[source] UpkeepError),
    /// A signed request (a descriptor webhook) from a tenant whose credential
    /// this process does not hold: answered 503 so the host delivers it again.
    #[error("this lodger process does not hold the site's installation yet; retry later")]
    TenantNotAtHand,
    /// The installation was revoked or superseded, or could not be confirmed.
    #[error(transparent)]
    Revocation(#[from] RevocationError),
    /// A signed-install token used before, or too many at once.
    #[error(transparent)]
    InstallReplay(#[from] ReplayError),
    /// A call to the Forge remote without `Authorization: Bearer <token>`.
    #[error("expected a Forge invocation token: `Authorization: Bearer <token>`")]
    MissingInvocationToken,
    /// The invocation token failed a check, or Forge's keys are unavailable.
    #[error(transparent)]
    ForgeToken(#[from] ForgeKeyError),
    /// A verified invocation without the product token the endpoint needs.
    #[error("the invocation carries no {0} token")]
    MissingProductToken(&'static str),
    /// A verified invocation whose `app.apiBaseUrl` is not https (or
    /// loopback http): lodger sends no token there.
    #[error("the invocation's apiBaseUrl is not an https URL")]
    UnusableApiBaseUrl,
}

impl warp::reject::Reject for Failure {}

impl Failure {
    /// The HTTP status for this failure.
    pub fn status(&self) -> StatusCode {
        match self {
            Failure::MissingToken | Failure::Jwt(_) | Failure::Credential(_) => {
                StatusCode::UNAUTHORIZED
            }
            Failure::SignedInstall(SignedInstallError::KeyUnavailable(_)) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Failure::SignedInstall(SignedInstallError::IssuerMismatch)
            | Failure::IssuerMismatch => StatusCode::FORBIDDEN,
            Failure::SignedInstall(_)
            | Failure::Revocation(RevocationError::Revoked | RevocationError::Superseded)
            | Failure::InstallReplay(ReplayError::Replayed(_)) => StatusCode::UNAUTHORIZED,
            Failure::Revocation(RevocationError::Unconfirmed(_))
            | Failure::InstallReplay(ReplayError::Full) => StatusCode::SERVICE_UNAVAILABLE,
            Failure::Lifecycle(_) => StatusCode::BAD_REQUEST,
            Failure::HostStorage(_) | Failure::TenantNotAtHand => StatusCode::SERVICE_UNAVAILABLE,
            Failure::Seal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Failure::BadBody(_) | Failure::BadQuery(_) | Failure::WrongProduct(_) => {
                StatusCode::BAD_REQUEST
            }
            Failure::Forbidden(_) => StatusCode::FORBIDDEN,
            // The host refused (4xx): retrying the same request will not help.
            Failure::Host(err)
                if err.status().is_some_and(|s| s.is_client_error() && s.as_u16() != 429) =>
            {
                StatusCode::BAD_GATEWAY
            }
            Failure::Host(_) | Failure::Apply(_) | Failure::Webhooks(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Failure::ForgeToken(ForgeKeyError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            Failure::MissingInvocationToken
            | Failure::ForgeToken(ForgeKeyError::Token(_))
            | Failure::MissingProductToken(_)
            | Failure::UnusableApiBaseUrl => StatusCode::UNAUTHORIZED,
        }
    }
}

/// Turns any rejection into a JSON error response. `realm` is the app key,
/// named in `WWW-Authenticate` on 401s as Atlassian's frameworks do.
pub async fn recover(rejection: Rejection, realm: HeaderValue) -> Result<Response, Infallible> {
    let (status, message) = if let Some(failure) = rejection.find::<Failure>() {
        (failure.status(), failure.to_string())
    } else if rejection.is_not_found() {
        (StatusCode::NOT_FOUND, "no such resource".to_owned())
    } else if rejection.find::<warp::reject::PayloadTooLarge>().is_some() {
        (StatusCode::PAYLOAD_TOO_LARGE, "request body is too large".to_owned())
    } else if rejection.find::<warp::reject::LengthRequired>().is_some() {
        (StatusCode::LENGTH_REQUIRED, "request body needs a Content-Length".to_owned())
    } else if rejection.find::<warp::reject::UnsupportedMediaType>().is_some() {
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "expected application/json".to_owned())
    } else if rejection.find::<warp::reject::InvalidHeader>().is_some()
        || rejection.find::<warp::reject::MissingHeader>().is_some()
        || rejection.find::<warp::reject::InvalidQuery>().is_some()
    {
        (StatusCode::BAD_REQUEST, "request has a malformed header or query".to_owned())
    } else if rejection.find::<warp::reject::MethodNotAllowed>().is_some() {
        // Last of the client errors: warp combines the rejections of every
        // route, and another route's method is less telling than this one's
        // body limit or header.
        (StatusCode::METHOD_NOT_ALLOWED, "method not allowed here".to_owned())
    } else {
        tracing::error!(?rejection, "unhandled rejection");
        (StatusCode::INTERNAL_SERVER_ERROR, "internal error".to_owned())
    };
    if status.is_server_error() {
        tracing::warn!(status = status.as_u16(), error = %message, "request failed");
    } else {
        tracing::debug!(status = status.as_u16(), error = %message, "request refused");
    }
    let mut response =
        warp::reply::with_status(warp::reply::json(&json!({ "error": message })), status)
            .into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(warp::http::header::WWW_AUTHENTICATE, realm);
    }
    Ok(response)
}

/// The `WWW-Authenticate` value for an app key.
pub fn realm(app_key: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("JWT realm=\"{app_key}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("JWT"))
}
