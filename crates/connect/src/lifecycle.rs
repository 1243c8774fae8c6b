//! Lifecycle callbacks: how a host tells an app it was installed, enabled,
//! disabled or uninstalled.
//!
//! The descriptor names one URL per event under `lifecycle`; the host POSTs a
//! JSON payload to each (Atlassian: "App descriptor: lifecycle"). What an app
//! must get right:
//!
//! - `installed` and `uninstalled` are signed RS256 by Atlassian
//!   ([signed install](super::signed_install)); `enabled` and `disabled` are
//!   HS256 with the shared secret, and `disabled` may come unsigned.
//! - `installed` is sent again on reinstall and upgrade, usually with a new secret.
//! - Frameworks answer 400 for a wrong or malformed event, 401 for a missing or
//!   bad signature, 403 when the body's `clientKey` is not the signed issuer,
//!   204 when done.
//!
//! This module parses and checks the payload; the web layer verifies the
//! signature and answers.

use serde::Deserialize;

use super::installation::{Installation, Product, is_acceptable_base_url};
use super::secret::Secret;

/// The four lifecycle events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The app was installed, reinstalled or upgraded: a (new) shared secret.
    Installed,
    /// The app was removed from the tenant.
    Uninstalled,
    /// The app was enabled (after install, or by an admin).
    Enabled,
    /// The app was disabled (before uninstall, or by an admin).
    Disabled,
}

impl Event {
    /// The event's name, as in the payload's `eventType` and the lifecycle URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Installed => "installed",
            Event::Uninstalled => "uninstalled",
            Event::Enabled => "enabled",
            Event::Disabled => "disabled",
        }
    }

    /// Reads an event name; `None` for anything else.
    pub fn parse(name: &str) -> Option<Event> {
        [Event::Installed, Event::Uninstalled, Event::Enabled, Event::Disabled]
            .into_iter()
            .find(|event| event.as_str() == name)
    }

    /// Whether Atlassian signs this event RS256 (signed install) rather than
    /// HS256 with the shared secret.
    pub fn is_signed_install(self) -> bool {
        matches!(self, Event::Installed | Event::Uninstalled)
    }
}

/// Why a lifecycle payload was refused (all answered 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    /// The body is not a JSON object with string fields where expected.
    #[error("lifecycle payload is not valid JSON of the expected shape")]
    NotJson,
    /// A field every payload carries is absent or empty.
    #[error("lifecycle payload has no `{0}`")]
    MissingField(&'static str),
    /// `eventType` is not the event of the URL it was posted to.
    #[error("lifecycle payload says `eventType` {found:?}, but was sent to the {expected} URL")]
    WrongEvent {
        /// The event of the URL.
        expected: &'static str,
        /// What the payload says (an event name, so safe to echo).
        found: String,
    },
    /// The URL names no Connect lifecycle event.
    #[error("unknown lifecycle event; expected installed, uninstalled, enabled or disabled")]
    UnknownEvent,
    /// `productType` is neither `jira` nor `confluence`.
    #[error("lifecycle payload has a `productType` other than jira or confluence")]
    UnknownProduct,
    /// `baseUrl` is not https (or http on loopback), or carries credentials or a query.
    #[error("lifecycle payload `baseUrl` must be an https URL without credentials or query")]
    BadBaseUrl,
    /// `key` is not one of this app's keys.
    #[error("lifecycle payload is for another app key")]
    ForeignAppKey,
}

/// A lifecycle payload, as Atlassian documents it; unknown fields are ignored.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payload {
    /// The app key.
    pub key: String,
    /// The tenant.
    pub client_key: String,
    /// The shared secret (on `installed`; absent on later events for some hosts).
    #[serde(default)]
    pub shared_secret: Option<Secret>,
    /// The tenant's REST base URL.
    pub base_url: String,
    /// `jira` or `confluence`.
    #[serde(default)]
    pub product_type: Option<String>,
    /// The event this payload reports.
    pub event_type: String,
    /// The OAuth client id (for acting as a user).
    #[serde(default)]
    pub oauth_client_id: Option<String>,
}

impl Payload {
    /// Parses and checks a payload posted to the URL of `event`, for an app
    /// whose keys are `app_keys`.
    pub fn parse(body: &[u8], event: Event, app_keys: &[&str]) -> Result<Payload, LifecycleError> {
        let payload: Payload = serde_json::from_slice(body).map_err(|err| {
            // serde's "missing field `x`" is the most useful thing to report.
            let text = err.to_string();
            ["key", "clientKey", "baseUrl", "eventType"]
                .into_iter()
                .find(|field| text.starts_with(&format!("missing field `{field}`")))
                .map_or(LifecycleError::NotJson, LifecycleError::MissingField)
        })?;
        for (name, value) in [("key", &payload.key), ("clientKey", &payload.client_key)] {
            if value.is_empty() {
                return Err(LifecycleError::MissingField(name));
            }
        }
        if payload.event_type != event.as_str() {
            return Err(LifecycleError::WrongEvent {
                expected: event.as_str(),
                found: payload.event_type.chars().take(32).collect(),
            });
        }
        if !app_keys.contains(&payload.key.as_str()) {
            return Err(LifecycleError::ForeignAppKey);
        }
        if !is_acceptable_base_url(&payload.base_url) {
            return Err(LifecycleError::BadBaseUrl);
        }
        Ok(payload)
    }

    /// The installation an `installed` payload describes, handed over at
    /// `installed_at` (the signed-install token's `iat`).
    pub fn into_installation(self, installed_at: i64) -> Result<Installation, LifecycleError> {
        let product_type = match self.product_type.as_deref() {
            Some("jira") => Product::Jira,
            Some("confluence") => Product::Confluence,
            None => return Err(LifecycleError::MissingField("productType")),
            Some(_) => return Err(LifecycleError::UnknownProduct),
        };
        let shared_secret = self
            .shared_secret
            .filter(|secret| !secret.expose().is_empty())
            .ok_or(LifecycleError::MissingField("sharedSecret"))?;
        Ok(Installation {
            key: self.key,
            client_key: self.client_key,
            base_url: self.base_url.trim_end_matches('/').to_owned(),
            shared_secret,
            product_type,
            oauth_client_id: self.oauth_client_id,
            installed_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(event: &str) -> String {
        format!(
            r#"{{"key":"lodger","clientKey":"ck-1","sharedSecret":"s3cr3t","baseUrl":"https://acme.atlassian.net/",
               "productType":"jira","eventType":"{event}","serverVersion":"100","extra":{{"any":1}}}}"#
        )
    }

    #[test]
    fn reads_an_installed_payload_with_unknown_fields() {
        let payload =
            Payload::parse(body("installed").as_bytes(), Event::Installed, &["lodger"]).unwrap();
        let installation = payload.into_installation(1_700_000_000).unwrap();
        assert_eq!(installation.installed_at, 1_700_000_000);
        assert_eq!(installation.client_key, "ck-1");
        assert_eq!(installation.base_url, "https://acme.atlassian.net");
        assert_eq!(installation.product_type, Product::Jira);
    }

    #[test]
    fn rejects_payload_posted_to_another_event_url() {
        let err =
            Payload::parse(body("enabled").as_bytes(), Event::Installed, &["lodger"]).unwrap_err();
        assert_eq!(
            err,
            LifecycleError::WrongEvent { expected: "installed", found: "enabled".into() }
        );
    }

    #[test]
    fn names_the_missing_field() {
        let err = Payload::parse(
            br#"{"key":"lodger","baseUrl":"https://a","eventType":"installed"}"#,
            Event::Installed,
            &["lodger"],
        );
        assert_eq!(err.unwrap_err(), LifecycleError::MissingField("clientKey"));
    }

    #[test]
    fn rejects_non_json_and_foreign_keys_and_plain_http() {
        assert_eq!(
            Payload::parse(b"\xff{", Event::Installed, &["lodger"]).unwrap_err(),
            LifecycleError::NotJson
        );
        assert_eq!(
            Payload::parse(body("installed").as_bytes(), Event::Installed, &["other"]).unwrap_err(),
            LifecycleError::ForeignAppKey
        );
        let http = body("installed").replace("https://acme", "http://acme");
        assert_eq!(
            Payload::parse(http.as_bytes(), Event::Installed, &["lodger"]).unwrap_err(),
            LifecycleError::BadBaseUrl
        );
    }

    #[test]
    fn installed_needs_a_shared_secret() {
        let no_secret = body("installed").replace(r#""sharedSecret":"s3cr3t","#, "");
        let payload = Payload::parse(no_secret.as_bytes(), Event::Installed, &["lodger"]).unwrap();
        assert_eq!(
            payload.into_installation(0).unwrap_err(),
            LifecycleError::MissingField("sharedSecret")
        );
    }
}
