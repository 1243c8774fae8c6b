//! Product tokens: the opaque bearer tokens Forge hands a remote in
//! `x-forge-oauth-system` (the app acting as itself, `asApp`) and
//! `x-forge-oauth-user` (the app acting as the user of a UI call, `asUser`),
//! which the remote sends back as `Authorization: Bearer <token>` to
//! `app.apiBaseUrl` (Forge: "Forge remote invocation contract", "Calling
//! Atlassian app APIs from a remote").
//!
//! Forge documents the tokens as opaque and valid for up to 4 hours, with
//! no refresh endpoint. The emulator's last [`TOKEN_LIFETIME_SECONDS`]
//! (one hour, shorter than the ceiling so that a remote that caches them
//! too long is caught sooner) and are minted afresh for every invocation.
//!
//! What it is not: who the bearer is at the REST API ([`super::rest_auth`]).

use super::state::{ForgeInstallation, ForgeState};
use crate::platform::keys::random_id;

/// How long a product token is accepted, in seconds.
pub const TOKEN_LIFETIME_SECONDS: i64 = 60 * 60;

/// Whom a token lets the app act as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKind {
    /// The app itself (`asApp`).
    System,
    /// The app on behalf of this account (`asUser`).
    User {
        /// The user's account id.
        account_id: String,
    },
}

/// What the site remembers of a token it handed out.
#[derive(Debug, Clone)]
pub struct ProductToken {
    /// The app.
    pub app_id: String,
    /// The installation it was minted for: a reinstall voids it.
    pub installation_id: String,
    /// Whom it acts as.
    pub kind: TokenKind,
    /// When it lapses, seconds since the epoch.
    pub expires_at: i64,
}

/// Mints a token of `kind` for `install`, forgetting lapsed ones.
pub(crate) fn mint(
    state: &mut ForgeState,
    install: &ForgeInstallation,
    kind: TokenKind,
    now: i64,
) -> String {
    state.tokens.retain(|_, t| t.expires_at > now);
    let token = format!("forge-dev.{}", random_id(24));
    state.tokens.insert(
        token.clone(),
        ProductToken {
            app_id: install.app_id.clone(),
            installation_id: install.installation_id.clone(),
            kind,
            expires_at: now + TOKEN_LIFETIME_SECONDS,
        },
    );
    token
}

/// The live grant behind `token`: unexpired, and of the app's current
/// installation.
pub(crate) fn lookup(state: &ForgeState, token: &str, now: i64) -> Option<ProductToken> {
    let grant = state.tokens.get(token)?;
    let current = state
        .installs
        .get(&grant.app_id)
        .is_some_and(|i| i.installation_id == grant.installation_id);
    (current && grant.expires_at > now).then(|| grant.clone())
}

/// Forgets every token of `app_id` (uninstall, reinstall).
pub(crate) fn revoke(state: &mut ForgeState, app_id: &str) {
    state.tokens.retain(|_, t| t.app_id != app_id);
}
