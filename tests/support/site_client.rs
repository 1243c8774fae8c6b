//! A typed client for one emulated site, calling its REST API the two ways
//! Connect allows: as the app itself (a JWT signed with the installation's
//! shared secret, with the request's qsh: Atlassian's "Understanding JWT
//! for Connect apps"), or as a user through an app's iframe (what
//! `AP.request` does: the emulated product page forwards the call with the
//! user's session cookie and names the app in `X-Lodger-Dev-App`).
//!
//! The cookie and header names are the emulator's own constants. Not for
//! calling the app (lodger's API has its own helpers in the tests that use it).

use lodger::connect::jwt::{Claims, sign};
use lodger::connect::qsh::query_string_hash;
use lodger::devhost::platform::auth::ANONYMOUS;
use lodger::devhost::platform::auth::{APP_HEADER, SESSION_COOKIE};
use lodger::devhost::site::{Role, Site, User};
use reqwest::header::HeaderMap;
use serde_json::Value;

/// The one HTTP client of the tests: never follows redirects, so that
/// tests see the 3xx the site or app answered.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// A response's status and JSON body (`Null` when the body is not JSON).
pub async fn json_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, serde_json::from_slice(&response.bytes().await.unwrap()).unwrap_or(Value::Null))
}

/// The first seeded user of `site` with `role`.
pub fn user(site: &Site, role: Role) -> &User {
    site.users
        .iter()
        .find(|user| user.role == role)
        .unwrap_or_else(|| panic!("site {} has a seeded {role:?}", site.name))
}

/// The value of the emulator's session cookie for `account_id`.
pub fn session_cookie(account_id: &str) -> String {
    format!("{SESSION_COOKIE}={account_id}")
}

/// Who calls.
#[derive(Debug, Clone)]
enum Caller {
    /// A person (or nobody, when `None`) through `app`'s iframe.
    User { account_id: Option<String>, app: String },
    /// The app itself, signing with its installation's secret.
    App(String),
}

/// Calls one emulated site as one caller.
#[derive(Debug, Clone)]
pub struct SiteClient<'a> {
    site: &'a Site,
    caller: Caller,
}

/// What a call answered.
#[derive(Debug)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body, `Null` when there is none.
    pub body: Value,
    /// The response headers.
    pub headers: HeaderMap,
}

/// Calls `site` as its first user with `role`, through lodger's iframe.
pub fn as_user(site: &Site, role: Role) -> SiteClient<'_> {
    as_account(site, &user(site, role).account_id)
}

/// Calls `site` as the user `account_id`, through lodger's iframe.
pub fn as_account<'a>(site: &'a Site, account_id: &str) -> SiteClient<'a> {
    let caller = Caller::User { account_id: Some(account_id.to_owned()), app: "lodger".into() };
    SiteClient { site, caller }
}

/// Calls `site` as a visitor who logged out (the emulator's anonymous
/// session), through lodger's iframe.
pub fn anonymous(site: &Site) -> SiteClient<'_> {
    as_account(site, ANONYMOUS)
}

/// Calls `site` with no session at all, through lodger's iframe.
pub fn without_session(site: &Site) -> SiteClient<'_> {
    SiteClient { site, caller: Caller::User { account_id: None, app: "lodger".into() } }
}

/// Calls `site` as the installed app `app_key`, JWT-signed.
pub fn as_app<'a>(site: &'a Site, app_key: &str) -> SiteClient<'a> {
    SiteClient { site, caller: Caller::App(app_key.to_owned()) }
}

impl<'a> SiteClient<'a> {
    /// The same user, calling through `app`'s iframe instead of lodger's.
    pub fn through(mut self, app: &str) -> SiteClient<'a> {
        if let Caller::User { app: through, .. } = &mut self.caller {
            *through = app.to_owned();
        }
        self
    }

    /// `method path_and_query` with a JSON `body`: status and JSON answer.
    pub async fn call(
        &self,
        method: impl AsRef<str>,
        path_and_query: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let reply = self.send(method, path_and_query, body.map(|b| b.to_string())).await;
        (reply.status, reply.body)
    }

    /// [`SiteClient::call`], with the response headers.
    pub async fn call_with_headers(
        &self,
        method: impl AsRef<str>,
        path_and_query: &str,
        body: Option<Value>,
    ) -> (u16, Value, HeaderMap) {
        let reply = self.send(method, path_and_query, body.map(|b| b.to_string())).await;
        (reply.status, reply.body, reply.headers)
    }

    /// [`SiteClient::call`] with a body sent as written (malformed JSON too).
    pub async fn call_text(
        &self,
        method: impl AsRef<str>,
        path_and_query: &str,
        body: Option<&str>,
    ) -> (u16, Value) {
        let reply = self.send(method, path_and_query, body.map(str::to_owned)).await;
        (reply.status, reply.body)
    }

    /// The call, with the response headers.
    pub async fn send(
        &self,
        method: impl AsRef<str>,
        path_and_query: &str,
        body: Option<String>,
    ) -> Reply {
        let method = method.as_ref();
        let url = format!("{}{path_and_query}", self.site.base_url);
        let mut request = http().request(method.parse().unwrap(), url);
        match &self.caller {
            Caller::User { account_id, app } => {
                if let Some(account_id) = account_id {
                    request = request.header("cookie", session_cookie(account_id));
                }
                request = request.header(APP_HEADER, app);
            }
            Caller::App(app) => {
                let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
                let secret = self.site.data().installs[app].shared_secret.clone();
                let qsh = query_string_hash(method, path, query);
                let token = sign(&Claims::new(app, lodger::now(), 60, &qsh), &secret);
                request = request.header("authorization", format!("JWT {token}"));
            }
        }
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body);
        }
        let response = request.send().await.unwrap();
        let headers = response.headers().clone();
        let (status, body) = json_of(response).await;
        Reply { status, body, headers }
    }
}
