//! App properties: per-tenant key/value storage the host keeps for an app.
//!
//! Atlassian: "App properties API" (`/rest/atlassian-connect/1/addons/{appKey}/properties/{key}`;
//! Confluence serves it under `/wiki`, which is part of its base URL). Values
//! are JSON up to 32 KB, keys up to 127 characters, at most 100 per app, and
//! any logged-in user can read or write them through the app's iframe bridge:
//! lodger stores only sealed or MACed values there.

use reqwest::Method;
use serde_json::{Value, json};

use super::client::{HostClient, HostError};
use crate::connect::installation::Installation;

/// The app property that holds the tenant's sealed installation credential.
pub const INSTALLATION_PROPERTY: &str = "lodger-installation";

/// The path of one app property of the installation's app.
pub fn property_path(installation: &Installation, property: &str) -> String {
    format!("/rest/atlassian-connect/1/addons/{}/properties/{property}", installation.key)
}

/// The value lodger stores under [`INSTALLATION_PROPERTY`]: the sealed
/// credential in an object, so that fields can be added later.
pub fn installation_value(sealed: &str) -> Value {
    json!({ "credential": sealed })
}

/// Writes (creates or replaces) an app property, retrying as the client does.
pub async fn put(
    client: &HostClient,
    installation: &Installation,
    property: &str,
    value: &Value,
) -> Result<(), HostError> {
    let path = property_path(installation, property);
    client.send(installation, Method::PUT, &path, Some(value)).await.map(|_| ())
}

/// Reads an app property's value; `None` when it is not set.
pub async fn get(
    client: &HostClient,
    installation: &Installation,
    property: &str,
) -> Result<Option<Value>, HostError> {
    let path = property_path(installation, property);
    Ok(client.get_json(installation, &path).await?.map(|body| body["value"].clone()))
}
