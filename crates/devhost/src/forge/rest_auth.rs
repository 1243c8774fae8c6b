//! Who is calling under an `apiBaseUrl`-style path (`/ex/jira/{cloudId}/…`,
//! `/ex/confluence/{cloudId}/wiki/…`): a Forge app's remote with a product
//! token as `Authorization: Bearer <token>` (Forge: "Calling Atlassian app
//! APIs from a remote"; "Forge remote invocation contract").
//!
//! A system token makes the caller the app itself ([`Caller::App`], its key
//! the app id), as `asApp()` does; a user token makes it the user with the
//! app named ([`Caller::User`]), so the user's permissions apply, as
//! Jira does for `asUser()`. Then the manifest's scopes are enforced
//! ([`super::scopes`]). Anything but a live Bearer product token of an app
//! still installed is 401 (a Connect JWT and a session included); a known
//! token outside its scopes is 403 naming the scope.
//!
//! What it is not: the Connect side ([`crate::platform::auth`]), which in
//! turn refuses Bearer tokens on the site's own paths.

use super::product_tokens::{self, TokenKind};
use crate::platform::auth::{Caller, Refusal, RefusalReason, RestRequest};
use crate::site::Site;

/// The Forge side of a verified call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForgeCall {
    /// The app whose product token was used.
    pub app_id: String,
    /// System (`asApp`) or user (`asUser`).
    pub kind: TokenKind,
}

impl ForgeCall {
    /// Whether the app calls as itself (a system token, `asApp()`).
    pub fn as_app(&self) -> bool {
        self.kind == TokenKind::System
    }
}

/// Authenticates a call made under the site's `apiBaseUrl` and checks the
/// app's scopes for it.
pub fn authenticate(
    site: &Site,
    request: &RestRequest<'_>,
    now: i64,
) -> Result<(Caller, ForgeCall), Refusal> {
    let Some(token) = request.authorization.and_then(|h| h.strip_prefix("Bearer ")) else {
        return Err(Refusal::unauthorized(
            RefusalReason::CredentialKind,
            "under apiBaseUrl only a Forge product token is accepted (Authorization: Bearer)",
        ));
    };
    let data = site.data();
    let grant = product_tokens::lookup(&data.forge, token.trim(), now).ok_or_else(|| {
        Refusal::unauthorized(
            RefusalReason::UnknownProductToken,
            "product token is unknown, expired or of an uninstalled app",
        )
    })?;
    let install = data.forge.installs.get(&grant.app_id).ok_or_else(|| {
        Refusal::unauthorized(RefusalReason::UnknownProductToken, "app not installed")
    })?;
    let caller = match &grant.kind {
        TokenKind::System => Caller::App { app_key: grant.app_id.clone() },
        TokenKind::User { account_id } => {
            let user = site.user(account_id).ok_or_else(|| {
                Refusal::unauthorized(RefusalReason::UnknownUser, "user token names no user")
            })?;
            Caller::User { user: user.clone(), app_key: Some(grant.app_id.clone()) }
        }
    };
    super::scopes::check(install, request.product, request.method, request.path)?;
    Ok((caller, ForgeCall { app_id: grant.app_id, kind: grant.kind }))
}
