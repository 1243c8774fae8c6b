//! The app's license on a tenant (Atlassian: "License API for cloud apps":
//! `GET /rest/atlassian-connect/1/addons/{appKey}`, readable by the app
//! itself). An app with `enableLicensing: true` gets a `license` object whose
//! `active` says whether the site pays (or evaluates); without licensing
//! there is no `license` and nothing to check.

use super::client::{HostClient, HostError};
use crate::connect::installation::Installation;

/// Whether the tenant's license for this app is active. An app resource
/// without a `license` (licensing off, or a free app) counts as active.
pub async fn is_active(
    client: &HostClient,
    installation: &Installation,
) -> Result<bool, HostError> {
    let path = format!("/rest/atlassian-connect/1/addons/{}", installation.key);
    let body = client
        .get_json(installation, &path)
        .await?
        .ok_or_else(|| HostError::Malformed { path: path.clone() })?;
    Ok(match body.get("license") {
        None | Some(serde_json::Value::Null) => true,
        Some(license) => license["active"] == true,
    })
}
