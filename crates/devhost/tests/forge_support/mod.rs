//! Helpers for the Forge platform tests: a site on a loopback port, a
//! recording remote, a Forge app folder.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use lodger_connect::invocation_token::{self, Expectation, InvocationClaims};
use lodger_connect::jwks::Jwks;
use lodger_devhost::DevHost;
use lodger_devhost::forge::install::{self, ForgeInstallation};
use lodger_devhost::forge::state::ForgeDelivery;
use lodger_devhost::jira::webhooks::state::DeliveryPolicy;
use lodger_devhost::site::Site;
use serde_json::{Value, json};
use warp::Filter;
use warp::http::{HeaderMap, Method, StatusCode};

pub const APP: &str = "ari:cloud:ecosystem::app/00000000-0000-4000-8000-000000000001";

/// One request the remote received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
    }
    pub fn fit(&self) -> String {
        self.header("authorization").unwrap().strip_prefix("Bearer ").unwrap().to_owned()
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// A remote that records every request and answers `status`.
#[derive(Clone)]
pub struct Remote {
    pub url: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    pub status: Arc<AtomicU16>,
}

impl Remote {
    pub async fn start(status: u16) -> Remote {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let answer = Arc::new(AtomicU16::new(status));
        let (log, code) = (Arc::clone(&seen), Arc::clone(&answer));
        let filter = warp::method()
            .and(warp::path::full())
            .and(warp::header::headers_cloned())
            .and(warp::body::bytes())
            .map(move |method: Method, path: warp::path::FullPath, headers, body: Bytes| {
                let body = String::from_utf8_lossy(&body).into_owned();
                let path = path.as_str().to_owned();
                log.lock().unwrap().push(Seen { method: method.to_string(), path, headers, body });
                let status = StatusCode::from_u16(code.load(Ordering::SeqCst)).unwrap();
                let reply =
                    warp::reply::with_header("{\"ok\":true}", "location", "http://elsewhere.test/");
                warp::reply::with_status(warp::reply::with_header(reply, "x-remote", "yes"), status)
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(warp::serve(filter).incoming(listener).run());
        Remote { url, seen, status: answer }
    }

    pub fn seen_at(&self, path: &str) -> Vec<Seen> {
        self.seen.lock().unwrap().iter().filter(|s| s.path == path).cloned().collect()
    }
}

/// A site served on a loopback port, with a fast delivery policy.
pub struct World {
    pub host: Arc<DevHost>,
    pub site: Arc<Site>,
    pub base: String,
    pub http: reqwest::Client,
}

impl World {
    pub async fn start() -> World {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let host = Arc::new(DevHost::new(Path::new("/nonexistent-node-modules")).unwrap());
        let site = Arc::new(Site::seeded("acme", &base));
        site.set_forge_delivery_policy(DeliveryPolicy {
            base_backoff: Duration::from_millis(10),
            ..lodger_devhost::forge::state::forge_policy()
        });
        let routes = lodger_devhost::routes(Arc::clone(&host), Arc::clone(&site));
        tokio::spawn(warp::serve(routes).incoming(listener).run());
        let http =
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        World { host, site, base, http }
    }

    pub async fn install(&self, remote: &Remote) -> ForgeInstallation {
        let folder = app_folder(&remote.url);
        install::install(&self.host, &self.site, &folder).await.unwrap()
    }

    pub fn cloud_id(&self) -> String {
        self.site.data().forge.cloud_id.clone().unwrap()
    }

    pub fn api_base(&self) -> String {
        format!("{}/ex/jira/{}", self.base, self.cloud_id())
    }

    pub async fn jwks(&self) -> Jwks {
        let url = format!("{}/dev/forge/jwks.json", self.base);
        let body = self.http.get(url).send().await.unwrap().bytes().await.unwrap();
        Jwks::parse(&body).unwrap()
    }

    pub async fn verify(&self, fit: &str) -> InvocationClaims {
        let expect = Expectation { app_id: APP, now: lodger_connect::now() };
        invocation_token::verify(fit, &self.jwks().await, &expect).unwrap()
    }

    /// Calls `method url` with `authorization` and an optional JSON body.
    pub async fn call(
        &self,
        method: Method,
        url: &str,
        auth: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        send_json(self.http.request(method, url).header("Authorization", auth), body).await
    }

    /// Waits until `count` deliveries are logged and all are settled.
    pub async fn settled(&self, count: usize) -> Vec<ForgeDelivery> {
        for _ in 0..500 {
            let deliveries = self.site.forge_deliveries();
            if deliveries.len() >= count && deliveries.iter().all(ForgeDelivery::is_settled) {
                return deliveries;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("deliveries did not settle: {:?}", self.site.forge_deliveries());
    }

    pub async fn create_issue(&self, token: &str) -> Value {
        let body = json!({"fields": {"project": {"key": "LOD"}, "summary": "New", "issuetype": {"name": "Task"}}});
        let url = format!("{}/rest/api/3/issue", self.api_base());
        let (status, created) = self.call(Method::POST, &url, &bearer(token), Some(body)).await;
        assert_eq!(status, 201, "{created}");
        created
    }
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// A Forge app folder whose remote is at `remote`. No `read:jira-user`.
pub fn app_folder(remote: &str) -> PathBuf {
    let folder = std::env::temp_dir().join(format!("lodger-forge-{}", rand_suffix()));
    std::fs::create_dir_all(&folder).unwrap();
    let manifest = format!(
        "app:
  id: {APP}
  runtime: {{name: nodejs22.x}}
  licensing: {{enabled: true}}
  compatibility: {{jira: {{required: true}}, confluence: {{required: false}}}}
modules:
  jira:issuePanel:
    - {{key: panel, title: P, resource: main, resolver: {{endpoint: ui}}}}
  jira:adminPage:
    - {{key: admin, title: A, resource: main, resolver: {{endpoint: admin}}}}
  trigger:
    - {{key: installed, events: [avi:forge:installed:app], endpoint: installed}}
    - {{key: created, events: [avi:jira:created:issue], endpoint: created}}
  endpoint:
    - {{key: ui, remote: r, route: {{path: /forge/invoke}}, auth: {{appSystemToken: {{enabled: true}}, appUserToken: {{enabled: false}}}}}}
    - {{key: admin, remote: r, route: {{path: /forge/invoke-admin}}, auth: {{appSystemToken: {{enabled: true}}, appUserToken: {{enabled: true}}}}}}
    - {{key: installed, remote: r, route: {{path: /forge/events/installed}}, auth: {{appSystemToken: {{enabled: true}}}}}}
    - {{key: created, remote: r, route: {{path: /forge/events/issue-created}}, auth: {{appSystemToken: {{enabled: true}}}}}}
resources:
  - {{key: main, path: static}}
remotes:
  - {{key: r, baseUrl: '{remote}', operations: [compute], auth: {{appSystemToken: {{enabled: true}}, appUserToken: {{enabled: true}}}}}}
permissions:
  scopes: [read:app-system-token, read:app-user-token, read:jira-work, write:jira-work, read:app-data:jira, write:app-data:jira]
"
    );
    std::fs::write(folder.join("manifest.yml"), manifest).unwrap();
    folder
}

pub fn rand_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{}-{nanos}", std::process::id())
}

/// The system token Forge sent with the install event.
pub async fn installed_system_token(world: &World, remote: &Remote) -> String {
    world.settled(1).await;
    let seen = remote.seen_at("/forge/events/installed");
    seen.last().unwrap().header("x-forge-oauth-system").unwrap()
}

/// Sends `request`, with `body` as JSON when given; answers the status and
/// the JSON answer (`null` when there is none).
pub async fn send_json(mut request: reqwest::RequestBuilder, body: Option<Value>) -> (u16, Value) {
    if let Some(body) = body {
        request = request.header("Content-Type", "application/json").body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}
