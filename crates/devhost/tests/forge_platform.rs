//! The emulated Forge platform end to end (issue 14, item 4): a Forge app
//! folder installed into a site, a tiny in-test remote recording what Forge
//! sends it, and the site's REST under `apiBaseUrl`.

mod forge_support;

use std::sync::atomic::Ordering;

use forge_support::{APP, Remote, World, bearer, installed_system_token, rand_suffix};
use lodger_connect::invocation_token::{self, Expectation};
use lodger_devhost::forge::install;
use lodger_devhost::forge::invoke::{UiInvocation, invoke};
use lodger_devhost::forge::state::ForgeDelivery;
use lodger_devhost::jira::webhooks::state::Outcome;
use lodger_devhost::site::AppInstall;
use serde_json::{Value, json};
use warp::http::Method;

#[tokio::test]
async fn install_delivers_the_installed_event_with_a_token_that_verifies_against_the_served_jwks() {
    let world = World::start().await;
    let remote = Remote::start(200).await;
    let installation = world.install(&remote).await;
    assert!(installation.installation_id.starts_with("ari:cloud:ecosystem::installation/"));
    let deliveries = world.settled(1).await;
    assert_eq!(deliveries[0].outcome, Outcome::Delivered { status: 200 });
    let seen = remote.seen_at("/forge/events/installed");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert!(seen[0].header("x-forge-oauth-system").is_some());
    assert!(seen[0].header("x-forge-oauth-user").is_none());
    let body = seen[0].json();
    assert_eq!(body["eventType"], "avi:forge:installed:app");
    assert_eq!(body["context"]["cloudId"], world.cloud_id());

    let claims = world.verify(&seen[0].fit()).await;
    assert_eq!(claims.app.id, APP);
    assert_eq!(claims.app.installation_id, installation.installation_id);
    assert_eq!(claims.app.api_base_url, format!("{}/ex/jira/{}", world.base, world.cloud_id()));
    assert_eq!(claims.app.environment.as_ref().unwrap().kind, "DEVELOPMENT");
    assert!(claims.is_licensed());
    assert!(claims.app.license.is_some());
    assert!(claims.principal.is_none() && claims.context.is_none());

    // A tampered token fails: one claim changed, signature kept.
    let fit = seen[0].fit();
    let parts: Vec<&str> = fit.split('.').collect();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut payload: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    payload["app"]["apiBaseUrl"] = json!("https://attacker.test/ex/jira/x");
    let forged = format!("{}.{}.{}", parts[0], b64.encode(payload.to_string()), parts[2]);
    let expect = Expectation { app_id: APP, now: lodger_connect::now() };
    assert!(invocation_token::verify(&forged, &world.jwks().await, &expect).is_err());
    // And a token for another app is refused by audience.
    let other =
        Expectation { app_id: "ari:cloud:ecosystem::app/other", now: lodger_connect::now() };
    assert!(invocation_token::verify(&fit, &world.jwks().await, &other).is_err());
}

#[tokio::test]
async fn a_system_token_works_as_bearer_under_api_base_url_only() {
    let world = World::start().await;
    let remote = Remote::start(204).await;
    world.install(&remote).await;
    let token = installed_system_token(&world, &remote).await;
    let property =
        format!("{}/rest/api/3/issue/10001/properties/lodger-checklist", world.api_base());
    let (status, _) =
        world.call(Method::PUT, &property, &bearer(&token), Some(json!({"items": []}))).await;
    assert!(status == 200 || status == 201, "{status}");
    let (status, body) = world.call(Method::GET, &property, &bearer(&token), None).await;
    assert_eq!(status, 200);
    assert_eq!(body["value"], json!({"items": []}));

    // Not on the site's own paths, not with another cloudId, and nothing
    // but a product token under apiBaseUrl.
    let plain = format!("{}/rest/api/3/issue/10001/properties/lodger-checklist", world.base);
    assert_eq!(world.call(Method::GET, &plain, &bearer(&token), None).await.0, 401);
    let elsewhere = format!("{}/ex/jira/not-this-cloud/rest/api/3/issue/10001", world.base);
    assert_eq!(world.call(Method::GET, &elsewhere, &bearer(&token), None).await.0, 401);
    assert_eq!(world.call(Method::GET, &property, "JWT abc.def.ghi", None).await.0, 401);
    assert_eq!(world.call(Method::GET, &property, "Bearer forge-dev.guessed", None).await.0, 401);
}

#[tokio::test]
async fn a_scope_missing_from_the_manifest_is_refused_naming_it() {
    let world = World::start().await;
    let remote = Remote::start(200).await;
    world.install(&remote).await;
    let token = installed_system_token(&world, &remote).await;
    let check = format!("{}/rest/api/3/permissions/check", world.api_base());
    let body = json!({"globalPermissions": ["ADMINISTER"], "accountId": "x"});
    let (status, answer) = world.call(Method::POST, &check, &bearer(&token), Some(body)).await;
    assert_eq!(status, 403);
    assert!(answer.to_string().contains("read:jira-user"), "{answer}");
    // Confluence under its own apiBaseUrl: the props scopes are not granted.
    let props = format!(
        "{}/ex/confluence/{}/wiki/rest/api/content/1/property/k",
        world.base,
        world.cloud_id()
    );
    let (status, answer) = world.call(Method::GET, &props, &bearer(&token), None).await;
    assert_eq!(status, 403);
    assert!(answer.to_string().contains("read:confluence-props"), "{answer}");
    // Dynamic webhooks are not for Forge apps at all.
    let hooks = format!("{}/rest/api/3/webhook", world.api_base());
    assert_eq!(world.call(Method::GET, &hooks, &bearer(&token), None).await.0, 403);
}

#[tokio::test]
async fn ui_invocations_carry_principal_context_and_the_tokens_each_endpoint_asks_for() {
    let world = World::start().await;
    let remote = Remote::start(200).await;
    world.install(&remote).await;
    world.settled(1).await;
    let dev = world.site.users.iter().find(|u| u.email.starts_with("dev@")).unwrap().clone();
    let extension = json!({"type": "jira:issuePanel", "issue": {"id": "10001", "key": "LOD-1"}, "project": {"id": "10000", "key": "LOD"}});
    let invocation = |module: &str| UiInvocation {
        module_key: module.to_owned(),
        account_id: Some(dev.account_id.clone()),
        extension: extension.clone(),
        method: "POST".into(),
        path: String::new(),
        body: Some("{\"op\":\"load\"}".into()),
    };
    let answer = invoke(&world.host, &world.site, APP, invocation("panel")).await.unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.headers.get("x-remote").map(String::as_str), Some("yes"));
    let seen = remote.seen_at("/forge/invoke");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].body, "{\"op\":\"load\"}");
    assert!(seen[0].header("x-forge-oauth-system").is_some());
    assert!(seen[0].header("x-forge-oauth-user").is_none(), "the ui endpoint has no user token");
    let claims = world.verify(&seen[0].fit()).await;
    assert_eq!(claims.account_id(), Some(dev.account_id.as_str()));
    let context = claims.context.unwrap();
    assert_eq!(context["cloudId"], world.cloud_id());
    assert_eq!(context["moduleKey"], "panel");
    assert_eq!(context["extension"], extension);
    assert_eq!(context["siteUrl"], world.base);

    invoke(&world.host, &world.site, APP, invocation("admin")).await.unwrap();
    let seen = remote.seen_at("/forge/invoke-admin");
    assert!(seen[0].header("x-forge-oauth-user").is_some());

    // Over HTTP, as the bridge host half calls it, anonymous: no principal, no user token.
    let body = json!({"appId": APP, "moduleKey": "admin", "extension": extension, "method": "POST", "path": "/settings", "body": {"x": 1}});
    let response = world
        .http
        .post(format!("{}/dev/forge/invoke", world.base))
        .header("Cookie", "lodger_dev_user=anonymous")
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let reply: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(reply["success"], true);
    assert_eq!(reply["payload"]["status"], 200);
    let seen = remote.seen_at("/forge/invoke-admin/settings");
    assert_eq!(seen.len(), 1);
    assert!(seen[0].header("x-forge-oauth-user").is_none());
    assert!(world.verify(&seen[0].fit()).await.principal.is_none());
}

#[tokio::test]
async fn a_user_token_applies_the_users_permissions_and_cannot_reach_forge_app_properties() {
    let world = World::start().await;
    let remote = Remote::start(200).await;
    world.install(&remote).await;
    world.settled(1).await;
    let user_token = |email: &'static str| {
        let (world, remote) = (&world, &remote);
        async move {
            let account = world.site.users.iter().find(|u| u.email.starts_with(email)).unwrap();
            let invocation = UiInvocation {
                module_key: "admin".into(),
                account_id: Some(account.account_id.clone()),
                method: "GET".into(),
                ..UiInvocation::default()
            };
            invoke(&world.host, &world.site, APP, invocation).await.unwrap();
            remote
                .seen_at("/forge/invoke-admin")
                .last()
                .unwrap()
                .header("x-forge-oauth-user")
                .unwrap()
        }
    };
    let property =
        format!("{}/rest/api/3/issue/10001/properties/lodger-checklist", world.api_base());
    let viewer = user_token("viewer@").await;
    let (status, _) =
        world.call(Method::PUT, &property, &bearer(&viewer), Some(json!({"a": 1}))).await;
    assert_eq!(status, 403, "a viewer may not edit issues");
    let dev = user_token("dev@").await;
    let (status, _) =
        world.call(Method::PUT, &property, &bearer(&dev), Some(json!({"a": 1}))).await;
    assert!(status == 200 || status == 201, "{status}");

    let settings = format!("{}/rest/forge/1/app/properties/lodger-settings", world.api_base());
    let (status, body) =
        world.call(Method::PUT, &settings, &bearer(&dev), Some(json!({"on": true}))).await;
    assert_eq!(status, 403, "{body}");
}

#[tokio::test]
async fn forge_app_properties_serve_the_app_itself_only() {
    let world = World::start().await;
    let remote = Remote::start(200).await;
    world.install(&remote).await;
    let token = installed_system_token(&world, &remote).await;
    let settings = format!("{}/rest/forge/1/app/properties/lodger-settings", world.api_base());
    let auth = bearer(&token);
    assert_eq!(world.call(Method::GET, &settings, &auth, None).await.0, 404);
    assert_eq!(world.call(Method::PUT, &settings, &auth, Some(json!({"on": true}))).await.0, 201);
    assert_eq!(world.call(Method::PUT, &settings, &auth, Some(json!({"on": false}))).await.0, 200);
    let (status, body) = world.call(Method::GET, &settings, &auth, None).await;
    assert_eq!((status, body), (200, json!({"key": "lodger-settings", "value": {"on": false}})));
    let long_key = format!("{}/rest/forge/1/app/properties/{}", world.api_base(), "k".repeat(128));
    assert_eq!(world.call(Method::PUT, &long_key, &auth, Some(json!(1))).await.0, 400);
    let big = json!("x".repeat(32_768));
    assert_eq!(world.call(Method::PUT, &settings, &auth, Some(big)).await.0, 400);
    let empty = world.http.put(&settings).header("Authorization", &auth).send().await.unwrap();
    assert_eq!(empty.status().as_u16(), 400);
    assert_eq!(world.call(Method::DELETE, &settings, &auth, None).await.0, 204);

    // A Connect app, signed with its shared secret at the site's own path: 403.
    let secret = lodger_connect::secret::Secret::new("s".repeat(32));
    world.site.data().installs.insert(
        "connect-app".into(),
        AppInstall {
            product: lodger_connect::installation::Product::Jira,
            app_key: "connect-app".into(),
            app_base_url: "http://connect.test".into(),
            shared_secret: secret.clone(),
            descriptor: json!({}),
            scopes: vec!["READ".into(), "WRITE".into()],
            enabled: true,
        },
    );
    let path = "/rest/forge/1/app/properties/lodger-settings";
    let qsh = lodger_connect::qsh::query_string_hash("GET", path, "");
    let claims = lodger_connect::jwt::Claims::new("connect-app", lodger_connect::now(), 180, &qsh);
    let jwt = lodger_connect::jwt::sign(&claims, &secret);
    let url = format!("{}{path}", world.base);
    assert_eq!(world.call(Method::GET, &url, &format!("JWT {jwt}"), None).await.0, 403);
}

#[tokio::test]
async fn issue_creation_delivers_the_trigger_once_to_a_2xx_remote() {
    let world = World::start().await;
    let remote = Remote::start(202).await;
    world.install(&remote).await;
    let token = installed_system_token(&world, &remote).await;
    let created = world.create_issue(&token).await;
    let deliveries = world.settled(2).await;
    let delivery = deliveries.iter().find(|d| d.event == "avi:jira:created:issue").unwrap();
    assert_eq!((delivery.attempts, &delivery.outcome), (1, &Outcome::Delivered { status: 202 }));
    assert_eq!(delivery.module_key, "created");
    let seen = remote.seen_at("/forge/events/issue-created");
    assert_eq!(seen.len(), 1);
    let body = seen[0].json();
    assert_eq!(body["eventType"], "avi:jira:created:issue");
    assert_eq!(body["issue"]["id"], created["id"]);
    assert_eq!(body["issue"]["fields"]["project"]["id"], "10000");
    let stamp = body["issue"]["fields"]["created"].as_str().unwrap();
    assert!(
        stamp.len() == 28 && stamp.ends_with("+0000") && stamp.as_bytes()[10] == b'T',
        "{stamp}"
    );
    assert_eq!(body["context"], json!({"cloudId": world.cloud_id(), "moduleKey": "created"}));
    assert!(seen[0].header("x-forge-oauth-system").is_some());
    let claims = world.verify(&seen[0].fit()).await;
    assert!(claims.principal.is_none() && claims.context.is_none());
    assert_eq!(claims.app.module.unwrap(), json!({"type": "trigger", "key": "created"}));
}

/// Creates an issue with the remote answering `status` to the trigger and
/// returns the settled delivery.
async fn trigger_against(status: u16) -> (ForgeDelivery, usize) {
    let world = World::start().await;
    let remote = Remote::start(200).await;
    world.install(&remote).await;
    let token = installed_system_token(&world, &remote).await;
    remote.status.store(status, Ordering::SeqCst);
    world.create_issue(&token).await;
    let deliveries = world.settled(2).await;
    let delivery = deliveries.into_iter().find(|d| d.event == "avi:jira:created:issue").unwrap();
    (delivery, remote.seen_at("/forge/events/issue-created").len())
}

#[tokio::test]
async fn a_failing_remote_gets_four_retries_and_no_more() {
    let (delivery, requests) = trigger_against(500).await;
    assert_eq!((delivery.attempts, requests), (5, 5));
    assert_eq!(delivery.statuses, vec![Some(500); 5]);
    assert!(matches!(delivery.outcome, Outcome::Failed { .. }));
}

#[tokio::test]
async fn a_redirect_counts_as_a_failed_delivery() {
    let (delivery, requests) = trigger_against(302).await;
    assert_eq!((delivery.attempts, requests), (5, 5));
    assert!(matches!(delivery.outcome, Outcome::Failed { ref reason } if reason.contains("302")));
}

#[tokio::test]
async fn reinstalling_gives_a_new_installation_and_uninstalling_voids_tokens() {
    let world = World::start().await;
    let remote = Remote::start(200).await;
    let first = world.install(&remote).await;
    let token = installed_system_token(&world, &remote).await;
    let cloud_id = world.cloud_id();
    let second = world.install(&remote).await;
    assert_ne!(first.installation_id, second.installation_id);
    assert_eq!(world.cloud_id(), cloud_id, "the cloudId is the site's, stable");
    let issue = format!("{}/rest/api/3/issue/10001", world.api_base());
    assert_eq!(world.call(Method::GET, &issue, &bearer(&token), None).await.0, 401);
    world.settled(2).await;
    let fresh = remote
        .seen_at("/forge/events/installed")
        .last()
        .unwrap()
        .header("x-forge-oauth-system")
        .unwrap();
    assert_eq!(world.call(Method::GET, &issue, &bearer(&fresh), None).await.0, 200);
    install::uninstall(&world.site, APP).unwrap();
    assert_eq!(world.call(Method::GET, &issue, &bearer(&fresh), None).await.0, 401);
    assert!(install::uninstall(&world.site, APP).is_err());
}

#[tokio::test]
async fn a_folder_without_a_manifest_is_refused() {
    let world = World::start().await;
    let empty = std::env::temp_dir().join(format!("lodger-forge-empty-{}", rand_suffix()));
    std::fs::create_dir_all(&empty).unwrap();
    let error = install::install(&world.host, &world.site, &empty).await.unwrap_err();
    assert!(error.to_string().contains("no manifest.yml"), "{error}");
}

#[test]
fn lodgers_exported_manifest_is_read_as_the_platform_needs() {
    use lodger_connect::installation::Product;
    use lodger_devhost::forge::manifest::ForgeManifest;
    let folder =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lodger-forge");
    let manifest = ForgeManifest::read(&folder).unwrap();
    assert_eq!(manifest.app_id, APP);
    assert_eq!(manifest.products, [Product::Jira, Product::Confluence]);
    assert!(manifest.licensing);
    assert_eq!(manifest.endpoints.len(), 4);
    let created: Vec<_> = manifest.triggers_on("avi:jira:created:issue").collect();
    assert_eq!(created[0].endpoint.as_deref(), Some("lodger-issue-created"));
    assert_eq!(manifest.triggers_on("avi:forge:installed:app").count(), 1);
    let admin = manifest.endpoint("lodger-ui-admin").unwrap();
    assert!(admin.auth.system && admin.auth.user);
    let panel = manifest.ui_module("checklist-panel").unwrap();
    assert_eq!(panel.resolver_endpoint.as_deref(), Some("lodger-ui"));
    assert_eq!(manifest.ui_module("checklist").unwrap().product(), Product::Confluence);
    assert!(manifest.ui_module("checklist-index").is_none(), "entity properties are not UI");
    assert!(manifest.has_scope("write:app-data:jira") && manifest.has_scope("read:jira-user"));
}
