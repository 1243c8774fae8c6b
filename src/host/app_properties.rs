//! App properties: per-tenant key/value storage the host keeps for an app.
//!
//! - **Connect** (Atlassian: "App properties API",
//!   `/rest/atlassian-connect/1/addons/{appKey}/properties/{key}`; Confluence
//!   serves it under `/wiki`, which is part of its base URL). Values are JSON
//!   up to 32 KB, keys up to 127 characters, at most 100 per app, and any
//!   logged-in user can read or write them through the app's iframe bridge:
//!   lodger stores only sealed or MACed values there.
//! - **Forge** (Jira REST API v3, "App properties", "Set app property
//!   (Forge)": `/rest/forge/1/app/properties/{key}`): "Only Forge apps can
//!   make this request", as the app (`asApp`), never impersonating a user;
//!   so a value there needs no MAC. Jira's only: lodger keeps no Confluence
//!   settings.

use reqwest::Method;
use serde_json::{Value, json};

use super::client::{HostClient, HostError};
use super::tenant::Tenant;

/// The app property that holds the tenant's sealed installation credential.
pub const INSTALLATION_PROPERTY: &str = "lodger-installation";

/// The path of one app property of the tenant's app.
pub fn property_path(tenant: Tenant<'_>, property: &str) -> String {
    match tenant {
        Tenant::Connect(installation) => {
            format!("/rest/atlassian-connect/1/addons/{}/properties/{property}", installation.key)
        }
        Tenant::Forge(_) => format!("/rest/forge/1/app/properties/{property}"),
    }
}

/// The value lodger stores under [`INSTALLATION_PROPERTY`]: the sealed
/// credential in an object, so that fields can be added later.
pub fn installation_value(sealed: &str) -> Value {
    json!({ "credential": sealed })
}

/// Writes (creates or replaces) an app property, retrying as the client does.
pub async fn put(
    client: &HostClient,
    tenant: Tenant<'_>,
    property: &str,
    value: &Value,
) -> Result<(), HostError> {
    let path = property_path(tenant, property);
    client.send(tenant, Method::PUT, &path, Some(value)).await.map(|_| ())
}

/// Reads an app property's value; `None` when it is not set.
pub async fn get(
    client: &HostClient,
    tenant: Tenant<'_>,
    property: &str,
) -> Result<Option<Value>, HostError> {
    let path = property_path(tenant, property);
    Ok(client.get_json(tenant, &path).await?.map(|body| body["value"].clone()))
}
