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
