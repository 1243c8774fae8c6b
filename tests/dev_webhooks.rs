//! Issues, webhooks and fault injection on the emulated Jira site, over
//! loopback: a small test app (its own descriptor, installed through UPM)
//! receives the webhooks, checks them the way an app must, and registers
//! dynamic webhooks as itself.
//!
//! Needs no npm packages: the emulated sites' REST API runs without
//! connect-js. The tests that open a product page that frames apps need
//! `npm ci --prefix tools/devhost` (`support::dev_world::pages`).

mod support;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use lodger::connect::jwt::{Claims, Expectation, UnverifiedToken};
use lodger::connect::qsh::{query_string_hash, relative_path};
use lodger::connect::secret::Secret;
use lodger::devhost::jira::webhooks::state::{DeliveryPolicy, Outcome};
use lodger::devhost::platform::auth::APP_HEADER;
use lodger::devhost::platform::faults::{Faults, RestFault, WebhookFault};
use lodger::devhost::site::{Role, Site};
use serde_json::{Value, json};
use support::dev_world::{deliveries_settled, pages, world};
use support::site_client::{as_app, as_user, http, json_of, session_cookie, user};
use warp::Filter;
use warp::http::{HeaderMap, Method, StatusCode};

const APP: &str = "hooks-test";
/// The descriptor webhook's URL: a query (as a sealed credential would be)
/// that must arrive intact and be covered by the token's qsh.
const DESCRIPTOR_HOOK: &str = "/hooks/descriptor?c=v1.k1.sealed%2Bvalue&x=1";

/// A webhook request as the test app received it.
#[derive(Debug, Clone)]
struct Received {
    /// Path and query, exactly as sent.
    target: String,
    headers: HeaderMap,
    body: Bytes,
    at: Instant,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", |v| v.to_str().unwrap())
    }
}

/// What the receiver answers next: a status and an optional `Retry-After`.
type Answer = (u16, Option<&'static str>);

/// A tiny Connect app: descriptor with one webhook, lifecycle answering
/// 204, and a receiver under `/hooks/` that answers what the test scripts
/// (204 when nothing is scripted).
struct TestApp {
    base_url: String,
    received: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<VecDeque<Answer>>>,
}

impl TestApp {
    async fn install(site: &Site) -> TestApp {
        TestApp::install_with(
            site,
            json!([{"event": "jira:issue_created", "url": DESCRIPTOR_HOOK}]),
        )
        .await
    }

    /// Installs the test app with these descriptor webhooks.
    async fn install_with(site: &Site, webhooks: Value) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let descriptor = json!({
            "key": APP,
            "name": "Webhooks test app",
            "baseUrl": base_url,
            "authentication": {"type": "jwt"},
            "lifecycle": {"installed": "/installed", "uninstalled": "/uninstalled",
                          "enabled": "/enabled", "disabled": "/disabled"},
            "apiMigrations": {"signed-install": true, "context-qsh": true},
            "scopes": ["READ", "WRITE", "DELETE"],
            "modules": {"webhooks": webhooks},
        });
        let received = Arc::new(Mutex::new(Vec::new()));
        let answers: Arc<Mutex<VecDeque<Answer>>> = Arc::new(Mutex::new(VecDeque::new()));
        let (log, script) = (Arc::clone(&received), Arc::clone(&answers));
        let hooks = warp::post()
            .and(warp::path("hooks"))
            .and(warp::path::full())
            .and(warp::query::raw().or(warp::any().map(String::new)).unify())
            .and(warp::header::headers_cloned())
            .and(warp::body::bytes())
            .map(move |path: warp::path::FullPath, query: String, headers, body| {
                let target = if query.is_empty() {
                    path.as_str().to_owned()
                } else {
                    format!("{}?{query}", path.as_str())
                };
                log.lock().unwrap().push(Received { target, headers, body, at: Instant::now() });
                let (status, retry_after) =
                    script.lock().unwrap().pop_front().unwrap_or((204, None));
                let mut response = warp::http::Response::new(String::new());
                *response.status_mut() = StatusCode::from_u16(status).unwrap();
                if let Some(seconds) = retry_after {
                    response.headers_mut().insert("retry-after", seconds.parse().unwrap());
                }
                response
            });
        let lifecycle =
            warp::post().and(warp::path!(String)).map(|_event: String| StatusCode::NO_CONTENT);
        let served = descriptor.clone();
        let app = warp::path!("atlassian-connect.json")
            .map(move || warp::reply::json(&served))
            .or(hooks)
            .or(lifecycle);
        tokio::spawn(warp::serve(app).incoming(listener).run());
        let registration = lodger::host::upm::Registration {
            site: &site.base_url,
            user: &user(site, ADMIN).email,
            token: &user(site, ADMIN).api_token,
            descriptor_url: &format!("{base_url}/atlassian-connect.json"),
        };
        assert_eq!(lodger::host::upm::register(&http(), &registration).await.unwrap(), APP);
        TestApp { base_url, received, answers }
    }

    fn secret(&self, site: &Site) -> Secret {
        site.data().installs[APP].shared_secret.clone()
    }

    fn script(&self, answers: &[Answer]) {
        self.answers.lock().unwrap().extend(answers.iter().copied());
    }

    /// The requests received at `path` (without query) so far.
    fn at(&self, path: &str) -> Vec<Received> {
        let received = self.received.lock().unwrap();
        received.iter().filter(|r| r.target.split('?').next() == Some(path)).cloned().collect()
    }

    /// Waits until `count` requests have arrived at `path`.
    async fn wait_for(&self, path: &str, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got = self.at(path);
            if got.len() >= count {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{count} deliveries at {path} expected, got {got:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Verifies a delivery's token the way an app must: the installation's
    /// secret, the site's clientKey, and the qsh of the URL it arrived at.
    fn verify(&self, site: &Site, delivery: &Received) -> Claims {
        let token = delivery.header("authorization").strip_prefix("JWT ").unwrap();
        let url = format!("{}{}", self.base_url, delivery.target);
        let (path, query) = relative_path(&url, &self.base_url);
        let qsh = query_string_hash("POST", path, query);
        let unverified = UnverifiedToken::parse(token).unwrap();
        assert_eq!(unverified.issuer(), site.client_key);
        unverified.verify(&self.secret(site), &Expectation::request(&qsh, lodger::now())).unwrap()
    }

    /// A REST call to the site signed as this app.
    async fn call(
        &self,
        site: &Site,
        method: Method,
        target: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        as_app(site, APP).call(method, target, body).await
    }
}

fn new_issue(summary: &str) -> Option<Value> {
    Some(
        json!({"fields": {"project": {"key": "LOD"}, "summary": summary, "issuetype": {"name": "Task"}}}),
    )
}

/// The seeded users by role: site admin, project admin, plain user.
const ADMIN: Role = Role::SiteAdmin;
const LEAD: Role = Role::ProjectAdmin;
const DEV: Role = Role::User;

#[tokio::test]
async fn issues_are_created_edited_and_deleted_with_jiras_statuses_and_errors() {
    let world = world().await;
    let site = &world.site;
    let app = TestApp::install(site).await;

    let anonymous = http()
        .post(format!("{}/rest/api/3/issue", site.base_url))
        .header("content-type", "application/json")
        .body(new_issue("Nobody").unwrap().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    let bad = json!({"fields": {"project": {"key": "NOPE"}, "issuetype": {"name": "Task"}}});
    let (status, body) =
        as_user(site, DEV).through(APP).call(Method::POST, "/rest/api/3/issue", Some(bad)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"]["project"], "valid project is required");
    assert_eq!(body["errors"]["summary"], "You must specify a summary of the issue.");
    let no_type = json!({"fields": {"project": {"id": "10000"}, "summary": "No type"}});
    let (status, body) = as_user(site, DEV)
        .through(APP)
        .call(Method::POST, "/rest/api/2/issue", Some(no_type))
        .await;
    assert_eq!((status, &body["errors"]["issuetype"]), (400, &json!("issue type is required")));

    // Ids and key numbers continue from the highest.
    let (highest_id, highest_number) = {
        let data = site.data();
        let id = data.issues.iter().map(|i| i.id.parse::<u64>().unwrap()).max().unwrap();
        let number = data.issues.iter().map(|i| i.key[4..].parse::<u64>().unwrap()).max().unwrap();
        (id, number)
    };
    let (id, key) = ((highest_id + 1).to_string(), format!("LOD-{}", highest_number + 1));
    let (status, created) = as_user(site, DEV)
        .through(APP)
        .call(Method::POST, "/rest/api/3/issue", new_issue("Ship it"))
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!((created["id"].as_str(), created["key"].as_str()), (Some(&*id), Some(&*key)));
    assert_eq!(created["self"], format!("{}/rest/api/3/issue/{id}", site.base_url));
    let issue_path = format!("/rest/api/3/issue/{key}");

    let edit = Some(json!({"fields": {"summary": "Ship it today"}}));
    let (status, _) = as_user(site, DEV).through(APP).call(Method::PUT, &issue_path, edit).await;
    assert_eq!(status, 204);
    let (_, issue) = as_user(site, DEV).through(APP).call(Method::GET, &issue_path, None).await;
    assert_eq!(issue["fields"]["summary"], "Ship it today");
    let update = Some(json!({"update": {"summary": [{"set": "Ship it now"}]}}));
    let (status, _) = as_user(site, DEV)
        .through(APP)
        .call(Method::PUT, &format!("/rest/api/3/issue/{id}"), update)
        .await;
    assert_eq!(status, 204);
    assert_eq!(site.issue(&key).unwrap().summary, "Ship it now");
    let (status, body) = as_user(site, DEV)
        .through(APP)
        .call(
            Method::PUT,
            &issue_path,
            Some(json!({"fields": {"summary": "", "priority": {"name": "High"}}})),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"]["summary"], "You must specify a summary of the issue.");
    assert!(body["errors"]["priority"].as_str().unwrap().contains("cannot be set"), "{body}");
    let (status, _) = as_user(site, DEV)
        .through(APP)
        .call(Method::PUT, "/rest/api/3/issue/LOD-99", Some(json!({"fields": {"summary": "x"}})))
        .await;
    assert_eq!(status, 404);

    // Deleting needs the project's administrators; apps need DELETE.
    let (status, _) = as_user(site, DEV).through(APP).call(Method::DELETE, &issue_path, None).await;
    assert_eq!(status, 403);
    let claims =
        Claims::new("lodger", lodger::now(), 60, &query_string_hash("DELETE", &issue_path, ""));
    let secret = site.data().installs["lodger"].shared_secret.clone();
    let lodger_delete = http()
        .delete(format!("{}{issue_path}", site.base_url))
        .header("authorization", format!("JWT {}", lodger::connect::jwt::sign(&claims, &secret)))
        .send()
        .await
        .unwrap();
    assert_eq!(lodger_delete.status(), 403, "lodger's descriptor has no DELETE scope");
    let (status, _) =
        as_user(site, LEAD).through(APP).call(Method::DELETE, &issue_path, None).await;
    assert_eq!(status, 204);
    let (status, _) = as_user(site, DEV).through(APP).call(Method::GET, &issue_path, None).await;
    assert_eq!(status, 404);
    let (status, _) = app.call(site, Method::DELETE, &issue_path, None).await;
    assert_eq!(status, 404);

    // Keys and ids are never handed out twice, even after a delete.
    let (status, created) =
        app.call(site, Method::POST, "/rest/api/3/issue", new_issue("Made by the app")).await;
    assert_eq!(status, 201, "{created}");
    let again = ((highest_id + 2).to_string(), format!("LOD-{}", highest_number + 2));
    assert_eq!(
        (created["id"].as_str(), created["key"].as_str()),
        (Some(&*again.0), Some(&*again.1))
    );
    let (status, _) =
        app.call(site, Method::DELETE, &format!("/rest/api/3/issue/{}", again.1), None).await;
    assert_eq!(status, 204);
}

#[tokio::test]
async fn a_descriptor_webhook_arrives_signed_for_its_url_query_included() {
    let world = world().await;
    let site = &world.site;
    let app = TestApp::install(site).await;

    let (status, created) = as_user(site, ADMIN)
        .through(APP)
        .call(Method::POST, "/rest/api/3/issue", new_issue("Hello hooks"))
        .await;
    assert_eq!(status, 201);
    let delivery = app.wait_for("/hooks/descriptor", 1).await.remove(0);
    assert_eq!(delivery.target, DESCRIPTOR_HOOK, "the query arrives as declared");
    let claims = app.verify(site, &delivery);
    assert!(claims.exp - claims.iat <= 180, "a short-lived token");
    assert!(!delivery.header("x-atlassian-webhook-identifier").is_empty());
    assert_eq!(delivery.header("x-atlassian-webhook-retry"), "0");
    let body = delivery.json();
    assert_eq!(body["webhookEvent"], "jira:issue_created");
    assert_eq!(body["issue"]["key"], created["key"]);
    assert_eq!(body["issue"]["id"], created["id"]);
    assert_eq!(body["issue"]["fields"]["summary"], "Hello hooks");
    assert_eq!(body["issue"]["fields"]["project"]["key"], "LOD");
    assert_eq!(body["user"]["accountId"], user(site, ADMIN).account_id.as_str());
    assert!(body["timestamp"].as_i64().unwrap() > 1_700_000_000_000);
    assert!(body.get("matchedWebhookIds").is_none());
    let log = site.data().webhooks.deliveries.clone();
    assert!(log.iter().any(|r| r.app_key == APP
        && r.outcome == Outcome::Delivered { status: 204 }
        && !r.url.contains('?')));
    // The descriptor asks for creations only.
    let (status, _) = as_user(site, ADMIN)
        .through(APP)
        .call(
            Method::PUT,
            &format!("/rest/api/3/issue/{}", created["key"].as_str().unwrap()),
            Some(json!({"fields": {"summary": "Edited"}})),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(deliveries_settled(site, APP).await.len(), 1, "the edit fired no delivery");
    assert_eq!(app.at("/hooks/descriptor").len(), 1);
}

/// Issue 16, item 4 ("descriptor webhook `filter`"): a descriptor
/// webhook's JQL `filter` decides whether it is sent (Atlassian: "Webhook"
/// module); a filter the emulator cannot read sends nothing and says why.
#[tokio::test]
async fn a_descriptor_filter_sends_an_issue_event_only_to_the_webhook_it_matches() {
    use lodger::devhost::inspector::exchanges::{Kind, Selection};
    let world = world().await;
    let site = &world.site;
    let app = TestApp::install_with(
        site,
        json!([
            {"event": "jira:issue_created", "url": "/hooks/lod", "filter": "project = LOD AND issuetype = Task"},
            {"event": "jira:issue_created", "url": "/hooks/other", "filter": "project = OTHER"},
            {"event": "jira:issue_created", "url": "/hooks/unreadable", "filter": "summary ~ hooks"},
        ]),
    )
    .await;
    let (status, created) = app
        .call(site, Method::POST, "/rest/api/3/issue", new_issue("Filtered by the descriptor"))
        .await;
    assert_eq!(status, 201, "{created}");
    let delivery = app.wait_for("/hooks/lod", 1).await.remove(0);
    app.verify(site, &delivery);
    assert_eq!(delivery.json()["issue"]["key"], created["key"]);
    let settled = deliveries_settled(site, APP).await;
    assert_eq!(settled.len(), 1, "one delivery only: {settled:?}");
    assert!(app.at("/hooks/other").is_empty(), "project = OTHER does not match");
    assert!(app.at("/hooks/unreadable").is_empty(), "a refused filter sends nothing");
    let selection = Selection { kind: Some(Kind::Webhook), ..Selection::default() };
    let refused = site.exchanges().newest_first(&selection);
    let refused: Vec<_> = refused.iter().filter(|e| e.url.ends_with("/hooks/unreadable")).collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    let error = refused[0].error.as_deref().unwrap_or_default();
    assert!(error.contains("The clause summary is unsupported"), "{error}");
}

/// Issue 16, item 4 ("property events"): writing and deleting an issue's
/// property fires `issue_property_set` and `issue_property_deleted`
/// (Atlassian: "Webhooks"), to descriptor webhooks and to dynamic ones
/// whose `issuePropertyKeysFilter` names the key; project properties fire
/// nothing.
#[tokio::test]
async fn issue_property_writes_and_deletions_fire_property_events() {
    let world = world().await;
    let site = &world.site;
    let app = TestApp::install_with(
        site,
        json!([
            {"event": "issue_property_set", "url": "/hooks/set"},
            {"event": "issue_property_deleted", "url": "/hooks/deleted", "filter": "project = LOD"},
        ]),
    )
    .await;
    let url = format!("{}/hooks/dynamic", app.base_url);
    let (status, body) = app
        .call(
            site,
            Method::POST,
            "/rest/api/3/webhook",
            Some(json!({"url": url, "webhooks": [
                {"events": ["issue_property_set"], "jqlFilter": "project = LOD", "issuePropertyKeysFilter": ["wanted"]},
            ]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let id = body["webhookRegistrationResult"][0]["createdWebhookId"].as_u64().unwrap();

    let property = |key: &str| format!("/rest/api/3/issue/LOD-1/properties/{key}");
    let (status, _) =
        app.call(site, Method::PUT, &property("wanted"), Some(json!({"open": 2}))).await;
    assert_eq!(status, 201);
    let (status, _) = app.call(site, Method::PUT, &property("other"), Some(json!(true))).await;
    assert_eq!(status, 201);
    let (status, _) = app.call(site, Method::DELETE, &property("wanted"), None).await;
    assert_eq!(status, 204);
    let (status, _) = app
        .call(site, Method::PUT, "/rest/api/3/project/LOD/properties/quiet", Some(json!(1)))
        .await;
    assert_eq!(status, 201);

    let set = app.wait_for("/hooks/set", 2).await;
    let deleted = app.wait_for("/hooks/deleted", 1).await;
    let dynamic = app.wait_for("/hooks/dynamic", 1).await;
    let settled = deliveries_settled(site, APP).await;
    assert_eq!(settled.len(), 4, "two sets, one deletion, one dynamic: {settled:?}");
    for delivery in set.iter().chain(&deleted).chain(&dynamic) {
        app.verify(site, delivery);
    }
    let bodies: Vec<Value> = set.iter().map(Received::json).collect();
    let mut keys: Vec<&str> =
        bodies.iter().map(|b| b["property"]["key"].as_str().unwrap()).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["other", "wanted"]);
    let wanted = bodies.iter().find(|b| b["property"]["key"] == "wanted").unwrap();
    assert_eq!(wanted["webhookEvent"], "issue_property_set");
    assert_eq!(wanted["property"]["value"], json!({"open": 2}));
    assert_eq!(wanted["issue"]["key"], "LOD-1");
    let gone = deleted[0].json();
    assert_eq!(gone["webhookEvent"], "issue_property_deleted");
    assert_eq!(gone["property"], json!({"key": "wanted"}));
    let matched = dynamic[0].json();
    assert_eq!(matched["property"]["key"], "wanted", "the keys filter lets only `wanted` through");
    assert_eq!(matched["matchedWebhookIds"], json!([id]));
}

#[tokio::test]
async fn dynamic_registration_answers_per_webhook_and_keeps_one_url_per_app() {
    let world = world().await;
    let site = &world.site;
    let app = TestApp::install(site).await;
    let url = format!("{}/hooks/dynamic?c=v1.k1.abc", app.base_url);

    let (status, body) = app
        .call(
            site,
            Method::POST,
            "/rest/api/2/webhook",
            Some(json!({"url": url, "webhooks": [
                {"events": ["jira:issue_created", "jira:issue_updated"], "jqlFilter": "project = LOD", "fieldIdsFilter": ["summary"]},
                {"events": ["jira:issue_created"], "jqlFilter": "project = LOD AND watchCount > 3"},
                {"events": ["jira:issue_created"], "jqlFilter": "project ~ LOD"},
                {"events": ["jira:issue_created"], "jqlFilter": "issuetype IN (Bug, Task) AND status != Done"},
            ]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let results = body["webhookRegistrationResult"].as_array().unwrap();
    let first = results[0]["createdWebhookId"].as_u64().unwrap();
    assert_eq!(results[1], json!({"errors": ["The clause watchCount is unsupported"]}));
    assert!(results[2]["errors"][0].as_str().unwrap().contains("'~' is unsupported"));
    let fourth = results[3]["createdWebhookId"].as_u64().unwrap();
    assert!(fourth > first);

    // Outside the base URL, relative, or a second URL: an errors entry each.
    for wrong in [
        "http://127.0.0.1:9/hooks/dynamic".to_owned(),
        "/hooks/dynamic".to_owned(),
        format!("{}/hooks/other", app.base_url),
    ] {
        let (status, body) = app
            .call(
                site,
                Method::POST,
                "/rest/api/3/webhook",
                Some(json!({"url": wrong, "webhooks": [{"events": ["jira:issue_created"], "jqlFilter": "project = LOD"}]})),
            )
            .await;
        assert_eq!(status, 200);
        let result = &body["webhookRegistrationResult"][0];
        assert!(result["createdWebhookId"].is_null(), "{wrong} was accepted: {body}");
        assert!(!result["errors"][0].as_str().unwrap().is_empty());
    }
    // A person, even through the app's iframe, is not the app.
    let (status, body) = as_user(site, ADMIN).through(APP).call(Method::POST, "/rest/api/3/webhook", Some(json!({"url": url, "webhooks": [{"events": ["jira:issue_created"], "jqlFilter": "project = LOD"}]})))
    .await;
    assert_eq!((status, &body["errorMessages"][0]), (403, &json!("The caller isn't an app.")));

    let (status, page) =
        app.call(site, Method::GET, "/rest/api/3/webhook?maxResults=1", None).await;
    assert_eq!(status, 200);
    assert_eq!((page["total"].as_u64(), page["isLast"].as_bool()), (Some(2), Some(false)));
    let listed = &page["values"][0];
    assert_eq!(listed["id"].as_u64(), Some(first));
    assert_eq!(listed["jqlFilter"], "project = LOD");
    assert_eq!(listed["events"], json!(["jira:issue_created", "jira:issue_updated"]));
    assert_eq!(listed["fieldIdsFilter"], json!(["summary"]));
    let expires = listed["expirationDate"].as_i64().unwrap();
    let in_30_days = (lodger::now() + 30 * 24 * 3600) * 1000;
    assert!((expires - in_30_days).abs() < 60_000, "{expires} vs {in_30_days}");

    // Lapsed registrations are gone: backdate one, refresh the other.
    site.data().webhooks.registrations.iter_mut().for_each(|r| {
        if r.id == fourth {
            r.expires_at_ms = 0;
        }
    });
    let (status, refreshed) = app
        .call(
            site,
            Method::PUT,
            "/rest/api/3/webhook/refresh",
            Some(json!({"webhookIds": [first, fourth]})),
        )
        .await;
    assert_eq!(status, 200);
    assert!(refreshed["expirationDate"].as_i64().unwrap() >= expires);
    let (_, page) = app.call(site, Method::GET, "/rest/api/3/webhook", None).await;
    assert_eq!(page["total"], 1, "{page}");

    let (status, _) = app
        .call(site, Method::DELETE, "/rest/api/3/webhook", Some(json!({"webhookIds": [first]})))
        .await;
    assert_eq!(status, 202);
    let (_, page) = app.call(site, Method::GET, "/rest/api/3/webhook", None).await;
    assert_eq!((page["total"].as_u64(), page["isLast"].as_bool()), (Some(0), Some(true)));
    // With the old URL's registrations gone, another URL is accepted.
    let (_, body) = app
        .call(
            site,
            Method::POST,
            "/rest/api/3/webhook",
            Some(json!({"url": format!("{}/hooks/other", app.base_url), "webhooks": [{"events": ["jira:issue_deleted"], "jqlFilter": "project = LOD"}]})),
        )
        .await;
    assert!(body["webhookRegistrationResult"][0]["createdWebhookId"].is_u64(), "{body}");
}

#[tokio::test]
async fn a_jql_filter_decides_which_dynamic_webhooks_an_event_matches() {
    let world = world().await;
    let site = &world.site;
    let app = TestApp::install(site).await;
    let url = format!("{}/hooks/dynamic?c=v1.k1.abc%2F", app.base_url);
    let (_, body) = app
        .call(
            site,
            Method::POST,
            "/rest/api/3/webhook",
            Some(json!({"url": url, "webhooks": [
                {"events": ["jira:issue_created", "jira:issue_deleted"], "jqlFilter": "project = LOD"},
                {"events": ["jira:issue_created"], "jqlFilter": "project = OTHER"},
                {"events": ["jira:issue_updated"], "jqlFilter": "issuekey in (LOD-2, LOD-3)"},
            ]})),
        )
        .await;
    let ids: Vec<u64> = body["webhookRegistrationResult"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["createdWebhookId"].as_u64().unwrap())
        .collect();

    let (status, created) =
        app.call(site, Method::POST, "/rest/api/3/issue", new_issue("Filtered")).await;
    assert_eq!(status, 201);
    let delivery = app.wait_for("/hooks/dynamic", 1).await.remove(0);
    assert_eq!(delivery.target, "/hooks/dynamic?c=v1.k1.abc%2F");
    app.verify(site, &delivery);
    let body = delivery.json();
    assert_eq!(body["webhookEvent"], "jira:issue_created");
    assert_eq!(body["matchedWebhookIds"], json!([ids[0]]), "project = OTHER does not match");
    assert!(body.get("user").is_none(), "the app made the change");

    // Editing LOD-1 matches no `issuekey in (LOD-2, LOD-3)`; LOD-2 does.
    for key in ["LOD-1", "LOD-2"] {
        let edit = Some(json!({"fields": {"summary": format!("{key} edited")}}));
        let (status, _) =
            app.call(site, Method::PUT, &format!("/rest/api/3/issue/{key}"), edit).await;
        assert_eq!(status, 204);
    }
    let deliveries = app.wait_for("/hooks/dynamic", 2).await;
    let updated = deliveries[1].json();
    assert_eq!(updated["issue"]["key"], "LOD-2");
    assert_eq!(updated["matchedWebhookIds"], json!([ids[2]]));
    assert_eq!(updated["changelog"]["items"][0]["field"], "summary");
    assert_eq!(updated["changelog"]["items"][0]["toString"], "LOD-2 edited");

    let key = created["key"].as_str().unwrap();
    let (status, _) =
        app.call(site, Method::DELETE, &format!("/rest/api/3/issue/{key}"), None).await;
    assert_eq!(status, 204);
    let deliveries = app.wait_for("/hooks/dynamic", 3).await;
    let deleted = deliveries[2].json();
    assert_eq!(
        (&deleted["webhookEvent"], &deleted["issue"]["key"]),
        (&json!("jira:issue_deleted"), &json!(key))
    );
    deliveries_settled(site, APP).await;
    assert_eq!(app.at("/hooks/dynamic").len(), 3, "nothing else matched");
}

#[tokio::test]
async fn a_delivery_answered_503_is_retried_with_the_same_identifier() {
    let world = world().await;
    let site = &world.site;
    let app = TestApp::install(site).await;
    site.set_delivery_policy(DeliveryPolicy {
        base_backoff: Duration::from_millis(50),
        ..DeliveryPolicy::default()
    });
    app.script(&[(503, None)]);
    let (status, _) =
        app.call(site, Method::POST, "/rest/api/3/issue", new_issue("Retry me")).await;
    assert_eq!(status, 201);
    let deliveries = app.wait_for("/hooks/descriptor", 2).await;
    let (first, second) = (&deliveries[0], &deliveries[1]);
    assert_eq!(
        first.header("x-atlassian-webhook-identifier"),
        second.header("x-atlassian-webhook-identifier")
    );
    assert_eq!(
        (first.header("x-atlassian-webhook-retry"), second.header("x-atlassian-webhook-retry")),
        ("0", "1")
    );
    assert_eq!(first.body, second.body, "the same event, delivered twice");
    app.verify(site, second);
    assert!(second.at - first.at >= Duration::from_millis(50));
    deliveries_settled(site, APP).await;
    assert_eq!(app.at("/hooks/descriptor").len(), 2, "no retry after the 204");
    let record =
        site.data().webhooks.deliveries.iter().find(|r| r.app_key == APP).cloned().unwrap();
    assert_eq!((record.attempts, record.outcome), (2, Outcome::Delivered { status: 204 }));
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_and_a_400_ends_in_the_failed_list() {
    let world = world().await;
    let site = &world.site;
    let app = TestApp::install(site).await;
    site.set_delivery_policy(DeliveryPolicy {
        base_backoff: Duration::from_millis(50),
        ..DeliveryPolicy::default()
    });
    app.script(&[(429, Some("1"))]);
    let (status, _) =
        app.call(site, Method::POST, "/rest/api/3/issue", new_issue("Slow down")).await;
    assert_eq!(status, 201);
    let deliveries = app.wait_for("/hooks/descriptor", 2).await;
    let waited = deliveries[1].at - deliveries[0].at;
    assert!(waited >= Duration::from_millis(950), "Retry-After: 1 honoured, waited {waited:?}");
    assert_eq!(deliveries[1].header("x-atlassian-webhook-retry"), "1");

    // A 400 is not retried: the delivery fails for good and is listed.
    app.script(&[(400, None)]);
    let (status, _) = app.call(site, Method::POST, "/rest/api/3/issue", new_issue("Refused")).await;
    assert_eq!(status, 201);
    app.wait_for("/hooks/descriptor", 3).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    let failed = loop {
        let (status, failed) =
            app.call(site, Method::GET, "/rest/api/3/webhook/failed", None).await;
        assert_eq!(status, 200);
        if !failed["values"].as_array().unwrap().is_empty() || Instant::now() > deadline {
            break failed;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let entry = &failed["values"][0];
    assert_eq!(entry["url"], format!("{}{DESCRIPTOR_HOOK}", app.base_url));
    let sent: Value = serde_json::from_str(entry["body"].as_str().unwrap()).unwrap();
    assert_eq!(sent["issue"]["fields"]["summary"], "Refused");
    assert!(entry["failureTime"].as_i64().unwrap() > 0);
    deliveries_settled(site, APP).await;
    assert_eq!(app.at("/hooks/descriptor").len(), 3, "a 400 is not retried");
}

#[tokio::test]
async fn injected_faults_hit_host_rest_calls_only() {
    if !pages() {
        return;
    }
    let world = world().await;
    let site = &world.site;
    let faults = format!("{}/dev/api/faults", site.base_url);
    let set = http()
        .put(&faults)
        .header("content-type", "application/json")
        .body(json!({"rate": 1.0, "kind": {"tooManyRequests": {"retryAfterSecs": 7}}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    let limited = http()
        .get(format!("{}/rest/api/3/issue/LOD-1", site.base_url))
        .header("cookie", session_cookie(&user(site, DEV).account_id))
        .header(APP_HEADER, "lodger")
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["retry-after"], "7");
    let (_, body) = json_of(limited).await;
    assert!(body["errorMessages"][0].is_string());
    // Pages, UPM and /dev are not the REST API.
    assert_eq!(http().get(&world.issue_url).send().await.unwrap().status(), 200);
    assert_eq!(http().get(&faults).send().await.unwrap().status(), 200);
    let upm = http().get(format!("{}/rest/plugins/1.0/", site.base_url)).send().await.unwrap();
    assert_eq!(upm.status(), 401, "UPM answers for itself");
    let invalid = http()
        .put(&faults)
        .header("content-type", "application/json")
        .body(json!({"rate": 2}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), 400);

    site.set_faults(Faults {
        rate: 1.0,
        kind: Some(RestFault::ServerError(503)),
        ..Faults::default()
    })
    .unwrap();
    let (status, body) =
        as_user(site, DEV).call(Method::GET, "/rest/api/3/issue/LOD-1", None).await;
    assert_eq!(status, 503);
    assert!(body["errorMessages"][0].is_string());

    site.set_faults(Faults {
        rate: 1.0,
        kind: Some(RestFault::Slow { millis: 300 }),
        ..Faults::default()
    })
    .unwrap();
    let started = Instant::now();
    let (status, _) = as_user(site, DEV).call(Method::GET, "/rest/api/3/issue/LOD-1", None).await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));

    let cleared = http().delete(&faults).send().await.unwrap();
    assert_eq!(cleared.status(), 204);
    let (status, _) = as_user(site, DEV).call(Method::GET, "/rest/api/3/issue/LOD-1", None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn dropped_webhooks_are_never_delivered_and_delayed_ones_arrive_late() {
    let world = world().await;
    let site = &world.site;
    let app = TestApp::install(site).await;
    site.set_faults(Faults { rate: 1.0, kind: None, webhooks: WebhookFault::Drop, path: None })
        .unwrap();
    let (status, _) = app.call(site, Method::POST, "/rest/api/3/issue", new_issue("Lost")).await;
    assert_eq!(status, 201, "REST is untouched when only webhooks are faulty");
    assert!(site.data().webhooks.deliveries.iter().any(|r| r.outcome == Outcome::Dropped));
    deliveries_settled(site, APP).await;
    assert!(app.at("/hooks/descriptor").is_empty());

    site.set_faults(Faults {
        rate: 1.0,
        kind: None,
        webhooks: WebhookFault::Delay { millis: 300 },
        path: None,
    })
    .unwrap();
    let started = Instant::now();
    let (status, _) = app.call(site, Method::POST, "/rest/api/3/issue", new_issue("Late")).await;
    assert_eq!(status, 201);
    let delivery = app.wait_for("/hooks/descriptor", 1).await.remove(0);
    assert!(delivery.at - started >= Duration::from_millis(300));
    assert_eq!(delivery.json()["issue"]["fields"]["summary"], "Late");
}
