//! One site's Forge state: its `cloudId`, the Forge apps installed in it,
//! the product tokens handed out, the Forge app properties and the log of
//! event deliveries. The model only, so that [`crate::site::SiteData`]
//! holds one field and knows nothing of installing, signing or delivering.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::invocation_tokens::ForgeSigner;
use super::manifest::ForgeManifest;
use super::product_tokens::ProductToken;
use crate::jira::webhooks::state::{DeliveryPolicy, Outcome};

/// How many deliveries [`ForgeState::deliveries`] remembers.
pub(crate) const DELIVERY_LOG: usize = 200;

/// A Forge app installed in a site (what `forge install` leaves behind).
#[derive(Debug, Clone)]
pub struct ForgeInstallation {
    /// The app id, `ari:cloud:ecosystem::app/<uuid>`.
    pub app_id: String,
    /// `ari:cloud:ecosystem::installation/<uuid>`: new at every install.
    pub installation_id: String,
    /// The environment's id (a uuid); its type is always `DEVELOPMENT`.
    pub environment_id: String,
    /// The deployed version (`app.appVersion`).
    pub app_version: String,
    /// The manifest as installed: endpoints, triggers, granted scopes.
    pub manifest: Arc<ForgeManifest>,
    /// The app folder it was installed from, whose `resources/…` the
    /// Custom UI host serves ([`super::resources`]), as Forge serves what
    /// `forge deploy` uploaded.
    pub folder: PathBuf,
}

/// One event delivery to a remote, for tests and for reading the dev world.
#[derive(Debug, Clone)]
pub struct ForgeDelivery {
    /// A random id, the same across its attempts.
    pub id: String,
    /// The app it was for.
    pub app_id: String,
    /// The event, e.g. `avi:jira:created:issue`.
    pub event: String,
    /// The trigger module's key.
    pub module_key: String,
    /// Where it was POSTed.
    pub url: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// The status of each answered attempt, in order (`None`: no answer).
    pub statuses: Vec<Option<u16>>,
    /// Where it stands ([`Outcome::Dropped`] is not used).
    pub outcome: Outcome,
}

impl ForgeDelivery {
    /// Whether it is over: delivered, or given up.
    pub fn is_settled(&self) -> bool {
        !matches!(self.outcome, Outcome::Pending)
    }
}

/// One site's Forge state.
#[derive(Debug)]
pub struct ForgeState {
    /// The site's `cloudId`, given at the first Forge install.
    pub cloud_id: Option<String>,
    /// Installed Forge apps by app id.
    pub installs: BTreeMap<String, ForgeInstallation>,
    /// Product tokens handed out, by token.
    pub(crate) tokens: HashMap<String, ProductToken>,
    /// Forge app properties by (app id, property key).
    pub app_properties: BTreeMap<(String, String), Value>,
    /// The most recent event deliveries, oldest first.
    pub deliveries: VecDeque<ForgeDelivery>,
    /// How event deliveries are timed and retried.
    pub policy: DeliveryPolicy,
    /// The dev host's signer, kept at the first install so that product
    /// events (fired where no [`crate::DevHost`] is at hand) can be signed.
    pub(crate) signer: Option<Arc<ForgeSigner>>,
}

impl Default for ForgeState {
    fn default() -> Self {
        ForgeState {
            cloud_id: None,
            installs: BTreeMap::new(),
            tokens: HashMap::new(),
            app_properties: BTreeMap::new(),
            deliveries: VecDeque::new(),
            policy: forge_policy(),
            signer: None,
        }
    }
}

/// Forge's policy for events sent to a remote (Forge: "Forge remote
/// invocation contract": POST, 5 s timeout, 4 retries): five attempts in
/// all, the backoff as short as the emulator's Connect webhooks'
/// (Forge's own spacing is not documented; unverified).
pub fn forge_policy() -> DeliveryPolicy {
    DeliveryPolicy { max_attempts: 5, timeout: Duration::from_secs(5), ..DeliveryPolicy::default() }
}

impl ForgeState {
    /// Changes the log entry of delivery `id`, if it is still logged.
    pub(crate) fn record(&mut self, id: &str, change: impl FnOnce(&mut ForgeDelivery)) {
        if let Some(record) = self.deliveries.iter_mut().rev().find(|r| r.id == id) {
            change(record);
        }
    }

    /// Logs a new delivery, forgetting the oldest past the log's size.
    pub(crate) fn log(&mut self, delivery: ForgeDelivery) {
        if self.deliveries.len() >= DELIVERY_LOG {
            self.deliveries.pop_front();
        }
        self.deliveries.push_back(delivery);
    }
}

/// `app.license.isActive` for `install`: `None` when its manifest does not
/// enable licensing, else the site's license state for the app (active
/// unless a test turned it off with [`crate::site::SiteData::license_active`]).
pub(crate) fn license_of(
    data: &crate::site::SiteData,
    install: &ForgeInstallation,
) -> Option<bool> {
    install
        .manifest
        .licensing
        .then(|| data.license_active.get(&install.app_id).copied().unwrap_or(true))
}
