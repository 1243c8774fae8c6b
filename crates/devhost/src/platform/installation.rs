//! An app's installation in one product of a site (Atlassian: "App
//! descriptor", "Lifecycle"): what the host keeps after the `installed`
//! callback. A record only: installing is [`super::install`]'s job.

use serde_json::Value;

use lodger_connect::installation::Product;
use lodger_connect::secret::Secret;

/// An app installed (or being installed) in the site.
#[derive(Debug, Clone)]
pub struct AppInstall {
    /// The product it is installed in: an app installs separately into the
    /// site's Jira and its Confluence, with a descriptor and key for each.
    pub product: Product,
    /// The app key.
    pub app_key: String,
    /// The app's base URL from its descriptor.
    pub app_base_url: String,
    /// The secret shared with the app at `installed`.
    pub shared_secret: Secret,
    /// The descriptor as installed.
    pub descriptor: Value,
    /// Upper-case scopes granted.
    pub scopes: Vec<String>,
    /// Enabled (`false` while the `installed` callback is in flight).
    pub enabled: bool,
}

impl AppInstall {
    /// The descriptor's modules of `kind` (e.g. `webPanels`): its list, or
    /// the one module written without a list ("App descriptor": `modules`).
    pub fn modules(&self, kind: &str) -> Vec<Value> {
        as_list(&self.descriptor["modules"][kind])
    }
}

/// A descriptor value that may be a list or one item, as a list (absent:
/// empty). Connect descriptors write single modules, key configurations and
/// extractions either way.
pub fn as_list(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::Null => Vec::new(),
        one => vec![one.clone()],
    }
}
