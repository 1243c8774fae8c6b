//! Revocation: a superseded or uninstalled installation stops working, on
//! every replica, within a bound.
//!
//! A reinstall hands the app a new shared secret and the host stops
//! accepting the old one; `uninstalled` ends the installation (Atlassian:
//! "App descriptor: lifecycle"; "Understanding JWT for Connect apps": the
//! shared secret is per installation). lodger keeps no database, so the old
//! sealed credential still opens anywhere. What stops it:
//!
//! - **The process that handles the event** knows at once: `installed`
//!   makes the new installation this process's current one for the tenant
//!   (the one it held before, with another secret, is superseded), and
//!   `uninstalled` leaves a tombstone (the tenant was uninstalled at T: a
//!   credential installed at or before T is refused). Both purge the
//!   opened-credential cache for the tenant.
//! - **Every other process** asks the host the first time it meets an
//!   installation, and again once [`AppState::revocation_bound`] has passed
//!   since it last asked: a GET of the app property `lodger-installation`
//!   signed with that installation's secret. The host answers 401 to a
//!   secret it no longer accepts (revoked: remembered, refused); a 200 whose
//!   stored credential is a later installation with another secret means
//!   superseded (refused); any
//!   other 200 or a 404 (no property: the host accepted the secret) means
//!   current, trusted for the bound with no further host call. A host that
//!   cannot be reached or fails (5xx) leaves the installation unconfirmed:
//!   the request is answered 503, never accepted unverified. Installations
//!   confirmed within the bound are served without the host, so a host
//!   outage does not stop them.
//!
//! An upgrade that hands over the same secret again supersedes nothing: the
//! host still accepts the secret, so older credentials (a page loaded
//! before, a webhook in flight) keep working.
//!
//! Not for: verifying tokens (see [`crate::web::auth`]) or replayed install
//! tokens (see [`crate::web::install_replay`]).

use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::connect::installation::Installation;
use crate::host::app_properties::{self, INSTALLATION_PROPERTY};
use crate::host::client::HostError;
use crate::host::tenant::Tenant;
use crate::state::{AppState, Known};

/// The default revocation bound: how long a process trusts an installation
/// the host confirmed, in seconds (ten minutes).
pub const DEFAULT_BOUND_SECONDS: i64 = 600;
/// The largest bound an operator may configure.
pub const MAX_BOUND_SECONDS: i64 = 600;

/// Why an installation was refused, or could not be confirmed.
#[derive(Debug, thiserror::Error)]
pub enum RevocationError {
    /// The host no longer accepts the installation's secret, or the tenant
    /// uninstalled the app after it was installed.
    #[error("this installation of the app was uninstalled or its secret was revoked")]
    Revoked,
    /// A later installation of the same tenant replaced it (a reinstall).
    #[error("this installation of the app was replaced by a later one; reload the page")]
    Superseded,
    /// The host could not say (unreachable, 5xx, or an answer lodger cannot
    /// read): retry later.
    #[error("could not confirm the installation with the site ({0}); retry later")]
    Unconfirmed(#[source] HostError),
}

/// What a process remembers of an installation it refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The host denied its secret, or a tombstone covers it.
    Revoked,
    /// A later installation replaced it.
    Superseded,
}

impl Refused {
    fn error(self) -> RevocationError {
        match self {
            Refused::Revoked => RevocationError::Revoked,
            Refused::Superseded => RevocationError::Superseded,
        }
    }
}

/// A fingerprint of an installation, to remember it refused without keeping
/// its secret: SHA-256 over client key, app key, `installed_at` and secret.
pub fn fingerprint(installation: &Installation) -> [u8; 32] {
    let mut hash = Sha256::new();
    for part in [
        installation.client_key.as_bytes(),
        installation.key.as_bytes(),
        &installation.installed_at.to_be_bytes(),
        installation.shared_secret.expose().as_bytes(),
    ] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hash.finalize().into()
}

/// Whether `installation` is this process's current installation of its
/// tenant, confirmed within the bound: the hot path, no host call.
pub fn is_current(state: &AppState, installation: &Installation) -> bool {
    state.tenants.get(installation.client_key.as_str()).is_some_and(|known| {
        known.current_until > state.clock.now() && known.installation.is_same_as(installation)
    })
}

/// `installed` was handled here: `installation` is the tenant's current one,
/// confirmed now. An older installation this process held is superseded; a
/// tombstone older than this install is lifted. Opened credentials of the
/// tenant are forgotten so that each is compared again.
pub fn installed(state: &AppState, installation: Arc<Installation>) {
    let client_key = installation.client_key.clone();
    let held = state.tenants.get(client_key.as_str()).map(|known| known.installation);
    let newer_known = held.as_ref().is_some_and(|held| held.supersedes(&installation));
    if let Some(held) = held.filter(|held| !newer_known && !held.is_same_as(&installation)) {
        // This process saw the reinstall: what it held before (another
        // secret) is superseded, even when both came within the same second.
        state.refused.insert(fingerprint(&held), Refused::Superseded);
    }
    if !newer_known {
        state.tenants.insert(
            client_key.clone(),
            Known {
                installation: Arc::clone(&installation),
                current_until: state.clock.now().saturating_add(state.revocation_bound),
            },
        );
    }
    if state.tombstones.get(client_key.as_str()).is_some_and(|at| installation.installed_at >= at) {
        state.tombstones.remove(client_key.as_str());
    }
    state.opened.retain(|_, opened| opened.client_key != client_key);
}

/// `uninstalled` was handled here, signed at `at`: every installation of the
/// tenant installed at or before `at` is refused from now on.
pub fn uninstalled(state: &AppState, client_key: &str, at: i64) {
    let later = state.tombstones.get(client_key).is_some_and(|known| known > at);
    if !later {
        state.tombstones.insert(client_key.to_owned(), at);
    }
    let installed_since =
        state.tenants.get(client_key).is_some_and(|known| known.installation.installed_at > at);
    if !installed_since {
        state.tenants.remove(client_key);
    }
    state.opened.retain(|_, opened| opened.client_key != client_key);
}

/// Confirms `installation` (its secret verified the request's token) when
/// [`is_current`] did not: from what this process knows, else with the host.
/// On success it becomes the tenant's current installation for the bound.
pub async fn confirm(
    state: &AppState,
    installation: &Arc<Installation>,
) -> Result<(), RevocationError> {
    let client_key = installation.client_key.as_str();
    if let Some(refused) = refused_here(state, installation) {
        return Err(refuse(installation, refused, "known here"));
    }
    let stored = match app_properties::get(
        &state.host,
        Tenant::Connect(installation),
        INSTALLATION_PROPERTY,
    )
    .await
    {
        Ok(stored) => stored,
        Err(err) if err.status().is_some_and(|s| s.as_u16() == 401) => {
            remember_refused(state, installation, Refused::Revoked);
            return Err(refuse(installation, Refused::Revoked, "the site denies its secret"));
        }
        Err(err) => {
            tracing::warn!(client_key, error = %err, "could not confirm an installation with the site");
            return Err(RevocationError::Unconfirmed(err));
        }
    };
    let stored_installation = stored
        .as_ref()
        .and_then(|value| value["credential"].as_str())
        .and_then(|sealed| state.keyring.open(sealed, client_key, &installation.key).ok());
    if let Some(stored) = stored_installation {
        let same_second_other_secret =
            stored.installed_at == installation.installed_at && !stored.is_same_as(installation);
        if stored.supersedes(installation) || same_second_other_secret {
            remember_refused(state, installation, Refused::Superseded);
            return Err(refuse(installation, Refused::Superseded, "the site stores a later one"));
        }
    }
    // Re-checked: an event may have been handled while the host answered.
    if let Some(refused) = refused_here(state, installation) {
        return Err(refuse(installation, refused, "known here"));
    }
    state.tenants.insert(
        client_key.to_owned(),
        Known {
            installation: Arc::clone(installation),
            current_until: state.clock.now().saturating_add(state.revocation_bound),
        },
    );
    tracing::debug!(client_key, "installation confirmed with the site");
    Ok(())
}

/// What this process knows against `installation` without asking the host:
/// a tombstone, an earlier refusal, or a later installation.
fn refused_here(state: &AppState, installation: &Installation) -> Option<Refused> {
    let client_key = installation.client_key.as_str();
    if state.tombstones.get(client_key).is_some_and(|at| installation.installed_at <= at) {
        return Some(Refused::Revoked);
    }
    if let Some(refused) = state.refused.get(&fingerprint(installation)) {
        return Some(refused);
    }
    let superseded = state
        .tenants
        .get(client_key)
        .is_some_and(|known| known.installation.supersedes(installation));
    superseded.then_some(Refused::Superseded)
}

fn remember_refused(state: &AppState, installation: &Installation, refused: Refused) {
    state.refused.insert(fingerprint(installation), refused);
    let client_key = installation.client_key.as_str();
    if state
        .tenants
        .get(client_key)
        .is_some_and(|known| known.installation.is_same_as(installation))
    {
        state.tenants.remove(client_key);
    }
}

/// Logs the refusal (client key only, never the secret or the credential).
fn refuse(installation: &Installation, refused: Refused, why: &'static str) -> RevocationError {
    tracing::warn!(
        client_key = %installation.client_key,
        app_key = %installation.key,
        installed_at = installation.installed_at,
        refused = ?refused,
        why,
        "refused a revoked or superseded installation"
    );
    refused.error()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::installation::Product;
    use crate::connect::secret::Secret;

    fn installation(secret: &str, installed_at: i64) -> Installation {
        Installation {
            key: "lodger".into(),
            client_key: "ck-1".into(),
            base_url: "https://acme.atlassian.net".into(),
            shared_secret: Secret::new(secret),
            product_type: Product::Jira,
            oauth_client_id: None,
            installed_at,
        }
    }

    #[test]
    fn fingerprints_differ_by_secret_and_install_time() {
        let a = fingerprint(&installation("s1", 10));
        assert_eq!(a, fingerprint(&installation("s1", 10)));
        assert_ne!(a, fingerprint(&installation("s2", 10)));
        assert_ne!(a, fingerprint(&installation("s1", 11)));
    }
}
