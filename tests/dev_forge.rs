//! lodger's Forge flavour end to end on the emulated Forge platform: the app
//! folder `lodger export --forge` writes, installed into a site as `forge
//! install` would; `lodger serve` as its remote (alone, no master key),
//! verifying the platform's invocation tokens with the platform's key set
//! and calling the site at the token's `apiBaseUrl` with the product token
//! it was handed.
//!
//! Between the platform and the remote sits a recording proxy that hands
//! every call to two replicas, and to the first one twice: what Forge's
//! redeliveries and a load balancer do. The project template must still be
//! applied once.

mod support;

use std::sync::{Arc, Mutex};

use lodger::config::ForgeConfig;
use lodger::connect::installation::Product;
use lodger::dev::world::{DEV_FORGE_APP_ID, Sites};
use lodger::devhost::forge::install::api_base_url;
use lodger::devhost::forge::invoke::{UiInvocation, invoke};
use lodger::devhost::forge::state::ForgeDelivery;
use lodger::devhost::site::{Role, Site};
use lodger::forge::paths::{EVENT_INSTALLED, EVENT_ISSUE_CREATED};
use serde_json::{Value, json};
use support::ace::{ForgeRequest, check_forge_tokens};
use support::eventually;
use support::prerequisites::{Prerequisite, require};
use warp::Filter;

/// One call the platform made to the remote, and what each replica answered.
#[derive(Debug, Clone)]
struct Exchange {
    path: String,
    authorization: Option<String>,
    system_token: Option<String>,
    answers: Vec<(u16, Value)>,
}

type Exchanges = Arc<Mutex<Vec<Exchange>>>;

/// Forwards each call to `replicas[0]` and `replicas[1]` at once, then to
/// `replicas[0]` again, and answers with the first answer.
async fn proxy(replicas: Vec<String>) -> (String, Exchanges) {
    let exchanges: Exchanges = Arc::default();
    let record = exchanges.clone();
    let route =
        warp::method()
            .and(warp::path::full())
            .and(warp::header::headers_cloned())
            .and(warp::body::bytes())
            .then(
                move |method: warp::http::Method,
                      path: warp::path::FullPath,
                      headers: warp::http::HeaderMap,
                      body: bytes::Bytes| {
                    let (replicas, record) = (replicas.clone(), record.clone());
                    async move {
                        let forward = |replica: String| {
                            let mut request = support::site_client::http()
                                .request(
                                    method.as_str().parse().unwrap(),
                                    format!("{replica}{}", path.as_str()),
                                )
                                .body(body.clone());
                            for name in [
                                "authorization",
                                "x-forge-oauth-system",
                                "x-forge-oauth-user",
                                "content-type",
                            ] {
                                if let Some(value) = headers.get(name) {
                                    request = request.header(name, value.to_str().unwrap());
                                }
                            }
                            async move {
                                support::site_client::json_of(request.send().await.unwrap()).await
                            }
                        };
                        let (first, second) = tokio::join!(
                            forward(replicas[0].clone()),
                            forward(replicas[1].clone())
                        );
                        let again = forward(replicas[0].clone()).await;
                        let header =
                            |name: &str| headers.get(name).map(|v| v.to_str().unwrap().to_owned());
                        record.lock().unwrap().push(Exchange {
                            path: path.as_str().to_owned(),
                            authorization: header("authorization"),
                            system_token: header("x-forge-oauth-system"),
                            answers: vec![first.clone(), second, again],
                        });
                        let status = warp::http::StatusCode::from_u16(first.0).unwrap();
                        warp::reply::with_status(warp::reply::json(&first.1), status)
                    }
                },
            );
    (format!("http://{}", support::spawn(route).await), exchanges)
}

struct ForgeWorld {
    sites: Sites,
    exchanges: Exchanges,
}

impl ForgeWorld {
    fn site(&self) -> &Arc<Site> {
        &self.sites.sites[0]
    }

    /// The exchanges so far on `path`.
    fn on(&self, path: &str) -> Vec<Exchange> {
        self.exchanges.lock().unwrap().iter().filter(|e| e.path == path).cloned().collect()
    }

    /// The system token the platform handed the remote with its install event.
    async fn system_token(&self) -> String {
        eventually("the install event reached the remote", async || {
            !self.on(EVENT_INSTALLED).is_empty()
        })
        .await;
        self.on(EVENT_INSTALLED)[0]
            .system_token
            .clone()
            .expect("the install event carries a system token")
    }

    /// Calls the site's REST API as the Forge app, at its `apiBaseUrl`.
    async fn as_app(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let base = api_base_url(self.site(), Product::Jira).unwrap();
        let mut request = support::site_client::http()
            .request(method.parse().unwrap(), format!("{base}{path}"))
            .header("authorization", format!("Bearer {}", self.system_token().await));
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        support::site_client::json_of(request.send().await.unwrap()).await
    }

    /// Creates an issue in the first project (as the app) and waits until
    /// the platform settled the trigger's delivery; returns the issue id.
    async fn new_issue(&self) -> (String, ForgeDelivery) {
        let project = &self.site().projects[0];
        let body = json!({"fields": {"project": {"key": project.key}, "summary": "Ship it", "issuetype": {"name": "Task"}}});
        let (status, created) = self.as_app("POST", "/rest/api/3/issue", Some(body)).await;
        assert_eq!(status, 201, "{created}");
        let delivery = settled(self.site(), "avi:jira:created:issue").await;
        (created["id"].as_str().unwrap().to_owned(), delivery.last().cloned().unwrap())
    }

    async fn checklist(&self, issue_id: &str) -> Option<Value> {
        let path = format!("/rest/api/3/issue/{issue_id}/properties/lodger-checklist");
        let (status, body) = self.as_app("GET", &path, None).await;
        (status == 200).then(|| body["value"].clone())
    }

    /// A page of `module_key` calls the remote as `role`'s first user.
    async fn ui(&self, module_key: &str, role: Role, body: Value) -> (u16, Value) {
        let site = self.site();
        let user = site.users.iter().find(|u| u.role == role).unwrap();
        let invocation = UiInvocation {
            module_key: module_key.into(),
            account_id: Some(user.account_id.clone()),
            extension: json!({"type": module_key}),
            method: "POST".into(),
            path: String::new(),
            body: Some(body.to_string()),
        };
        let answer = invoke(&self.sites.host, site, DEV_FORGE_APP_ID, invocation).await.unwrap();
        (answer.status, serde_json::from_str(&answer.body).unwrap_or(Value::Null))
    }
}

/// The settled deliveries of `event` on `site`.
async fn settled(site: &Site, event: &str) -> Vec<ForgeDelivery> {
    let of_event =
        || site.forge_deliveries().into_iter().filter(|d| d.event == event).collect::<Vec<_>>();
    eventually(&format!("{event} deliveries settle"), async || {
        let deliveries = of_event();
        !deliveries.is_empty() && deliveries.iter().all(ForgeDelivery::is_settled)
    })
    .await;
    of_event()
}

/// Two sites, lodger's Forge app installed in them, two replicas of a
/// Forge-only `lodger serve` behind the recording proxy.
async fn forge_world() -> ForgeWorld {
    let options = support::dev_world::options();
    let sites = Sites::start(&options).await.unwrap();
    let mut config = support::config("http://127.0.0.1:9", Vec::new());
    config.forge = Some(ForgeConfig {
        app_id: DEV_FORGE_APP_ID.to_owned(),
        jwks_url: Some(sites.forge_jwks_url()),
    });
    let mut replicas = Vec::new();
    for _ in 0..2 {
        let routes = lodger::web::server::routes(&config).unwrap();
        replicas.push(format!("http://{}", support::spawn(routes).await));
    }
    let (proxy, exchanges) = proxy(replicas).await;
    sites.install_forge(&proxy, DEV_FORGE_APP_ID).await.unwrap();
    ForgeWorld { sites, exchanges }
}

fn template(world: &ForgeWorld, items: &[&str]) {
    let project = world.site().projects[0].id.clone();
    let items: Vec<Value> = items.iter().map(|text| json!({"text": text})).collect();
    world
        .site()
        .data()
        .project_properties
        .insert((project, "lodger-template".into()), json!({"items": items}));
}

#[tokio::test]
async fn the_install_event_is_verified_and_acknowledged_by_every_replica() {
    // The export bundles @forge/bridge with tools/forge's esbuild.
    if !require(Prerequisite::ForgeManifest) {
        return;
    }
    let world = forge_world().await;
    let delivery = settled(world.site(), "avi:forge:installed:app").await;
    assert_eq!(delivery[0].statuses, vec![Some(204)], "{delivery:?}");
    let answers: Vec<u16> = world.on(EVENT_INSTALLED)[0].answers.iter().map(|(s, _)| *s).collect();
    assert_eq!(answers, vec![204, 204, 204]);
}

#[tokio::test]
async fn a_new_issue_gets_its_template_once_though_delivered_three_times_to_two_replicas() {
    // The export bundles @forge/bridge with tools/forge's esbuild.
    if !require(Prerequisite::ForgeManifest) {
        return;
    }
    let world = forge_world().await;
    template(&world, &["Write tests", "Update the changelog"]);
    let (issue, delivery) = world.new_issue().await;
    assert_eq!(delivery.statuses, vec![Some(200)], "{delivery:?}");

    // Every copy succeeded. Two replicas racing with the same event write the
    // same value, so each may read its own back and say "applied": what
    // matters is that the items are there once.
    let exchange = world.on(EVENT_ISSUE_CREATED).pop().unwrap();
    let outcomes: Vec<&str> =
        exchange.answers.iter().map(|(_, body)| body["outcome"].as_str().unwrap()).collect();
    assert!(outcomes.contains(&"applied"), "{outcomes:?}");
    assert!(
        outcomes.iter().all(|o| ["applied", "already-has-checklist"].contains(o)),
        "{outcomes:?}"
    );
    assert_eq!(exchange.answers[2].1["outcome"], "already-has-checklist", "the redelivery");

    let checklist = world.checklist(&issue).await.expect("the issue has a checklist");
    let texts: Vec<&str> = checklist["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, vec!["Write tests", "Update the changelog"]);
    assert_eq!(checklist["total"], 2, "{checklist}");

    // The manifest's `jira:entityProperty` makes it searchable.
    let body = json!({"jql": "issue.property[lodger-checklist].open = 2", "fields": ["summary"]});
    let (status, found) = world.as_app("POST", "/rest/api/3/search/jql", Some(body)).await;
    assert_eq!(status, 200, "{found}");
    let ids: Vec<&str> =
        found["issues"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![issue.as_str()], "{found}");
}

#[tokio::test]
async fn only_a_site_admin_turns_templates_off_and_then_new_issues_get_none() {
    // The export bundles @forge/bridge with tools/forge's esbuild.
    if !require(Prerequisite::ForgeManifest) {
        return;
    }
    let world = forge_world().await;
    template(&world, &["Write tests"]);
    let off = json!({"action": "putSettings", "settings": {"applyTemplates": false, "showWhoTicked": true}});

    let (status, answer) = world.ui("checklist-settings", Role::User, off.clone()).await;
    assert_eq!(status, 403, "{answer}");
    let (status, answer) = world.ui("checklist-panel", Role::SiteAdmin, off.clone()).await;
    assert_eq!(status, 403, "settings from the issue panel's endpoint: {answer}");
    let read = json!({"action": "getSettings"});
    let (_, answer) = world.ui("checklist-panel", Role::User, read.clone()).await;
    assert_eq!(answer["settings"]["applyTemplates"], true, "unchanged: {answer}");

    let (status, answer) = world.ui("checklist-settings", Role::SiteAdmin, off).await;
    assert_eq!(status, 200, "{answer}");
    let (_, answer) = world.ui("checklist-panel", Role::User, read).await;
    assert_eq!(answer["settings"]["applyTemplates"], false, "{answer}");

    let (issue, delivery) = world.new_issue().await;
    assert_eq!(delivery.statuses, vec![Some(200)]);
    let outcome = &world.on(EVENT_ISSUE_CREATED).pop().unwrap().answers[0].1["outcome"];
    assert_eq!(outcome, "turned-off");
    assert_eq!(world.checklist(&issue).await, None);
}

#[tokio::test]
async fn an_unlicensed_site_gets_no_template() {
    // The export bundles @forge/bridge with tools/forge's esbuild.
    if !require(Prerequisite::ForgeManifest) {
        return;
    }
    let world = forge_world().await;
    template(&world, &["Write tests"]);
    world.site().data().license_active.insert(DEV_FORGE_APP_ID.into(), false);
    let (issue, _) = world.new_issue().await;
    let outcome = &world.on(EVENT_ISSUE_CREATED).pop().unwrap().answers[0].1["outcome"];
    assert_eq!(outcome, "unlicensed");
    assert_eq!(world.checklist(&issue).await, None);
    let (_, whoami) = world.ui("checklist-panel", Role::User, json!({"action": "whoami"})).await;
    assert_eq!(whoami["licensed"], false, "{whoami}");
}

#[tokio::test]
async fn a_page_learns_what_the_remote_verified_about_it() {
    // The export bundles @forge/bridge with tools/forge's esbuild.
    if !require(Prerequisite::ForgeManifest) {
        return;
    }
    let world = forge_world().await;
    let user = world.site().users.iter().find(|u| u.role == Role::User).unwrap().account_id.clone();
    let (status, whoami) =
        world.ui("checklist-panel", Role::User, json!({"action": "whoami"})).await;
    assert_eq!(status, 200, "{whoami}");
    assert_eq!(whoami["appId"], DEV_FORGE_APP_ID);
    assert_eq!(whoami["accountId"], user.as_str());
    assert_eq!(whoami["environment"], "DEVELOPMENT");
    assert_eq!(whoami["licensed"], true);
    let installation = world.site().data().forge.installs[DEV_FORGE_APP_ID].installation_id.clone();
    assert_eq!(whoami["installationId"], installation.as_str());
}

#[tokio::test]
async fn the_dev_world_runs_both_flavours_in_both_sites() {
    let world = support::dev_world::both_flavours().await;
    for site in [&world.site, &world.second_site] {
        assert!(site.data().installs.contains_key("lodger"), "Connect flavour in {}", site.name);
        let delivery = settled(site, "avi:forge:installed:app").await;
        assert_eq!(delivery[0].statuses, vec![Some(204)], "Forge flavour in {}", site.name);
        let invocation = UiInvocation {
            module_key: "checklist-panel".into(),
            account_id: Some(site.users[0].account_id.clone()),
            extension: json!({}),
            method: "POST".into(),
            path: String::new(),
            body: Some(json!({"action": "whoami"}).to_string()),
        };
        let answer = invoke(&world.host, site, DEV_FORGE_APP_ID, invocation).await.unwrap();
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
}

/// Fidelity: Atlassian's own token check (atlassian-connect-express 11.5.3's
/// middleware, `tools/ace`) accepts the tokens the emulated platform sends,
/// with the platform's key set, and reads from them what lodger reads; a
/// tampered one it refuses.
#[tokio::test]
async fn atlassian_connect_express_accepts_the_platforms_tokens_and_refuses_a_tampered_one() {
    if !require(Prerequisite::Ace) {
        return;
    }
    // The export bundles @forge/bridge with tools/forge's esbuild.
    if !require(Prerequisite::ForgeManifest) {
        return;
    }
    let world = forge_world().await;
    let system_token = world.system_token().await;
    let (status, _) = world.ui("checklist-panel", Role::User, json!({"action": "whoami"})).await;
    assert_eq!(status, 200);
    let jwks_url = world.sites.forge_jwks_url();
    let (_, jwks) = support::site_client::json_of(
        support::site_client::http().get(&jwks_url).send().await.unwrap(),
    )
    .await;

    let calls = world.exchanges.lock().unwrap().clone();
    let token_of = |exchange: &Exchange| exchange.authorization.clone().unwrap();
    let mut requests: Vec<ForgeRequest> = calls
        .iter()
        .map(|exchange| {
            let request =
                ForgeRequest { authorization: Some(token_of(exchange)), headers: Vec::new() };
            request.header("x-forge-oauth-system", exchange.system_token.as_deref().unwrap_or(""))
        })
        .collect();
    let genuine = token_of(&calls[0]);
    let mut parts: Vec<String> = genuine.splitn(3, '.').map(str::to_owned).collect();
    // The same signature over claims for another app.
    let claims = {
        use base64::Engine;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut claims: Value = serde_json::from_slice(&engine.decode(&parts[1]).unwrap()).unwrap();
        claims["app"]["apiBaseUrl"] = json!("https://attacker.example/ex/jira/x");
        engine.encode(claims.to_string())
    };
    parts[1] = claims;
    requests.push(ForgeRequest { authorization: Some(parts.join(".")), headers: Vec::new() });

    let verdicts = check_forge_tokens(&jwks, DEV_FORGE_APP_ID, None, &requests);
    let (tampered, genuine) = verdicts.split_last().unwrap();
    assert!(genuine.len() >= 2, "the install event and a UI call at least: {calls:?}");
    // Both sites installed the app through this proxy: each token names its own site.
    let bases: Vec<String> =
        world.sites.sites.iter().map(|site| api_base_url(site, Product::Jira).unwrap()).collect();
    for (verdict, exchange) in genuine.iter().zip(&calls) {
        assert!(verdict.ok, "ACE refused the platform's token: {verdict:?}");
        assert!(bases.contains(verdict.api_base_url.as_ref().unwrap()), "{verdict:?}");
        assert_eq!(verdict.system_token, exchange.system_token);
    }
    assert!(genuine.iter().any(|v| v.system_token.as_deref() == Some(system_token.as_str())));
    assert!(!tampered.ok, "ACE accepted a tampered token: {tampered:?}");
    assert_eq!(tampered.status, Some(401));
}

#[tokio::test]
async fn two_sites_never_see_each_others_data() {
    let world = forge_world().await;
    template(&world, &["Write tests"]);
    let (issue, _) = world.new_issue().await;
    assert!(world.checklist(&issue).await.is_some());
    // The first site's product token means nothing at the second site.
    let other = &world.sites.sites[1];
    let base = api_base_url(other, Product::Jira).unwrap();
    let path = format!("{base}/rest/api/3/issue/{issue}/properties/lodger-checklist");
    let request = support::site_client::http()
        .get(path)
        .header("authorization", format!("Bearer {}", world.system_token().await));
    let (status, body) = support::site_client::json_of(request.send().await.unwrap()).await;
    assert_eq!(status, 401, "{body}");
    // Each site's remote calls went to that site only: the install events
    // name different apiBaseUrls and installations.
    let first = world.site().data().forge.installs[DEV_FORGE_APP_ID].installation_id.clone();
    let second = other.data().forge.installs[DEV_FORGE_APP_ID].installation_id.clone();
    assert_ne!(first, second);
    assert_ne!(api_base_url(world.site(), Product::Jira).unwrap(), base);
}

/// `lodger dev --no-app --install DIR`: any Forge app folder goes into every
/// site; a folder without a manifest is refused saying what was expected.
#[tokio::test]
async fn the_sites_alone_install_a_forge_app_folder_given_at_start() {
    let sites = Sites::start(&support::dev_world::options()).await.unwrap();
    let folder = std::env::temp_dir().join(format!("lodger-install-app-{}", std::process::id()));
    let options =
        lodger::export::forge::ForgeOptions::new(DEV_FORGE_APP_ID, "http://127.0.0.1:9", true)
            .unwrap();
    lodger::export::forge::export(&folder, &options).unwrap();
    let installed = sites.install_app(folder.to_str().unwrap()).await.unwrap();
    assert_eq!(installed, DEV_FORGE_APP_ID);
    for site in &sites.sites {
        assert!(site.data().forge.installs.contains_key(DEV_FORGE_APP_ID), "{}", site.name);
    }
    let empty = std::env::temp_dir().join(format!("lodger-install-none-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let refused = sites.install_app(empty.to_str().unwrap()).await.unwrap_err();
    let message = format!("{refused:#}");
    assert!(message.contains("manifest.yml"), "{message}");
    std::fs::remove_dir_all(&folder).ok();
    std::fs::remove_dir_all(&empty).ok();
}
