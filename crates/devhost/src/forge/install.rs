//! Installing a Forge app folder into an emulated site, as `forge install
//! -e development -s <site>` does (Forge: "CLI reference", `forge install`;
//! "Lifecycle events" for `avi:forge:installed:app`; "Sending product
//! events to a remote").
//!
//! An install reads the folder's `manifest.yml`, gives the site a stable
//! `cloudId` (a uuid) if it has none, records the app with a new
//! installation id and environment, and delivers `avi:forge:installed:app`
//! to the endpoint of any trigger that subscribes to it, with the delivery
//! rules of [`super::triggers`]. Installing an app that is already there
//! replaces it (as `forge install --upgrade` would, here without asking):
//! new installation id, old product tokens void. Uninstalling (from the
//! "Manage apps" page, [`crate::pages::manage_apps`]) drops the app and its
//! tokens. Forge's life cycle events are install and upgrade only (Forge:
//! "Life cycle events"; FRGE-1246), so no event goes out; Forge runs the
//! app's `preUninstall` module instead (Forge: "Pre-uninstall trigger",
//! non-blocking), which the emulator does not (its invocation of a remote
//! endpoint is unverified).
//!
//! The products an app is installed into are those of its
//! `app.compatibility` (Jira when it has none); each gets its own
//! `apiBaseUrl` ([`api_base_url`]) but the installation id is shared
//! (unverified: how Forge identifies a cross-product installation).

use std::path::Path;
use std::sync::Arc;

use super::events;
use super::manifest::{ForgeManifest, ManifestError};
use super::product_tokens;
pub use super::state::ForgeInstallation;
use super::triggers::{self, EventTarget};
use crate::DevHost;
use crate::platform::keys::random_uuid;
use crate::site::Site;
use lodger_connect::installation::Product;

/// The lifecycle event of an install.
pub const INSTALLED_EVENT: &str = "avi:forge:installed:app";

/// Why a Forge app could not be installed or uninstalled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForgeInstallError {
    /// The folder's manifest could not be read.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The app is not installed in the site.
    #[error("Forge app {0} is not installed in this site")]
    NotInstalled(String),
}

/// Where a Forge app calls `product`'s REST API on `site`, as Forge's
/// `https://api.atlassian.com/ex/jira/<cloudId>` (Forge: "Calling
/// Atlassian app APIs from a remote"): `<site>/ex/jira/<cloudId>` or
/// `<site>/ex/confluence/<cloudId>`. `None` until the site has a `cloudId`.
pub fn api_base_url(site: &Site, product: Product) -> Option<String> {
    let cloud_id = site.data().forge.cloud_id.clone()?;
    Some(api_base_url_for(&site.base_url, &cloud_id, product))
}

/// `<site_url>/ex/jira/<cloud_id>` or `<site_url>/ex/confluence/<cloud_id>`.
pub fn api_base_url_for(site_url: &str, cloud_id: &str, product: Product) -> String {
    let name = match product {
        Product::Jira => "jira",
        Product::Confluence => "confluence",
    };
    format!("{site_url}/ex/{name}/{cloud_id}")
}

/// Installs the Forge app in `folder` into `site` and delivers its
/// `avi:forge:installed:app` event in the background.
pub async fn install(
    host: &DevHost,
    site: &Arc<Site>,
    folder: &Path,
) -> Result<ForgeInstallation, ForgeInstallError> {
    let manifest = Arc::new(ForgeManifest::read(folder)?);
    let installation = {
        let mut data = site.data();
        let forge = &mut data.forge;
        forge.cloud_id.get_or_insert_with(random_uuid);
        forge.signer = Some(Arc::clone(&host.forge));
        product_tokens::revoke(forge, &manifest.app_id);
        let installation = ForgeInstallation {
            app_id: manifest.app_id.clone(),
            installation_id: format!("ari:cloud:ecosystem::installation/{}", random_uuid()),
            environment_id: random_uuid(),
            app_version: "1.0.0".to_owned(),
            manifest: Arc::clone(&manifest),
            folder: folder.to_path_buf(),
        };
        forge.installs.insert(manifest.app_id.clone(), installation.clone());
        installation
    };
    tracing::info!(site = %site.name, app = %installation.app_id, "Forge app installed");
    let installer = site.users.iter().find(|u| u.is_site_admin());
    let body = events::installed(site, &installation, installer.map(|u| u.account_id.as_str()));
    let product = manifest.products.first().copied().unwrap_or(Product::Jira);
    for trigger in manifest.triggers_on(INSTALLED_EVENT) {
        triggers::deliver(
            site,
            EventTarget {
                install: &installation,
                trigger,
                event: INSTALLED_EVENT,
                product,
                body: body.clone(),
            },
        );
    }
    Ok(installation)
}

/// Uninstalls Forge app `app_id` from `site`: its record and tokens go; its
/// Forge app properties stay, as Forge keeps an app's storage for a while
/// after an uninstall (unverified how long).
pub fn uninstall(site: &Site, app_id: &str) -> Result<(), ForgeInstallError> {
    let mut data = site.data();
    let forge = &mut data.forge;
    forge.installs.remove(app_id).ok_or_else(|| ForgeInstallError::NotInstalled(app_id.into()))?;
    product_tokens::revoke(forge, app_id);
    tracing::info!(site = %site.name, app = %app_id, "Forge app uninstalled");
    Ok(())
}
