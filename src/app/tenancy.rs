//! What the app needs to know of a tenant beyond how to call it: where its
//! settings are kept, whether it is licensed, whether the glance has a
//! status to write. The two flavours answer differently; everything else in
//! [`crate::app`] is the same for both.
//!
//! | | Connect | Forge |
//! |---|---|---|
//! | settings | Connect app property, any user can write it: MACed by the server | Forge app property, only the app can write it ("Set app property (Forge)"): plain |
//! | license | asked of the host ("License API for cloud apps") | the invocation token's `app.license` ("Forge remote invocation contract") |
//! | glance status | issue property `com.atlassian.jira.issue:{appKey}:{glance}:status` ("Issue glance") | none: the `jira:issueContext` label is fixed in the manifest |

use serde_json::Value;

use super::checklist;
use super::settings::{SETTINGS_PROPERTY, Settings, SettingsKeys};
use crate::connect::installation::Installation;
use crate::host::client::{HostClient, HostError};
use crate::host::tenant::{ForgeTenant, Tenant};
use crate::host::{app_properties, license};

/// A tenant, with what each flavour needs to read its settings.
#[derive(Debug, Clone, Copy)]
pub enum Tenancy<'a> {
    /// A Connect installation; its settings carry a MAC made with these keys.
    Connect {
        /// The installation.
        installation: &'a Installation,
        /// The keys that MAC its settings.
        settings_keys: &'a SettingsKeys,
    },
    /// A Forge installation, as the current invocation describes it.
    Forge(&'a ForgeTenant),
}

impl<'a> Tenancy<'a> {
    /// How to call the tenant's site.
    pub fn host(&self) -> Tenant<'a> {
        match *self {
            Tenancy::Connect { installation, .. } => Tenant::Connect(installation),
            Tenancy::Forge(tenant) => Tenant::Forge(tenant),
        }
    }

    /// The tenant's settings: the stored ones if they are trustworthy (a
    /// Connect value whose MAC verifies; any well-formed Forge value), else
    /// the defaults.
    pub async fn settings(&self, host: &HostClient) -> Result<Settings, HostError> {
        let stored: Option<Value> =
            app_properties::get(host, self.host(), SETTINGS_PROPERTY).await?;
        Ok(stored
            .and_then(|value| match *self {
                Tenancy::Connect { installation, settings_keys } => {
                    settings_keys.verify(&value, &installation.client_key, &installation.key)
                }
                Tenancy::Forge(_) => serde_json::from_value(value).ok(),
            })
            .unwrap_or_default())
    }

    /// Stores `settings`: the caller has checked that a site admin asked.
    pub async fn write_settings(
        &self,
        host: &HostClient,
        settings: &Settings,
    ) -> Result<(), HostError> {
        let value = match *self {
            Tenancy::Connect { installation, settings_keys } => {
                settings_keys.sign(settings, &installation.client_key, &installation.key)
            }
            Tenancy::Forge(_) => serde_json::to_value(settings).unwrap_or(Value::Null),
        };
        app_properties::put(host, self.host(), SETTINGS_PROPERTY, &value).await
    }

    /// Whether the tenant's license for the app is active.
    pub async fn is_licensed(&self, host: &HostClient) -> Result<bool, HostError> {
        match *self {
            Tenancy::Connect { installation, .. } => license::is_active(host, installation).await,
            Tenancy::Forge(tenant) => Ok(tenant.licensed),
        }
    }

    /// The issue property that holds the glance's status, if the flavour has one.
    pub fn glance_status_property(&self) -> Option<String> {
        match *self {
            Tenancy::Connect { installation, .. } => {
                Some(checklist::glance_status_property(&installation.key))
            }
            Tenancy::Forge(_) => None,
        }
    }
}
