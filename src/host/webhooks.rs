//! Jira dynamic webhooks, registered by the app over REST (Atlassian: "Jira
//! REST API v3", group "Webhooks"; "Webhooks" for Connect apps).
//!
//! lodger registers its webhooks at install with the sealed credential in
//! the URL (`/webhooks/jira?c=<sealed>`), so that a process that has never
//! seen the tenant can verify a delivery: the credential opens to the
//! shared secret that signed it. Registrations lapse 30 days after they were
//! made or last refreshed; [`crate::app`]'s upkeep refreshes them.
//!
//! | call | what |
//! |---|---|
//! | `GET /rest/api/3/webhook` | this app's registrations |
//! | `POST /rest/api/3/webhook` | register; errors come back per webhook, with a 200 |
//! | `PUT /rest/api/3/webhook/refresh` | extend registrations by 30 days |
//! | `DELETE /rest/api/3/webhook` | remove registrations |

use reqwest::Method;
use serde_json::{Value, json};

use super::client::{HostClient, HostError};
use crate::connect::installation::Installation;

/// Registrations listed per page (Jira's maximum is 100; an app has few).
const PAGE_SIZE: usize = 100;

/// One registration of this app's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// Jira's id.
    pub id: u64,
    /// Where deliveries go.
    pub url: String,
    /// When it lapses, in milliseconds since the epoch.
    pub expires_at_ms: i64,
}

/// Why a registration failed.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// Calling the host failed.
    #[error(transparent)]
    Host(#[from] HostError),
    /// The host refused a webhook (its errors say why: a bad JQL filter, a URL
    /// outside the app's base URL, another URL already registered).
    #[error("Jira refused the webhook registration: {0}")]
    Refused(String),
}

/// This app's registrations on the tenant.
pub async fn list(
    client: &HostClient,
    installation: &Installation,
) -> Result<Vec<Registration>, HostError> {
    let mut found = Vec::new();
    loop {
        let path = format!("/rest/api/3/webhook?startAt={}&maxResults={PAGE_SIZE}", found.len());
        let Some(page) = client.get_json(installation, &path).await? else {
            return Ok(found);
        };
        let values = page["values"].as_array().map_or(&[][..], Vec::as_slice);
        found.extend(values.iter().filter_map(|value| {
            Some(Registration {
                id: value["id"].as_u64()?,
                url: value["url"].as_str()?.to_owned(),
                expires_at_ms: value["expirationDate"].as_i64().unwrap_or(0),
            })
        }));
        if values.is_empty() || page["isLast"] != false {
            return Ok(found);
        }
    }
}

/// Registers `url` for `events` on issues matching `jql_filter`; answers the new ids.
pub async fn register(
    client: &HostClient,
    installation: &Installation,
    url: &str,
    events: &[&str],
    jql_filter: &str,
) -> Result<Vec<u64>, RegisterError> {
    let path = "/rest/api/3/webhook";
    let body = json!({ "url": url, "webhooks": [{ "events": events, "jqlFilter": jql_filter }] });
    let answer = client.send(installation, Method::POST, path, Some(&body)).await?.json(path)?;
    let results = answer["webhookRegistrationResult"].as_array().map_or(&[][..], Vec::as_slice);
    let mut ids = Vec::new();
    for result in results {
        match result["createdWebhookId"].as_u64() {
            Some(id) => ids.push(id),
            None => return Err(RegisterError::Refused(errors(&result["errors"]))),
        }
    }
    if ids.is_empty() {
        return Err(RegisterError::Refused("no webhook was created".to_owned()));
    }
    Ok(ids)
}

/// Extends registrations by 30 days from now.
pub async fn refresh(
    client: &HostClient,
    installation: &Installation,
    ids: &[u64],
) -> Result<(), HostError> {
    let body = json!({ "webhookIds": ids });
    client.send(installation, Method::PUT, "/rest/api/3/webhook/refresh", Some(&body)).await?;
    Ok(())
}

/// Removes registrations.
pub async fn delete(
    client: &HostClient,
    installation: &Installation,
    ids: &[u64],
) -> Result<(), HostError> {
    if ids.is_empty() {
        return Ok(());
    }
    let body = json!({ "webhookIds": ids });
    client.send(installation, Method::DELETE, "/rest/api/3/webhook", Some(&body)).await?;
    Ok(())
}

fn errors(value: &Value) -> String {
    match value.as_array() {
        Some(list) if !list.is_empty() => {
            list.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("; ")
        }
        _ => "no reason given".to_owned(),
    }
}
