//! Who may do what, asked of the host as the app (Atlassian: "Jira REST API
//! v3", "Get bulk permissions": `POST /rest/api/3/permissions/check`, which
//! an app may call for any account).
//!
//! The server asks before acting for a user on something the host does not
//! guard itself: writing tenant settings, which live in an app property that
//! any user could write through the iframe bridge.

use reqwest::Method;
use serde_json::json;

use super::client::{HostClient, HostError};
use super::tenant::Tenant;

/// Whether `account_id` holds the global permission `ADMINISTER`
/// ("Administer Jira": a site or Jira admin).
pub async fn is_site_admin(
    client: &HostClient,
    tenant: Tenant<'_>,
    account_id: &str,
) -> Result<bool, HostError> {
    let path = "/rest/api/3/permissions/check";
    let body = json!({ "accountId": account_id, "globalPermissions": ["ADMINISTER"] });
    let answer = client.send(tenant, Method::POST, path, Some(&body)).await?.json(path)?;
    Ok(answer["globalPermissions"]
        .as_array()
        .is_some_and(|granted| granted.iter().any(|p| p == "ADMINISTER")))
}
