//! Tenant settings: the app property `lodger-settings`, which only the
//! server writes and only the server trusts.
//!
//! App properties are readable *and writable* by any user of the site
//! through an app's iframe (`AP.request` to
//! `/rest/atlassian-connect/1/addons/{appKey}/properties/{key}`: Atlassian,
//! "App properties API"). A setting that changes what the server does
//! therefore carries a MAC: HMAC-SHA256 over the tenant, the app and the
//! settings, with a key derived from the operator's master key. A value
//! whose MAC does not verify, for this tenant and app, is ignored and the
//! defaults apply. Rotating master keys works as for credentials: the first
//! key signs, every configured key verifies.
//!
//! ```json
//! { "settings": { "applyTemplates": true, "showWhoTicked": true }, "kid": "k1", "mac": "…" }
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;

use crate::connect::sealed::Keyring;

/// The app property that holds the settings.
pub const SETTINGS_PROPERTY: &str = "lodger-settings";

/// Why a user who is not a site admin may not change the settings.
pub const ONLY_SITE_ADMINS: &str = "only site administrators may change lodger's settings";

/// The HKDF salt of the MAC keys (see [`Keyring::derive_keys`]).
const MAC_PURPOSE: &[u8] = b"lodger settings mac";
/// Domain separation inside the MAC input.
const MAC_VERSION: &str = "lodger-settings v1";

/// What a site admin can switch on and off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    /// Apply project templates to new issues (the `issue_created` webhook).
    pub apply_templates: bool,
    /// Show who ticked each item, and when, in the panel.
    pub show_who_ticked: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { apply_templates: true, show_who_ticked: true }
    }
}

/// The stored value: settings, the id of the key that signed, the MAC.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Signed {
    settings: Settings,
    kid: String,
    mac: String,
}

/// The MAC keys, derived once at start from the master keys.
pub struct SettingsKeys {
    keys: Vec<(String, [u8; 32])>,
}

impl std::fmt::Debug for SettingsKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("SettingsKeys").field("key_ids", &ids).finish_non_exhaustive()
    }
}

impl SettingsKeys {
    /// The keys for every master key of `keyring`; the first signs.
    pub fn new(keyring: &Keyring) -> SettingsKeys {
        SettingsKeys { keys: keyring.derive_keys(MAC_PURPOSE) }
    }

    /// The property value for `settings` of tenant `client_key` and app `app_key`.
    ///
    /// ```
    /// use lodger::app::settings::{Settings, SettingsKeys};
    /// use lodger::connect::sealed::{Keyring, MasterKey};
    ///
    /// let keys = SettingsKeys::new(&Keyring::new(lodger::SEALING_PURPOSE, vec![MasterKey::generate()])?);
    /// let off = Settings { apply_templates: false, show_who_ticked: true };
    /// let value = keys.sign(&off, "jira:acme", "lodger");
    /// assert_eq!(keys.verify(&value, "jira:acme", "lodger"), Some(off));
    /// assert_eq!(keys.verify(&value, "jira:globex", "lodger"), None);
    /// # Ok::<(), lodger::connect::sealed::SealError>(())
    /// ```
    pub fn sign(&self, settings: &Settings, client_key: &str, app_key: &str) -> Value {
        let Some((kid, key)) = self.keys.first() else {
            return Value::Null; // Keyring::new refuses an empty keyring.
        };
        let mac = URL_SAFE_NO_PAD.encode(mac(key, settings, client_key, app_key));
        serde_json::to_value(Signed { settings: *settings, kid: kid.clone(), mac })
            .unwrap_or(Value::Null)
    }

    /// The settings in a stored value, if its MAC verifies for this tenant
    /// and app under one of the configured keys; `None` otherwise.
    pub fn verify(&self, value: &Value, client_key: &str, app_key: &str) -> Option<Settings> {
        let signed: Signed = serde_json::from_value(value.clone()).ok()?;
        let (_, key) = self.keys.iter().find(|(id, _)| *id == signed.kid)?;
        let claimed = URL_SAFE_NO_PAD.decode(&signed.mac).ok()?;
        let mut hmac = keyed(key);
        hmac.update(&mac_input(&signed.settings, client_key, app_key));
        // verify_slice compares in constant time.
        hmac.verify_slice(&claimed).ok()?;
        Some(signed.settings)
    }
}

fn keyed(key: &[u8; 32]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length: this cannot fail.
    Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key"))
}

fn mac(key: &[u8; 32], settings: &Settings, client_key: &str, app_key: &str) -> Vec<u8> {
    let mut hmac = keyed(key);
    hmac.update(&mac_input(settings, client_key, app_key));
    hmac.finalize().into_bytes().to_vec()
}

/// Version, tenant, app and the settings' JSON (serialised from the typed
/// struct, so field order is fixed), each length-prefixed.
fn mac_input(settings: &Settings, client_key: &str, app_key: &str) -> Vec<u8> {
    let json = serde_json::to_string(settings).unwrap_or_default();
    let mut input = Vec::with_capacity(64 + client_key.len() + app_key.len() + json.len());
    for part in [MAC_VERSION, client_key, app_key, json.as_str()] {
        input.extend_from_slice(&(part.len() as u32).to_be_bytes());
        input.extend_from_slice(part.as_bytes());
    }
    input
}
