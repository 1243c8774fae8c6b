//! The exchanges a site keeps for its inspector: one [`Exchange`] per
//! request between the site and an app, in a ring buffer of
//! [`CAPACITY`] entries per site, oldest dropped first and counted.
//!
//! An exchange holds what a developer needs to see why an app and the site
//! disagree, and nothing an onlooker could reuse: the URL without its
//! `jwt` parameter and with long values (credentials an app may carry in
//! a webhook URL) redacted, the token's header (`alg`, `kid`, `typ`) and
//! claims decoded but never its signature, no shared secret, no
//! `Authorization` header, and of a Forge product token only its kind.
//!
//! What it is not: a log of the site's own pages, of a Custom UI frame's
//! scripts and styles (only its documents), or of request and response
//! bodies.

use std::collections::VecDeque;
use std::time::Instant;

use serde::Serialize;
use serde_json::Value;

use crate::platform::http::now_millis;
use crate::site::Site;

/// How many exchanges a site keeps.
pub const CAPACITY: usize = 500;

/// Who sent the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// The site called the app (callbacks, webhooks, Forge remotes, iframe URLs).
    SiteToApp,
    /// The app called the site (REST).
    AppToSite,
    /// An admin or a tool called the site with Basic auth (UPM).
    AdminToSite,
}

/// What kind of exchange it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// `installed`, `enabled`, `disabled`, `uninstalled`.
    Lifecycle,
    /// A module's signed iframe URL, built for a page (or a module hidden
    /// by its conditions), or a Forge Custom UI frame's document served
    /// from the app's resource origin.
    Iframe,
    /// One attempt of a Connect webhook delivery.
    Webhook,
    /// One attempt of a Forge trigger's event delivery.
    ForgeTrigger,
    /// A Forge UI invocation (`invokeRemote`).
    ForgeInvocation,
    /// A REST call by an app (Connect JWT, Forge product token, or a user
    /// through an app's frame).
    Rest,
    /// A call to the Universal Plugin Manager's REST API with Basic auth.
    Upm,
    /// The fetch of a Connect app's descriptor during an install.
    Descriptor,
}

impl Kind {
    /// Every kind, in the order the page lists them.
    pub const ALL: [Kind; 8] = [
        Kind::Lifecycle,
        Kind::Iframe,
        Kind::Webhook,
        Kind::ForgeTrigger,
        Kind::ForgeInvocation,
        Kind::Rest,
        Kind::Upm,
        Kind::Descriptor,
    ];

    /// The name used in JSON and query strings.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Lifecycle => "lifecycle",
            Kind::Iframe => "iframe",
            Kind::Webhook => "webhook",
            Kind::ForgeTrigger => "forge-trigger",
            Kind::ForgeInvocation => "forge-invocation",
            Kind::Rest => "rest",
            Kind::Upm => "upm",
            Kind::Descriptor => "descriptor",
        }
    }

    /// The kind named `name`, if any.
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// The credential a request carried, decoded for reading.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenView {
    /// `JWT` (Connect HS256), `signed install` (RS256), `FIT` (Forge
    /// invocation token), `product token`, `session` or `basic` (UPM; the user name only).
    #[serde(rename = "type")]
    pub kind: String,
    /// The JOSE header's `alg`, `kid` and `typ`, for JWTs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<Value>,
    /// The claims, decoded without verification, for JWTs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<Value>,
    /// Who the credential speaks for, when it is not in claims (a product
    /// token's kind, a session's user).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// Which check refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// The signature does not verify with the installation's secret.
    Signature,
    /// `exp` is in the past.
    Expiry,
    /// `iat` or `nbf` is in the future.
    NotYetValid,
    /// `qsh` is not the hash of the request the site received.
    Qsh,
    /// `iss` names no app installed in the product called.
    IssuerUnknown,
    /// The token is not a well-formed JWT of the expected algorithm.
    Malformed,
    /// No credentials, or a product token or session the site does not know.
    Credentials,
    /// The app is installed but not enabled.
    NotEnabled,
    /// The app lacks the scope the request needs.
    MissingScope,
    /// A module's conditions are false for this user and page.
    ConditionFalse,
    /// The user lacks the permission the resource needs.
    UserPermission,
    /// A credential of the wrong kind for the path: a Forge product token
    /// outside `apiBaseUrl`, or anything but one under it.
    CredentialKind,
    /// Another tenant: an `apiBaseUrl` cloudId of another site, or a Forge
    /// app not installed in the product called.
    WrongTenant,
    /// A descriptor the site could not use: answered non-2xx, not JSON, or
    /// breaking the rules hosts enforce (the message says which).
    Descriptor,
    /// Anything else (a resource not served to Forge apps, a UPM token).
    Other,
}

/// Why a request was refused, as precisely as the site can say.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reason {
    /// The check that failed.
    pub check: Check,
    /// The message the site answered (or would have).
    pub message: String,
    /// The scope the request needs ([`Check::MissingScope`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The canonical request the site computed ([`Check::Qsh`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canonical_request: Option<String>,
    /// Its hash, the `qsh` the site expected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qsh_expected: Option<String>,
    /// The `qsh` claim the token carried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qsh_received: Option<String>,
    /// The condition that was false ([`Check::ConditionFalse`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<Value>,
}

impl Reason {
    /// A reason with only a check and a message.
    pub fn new(check: Check, message: impl Into<String>) -> Reason {
        Reason {
            check,
            message: message.into(),
            scope: None,
            canonical_request: None,
            qsh_expected: None,
            qsh_received: None,
            condition: None,
        }
    }
}

/// One request between the site and an app.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Exchange {
    /// Increasing per site, from 1.
    pub id: u64,
    /// When it started, milliseconds since the epoch.
    pub time_ms: i64,
    /// Who sent it.
    pub direction: Direction,
    /// What it was.
    pub kind: Kind,
    /// The Connect app key or the Forge app id (`?` when unknown).
    pub app: String,
    /// What it was about: the lifecycle event, webhook event, module key,
    /// the calling user.
    pub summary: String,
    /// The HTTP method.
    pub method: String,
    /// The URL (absolute for the app's, a path for the site's), without
    /// `jwt` and with long values redacted.
    pub url: String,
    /// The answer's status, if there was one.
    pub status: Option<u16>,
    /// Why there was no answer (timed out, connection failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: Option<u64>,
    /// The attempt, from 0, for deliveries that are retried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// The credential, decoded.
    pub token: Option<TokenView>,
    /// Why the request was refused, if it was.
    pub refusal: Option<Reason>,
}

impl Exchange {
    /// A new exchange starting now; the id is given when it is recorded.
    pub fn new(direction: Direction, kind: Kind, app: &str, method: &str, url: &str) -> Exchange {
        Exchange {
            id: 0,
            time_ms: now_millis(),
            direction,
            kind,
            app: app.to_owned(),
            summary: String::new(),
            method: method.to_owned(),
            url: super::record::safe_url(url),
            status: None,
            error: None,
            duration_ms: None,
            attempt: None,
            token: None,
            refusal: None,
        }
    }

    /// A request from the site to an app.
    pub fn to_app(kind: Kind, app: &str, method: &str, url: &str) -> Exchange {
        Exchange::new(Direction::SiteToApp, kind, app, method, url)
    }

    /// Sets the summary.
    pub fn about(mut self, summary: impl Into<String>) -> Exchange {
        self.summary = summary.into();
        self
    }

    /// Sets the attempt number (from 0).
    pub fn attempt(mut self, attempt: u32) -> Exchange {
        self.attempt = Some(attempt);
        self
    }

    /// Decodes `token` (a compact JWT) into the exchange, labelled `kind`.
    pub fn token(mut self, kind: &str, token: &str) -> Exchange {
        self.token = Some(super::record::token_view(kind, token));
        self
    }

    /// Records how the request ended and how long it took since `started`:
    /// a status, or why there was none. The time is moved back to `started`.
    pub fn answered<E: std::fmt::Display>(
        mut self,
        outcome: Result<u16, E>,
        started: Instant,
    ) -> Exchange {
        let elapsed = started.elapsed();
        self.duration_ms = Some(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX));
        self.time_ms -= i64::try_from(elapsed.as_millis()).unwrap_or(0);
        match outcome {
            Ok(status) => self.status = Some(status),
            Err(why) => self.error = Some(why.to_string()),
        }
        self
    }

    /// Sets why the request was refused.
    pub fn refused(mut self, reason: Reason) -> Exchange {
        self.refusal = Some(reason);
        self
    }
}

/// Which exchanges to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Only this app's.
    pub app: Option<String>,
    /// Only this kind.
    pub kind: Option<Kind>,
    /// Only those with a greater id.
    pub since: Option<u64>,
}

impl Selection {
    fn admits(&self, exchange: &Exchange) -> bool {
        self.app.as_ref().is_none_or(|app| exchange.app == *app)
            && self.kind.is_none_or(|kind| exchange.kind == kind)
            && self.since.is_none_or(|since| exchange.id > since)
    }
}

/// A site's bounded record of exchanges.
#[derive(Debug)]
pub struct Exchanges {
    entries: VecDeque<Exchange>,
    capacity: usize,
    last_id: u64,
    dropped: u64,
}

impl Default for Exchanges {
    fn default() -> Self {
        Exchanges::with_capacity(CAPACITY)
    }
}

impl Exchanges {
    /// An empty record keeping at most `capacity` exchanges (at least one).
    pub fn with_capacity(capacity: usize) -> Exchanges {
        let capacity = capacity.max(1);
        Exchanges { entries: VecDeque::with_capacity(capacity), capacity, last_id: 0, dropped: 0 }
    }

    /// Records `exchange` with the next id, dropping the oldest when full;
    /// returns the id.
    pub fn push(&mut self, mut exchange: Exchange) -> u64 {
        self.last_id += 1;
        exchange.id = self.last_id;
        while self.entries.len() >= self.capacity {
            self.entries.pop_front();
            self.dropped += 1;
        }
        self.entries.push_back(exchange);
        self.last_id
    }

    /// The selected exchanges, newest first.
    pub fn newest_first(&self, selection: &Selection) -> Vec<Exchange> {
        self.entries.iter().rev().filter(|e| selection.admits(e)).cloned().collect()
    }

    /// How many are kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none are kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many may be kept.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many were dropped to stay within the capacity.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

impl Site {
    /// Records an exchange in the site's inspector. Takes only the
    /// inspector's own lock, so it may be called while the site's data is
    /// locked.
    pub fn record(&self, exchange: Exchange) {
        self.exchanges().push(exchange);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rest(app: &str) -> Exchange {
        Exchange::new(Direction::AppToSite, Kind::Rest, app, "GET", "/rest/api/3/myself")
    }

    #[test]
    fn the_record_is_bounded_and_counts_what_it_dropped() {
        let mut exchanges = Exchanges::with_capacity(50);
        for _ in 0..150 {
            exchanges.push(rest("a"));
        }
        assert_eq!(exchanges.len(), 50);
        assert_eq!(exchanges.dropped(), 100);
        let listed = exchanges.newest_first(&Selection::default());
        assert_eq!(listed.first().map(|e| e.id), Some(150));
        assert_eq!(listed.last().map(|e| e.id), Some(101));
    }

    #[test]
    fn selections_filter_by_app_kind_and_since() {
        let mut exchanges = Exchanges::default();
        exchanges.push(rest("a"));
        exchanges.push(rest("b"));
        exchanges.push(Exchange::to_app(Kind::Webhook, "a", "POST", "http://a.test/hook"));
        let ids = |selection: Selection| -> Vec<u64> {
            exchanges.newest_first(&selection).iter().map(|e| e.id).collect()
        };
        assert_eq!(ids(Selection::default()), [3, 2, 1]);
        assert_eq!(ids(Selection { app: Some("a".into()), ..Selection::default() }), [3, 1]);
        assert_eq!(ids(Selection { kind: Some(Kind::Rest), ..Selection::default() }), [2, 1]);
        assert_eq!(ids(Selection { since: Some(1), ..Selection::default() }), [3, 2]);
        assert_eq!(Kind::parse("forge-trigger"), Some(Kind::ForgeTrigger));
        assert_eq!(Kind::parse("nope"), None);
    }
}
