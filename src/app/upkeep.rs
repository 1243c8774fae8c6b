//! Keeping a tenant's dynamic webhooks alive, with no scheduler and no
//! database.
//!
//! lodger's Jira webhooks are registered at install with the sealed
//! credential in their URL ([`super::webhook_url`]). Jira drops a registration 30 days after it was
//! made or last refreshed, so someone must refresh it; a storage-free app
//! has no list of tenants to walk. Instead, whenever lodger handles a
//! request of a Jira tenant (a page's API call, a webhook), it checks that
//! tenant's registrations in the background, at most every
//! [`CHECK_EVERY_SECONDS`] per process (after a failed check, again after
//! [`RETRY_AFTER_SECONDS`]):
//!
//! - registrations whose credential still opens to the tenant's current
//!   installation are refreshed when they lapse within [`REFRESH_WITHIN_DAYS`];
//! - missing ones, or ones carrying a credential that no longer opens (a
//!   reinstall changed the secret, or the master key that sealed it was
//!   dropped), are replaced by a registration with a fresh seal.
//!
//! A tenant nobody uses for 30 days loses its webhooks, and gets them back
//! on the next request: templates apply from then on.
//!
//! **Re-sealing.** When a page relays a credential sealed with a master key
//! that is no longer the first (the operator rotated keys), the tenant is
//! re-sealed in the background: a fresh seal under the first key replaces
//! the app property `lodger-installation`, and the webhooks are registered
//! again with it. Once every active tenant has been seen, the old key can be
//! dropped; a tenant sealed only under a dropped key is refused (401, "no
//! master key with id …") until the host installs the app again.

use std::sync::Arc;

use super::webhook_url::{self, WebhookUrl};
use crate::connect::installation::{Installation, Product};
use crate::connect::sealed::SealError;
use crate::host::app_properties::{self, INSTALLATION_PROPERTY};
use crate::host::client::HostError;
use crate::host::tenant::Tenant;
use crate::host::webhooks::{self, RegisterError, Registration};
use crate::state::AppState;

/// How often one process looks at one tenant's registrations.
pub const CHECK_EVERY_SECONDS: i64 = 12 * 60 * 60;
/// How often one process re-seals one tenant still relaying an old credential.
pub const RESEAL_EVERY_SECONDS: i64 = 60;
/// How long one process waits before checking again after a failed check.
pub const RETRY_AFTER_SECONDS: i64 = 5 * 60;
/// Registrations lapsing sooner than this are refreshed.
pub const REFRESH_WITHIN_DAYS: i64 = 20;
/// The events lodger listens to.
pub const EVENTS: &[&str] = &["jira:issue_created"];
/// Every issue: dynamic webhooks need a filter, and allow only `=`, `!=`,
/// `IN` and `NOT IN`.
pub const JQL_FILTER: &str = "project != null";

/// Why the webhooks could not be put right.
#[derive(Debug, thiserror::Error)]
pub enum UpkeepError {
    /// A call to the host failed.
    #[error(transparent)]
    Host(#[from] HostError),
    /// Jira refused the registration.
    #[error(transparent)]
    Register(#[from] RegisterError),
    /// Sealing the credential for the URL failed.
    #[error("could not seal the credential for the webhook URL")]
    Seal(#[source] SealError),
}

/// Notes that a tenant is active: re-seals its credential if it was
/// relayed sealed with an older master key (`sealed_with`, its key id), and checks its webhooks in the background if
/// this process has not done so lately.
///
/// This runs on every API call and webhook, so its common case is two cache
/// reads. A check that fails (the host is down, refuses, or is slow) is not
/// retried before [`RETRY_AFTER_SECONDS`]: a busy tenant must not send one
/// background request to a failing host per page call.
pub fn touch(state: &Arc<AppState>, installation: &Arc<Installation>, sealed_with: Option<&str>) {
    let now = crate::now();
    if sealed_with.is_some_and(|id| id != state.keyring.sealing_key_id()) {
        // Pages relay the old credential until they reload: once a minute is plenty.
        let mark = format!("reseal {}", installation.client_key);
        if claim(state, &mark, now, RESEAL_EVERY_SECONDS) {
            reseal(state, installation);
        }
    }
    if installation.product_type != Product::Jira
        || !claim(state, &installation.client_key, now, CHECK_EVERY_SECONDS)
    {
        return;
    }
    let (state, installation) = (Arc::clone(state), Arc::clone(installation));
    tokio::spawn(async move {
        if let Err(err) = ensure(&state, &installation, Replace::IfStale).await {
            let key = installation.client_key.clone();
            tracing::warn!(client_key = %key, error = %err, retry_in_seconds = RETRY_AFTER_SECONDS, "webhook upkeep failed");
            state.upkept.insert(key, crate::now() + RETRY_AFTER_SECONDS);
        }
    });
}

/// Takes the job named `mark` if it is due at `now`, and sets the next one
/// `every` seconds later. The cache holds when each job is next due.
fn claim(state: &AppState, mark: &str, now: i64, every: i64) -> bool {
    if state.upkept.get(mark).is_some_and(|due| now < due) {
        return false;
    }
    state.upkept.insert(mark.to_owned(), now + every);
    true
}

/// Marks `client_key`'s webhooks as checked just now (at install, which
/// registers them).
pub fn checked(state: &AppState, client_key: &str) {
    state.upkept.insert(client_key.to_owned(), crate::now() + CHECK_EVERY_SECONDS);
}

/// Re-seals a tenant under the first master key, in the background: the
/// app property first (pages relay it), then the webhooks.
fn reseal(state: &Arc<AppState>, installation: &Arc<Installation>) {
    let (state, installation) = (Arc::clone(state), Arc::clone(installation));
    tokio::spawn(async move {
        let stored = async {
            let sealed = state.keyring.seal(&installation).map_err(UpkeepError::Seal)?;
            let value = app_properties::installation_value(&sealed);
            app_properties::put(
                &state.host,
                Tenant::Connect(&installation),
                INSTALLATION_PROPERTY,
                &value,
            )
            .await?;
            if installation.product_type == Product::Jira {
                ensure(&state, &installation, Replace::Always).await?;
            }
            Ok::<(), UpkeepError>(())
        };
        match stored.await {
            Ok(()) => {
                tracing::info!(client_key = %installation.client_key, key_id = state.keyring.sealing_key_id(), "credential re-sealed under the first master key")
            }
            Err(err) => {
                tracing::warn!(client_key = %installation.client_key, error = %err, retry_in_seconds = RESEAL_EVERY_SECONDS, "re-sealing failed")
            }
        }
    });
}

/// Whether registrations that still work are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replace {
    /// Keep working registrations (refresh them); replace the others.
    IfStale,
    /// Replace them all (at install: the credential is new).
    Always,
}

/// Makes the tenant's registrations right: see the module documentation.
pub async fn ensure(
    state: &AppState,
    installation: &Installation,
    replace: Replace,
) -> Result<(), UpkeepError> {
    let prefix = webhook_url::prefix(&state.base_url);
    let ours: Vec<Registration> = webhooks::list(&state.host, installation)
        .await?
        .into_iter()
        .filter(|r| r.url.starts_with(&prefix))
        .collect();
    let working = replace == Replace::IfStale
        && !ours.is_empty()
        && ours.iter().all(|r| opens_to(state, &r.url, installation));
    if working {
        let soon = (crate::now() + REFRESH_WITHIN_DAYS * 24 * 60 * 60) * 1000;
        let lapsing: Vec<u64> =
            ours.iter().filter(|r| r.expires_at_ms < soon).map(|r| r.id).collect();
        if !lapsing.is_empty() {
            webhooks::refresh(&state.host, installation, &lapsing).await?;
            tracing::info!(client_key = %installation.client_key, count = lapsing.len(), "webhooks refreshed");
        }
        return Ok(());
    }
    // Jira takes one URL per app, and the credential is in the URL: the old
    // registrations must go before the new one. A process that dies in
    // between leaves none, until the host retries the install or the
    // tenant's next request gets here again.
    let stale: Vec<u64> = ours.iter().map(|r| r.id).collect();
    webhooks::delete(&state.host, installation, &stale).await?;
    let sealed = state.keyring.seal(installation).map_err(UpkeepError::Seal)?;
    let url = WebhookUrl { credential: &sealed }.at(&state.base_url);
    webhooks::register(&state.host, installation, &url, EVENTS, JQL_FILTER).await?;
    tracing::info!(client_key = %installation.client_key, replaced = stale.len(), "webhooks registered");
    Ok(())
}

/// Whether the credential in a registration's URL opens to `installation`
/// as it is now (same tenant, app and shared secret).
fn opens_to(state: &AppState, url: &str, installation: &Installation) -> bool {
    let Some(url) = WebhookUrl::parse(&state.base_url, url) else { return false };
    state
        .keyring
        .open(url.credential, &installation.client_key, &installation.key)
        .is_ok_and(|opened| opened.shared_secret.expose() == installation.shared_secret.expose())
}
