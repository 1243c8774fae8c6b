//! The Checklists server against the dev world: settings only a site admin
//! can change and nobody can forge, templates applied once per new issue
//! whatever the webhook does, licensing, JQL over the indexed counts, bad
//! input refused, and two tenants kept apart.
//!
//! Requests are made the way the app's pages make them: a context token
//! signed by the site (here minted with the installation's secret, as the
//! emulated host does for `AP.context.getToken`) plus the sealed credential
//! read from the app property `lodger-installation`.

mod support;

use std::time::Duration;

use lodger::connect::jwt::{Claims, sign};
use lodger::connect::qsh::query_string_hash;
use lodger::devhost::platform::faults::{Faults, WebhookFault};
use lodger::devhost::site::{Role, Site};
use serde_json::{Value, json};
use support::dev_world::{deliveries_settled, world};
use support::eventually;
use support::site_client::{as_user, http, json_of};

const ADMIN: Role = Role::SiteAdmin;
const LEAD: Role = Role::ProjectAdmin;
const DEV: Role = Role::User;

/// The credential the app stored in `site` at install.
fn credential(site: &Site) -> String {
    let data = site.data();
    let value = &data.app_properties[&("lodger".to_owned(), "lodger-installation".to_owned())];
    value["credential"].as_str().unwrap().to_owned()
}

/// A context token for `user` of `site`, valid from `iat` for 15 minutes.
fn context_token_at(site: &Site, user: Role, iat: i64) -> String {
    let secret = site.data().installs["lodger"].shared_secret.clone();
    let mut claims = Claims::new(&site.client_key, iat, 900, "context-qsh");
    claims.sub = Some(support::site_client::user(site, user).account_id.clone());
    sign(&claims, &secret)
}

fn context_token(site: &Site, user: Role) -> String {
    context_token_at(site, user, lodger::now())
}

/// Calls the app's API as `user` of `site`, the way a page does.
async fn api(
    app_url: &str,
    site: &Site,
    user: Role,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (u16, Value) {
    let mut request = http()
        .request(method.parse().unwrap(), format!("{app_url}{path}"))
        .header("authorization", format!("JWT {}", context_token(site, user)))
        .header("x-lodger-installation", credential(site));
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body.to_owned());
    }
    json_of(request.send().await.unwrap()).await
}

fn settings_property(site: &Site) -> Option<Value> {
    site.data().app_properties.get(&("lodger".to_owned(), "lodger-settings".to_owned())).cloned()
}

fn checklist(site: &Site, issue_id: &str) -> Option<Value> {
    site.data().issue_properties.get(&(issue_id.to_owned(), "lodger-checklist".to_owned())).cloned()
}

fn texts(checklist: &Value) -> Vec<String> {
    checklist["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["text"].as_str().unwrap().to_owned())
        .collect()
}

/// Sets the LOD project's template, as its project admin does from the page.
async fn set_template(site: &Site, items: &[&str]) {
    let items: Vec<Value> = items.iter().map(|text| json!({ "text": text })).collect();
    let (status, body) = as_user(site, LEAD)
        .call(
            "PUT",
            "/rest/api/3/project/LOD/properties/lodger-template",
            Some(json!({ "v": 1, "items": items })),
        )
        .await;
    assert!(status == 200 || status == 201, "{status} {body}");
}

/// Creates an issue in LOD as the plain user; answers its id.
async fn create_issue(site: &Site, summary: &str) -> String {
    let (status, body) = as_user(site, DEV).call("POST", "/rest/api/3/issue", Some(json!({"fields": {"project": {"key": "LOD"}, "summary": summary, "issuetype": {"name": "Task"}}})))
    .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

/// Delivers `jira:issue_created` for `issue_id` to lodger's registered
/// webhook URL, signed as the site signs deliveries; answers the status.
async fn deliver_issue_created(site: &Site, issue_id: &str, timestamp: i64) -> u16 {
    let url = {
        let data = site.data();
        let registration = data.webhooks.registrations.iter().find(|r| r.app_key == "lodger");
        registration.expect("lodger registered its webhook at install").url.clone()
    };
    deliver(site, &url, issue_id, timestamp).await
}

async fn deliver(site: &Site, url: &str, issue_id: &str, timestamp: i64) -> u16 {
    let secret = site.data().installs["lodger"].shared_secret.clone();
    let after_host = url.split_once("://").unwrap().1;
    let path_and_query = &after_host[after_host.find('/').unwrap()..];
    let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
    let claims =
        Claims::new(&site.client_key, lodger::now(), 180, &query_string_hash("POST", path, query));
    let body = json!({
        "timestamp": timestamp,
        "webhookEvent": "jira:issue_created",
        "issue": { "id": issue_id, "key": "LOD-X", "fields": { "project": { "id": "10000", "key": "LOD" } } },
    });
    http()
        .post(url)
        .header("authorization", format!("JWT {}", sign(&claims, &secret)))
        .header("x-atlassian-webhook-identifier", format!("test-{issue_id}"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn only_a_site_admin_changes_settings_and_the_server_checks_with_the_host() {
    let world = world().await;
    let site = &world.site;
    let (status, body) = api(&world.app_url, site, ADMIN, "GET", "/api/settings", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["settings"], json!({"applyTemplates": true, "showWhoTicked": true}));

    let off = r#"{"applyTemplates": false, "showWhoTicked": true}"#;
    for user in [LEAD, DEV] {
        let (status, body) =
            api(&world.app_url, site, user, "PUT", "/api/settings", Some(off)).await;
        assert_eq!(status, 403, "{body}");
        assert!(body["error"].as_str().unwrap().contains("site administrators"));
    }
    assert_eq!(settings_property(site), None, "a refused change writes nothing");

    let (status, body) = api(&world.app_url, site, ADMIN, "PUT", "/api/settings", Some(off)).await;
    assert_eq!((status, &body["settings"]["applyTemplates"]), (200, &json!(false)), "{body}");
    let stored = settings_property(site).unwrap();
    assert_eq!(stored["settings"]["applyTemplates"], false);
    assert!(stored["mac"].as_str().is_some_and(|mac| mac.len() >= 43), "{stored}");
    let (_, body) = api(&world.app_url, site, DEV, "GET", "/api/settings", None).await;
    assert_eq!(body["settings"]["applyTemplates"], false);
}

#[tokio::test]
async fn settings_written_around_the_server_are_ignored() {
    let world = world().await;
    let (site, other) = (&world.site, &world.second_site);
    let off = r#"{"applyTemplates": false, "showWhoTicked": false}"#;
    assert_eq!(api(&world.app_url, site, ADMIN, "PUT", "/api/settings", Some(off)).await.0, 200);
    let genuine = settings_property(site).unwrap();

    let path = "/rest/atlassian-connect/1/addons/lodger/properties/lodger-settings";
    let defaults = json!({"applyTemplates": true, "showWhoTicked": true});
    let mut tampered = genuine.clone();
    tampered["settings"]["showWhoTicked"] = json!(true);
    let unsigned = json!({"settings": {"applyTemplates": false, "showWhoTicked": false}});
    // A plain user writes the property through the iframe bridge: allowed by
    // the host, ignored by the server. So is a genuine value moved to another site.
    for (target, forged) in [(site, tampered), (site, unsigned), (other, genuine)] {
        let (status, _) = as_user(target, DEV).call("PUT", path, Some(forged.clone())).await;
        assert!(status == 200 || status == 201);
        let (status, body) = api(&world.app_url, target, DEV, "GET", "/api/settings", None).await;
        assert_eq!((status, &body["settings"]), (200, &defaults), "{forged} is ignored");
    }
}

#[tokio::test]
async fn refuses_bad_input_with_a_json_error_and_writes_nothing() {
    let world = world().await;
    let site = &world.site;
    let app = &world.app_url;
    for (body, status) in [
        (r#"{"applyTemplates": "no", "showWhoTicked": true}"#, 400),
        (r#"{"applyTemplates": false, "showWhoTicked": true, "admin": true}"#, 400),
        (r#"{"applyTemplates": false}"#, 400),
        (r#"[false, true]"#, 400),
        ("not json", 400),
    ] {
        let (got, answer) = api(app, site, ADMIN, "PUT", "/api/settings", Some(body)).await;
        assert_eq!(got, status, "{body} -> {answer}");
        assert!(
            answer["error"].as_str().is_some_and(|e| e.contains("expected")
                || e.contains("JSON")
                || e.contains("field")),
            "{answer}"
        );
    }
    let huge = format!(
        r#"{{"applyTemplates": false, "showWhoTicked": true, "x": "{}"}}"#,
        "a".repeat(8192)
    );
    assert_eq!(api(app, site, ADMIN, "PUT", "/api/settings", Some(&huge)).await.0, 413);
    assert_eq!(settings_property(site), None);

    // An expired context token, and a credential from another site.
    let expired = context_token_at(site, ADMIN, lodger::now() - 3600);
    let for_other_site = credential(&world.second_site);
    for (token, sealed) in
        [(expired, credential(site)), (context_token(site, ADMIN), for_other_site)]
    {
        let response = http()
            .get(format!("{app}/api/settings"))
            .header("authorization", format!("JWT {token}"))
            .header("x-lodger-installation", sealed)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
        let text = response.text().await.unwrap();
        assert!(!text.contains(&token), "the token is not echoed");
    }
    let (status, _) = api(app, site, ADMIN, "POST", "/api/issues/LOD-1;drop/template", None).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_new_issue_gets_its_project_template_once_and_edits_are_never_overwritten() {
    let world = world().await;
    let site = &world.site;
    set_template(site, &["Write tests", "Update the docs"]).await;
    let issue = create_issue(site, "Add the export").await;
    eventually("the template is applied", async || checklist(site, &issue).is_some()).await;
    let applied = checklist(site, &issue).unwrap();
    assert_eq!(texts(&applied), ["Write tests", "Update the docs"]);
    assert_eq!((applied["open"].as_u64(), applied["total"].as_u64()), (Some(2), Some(2)));
    // The glance's status follows the checklist (a second write, a moment later).
    let glance_key =
        (issue.clone(), "com.atlassian.jira.issue:lodger:checklist-glance:status".to_owned());
    eventually("the glance status is written", async || {
        site.data().issue_properties.contains_key(&glance_key)
    })
    .await;
    let glance = site.data().issue_properties[&glance_key].clone();
    assert_eq!(glance["value"]["label"], "0/2");

    // Jira delivers again (a retry, a second replica): nothing changes,
    // even after someone edited the checklist.
    let mut edited = applied.clone();
    edited["items"][0]["text"] = json!("Write more tests");
    site.data().issue_properties.insert((issue.clone(), "lodger-checklist".into()), edited.clone());
    let (first, second) = tokio::join!(
        deliver_issue_created(site, &issue, 1),
        deliver_issue_created(site, &issue, 2)
    );
    assert_eq!((first, second), (204, 204));
    assert_eq!(checklist(site, &issue).unwrap(), edited);
}

#[tokio::test]
async fn a_webhook_delivered_twice_at_once_applies_the_template_exactly_once() {
    let world = world().await;
    let site = &world.site;
    set_template(site, &["Review", "Release"]).await;
    // Jira's own delivery is dropped, so the test delivers it, twice at once.
    site.set_faults(Faults { rate: 1.0, kind: None, webhooks: WebhookFault::Drop, path: None })
        .unwrap();
    let issue = create_issue(site, "Two deliveries").await;
    assert!(checklist(site, &issue).is_none());
    let (first, second) = tokio::join!(
        deliver_issue_created(site, &issue, 1_764_000_000_000),
        deliver_issue_created(site, &issue, 1_764_000_000_000)
    );
    assert_eq!((first, second), (204, 204));
    let value = checklist(site, &issue).unwrap();
    assert_eq!(texts(&value), ["Review", "Release"], "the items are there once");
}

#[tokio::test]
async fn a_delivery_that_failed_after_the_checklist_landed_is_finished_by_its_redelivery() {
    use lodger::devhost::platform::faults::RestFault;
    let world = world().await;
    let site = &world.site;
    set_template(site, &["Plan", "Do"]).await;
    // Jira's own delivery is dropped (the test delivers), and the glance
    // status write fails: the process dies there, as far as the host knows.
    site.set_faults(Faults {
        rate: 1.0,
        kind: Some(RestFault::ServerError(503)),
        webhooks: WebhookFault::Drop,
        path: Some("checklist-glance".into()),
    })
    .unwrap();
    let issue = create_issue(site, "Half done").await;
    let glance =
        (issue.clone(), "com.atlassian.jira.issue:lodger:checklist-glance:status".to_owned());
    assert_eq!(deliver_issue_created(site, &issue, 1_764_000_000_000).await, 503);
    assert_eq!(texts(&checklist(site, &issue).unwrap()), ["Plan", "Do"]);
    assert!(!site.data().issue_properties.contains_key(&glance));

    site.set_faults(Faults::default()).unwrap();
    assert_eq!(deliver_issue_created(site, &issue, 1_764_000_000_000).await, 204);
    assert_eq!(texts(&checklist(site, &issue).unwrap()), ["Plan", "Do"], "still once");
    let status = site.data().issue_properties.get(&glance).cloned();
    assert_eq!(status.map(|s| s["value"]["label"].clone()), Some(json!("0/2")));
}

#[tokio::test]
async fn templates_skip_unlicensed_sites_and_sites_that_turned_them_off() {
    let world = world().await;
    let site = &world.site;
    set_template(site, &["Check the licence"]).await;
    site.set_faults(Faults { rate: 1.0, kind: None, webhooks: WebhookFault::Drop, path: None })
        .unwrap();

    site.data().license_active.insert("lodger".into(), false);
    let unlicensed = create_issue(site, "Unlicensed").await;
    assert_eq!(deliver_issue_created(site, &unlicensed, 1).await, 204);
    assert!(checklist(site, &unlicensed).is_none(), "an unlicensed site gets no template");

    site.data().license_active.insert("lodger".into(), true);
    let off = r#"{"applyTemplates": false, "showWhoTicked": true}"#;
    assert_eq!(api(&world.app_url, site, ADMIN, "PUT", "/api/settings", Some(off)).await.0, 200);
    let turned_off = create_issue(site, "Turned off").await;
    assert_eq!(deliver_issue_created(site, &turned_off, 1).await, 204);
    assert!(checklist(site, &turned_off).is_none(), "templates are turned off");

    // The page can still ask for it, once templates are on again.
    let on = r#"{"applyTemplates": true, "showWhoTicked": true}"#;
    assert_eq!(api(&world.app_url, site, ADMIN, "PUT", "/api/settings", Some(on)).await.0, 200);
    let path = format!("/api/issues/{turned_off}/template");
    let (status, body) = api(&world.app_url, site, DEV, "POST", &path, None).await;
    assert_eq!((status, body["outcome"].as_str()), (200, Some("applied")), "{body}");
    let (_, again) = api(&world.app_url, site, DEV, "POST", &path, None).await;
    assert_eq!(again["outcome"], "already-has-checklist");
}

#[tokio::test]
async fn jql_finds_issues_with_open_items_through_the_indexed_counts() {
    let world = world().await;
    let site = &world.site;
    set_template(site, &["One", "Two"]).await;
    let issue = create_issue(site, "Searchable").await;
    eventually("the template is applied", async || checklist(site, &issue).is_some()).await;
    let jql = "issue.property[lodger-checklist].open > 0";
    let (status, body) = as_user(site, DEV)
        .call("POST", "/rest/api/3/search/jql", Some(json!({ "jql": jql })))
        .await;
    assert_eq!(status, 200, "{body}");
    let ids: Vec<&str> =
        body["issues"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [issue.as_str()], "only the issue with open items");
}

#[tokio::test]
async fn a_descriptor_webhook_for_a_tenant_this_process_does_not_hold_is_answered_503() {
    let world = world().await;
    let site = &world.site;
    let issue = create_issue(site, "Cold").await;
    // A credential-less URL, from a site lodger never saw (its own secret):
    // the app cannot verify it, so it must not acknowledge it.
    let stranger = &world.second_site;
    let url = format!("{}/webhooks/jira", world.app_url);
    let secret = stranger.data().installs["lodger"].shared_secret.clone();
    let claims = Claims::new(
        "jira:never-installed",
        lodger::now(),
        180,
        &query_string_hash("POST", "/webhooks/jira", ""),
    );
    let response = http()
        .post(&url)
        .header("authorization", format!("JWT {}", sign(&claims, &secret)))
        .header("content-type", "application/json")
        .body(json!({"webhookEvent": "jira:issue_created"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    // A tenant the process holds (it installed it) may send without a credential.
    assert_eq!(deliver(site, &url, &issue, 1).await, 204);
    // Unsigned: refused outright.
    let unsigned = http().post(&url).body("{}").send().await.unwrap();
    assert_eq!(unsigned.status(), 401);
}

#[tokio::test]
async fn two_sites_never_see_each_others_settings_or_templates() {
    let world = world().await;
    let (acme, globex) = (&world.site, &world.second_site);
    let off = r#"{"applyTemplates": false, "showWhoTicked": false}"#;
    assert_eq!(api(&world.app_url, acme, ADMIN, "PUT", "/api/settings", Some(off)).await.0, 200);
    let (_, theirs) = api(&world.app_url, globex, ADMIN, "GET", "/api/settings", None).await;
    assert_eq!(theirs["settings"]["applyTemplates"], true);

    set_template(acme, &["Acme only"]).await;
    let issue = create_issue(globex, "Globex issue").await;
    // lodger answers a delivery once it has applied (or not) the template.
    let handled = deliveries_settled(globex, "lodger").await;
    assert!(handled.iter().any(|r| r.event == "jira:issue_created"), "{handled:?}");
    assert!(checklist(globex, &issue).is_none(), "globex has no template");
    assert!(globex.data().project_properties.is_empty());
}

/// `as_user`, retried while the site is faulty (the test's own calls hit
/// the same injected faults as lodger's).
async fn as_user_patiently(
    site: &Site,
    user: Role,
    method: &str,
    path: &str,
    body: Value,
) -> (u16, Value) {
    for _ in 0..50 {
        let (status, answer) = as_user(site, user).call(method, path, Some(body.clone())).await;
        if status != 429 && status < 500 {
            return (status, answer);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{method} {path} kept failing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_429s_5xx_and_slow_answers_on_30_percent_of_calls_templates_apply_exactly_once() {
    use lodger::devhost::jira::webhooks::state::DeliveryPolicy;
    use lodger::devhost::platform::faults::{RestFault, RetryAfterForm};
    let world = world().await;
    let site = &world.site;
    set_template(site, &["Survive", "the faults"]).await;
    // Jira retries a delivery answered 5xx: quickly here, and often enough.
    site.set_delivery_policy(DeliveryPolicy {
        base_backoff: Duration::from_millis(50),
        max_attempts: 12,
        retry_after_cap: Duration::from_millis(200),
        timeout: Duration::from_secs(10),
    });
    let mut issues = Vec::new();
    for kind in [
        RestFault::TooManyRequests { retry_after_secs: 1, form: RetryAfterForm::Seconds },
        RestFault::ServerError(503),
        RestFault::Slow { millis: 300 },
    ] {
        site.set_faults(Faults {
            rate: 0.3,
            kind: Some(kind),
            webhooks: WebhookFault::None,
            path: None,
        })
        .unwrap();
        for n in 0..3 {
            let (status, body) = as_user_patiently(
                site,
                DEV,
                "POST",
                "/rest/api/3/issue",
                json!({"fields": {"project": {"key": "LOD"}, "summary": format!("{kind:?} {n}"), "issuetype": {"name": "Task"}}}),
            )
            .await;
            assert_eq!(status, 201, "{body}");
            issues.push(body["id"].as_str().unwrap().to_owned());
        }
    }
    for issue in &issues {
        for _ in 0..300 {
            if checklist(site, issue).is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let value =
            checklist(site, issue).unwrap_or_else(|| panic!("the template reached issue {issue}"));
        assert_eq!(texts(&value), ["Survive", "the faults"], "issue {issue}: applied once");
    }
    // Nothing is pending that could still apply it a second time.
    site.set_faults(Faults::default()).unwrap();
    deliveries_settled(site, "lodger").await;
    for issue in &issues {
        assert_eq!(texts(&checklist(site, issue).unwrap()), ["Survive", "the faults"]);
        // And the glance status beside it.
        let glance =
            (issue.clone(), "com.atlassian.jira.issue:lodger:checklist-glance:status".to_owned());
        let status = site.data().issue_properties.get(&glance).cloned();
        assert_eq!(
            status.map(|s| s["value"]["label"].clone()),
            Some(json!("0/2")),
            "issue {issue}: the glance status"
        );
    }
}
