//! What every request handler shares: configuration turned into ready-made
//! values once at start, and the two in-memory caches (an optimisation only:
//! the host holds the truth).

use std::sync::{Arc, RwLock};

use bytes::Bytes;

use crate::app::settings::SettingsKeys;
use crate::cache::BoundedCache;
use crate::connect::installation::{Installation, Product};
use crate::connect::sealed::{Keyring, SealError};
use crate::descriptor::{AppKeys, DescriptorError, Templates};
use crate::host::client::HostClient;
use crate::host::install_keys::InstallKeys;

/// Installations known to this process, by `clientKey`: filled at `installed`
/// and whenever a relayed credential opens.
const KNOWN_TENANTS: usize = 10_000;
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
    /// Installations by `clientKey`.
    pub tenants: BoundedCache<String, Arc<Installation>>,
    /// Opened credentials by their sealed string.
    pub opened: BoundedCache<String, Arc<Installation>>,
    /// When this process next checks each Jira tenant's webhooks, by
    /// `clientKey` (and next re-seals, by `reseal <clientKey>`), in seconds
    /// since the epoch; see [`crate::app::upkeep`].
    pub upkept: BoundedCache<String, i64>,
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

    /// Remembers an installation this process has verified.
    pub fn remember(&self, installation: Arc<Installation>) {
        self.tenants.insert(installation.client_key.clone(), installation);
    }

    /// Opens a relayed credential for `client_key`, trying each app key, with
    /// the opened-credential cache in front.
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
                    // Only fill a gap: a relayed credential may be older than an
                    // install this process saw, and must not replace it.
                    if self.tenants.get(client_key).is_none() {
                        self.remember(Arc::clone(&installation));
                    }
                    return Ok(installation);
                }
                Err(SealError::DoesNotOpen) => {}
                Err(other) => last = other,
            }
        }
        Err(last)
    }
}
