//! What every request handler shares: configuration turned into ready-made
//! values once at start, and the in-memory caches (an optimisation only:
//! the host holds the truth), among them what [`crate::app::revocation`]
//! knows of superseded and uninstalled installations.

use std::sync::{Arc, RwLock};

use bytes::Bytes;

use crate::app::revocation::{self, Refused};
use crate::app::settings::SettingsKeys;
use crate::app::tenancy::Tenancy;
use crate::cache::BoundedCache;
use crate::clock::Clock;
use crate::connect::installation::{Installation, Product};
use crate::connect::sealed::{Keyring, SealError};
use crate::descriptor::{AppKeys, DescriptorError, Templates};
use crate::host::client::HostClient;
use crate::host::install_keys::InstallKeys;
use crate::web::install_replay::InstallTokens;

/// Installations known to this process, by `clientKey`: filled at `installed`
/// and whenever the host confirms a relayed credential.
const KNOWN_TENANTS: usize = 10_000;
/// Installations refused (revoked or superseded), by fingerprint.
const REFUSED_INSTALLATIONS: usize = 10_000;
/// Opened credentials, by sealed string, so that each request does not pay
/// for an AEAD open.
const OPENED_CREDENTIALS: usize = 10_000;

/// The descriptors, rendered for the configured base URL: once at start, and
/// again only when the dev world sees a template change.
#[derive(Debug, Clone)]
pub struct Descriptors {
    /// Served at `/atlassian-connect.json`.
    pub jira: Bytes,
    /// Served at `/confluence/atlassian-connect.json`.
    pub confluence: Bytes,
}

impl Descriptors {
    /// Renders both products' descriptors from `templates`.
    pub fn render(
        templates: &Templates,
        base_url: &str,
        keys: &AppKeys,
    ) -> Result<Descriptors, DescriptorError> {
        Ok(Descriptors {
            jira: templates.render(Product::Jira, base_url, keys)?.into(),
            confluence: templates.render(Product::Confluence, base_url, keys)?.into(),
        })
    }

    /// The descriptor of `product`.
    pub fn of(&self, product: Product) -> &Bytes {
        match product {
            Product::Jira => &self.jira,
            Product::Confluence => &self.confluence,
        }
    }
}

/// An installation this process holds as its tenant's current one.
#[derive(Debug, Clone)]
pub struct Known {
    /// The installation.
    pub installation: Arc<Installation>,
    /// Until when it is trusted without asking the host again (seconds since
    /// the epoch, by [`AppState::clock`]).
    pub current_until: i64,
}

/// Shared state of the app server.
#[derive(Debug)]
pub struct AppState {
    /// The app's base URL, without a trailing slash.
    pub base_url: String,
    /// The Jira and Confluence app keys.
    pub keys: AppKeys,
    /// The master keys that seal and open credentials.
    pub keyring: Keyring,
    /// The keys that MAC tenant settings, derived from the master keys.
    pub settings_keys: SettingsKeys,
    /// The key server client for signed installs.
    pub install_keys: InstallKeys,
    /// The client that calls tenants as the app.
    pub host: HostClient,
    descriptors: RwLock<Descriptors>,
    /// The current installation of each tenant, by `clientKey`.
    pub tenants: BoundedCache<String, Known>,
    /// Opened credentials by their sealed string.
    pub opened: BoundedCache<String, Arc<Installation>>,
    /// When this process next checks each Jira tenant's webhooks, by
    /// `clientKey` (and next re-seals, by `reseal <clientKey>`), in seconds
    /// since the epoch; see [`crate::app::upkeep`].
    pub upkept: BoundedCache<String, i64>,
    /// Tenants uninstalled while this process ran: `clientKey` → when.
    pub tombstones: BoundedCache<String, i64>,
    /// Installations refused, by [`revocation::fingerprint`].
    pub refused: BoundedCache<[u8; 32], Refused>,
    /// How long an installation confirmed with the host is trusted, in seconds.
    pub revocation_bound: i64,
    /// The clock the bound is measured with.
    pub clock: Clock,
    /// Signed-install tokens this process has used.
    pub install_tokens: InstallTokens,
}

impl AppState {
    /// State from its parts; caches start empty.
    pub fn new(
        base_url: &str,
        keys: AppKeys,
        keyring: Keyring,
        install_keys: InstallKeys,
        host: HostClient,
        descriptors: Descriptors,
        revocation_bound: i64,
    ) -> AppState {
        AppState {
            base_url: base_url.trim_end_matches('/').to_owned(),
            keys,
            settings_keys: SettingsKeys::new(&keyring),
            keyring,
            install_keys,
            host,
            descriptors: RwLock::new(descriptors),
            tenants: BoundedCache::new(KNOWN_TENANTS),
            opened: BoundedCache::new(OPENED_CREDENTIALS),
            upkept: BoundedCache::new(KNOWN_TENANTS),
            tombstones: BoundedCache::new(KNOWN_TENANTS),
            refused: BoundedCache::new(REFUSED_INSTALLATIONS),
            revocation_bound,
            clock: Clock::system(),
            install_tokens: InstallTokens::default(),
        }
    }

    /// The current descriptor of `product` (a cheap reference-counted copy).
    pub fn descriptor(&self, product: Product) -> Bytes {
        let descriptors = self.descriptors.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        descriptors.of(product).clone()
    }

    /// Replaces the descriptors (the dev world, after a template edit).
    pub fn replace_descriptors(&self, descriptors: Descriptors) {
        *self.descriptors.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = descriptors;
    }

    /// A Connect tenant, with the keys that MAC its settings.
    pub fn tenancy<'a>(&'a self, installation: &'a Installation) -> Tenancy<'a> {
        Tenancy::Connect { installation, settings_keys: &self.settings_keys }
    }

    /// The installation this process holds for `client_key`, however long
    /// ago it was confirmed.
    pub fn tenant(&self, client_key: &str) -> Option<Arc<Installation>> {
        self.tenants.get(client_key).map(|known| known.installation)
    }

    /// Remembers an installation this process received at `installed` as
    /// its tenant's current one (see [`revocation::installed`]).
    pub fn remember(&self, installation: Arc<Installation>) {
        revocation::installed(self, installation);
    }

    /// Opens a relayed credential for `client_key`, trying each app key, with
    /// the opened-credential cache in front. Opening says nothing about
    /// whether the installation is still current ([`revocation`] does).
    pub fn open_credential(
        &self,
        sealed: &str,
        client_key: &str,
    ) -> Result<Arc<Installation>, SealError> {
        if let Some(installation) = self.opened.get(sealed) {
            // The cache is keyed by the sealed string alone; the tenant must still match.
            if installation.client_key == client_key {
                return Ok(installation);
            }
            return Err(SealError::DoesNotOpen);
        }
        let mut last = SealError::DoesNotOpen;
        for app_key in self.keys.all() {
            match self.keyring.open(sealed, client_key, app_key) {
                Ok(installation) => {
                    let installation = Arc::new(installation);
                    self.opened.insert(sealed.to_owned(), Arc::clone(&installation));
                    return Ok(installation);
                }
                Err(SealError::DoesNotOpen) => {}
                Err(other) => last = other,
            }
        }
        Err(last)
    }
}
