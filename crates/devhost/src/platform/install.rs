//! Installing an app into an emulated site, as Atlassian's hosts do it:
//! fetch the descriptor, check it, hand the app a new shared secret in an
//! RS256-signed `installed` callback, and only keep the installation if the
//! app answers 2xx. Then `enabled`, HS256 with the shared secret.
//!
//! Nothing is left half-installed: while the callback is in flight the new
//! installation is visible (the app may store its credential with the new
//! secret, as lodger does), and if the app refuses, the previous state of the
//! site (the earlier installation and its properties) is put back.
//!
//! An app installs into one *product* of a site at a time: Jira, or the
//! site's Confluence under `/wiki`. Each product is its own tenant to the app
//! (Atlassian: "Lifecycle" in "App descriptor"): its own `clientKey`, its own
//! shared secret, `productType` `jira` or `confluence`, and a `baseUrl` that
//! for Confluence ends in `/wiki`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::DevHost;
use crate::inspector::exchanges::{Check, Exchange, Kind, Reason};
use crate::site::{AppInstall, Site};
use lodger_connect::descriptor;
use lodger_connect::installation::Product;
use lodger_connect::jwt::{self, Claims};
use lodger_connect::lifecycle::Event;
use lodger_connect::qsh::{query_string_hash, relative_path};
use lodger_connect::secret::Secret;

/// How long the app may take to answer a lifecycle callback.
const CALLBACK_TIMEOUT: Duration = Duration::from_secs(15);

/// Why an install failed, in words a developer can act on.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// The descriptor URL could not be fetched.
    #[error("could not fetch the descriptor at {url}: {reason}")]
    Unreachable {
        /// The descriptor URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The descriptor is not JSON or breaks the rules hosts enforce.
    #[error("the descriptor is invalid: {0}")]
    InvalidDescriptor(String),
    /// The app did not answer 2xx to `installed`.
    #[error("the app answered {status} to the installed callback at {url}{detail}")]
    Refused {
        /// The lifecycle URL.
        url: String,
        /// The status, or "no answer".
        status: String,
        /// The app's error text, if it sent one.
        detail: String,
    },
}

/// Fetches, checks and installs the descriptor at `descriptor_url` into the
/// site's `product`.
pub async fn install(
    host: &DevHost,
    site: &Site,
    product: Product,
    descriptor_url: &str,
) -> Result<String, InstallError> {
    let descriptor = fetch_descriptor(host, site, descriptor_url).await?;
    let app_key = descriptor["key"].as_str().unwrap_or_default().to_owned();
    let app_base_url =
        descriptor["baseUrl"].as_str().unwrap_or_default().trim_end_matches('/').to_owned();
    let scopes: Vec<String> = descriptor["scopes"]
        .as_array()
        .map(|s| s.iter().filter_map(Value::as_str).map(str::to_ascii_uppercase).collect())
        .unwrap_or_default();
    tracing::info!(site = %site.name, product = product.as_str(), app = %app_key, "installing from {descriptor_url}");

    let shared_secret = Secret::new(format!("ATCO{}", crate::platform::keys::random_id(32)));
    let install = AppInstall {
        product,
        app_key: app_key.clone(),
        app_base_url: app_base_url.clone(),
        shared_secret: shared_secret.clone(),
        descriptor: descriptor.clone(),
        scopes,
        enabled: false,
    };
    let (previous, previous_properties) = {
        let mut data = site.data();
        let previous = data.installs_in_mut(product).insert(app_key.clone(), install);
        let properties: Vec<_> = data
            .app_properties_in_mut(product)
            .iter()
            .filter(|((app, _), _)| *app == app_key)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        (previous, properties)
    };

    let installed = payload(site, product, &app_key, Some(&shared_secret), Event::Installed);
    match send_callback(host, site, product, &descriptor, Event::Installed, &installed, None).await
    {
        Ok(()) => {}
        Err(err) => {
            let mut data = site.data();
            match previous {
                Some(previous) => data.installs_in_mut(product).insert(app_key.clone(), previous),
                None => data.installs_in_mut(product).remove(&app_key),
            };
            let properties = data.app_properties_in_mut(product);
            properties.retain(|(app, _), _| *app != app_key);
            properties.extend(previous_properties);
            tracing::warn!(site = %site.name, app = %app_key, "install failed, site restored: {err}");
            return Err(err);
        }
    }
    if let Some(install) = site.data().installs_in_mut(product).get_mut(&app_key) {
        install.enabled = true;
    }
    tracing::info!(site = %site.name, product = product.as_str(), app = %app_key, "installed; shared secret handed over");
    let enabled = payload(site, product, &app_key, None, Event::Enabled);
    let sent = send_callback(
        host,
        site,
        product,
        &descriptor,
        Event::Enabled,
        &enabled,
        Some(&shared_secret),
    )
    .await;
    if let Err(err) = sent {
        tracing::warn!(site = %site.name, app = %app_key, "enabled callback failed: {err}");
    }
    Ok(app_key)
}

/// Enables or disables an installed app, as UPM's toggle does (Atlassian:
/// "App descriptor: lifecycle": `enabled` and `disabled`, HS256 with the
/// shared secret). A disabled app's modules leave the pages and calls from
/// its iframes are refused ([`super::auth`]); its own JWT calls are still
/// answered (unverified what Jira answers them: the emulator cannot tell a
/// disabled app from one whose `installed` is in flight, and apps call
/// during `installed`). The callback's answer changes nothing. `None` when
/// the app is not installed; else whether it changed.
pub async fn set_enabled(
    host: &DevHost,
    site: &Site,
    product: Product,
    app_key: &str,
    enabled: bool,
) -> Option<bool> {
    let install = {
        let mut data = site.data();
        let install = data.installs_in_mut(product).get_mut(app_key)?;
        if install.enabled == enabled {
            return Some(false);
        }
        install.enabled = enabled;
        install.clone()
    };
    let event = if enabled { Event::Enabled } else { Event::Disabled };
    let body = payload(site, product, app_key, None, event);
    let secret = Some(&install.shared_secret);
    if let Err(err) =
        send_callback(host, site, product, &install.descriptor, event, &body, secret).await
    {
        tracing::warn!(site = %site.name, app = %app_key, "{} callback failed: {err}", event.as_str());
    }
    tracing::info!(site = %site.name, app = %app_key, enabled, "app toggled");
    Some(true)
}

/// Uninstalls `app_key` from the site's `product`: `disabled` (HS256) then
/// `uninstalled` (RS256), and forgets the app and its properties whatever
/// the app answers.
pub async fn uninstall(host: &DevHost, site: &Site, product: Product, app_key: &str) -> bool {
    let Some(install) = site.data().installs_in(product).get(app_key).cloned() else {
        return false;
    };
    let disabled = payload(site, product, app_key, None, Event::Disabled);
    let _ = send_callback(
        host,
        site,
        product,
        &install.descriptor,
        Event::Disabled,
        &disabled,
        Some(&install.shared_secret),
    )
    .await;
    let uninstalled = payload(site, product, app_key, None, Event::Uninstalled);
    let sent = send_callback(
        host,
        site,
        product,
        &install.descriptor,
        Event::Uninstalled,
        &uninstalled,
        None,
    )
    .await;
    if let Err(err) = sent {
        tracing::warn!(site = %site.name, app = %app_key, "uninstalled callback failed: {err}");
    }
    let mut data = site.data();
    data.installs_in_mut(product).remove(app_key);
    data.app_properties_in_mut(product).retain(|(app, _), _| app != app_key);
    if product == Product::Jira {
        // An uninstalled app's dynamic webhooks go with it, as on Jira.
        data.webhooks.registrations.retain(|r| r.app_key != app_key);
    }
    tracing::info!(site = %site.name, app = %app_key, "uninstalled");
    true
}

/// The descriptor at `url`, checked as hosts check it (Atlassian: "App
/// descriptor"); the fetch is recorded in the site's inspector, kind
/// `descriptor`, with its status, timing and, for a descriptor the site
/// cannot use, why.
async fn fetch_descriptor(host: &DevHost, site: &Site, url: &str) -> Result<Value, InstallError> {
    let started = Instant::now();
    let fetched = read_descriptor(host, url).await;
    let app = match &fetched {
        Ok((_, Ok(descriptor))) => descriptor["key"].as_str().unwrap_or("?"),
        _ => "?",
    };
    let exchange = Exchange::to_app(Kind::Descriptor, app, "GET", url).about("descriptor");
    let (exchange, descriptor) = match fetched {
        Err(e) => (exchange.answered(Err::<u16, _>(why(&e)), started), Err(e)),
        Ok((status, outcome)) => {
            let exchange = exchange.answered(Ok::<u16, String>(status), started);
            match outcome {
                Ok(descriptor) => (exchange, Ok(descriptor)),
                Err(e) => (exchange.refused(Reason::new(Check::Descriptor, why(&e))), Err(e)),
            }
        }
    };
    site.record(exchange);
    descriptor
}

/// Why a descriptor fetch failed, without its URL (the inspector shows the
/// URL redacted).
fn why(error: &InstallError) -> String {
    match error {
        InstallError::Unreachable { reason, .. } => reason.clone(),
        InstallError::InvalidDescriptor(problems) => {
            format!("the descriptor is invalid: {problems}")
        }
        other => other.to_string(),
    }
}

/// The descriptor at `url`: the status it was answered with and the
/// descriptor or why it is refused; `Err` when there was no answer.
async fn read_descriptor(
    host: &DevHost,
    url: &str,
) -> Result<(u16, Result<Value, InstallError>), InstallError> {
    let unreachable = |reason: String| InstallError::Unreachable { url: url.to_owned(), reason };
    let response = host.http.get(url).send().await.map_err(|e| unreachable(short_reason(&e)))?;
    let status = response.status();
    if !status.is_success() {
        return Ok((status.as_u16(), Err(unreachable(format!("it answered {status}")))));
    }
    let text = match response.text().await {
        Ok(text) => text,
        Err(e) => return Ok((status.as_u16(), Err(unreachable(short_reason(&e))))),
    };
    let descriptor = serde_json::from_str::<Value>(&text)
        .map_err(|e| InstallError::InvalidDescriptor(format!("not JSON ({e})")))
        .and_then(|descriptor| {
            let problems = descriptor::problems(&descriptor);
            if problems.is_empty() {
                Ok(descriptor)
            } else {
                Err(InstallError::InvalidDescriptor(problems.join("; ")))
            }
        });
    Ok((status.as_u16(), descriptor))
}

/// The lifecycle payload Atlassian documents, for the site's `product`.
fn payload(
    site: &Site,
    product: Product,
    app_key: &str,
    secret: Option<&Secret>,
    event: Event,
) -> Value {
    let base_url = site.base_url_of(product);
    let mut payload = json!({
        "key": app_key,
        "clientKey": site.client_key_of(product),
        "baseUrl": base_url,
        "displayUrl": base_url,
        "productType": product.as_str(),
        "description": format!("lodger dev host: {}", site.name),
        "eventType": event.as_str(),
        "serverVersion": "100300",
        "pluginsVersion": "1001.0.0-dev",
    });
    if let Some(secret) = secret {
        payload["sharedSecret"] = json!(secret.expose());
    }
    payload
}

/// POSTs a lifecycle callback: RS256 (signed install) for installed and
/// uninstalled, HS256 with `secret` for enabled and disabled. Each is signed
/// afresh, with a random `jti`, so that two callbacks in one second are two
/// tokens (an app may accept each signed-install token once).
async fn send_callback(
    host: &DevHost,
    site: &Site,
    product: Product,
    descriptor: &Value,
    event: Event,
    payload: &Value,
    secret: Option<&Secret>,
) -> Result<(), InstallError> {
    let app_base = descriptor["baseUrl"].as_str().unwrap_or_default().trim_end_matches('/');
    let Some(path) = descriptor["lifecycle"][event.as_str()].as_str() else {
        return Ok(()); // The app did not ask for this event.
    };
    let url = if path.starts_with("http") { path.to_owned() } else { format!("{app_base}{path}") };
    let (relative, query) = relative_path(&url, app_base);
    let qsh = query_string_hash("POST", relative, query);
    let now = lodger_connect::now();
    let token = match (event.is_signed_install(), secret) {
        (true, _) => host
            .signer
            .sign(&json!({"iss": site.client_key_of(product), "aud": [app_base], "iat": now, "exp": now + 180, "qsh": qsh, "jti": crate::platform::keys::random_id(16)}))
            .map_err(|e| InstallError::Refused { url: url.clone(), status: "unsigned".into(), detail: format!(": {e}") })?,
        (false, Some(secret)) => {
            jwt::sign(&Claims::new(site.client_key_of(product), now, 180, &qsh), secret)
        }
        (false, None) => String::new(),
    };
    let mut request = host
        .http
        .post(&url)
        .timeout(CALLBACK_TIMEOUT)
        .header("Content-Type", "application/json")
        .body(payload.to_string());
    if !token.is_empty() {
        request = request.header("Authorization", format!("JWT {token}"));
    }
    tracing::info!(site = %site.name, "-> POST {url} ({} signed {})", event.as_str(), if event.is_signed_install() { "RS256" } else { "HS256" });
    let refused =
        |status: String, detail: String| InstallError::Refused { url: url.clone(), status, detail };
    let started = std::time::Instant::now();
    let sent = request.send().await;
    site.record(lifecycle_exchange(site, product, descriptor, event, &url, &token, &sent, started));
    let answer = match &sent {
        Ok(response) => format!("the app answered {}", response.status().as_u16()),
        Err(e) => format!("no answer ({})", short_reason(e)),
    };
    let app = descriptor["key"].as_str().unwrap_or("?").to_owned();
    site.data()
        .lifecycle_states
        .insert((product.as_str().to_owned(), app), format!("{}: {answer}", event.as_str()));
    let response =
        sent.map_err(|e| refused("no answer".into(), format!(": {}", short_reason(&e))))?;
    let status = response.status();
    tracing::info!(site = %site.name, "<- {} from {}", status.as_u16(), event.as_str());
    if status.is_success() {
        return Ok(());
    }
    let body = response.text().await.unwrap_or_default();
    let detail = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v["error"].as_str().map(|e| format!(": {e}")))
        .unwrap_or_default();
    Err(refused(status.as_u16().to_string(), detail))
}

fn short_reason(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        "timed out".into()
    } else if err.is_connect() {
        "connection refused (is the app running?)".into()
    } else {
        "request failed".into()
    }
}

/// The inspector's record of one lifecycle callback.
#[allow(clippy::too_many_arguments)]
fn lifecycle_exchange(
    site: &Site,
    product: Product,
    descriptor: &Value,
    event: Event,
    url: &str,
    token: &str,
    sent: &Result<reqwest::Response, reqwest::Error>,
    started: std::time::Instant,
) -> Exchange {
    let app = descriptor["key"].as_str().unwrap_or("?");
    let kind = if event.is_signed_install() { "signed install" } else { "JWT" };
    let mut exchange = Exchange::to_app(Kind::Lifecycle, app, "POST", url)
        .about(format!("{} ({} {})", event.as_str(), product.as_str(), site.name))
        .answered(sent.as_ref().map(|r| r.status().as_u16()).map_err(short_reason), started);
    if !token.is_empty() {
        exchange = exchange.token(kind, token);
    }
    exchange
}
