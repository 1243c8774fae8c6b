//! Installing an app by descriptor URL through the Universal Plugin
//! Manager's REST API, as an admin would from "Manage apps" → "Upload app".
//! Works against a real cloud development site (with an API token) and
//! against lodger's emulated one. See CONNECT-NOTES, "Installing by
//! descriptor URL (UPM REST)".

use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use base64::Engine;
use serde_json::{Value, json};

/// How long to wait for UPM to finish an install.
const INSTALL_DEADLINE: Duration = Duration::from_secs(30);

/// Who installs, where, what.
#[derive(Debug, Clone)]
pub struct Registration<'a> {
    /// The site's base URL, e.g. `https://your-site.atlassian.net`.
    pub site: &'a str,
    /// The admin's email.
    pub user: &'a str,
    /// The admin's API token (a secret: never printed).
    pub token: &'a str,
    /// The descriptor URL the site will fetch.
    pub descriptor_url: &'a str,
}

/// Runs the UPM flow and returns the installed app's key.
pub async fn register(
    http: &reqwest::Client,
    registration: &Registration<'_>,
) -> anyhow::Result<String> {
    let site = registration.site.trim_end_matches('/');
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", registration.user, registration.token))
    );
    // 1. A UPM token, which only an admin gets.
    let response = http
        .get(format!("{site}/rest/plugins/1.0/?os_authType=basic"))
        .header("Authorization", &basic)
        .header("Accept", "application/vnd.atl.plugins.installed+json")
        .send()
        .await
        .with_context(|| format!("cannot reach {site}"))?;
    if !response.status().is_success() {
        bail!(
            "{site} refused the credentials of {} ({}): use a site admin's email and API token",
            registration.user,
            response.status()
        );
    }
    let upm_token = response
        .headers()
        .get("upm-token")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            anyhow!("{site} gave no upm-token: is this a Jira or Confluence Cloud site?")
        })?
        .to_owned();

    // 2. Install by URL. Anything but 202 is a failure.
    let response = http
        .post(format!("{site}/rest/plugins/1.0/?token={upm_token}"))
        .header("Authorization", &basic)
        .header("Content-Type", "application/vnd.atl.plugins.install.uri+json")
        .header("Accept", "application/json")
        .body(json!({"pluginUri": registration.descriptor_url, "pluginName": "lodger"}).to_string())
        .send()
        .await?;
    let status = response.status();
    let body: Value = serde_json::from_slice(&response.bytes().await?).unwrap_or(Value::Null);
    if status.as_u16() != 202 {
        bail!("install refused ({status}): {}", message_of(&body));
    }

    // 3. Poll the task until it names the app or an error.
    let mut task = body;
    let deadline = Instant::now() + INSTALL_DEADLINE;
    loop {
        if let Some(key) = task["key"].as_str() {
            return Ok(key.to_owned());
        }
        if task["status"]["done"] == true {
            if let Some(error) = task["status"]["errorMessage"].as_str() {
                bail!("install failed: {error}");
            }
        }
        let link = task["links"]["self"]
            .as_str()
            .ok_or_else(|| anyhow!("UPM answered no task link"))?
            .to_owned();
        if Instant::now() > deadline {
            bail!("install did not finish within {} s", INSTALL_DEADLINE.as_secs());
        }
        let wait = task["pingAfter"].as_u64().unwrap_or(200).clamp(50, 2000);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let url = if link.starts_with("http") { link } else { format!("{site}{link}") };
        let response = http.get(url).header("Authorization", &basic).send().await?;
        task = serde_json::from_slice(&response.bytes().await?).unwrap_or(Value::Null);
    }
}

fn message_of(body: &Value) -> String {
    body["errorMessages"][0]
        .as_str()
        .or_else(|| body["status"]["errorMessage"].as_str())
        .or_else(|| body["message"].as_str())
        .unwrap_or("no message")
        .to_owned()
}
