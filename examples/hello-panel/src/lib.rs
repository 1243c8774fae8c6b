//! hello-panel: a minimal Atlassian Connect app for Jira Cloud on the kit's
//! core ([`lodger_connect`]): a web panel on the issue view (Atlassian: "Web
//! Panel") that greets the viewer, a signed-install lifecycle (Atlassian:
//! "Understanding JWT for Connect apps") and an iframe verified by its JWT.
//!
//! For reading, not production: installations live in memory (lost on
//! restart; lodger seals them into the host, [`lodger_connect::sealed`]) and
//! install keys are fetched on every callback, uncached.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use lodger_connect::installation::Installation;
use lodger_connect::jwt::{Expectation, JwtError, UnverifiedToken};
use lodger_connect::lifecycle::{Event, LifecycleError, Payload};
use lodger_connect::qsh::query_string_hash;
use lodger_connect::signed_install::SignedInstallError::{self, KeyUnavailable, UnknownKey};
use lodger_connect::signed_install::{self as signed, InstallExpectation};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use warp::Filter;
use warp::http::{HeaderValue, StatusCode, header};
use warp::path::FullPath;
use warp::reply::{Html, Reply, Response};

/// The app key (the descriptor's `key`).
pub const APP_KEY: &str = "hello-panel";
const TIMEOUT: Duration = Duration::from_secs(10);
const NO_TOKEN: JwtError = JwtError::Malformed("the request carries no JWT");

/// The running app: where it is, whom it trusts, and its tenants.
#[derive(Debug)]
pub struct App {
    base_url: String,
    install_keys_url: String,
    http: reqwest::Client,
    tenants: Mutex<HashMap<String, Installation>>,
}

/// Why a request was refused (its status: see `into_response`).
#[derive(Debug, thiserror::Error)]
enum Refusal {
    #[error(transparent)]
    Jwt(#[from] JwtError),
    #[error(transparent)]
    Install(#[from] SignedInstallError),
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
}

impl App {
    /// An app at `base_url` that fetches install keys from `install_keys_url`
    /// ([`signed::ATLASSIAN_INSTALL_KEYS`] in production).
    pub fn new(base_url: String, install_keys_url: String) -> Arc<App> {
        let (http, tenants) = (reqwest::Client::new(), Mutex::default());
        Arc::new(App { base_url, install_keys_url, http, tenants })
    }

    /// The `clientKey`s whose `installed` was verified and not since uninstalled.
    pub async fn tenants(&self) -> Vec<String> {
        self.tenants.lock().await.keys().cloned().collect()
    }

    /// The PEM public key the key server publishes for `kid`.
    async fn install_key(&self, kid: &str) -> Result<Bytes, SignedInstallError> {
        let request = self.http.get(signed::key_url(&self.install_keys_url, kid)?).timeout(TIMEOUT);
        let fetch = async { request.send().await?.error_for_status()?.bytes().await };
        fetch.await.map_err(|error| match error.status() {
            Some(status) if status.is_client_error() => UnknownKey,
            _ => KeyUnavailable(error.without_url().to_string()),
        })
    }
}

/// The app descriptor for `base_url` (Atlassian: "App descriptor", "Web Panel").
pub fn descriptor(base_url: &str) -> Value {
    json!({
        "key": APP_KEY, "name": "Hello panel", "baseUrl": base_url,
        "authentication": {"type": "jwt"},
        "lifecycle": {"installed": "/installed", "uninstalled": "/uninstalled"},
        "apiMigrations": {"signed-install": true, "context-qsh": true},
        "scopes": ["READ"],
        "modules": {"webPanels": [{
            "key": "hello", "name": {"value": "Hello"},
            "location": "atl.jira.view.issue.right.context", "url": "/panel?issueKey={issue.key}"
        }]}
    })
}

/// Serves the app on `listener` until the runtime shuts down: the descriptor,
/// `POST /installed` and `/uninstalled`, and `GET /panel`.
pub async fn serve(listener: tokio::net::TcpListener, app: Arc<App>) {
    let app = warp::any().map(move || Arc::clone(&app));
    // A qsh covers the path (relative: the base URL has none) and the raw query.
    let query = || warp::query::raw().or(warp::any().map(String::new)).unify();
    let descriptor = (warp::get().and(warp::path!("atlassian-connect.json")).and(app.clone()))
        .map(|app: Arc<App>| warp::reply::json(&descriptor(&app.base_url)));
    let event = (warp::path!("installed").map(|| Event::Installed))
        .or(warp::path!("uninstalled").map(|| Event::Uninstalled))
        .unify();
    let lifecycle = (warp::post().and(event).and(app.clone()))
        .and(warp::header::optional::<String>(header::AUTHORIZATION.as_str()))
        .and(warp::path::full().and(query()))
        .and(warp::body::content_length_limit(64 * 1024).and(warp::body::bytes()))
        .then(lifecycle);
    let panel = warp::get().and(warp::path!("panel")).and(app).and(warp::path::full()).and(query());
    let panel = panel.then(panel_page);
    warp::serve(descriptor.or(lifecycle).or(panel)).incoming(listener).run().await;
}

/// `installed` / `uninstalled`: verify the signed install, then remember or forget.
async fn lifecycle(
    event: Event,
    app: Arc<App>,
    auth: Option<String>,
    path: FullPath,
    query: String,
    body: Bytes,
) -> Result<StatusCode, Refusal> {
    let token = auth.as_deref().and_then(|value| value.strip_prefix("JWT "));
    let token = token.ok_or(NO_TOKEN)?;
    let payload = Payload::parse(&body, event, &[APP_KEY])?;
    let key = signed::decoding_key(&app.install_key(&signed::key_id(token)?).await?)?;
    let (qsh, now) = (query_string_hash("POST", path.as_str(), &query), lodger_connect::now());
    let client_key = payload.client_key.as_str();
    let expect = InstallExpectation { app_base_url: &app.base_url, client_key, qsh: &qsh, now };
    let signed = signed::verify(token, &key, &expect)?;
    if event == Event::Installed {
        let installation = payload.into_installation(signed.iat)?;
        app.tenants.lock().await.insert(installation.client_key.clone(), installation);
    } else {
        app.tenants.lock().await.remove(&payload.client_key);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The panel: verify the host-signed `jwt` of this URL; put its `sub` in the page.
async fn panel_page(app: Arc<App>, path: FullPath, query: String) -> Result<Html<String>, Refusal> {
    let token = query.split('&').find_map(|pair| pair.strip_prefix("jwt="));
    let token = UnverifiedToken::parse(token.ok_or(NO_TOKEN)?)?;
    let secret = app.tenants.lock().await.get(token.issuer()).map(|t| t.shared_secret.clone());
    let qsh = query_string_hash("GET", path.as_str(), &query);
    let expect = Expectation::request(&qsh, lodger_connect::now());
    let claims = token.verify(&secret.ok_or(JwtError::UnknownIssuer)?, &expect)?;
    let sub = claims.sub.unwrap_or_default().replace('&', "&amp;").replace('"', "&quot;");
    Ok(warp::reply::html(include_str!("panel.html").replace("{{sub}}", &sub.replace('<', "&lt;"))))
}

/// Statuses as Atlassian's frameworks answer: 400 for a bad payload, 503 while
/// the key server is down, 401 (`WWW-Authenticate: JWT`) for the unsigned or forged.
impl Reply for Refusal {
    fn into_response(self) -> Response {
        let status = match self {
            Refusal::Lifecycle(_) => StatusCode::BAD_REQUEST,
            Refusal::Install(KeyUnavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNAUTHORIZED,
        };
        let mut response = warp::reply::with_status(self.to_string(), status).into_response();
        if status == StatusCode::UNAUTHORIZED {
            let scheme = HeaderValue::from_static("JWT");
            response.headers_mut().insert(header::WWW_AUTHENTICATE, scheme);
        }
        response
    }
}
