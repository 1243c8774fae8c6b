//! Delivering events to a remote, as Forge does for a `trigger` module
//! routed to an `endpoint` (Forge: "Sending product events to a remote",
//! "Forge remote invocation contract": events are POSTed to the endpoint's
//! route, 5 s timeout, up to 4 retries).
//!
//! Each attempt is a `POST <remote.baseUrl><route.path>` with
//! `Authorization: Bearer <FIT>` (no `context`/`principal` UI parts; the
//! token's `app.module` is `{type: "trigger", key}`), `x-forge-oauth-system:
//! <system token>` when the endpoint's `auth.appSystemToken.enabled`, never
//! a user token, and the event as JSON with `context.moduleKey` set to the
//! trigger's key. Any answer but 2xx (3xx included: redirects are not
//! followed) and any timeout or connection failure counts as a failed
//! attempt; after [`DeliveryPolicy::max_attempts`] (five: one and four
//! retries) the delivery ends failed. The wait between attempts doubles
//! from [`DeliveryPolicy::base_backoff`] as the Connect webhooks' does
//! ([`crate::jira::webhooks::delivery`]); Forge's spacing is unverified.
//!
//! Every delivery is logged in [`ForgeState::deliveries`] with each
//! attempt's status, so that tests can wait until all are settled
//! ([`Site::forge_deliveries`]). Tokens are never logged.

use std::sync::Arc;

use serde_json::Value;

use super::events::{self, ISSUE_COMMENTED_EVENT, ISSUE_CREATED_EVENT};
use super::invocation_tokens::Invocation;
use super::manifest::Trigger;
use super::product_tokens::{self, TokenKind};
use super::state::{ForgeDelivery, ForgeInstallation, ForgeState, license_of};
use crate::inspector::exchanges::{Exchange, Kind};
use crate::inspector::record::outcome;
use crate::jira::issue_types::IssueType;
use crate::jira::webhooks::delivery::backoff;
use crate::jira::webhooks::state::{DeliveryPolicy, Outcome};
use crate::platform::keys::{random_id, random_uuid};
use crate::site::{Issue, Site, User};
use lodger_connect::installation::Product;

/// One event for one trigger of one installation.
#[derive(Debug)]
pub(crate) struct EventTarget<'a> {
    /// The installation.
    pub install: &'a ForgeInstallation,
    /// The trigger subscribed to the event.
    pub trigger: &'a Trigger,
    /// The event.
    pub event: &'static str,
    /// The product the event is from (picks `app.apiBaseUrl`).
    pub product: Product,
    /// The event body, without `context.moduleKey`.
    pub body: Value,
}

impl Site {
    /// The Forge event deliveries logged so far, oldest first.
    pub fn forge_deliveries(&self) -> Vec<ForgeDelivery> {
        self.data().forge.deliveries.iter().cloned().collect()
    }

    /// Replaces how Forge events are timed and retried (tests shorten it).
    pub fn set_forge_delivery_policy(&self, policy: DeliveryPolicy) {
        self.data().forge.policy = policy;
    }
}

/// Delivers `avi:jira:created:issue` to every installed Forge app with a
/// trigger on it, in background tasks.
pub fn issue_created(site: &Arc<Site>, issue: &Issue, issue_type: IssueType, user: Option<&User>) {
    to_jira_triggers(site, ISSUE_CREATED_EVENT, || {
        events::issue_created(site, issue, issue_type, user)
    });
}

/// Delivers `avi:jira:commented:issue` about `comment` (its REST v3 JSON)
/// to every installed Forge app with a trigger on it, in background tasks.
pub fn issue_commented(
    site: &Arc<Site>,
    issue: &Issue,
    issue_type: IssueType,
    user: Option<&User>,
    comment: &Value,
) {
    to_jira_triggers(site, ISSUE_COMMENTED_EVENT, || {
        events::issue_commented(site, issue, issue_type, user, comment)
    });
}

/// Delivers the body `make` builds to every trigger on Jira `event` of
/// every installed Forge app on Jira.
fn to_jira_triggers(site: &Arc<Site>, event: &'static str, make: impl FnOnce() -> Value) {
    let installs: Vec<ForgeInstallation> = site.data().forge.installs.values().cloned().collect();
    if installs.is_empty() {
        return;
    }
    let body = make();
    for install in &installs {
        if !install.manifest.products.contains(&Product::Jira) {
            continue;
        }
        for trigger in install.manifest.triggers_on(event) {
            let target =
                EventTarget { install, trigger, event, product: Product::Jira, body: body.clone() };
            deliver(site, target);
        }
    }
}

/// What one delivery task needs.
struct Delivery {
    site: Arc<Site>,
    id: String,
    install: ForgeInstallation,
    module_key: String,
    url: String,
    api_base_url: String,
    system_token: bool,
    license: Option<bool>,
    body: String,
}

/// Logs `target`'s delivery and sends it in a background task.
pub(crate) fn deliver(site: &Arc<Site>, target: EventTarget<'_>) {
    let manifest = &target.install.manifest;
    let endpoint = target.trigger.endpoint.as_deref().and_then(|key| manifest.endpoint(key));
    let Some((endpoint, remote)) =
        endpoint.and_then(|e| manifest.remote(&e.remote).map(|r| (e, r)))
    else {
        return;
    };
    let Some(api_base_url) = super::install::api_base_url(site, target.product) else { return };
    let mut body = target.body;
    body["context"]["moduleKey"] = Value::from(target.trigger.key.clone());
    let delivery = Delivery {
        site: Arc::clone(site),
        id: random_id(16),
        install: target.install.clone(),
        module_key: target.trigger.key.clone(),
        url: format!("{}{}", remote.base_url, endpoint.route_path),
        api_base_url,
        system_token: endpoint.auth.system,
        license: None,
        body: body.to_string(),
    };
    let (policy, client, license) = {
        let mut data = site.data();
        let license = license_of(&data, target.install);
        let client = data.webhooks.client();
        data.forge.log(ForgeDelivery {
            id: delivery.id.clone(),
            app_id: delivery.install.app_id.clone(),
            event: target.event.to_owned(),
            module_key: delivery.module_key.clone(),
            url: delivery.url.clone(),
            attempts: 0,
            statuses: Vec::new(),
            outcome: Outcome::Pending,
        });
        (data.forge.policy, client, license)
    };
    let delivery = Delivery { license, ..delivery };
    let (Some(client), Ok(runtime)) = (client, tokio::runtime::Handle::try_current()) else {
        tracing::warn!(site = %site.name, "no HTTP client or runtime; Forge event not delivered");
        site.data().forge.record(&delivery.id, |r| {
            r.outcome = Outcome::Failed { reason: "not sent".into() };
        });
        return;
    };
    runtime.spawn(run(delivery, policy, client));
}

/// Sends one delivery, retrying, and records each attempt.
async fn run(delivery: Delivery, policy: DeliveryPolicy, client: reqwest::Client) {
    let attempts = policy.max_attempts.max(1);
    let mut reason = String::new();
    for attempt in 0..attempts {
        let status = delivery.attempt(&client, &policy, attempt).await;
        let ok = status.is_ok_and(|s| (200..300).contains(&s));
        delivery.site.data().forge.record(&delivery.id, |r| {
            r.attempts = attempt + 1;
            r.statuses.push(status.as_ref().ok().copied());
            if let (true, Ok(status)) = (ok, &status) {
                r.outcome = Outcome::Delivered { status: *status };
            }
        });
        tracing::info!(site = %delivery.site.name, app = %delivery.install.app_id,
            module = %delivery.module_key, attempt, status = ?status, "Forge event delivery");
        if ok {
            return;
        }
        reason = match status {
            Ok(status) => format!("answered {status}"),
            Err(why) => why.to_owned(),
        };
        if attempt + 1 < attempts {
            tokio::time::sleep(backoff(&policy, attempt)).await;
        }
    }
    tracing::warn!(site = %delivery.site.name, app = %delivery.install.app_id,
        module = %delivery.module_key, "Forge event delivery failed: {reason}");
    delivery.site.data().forge.record(&delivery.id, |r| r.outcome = Outcome::Failed { reason });
}

impl Delivery {
    /// One attempt: its status, or why there was none.
    async fn attempt(
        &self,
        client: &reqwest::Client,
        policy: &DeliveryPolicy,
        attempt: u32,
    ) -> Result<u16, &'static str> {
        let (fit, system) = {
            let mut data = self.site.data();
            let forge: &mut ForgeState = &mut data.forge;
            let signer = forge.signer.clone().ok_or("no Forge signer")?;
            let invocation = Invocation {
                install: &self.install,
                api_base_url: &self.api_base_url,
                module_type: "trigger",
                module_key: &self.module_key,
                license_active: self.license,
                ui: None,
            };
            let fit =
                signer.sign(&invocation, lodger_connect::now()).map_err(|_| "signing failed")?;
            let now = lodger_connect::now();
            let system = self
                .system_token
                .then(|| product_tokens::mint(forge, &self.install, TokenKind::System, now));
            (fit, system)
        };
        let trace = random_uuid().replace('-', "");
        let mut request = client
            .post(&self.url)
            .timeout(policy.timeout)
            .header("Authorization", format!("Bearer {fit}"))
            .header("Content-Type", "application/json")
            .header("x-b3-traceid", &trace[..32])
            .header("x-b3-spanid", &trace[..16])
            .body(self.body.clone());
        if let Some(token) = system {
            request = request.header("x-forge-oauth-system", token);
        }
        let started = std::time::Instant::now();
        let sent = request.send().await;
        self.site.record(
            Exchange::to_app(Kind::ForgeTrigger, &self.install.app_id, "POST", &self.url)
                .about(format!("trigger {} ({})", self.module_key, self.id))
                .attempt(attempt)
                .token("FIT", &fit)
                .answered(outcome(&sent), started),
        );
        outcome(&sent)
    }
}
