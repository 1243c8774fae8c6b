//! The emulated Jira site's REST resources beyond app properties: entity
//! properties (one at a time and in bulk, as a task), JQL search over
//! indexed properties, projects, users, permissions and the license
//! resource, driven over loopback the way an app and its iframes call them.
//!
//! Needs no npm packages: the emulated sites' REST API runs without
//! connect-js. The tests that open a product page that frames apps need
//! `npm ci --prefix tools/devhost` (`support::dev_world::pages`).

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use lodger::devhost::platform::auth::APP_HEADER;
use lodger::devhost::site::Role;
use lodger::devhost::site::Site;
use serde_json::{Value, json};
use support::dev_world::world;
use support::site_client::{
    anonymous, as_account, as_app, as_user, http, json_of, session_cookie, user,
};
use warp::Filter;

/// Percent-encodes a query value (spaces as `%20`).
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Installs a small app of our own through UPM: scopes READ, WRITE and
/// DELETE, plus whatever `extra` adds to its descriptor (modules, licensing).
/// Served by a tiny server that answers the lifecycle with 204.
async fn install_probe(site: &Site, key: &str, extra: Value) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut descriptor = json!({
        "key": key,
        "name": "Probe",
        "baseUrl": base,
        "authentication": {"type": "jwt"},
        "lifecycle": {"installed": "/installed", "uninstalled": "/uninstalled"},
        "apiMigrations": {"signed-install": true, "context-qsh": true},
        "scopes": ["READ", "WRITE", "DELETE"],
    });
    if let (Some(target), Value::Object(more)) = (descriptor.as_object_mut(), extra) {
        target.extend(more);
    }
    let served = Arc::new(descriptor);
    let app = warp::get()
        .and(warp::path!("d.json"))
        .map(move || warp::reply::json(&*served))
        .or(warp::post().map(|| warp::http::StatusCode::NO_CONTENT));
    tokio::spawn(warp::serve(app).incoming(listener).run());
    let registration = lodger::host::upm::Registration {
        site: &site.base_url,
        user: &user(site, Role::SiteAdmin).email,
        token: &user(site, Role::SiteAdmin).api_token,
        descriptor_url: &format!("{base}/d.json"),
    };
    let installed = lodger::host::upm::register(&http(), &registration).await.unwrap();
    assert_eq!(installed, key);
}

/// Follows a task until it completes; returns every status seen, in order.
async fn statuses_until_complete(site: &Site, app: &str, location: &str) -> Vec<String> {
    let path = location.strip_prefix(&site.base_url).unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen: Vec<String> = Vec::new();
    loop {
        let (status, task, _) = as_app(site, app).call_with_headers("GET", &path, None).await;
        assert_eq!(status, 200, "{task}");
        let now = task["status"].as_str().unwrap().to_owned();
        if seen.last() != Some(&now) {
            seen.push(now.clone());
        }
        if now == "COMPLETE" {
            assert_eq!(task["progress"], 100);
            assert!(task["finished"].as_i64().unwrap() >= task["started"].as_i64().unwrap());
            return seen;
        }
        assert!(Instant::now() < deadline, "task never completed: {seen:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn issue_property(site: &Site, issue_id: &str, key: &str) -> Option<Value> {
    site.data().issue_properties.get(&(issue_id.to_owned(), key.to_owned())).cloned()
}

#[tokio::test]
async fn each_entity_kind_stores_properties_with_jiras_statuses() {
    let world = world().await;
    let site = &world.site;
    install_probe(site, "probe", json!({})).await;
    let dev = user(site, Role::User).account_id.clone();
    let user_query = format!("?accountId={}", encode(&dev));
    for (collection, suffix) in [
        ("/rest/api/3/issue/LOD-1/properties".to_owned(), String::new()),
        ("/rest/api/2/issue/10002/properties".to_owned(), String::new()),
        ("/rest/api/3/project/LOD/properties".to_owned(), String::new()),
        ("/rest/api/3/user/properties".to_owned(), user_query.clone()),
    ] {
        let one = format!("{collection}/probe.state{suffix}");
        let (status, _, _) =
            as_app(site, "probe").call_with_headers("PUT", &one, Some(json!({"n": 1}))).await;
        assert_eq!(status, 201, "created at {one}");
        let (status, _, _) =
            as_app(site, "probe").call_with_headers("PUT", &one, Some(json!({"n": 2}))).await;
        assert_eq!(status, 200, "updated at {one}");
        let (status, body, _) = as_app(site, "probe").call_with_headers("GET", &one, None).await;
        assert_eq!((status, &body), (200, &json!({"key": "probe.state", "value": {"n": 2}})));
        let (status, list, _) = as_app(site, "probe")
            .call_with_headers("GET", &format!("{collection}{suffix}"), None)
            .await;
        assert_eq!(status, 200);
        assert_eq!(list["keys"][0]["key"], "probe.state", "{list}");
        assert!(list["keys"][0]["self"].as_str().unwrap().contains("/properties/probe.state"));
        let (status, _, _) = as_app(site, "probe").call_with_headers("DELETE", &one, None).await;
        assert_eq!(status, 204);
        let (status, body, _) = as_app(site, "probe").call_with_headers("GET", &one, None).await;
        assert_eq!(status, 404, "{body}");
        assert!(body["errorMessages"][0].is_string());
        let (status, _, _) = as_app(site, "probe").call_with_headers("DELETE", &one, None).await;
        assert_eq!(status, 404);
    }
    // The issue and project are stored under their ids, whatever names them.
    as_app(site, "probe")
        .call_with_headers("PUT", "/rest/api/3/issue/LOD-1/properties/k", Some(json!(true)))
        .await;
    assert_eq!(issue_property(site, "10001", "k"), Some(json!(true)));
    let (status, _, _) = as_app(site, "probe")
        .call_with_headers("GET", "/rest/api/3/issue/NOPE-9/properties/k", None)
        .await;
    assert_eq!(status, 404);
    let (status, _, _) = as_app(site, "probe")
        .call_with_headers("GET", "/rest/api/3/project/NOPE/properties", None)
        .await;
    assert_eq!(status, 404);
    let (status, _, _) = as_app(site, "probe")
        .call_with_headers("GET", "/rest/api/3/user/properties/k?accountId=nobody", None)
        .await;
    assert_eq!(status, 404);
    let (status, _, _) =
        as_app(site, "probe").call_with_headers("GET", "/rest/api/3/user/properties/k", None).await;
    assert_eq!(status, 400, "accountId is required");
    // An app whose scopes lack DELETE cannot delete (lodger asks READ, WRITE).
    let (status, _, _) = as_app(site, "lodger")
        .call_with_headers("DELETE", "/rest/api/3/issue/LOD-1/properties/k", None)
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_plain_user_may_not_write_project_properties_but_a_project_admin_may() {
    let world = world().await;
    let site = &world.site;
    let path = "/rest/api/3/project/LOD/properties/lodger-settings";
    let (status, body) =
        as_user(site, Role::User).call_text("PUT", path, Some("{\"on\": true}")).await;
    assert_eq!(status, 403, "{body}");
    assert!(site.data().project_properties.is_empty());
    let (status, _) =
        as_user(site, Role::ProjectAdmin).call_text("PUT", path, Some("{\"on\": true}")).await;
    assert_eq!(status, 201);
    let (status, _) =
        as_user(site, Role::SiteAdmin).call_text("PUT", path, Some("{\"on\": false}")).await;
    assert_eq!(status, 200);
    // Reading needs only Browse Projects.
    let (status, body) = as_user(site, Role::User).call_text("GET", path, None).await;
    assert_eq!((status, &body["value"]), (200, &json!({"on": false})));
}

#[tokio::test]
async fn an_anonymous_visitor_cannot_write_issue_properties_and_a_plain_user_can() {
    let world = world().await;
    let site = &world.site;
    let path = "/rest/api/3/issue/LOD-2/properties/lodger-checklist";
    let (status, body) = anonymous(site).call_text("PUT", path, Some("{\"items\": []}")).await;
    // Refused before any permission is granted: the site has no anonymous
    // access, so the session is not accepted at all.
    assert!(matches!(status, 401 | 403), "{status} {body}");
    assert_eq!(issue_property(site, "10002", "lodger-checklist"), None);
    let (status, _) =
        as_user(site, Role::User).call_text("PUT", path, Some("{\"items\": []}")).await;
    assert_eq!(status, 201);
    assert_eq!(issue_property(site, "10002", "lodger-checklist"), Some(json!({"items": []})));
}

#[tokio::test]
async fn users_touch_only_their_own_user_properties_unless_they_administer_jira() {
    let world = world().await;
    let site = &world.site;
    let (dev, lead) = (
        user(site, Role::User).account_id.clone(),
        user(site, Role::ProjectAdmin).account_id.clone(),
    );
    let at = |who: &str| format!("/rest/api/3/user/properties/prefs?accountId={}", encode(who));
    let (status, _) = as_account(site, &dev).call_text("PUT", &at(&dev), Some("1")).await;
    assert_eq!(status, 201);
    let (status, _) = as_account(site, &dev).call_text("PUT", &at(&lead), Some("1")).await;
    assert_eq!(status, 403);
    let (status, _) = as_account(site, &dev).call_text("GET", &at(&lead), None).await;
    assert_eq!(status, 403);
    let (status, _) = as_user(site, Role::SiteAdmin).call_text("PUT", &at(&dev), Some("2")).await;
    assert_eq!(status, 200);
    let (_, body) = as_account(site, &dev).call_text("GET", &at(&dev), None).await;
    assert_eq!(body["value"], 2);
}

#[tokio::test]
async fn property_keys_stop_at_255_characters_and_values_at_32768() {
    let world = world().await;
    let site = &world.site;
    let base = "/rest/api/3/issue/LOD-1/properties";
    let put = |key: String, body: String| {
        let url = format!("{}{base}/{key}", site.base_url);
        let cookie = session_cookie(&user(site, Role::User).account_id);
        async move {
            let response = http()
                .put(url)
                .header("cookie", cookie)
                .header(APP_HEADER, "lodger")
                .body(body)
                .send()
                .await
                .unwrap();
            json_of(response).await
        }
    };
    let (status, body) = put("k".repeat(256), "1".into()).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["errorMessages"][0].as_str().unwrap().contains("255"));
    assert_eq!(put("k".repeat(255), "1".into()).await.0, 201);
    let exactly = format!("\"{}\"", "x".repeat(32 * 1024 - 2));
    assert_eq!(put("big".into(), exactly).await.0, 201);
    let over = format!("\"{}\"", "x".repeat(32 * 1024 - 1));
    let (status, body) = put("bigger".into(), over).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["errorMessages"][0].as_str().unwrap().contains("32768"));
    assert_eq!(put("bad".into(), "{not json".into()).await.0, 400);
    assert_eq!(put("empty".into(), String::new()).await.0, 400);
    assert_eq!(issue_property(site, "10001", "bigger"), None);
}

#[tokio::test]
async fn bulk_set_with_has_property_false_never_overwrites_a_value_present_when_it_runs() {
    let world = world().await;
    let site = &world.site;
    let key = "lodger-checklist";
    as_app(site, "lodger")
        .call_with_headers(
            "PUT",
            &format!("/rest/api/3/issue/LOD-1/properties/{key}"),
            Some(json!({"v": 1})),
        )
        .await;
    let request = json!({
        "value": {"v": 9},
        "filter": {"entityIds": [10001, 10002, 10003], "hasProperty": false},
    });
    let (status, body, headers) = as_app(site, "lodger")
        .call_with_headers("PUT", &format!("/rest/api/3/issue/properties/{key}"), Some(request))
        .await;
    assert_eq!(status, 303, "{body}");
    let location = headers["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("{}/rest/api/3/task/", site.base_url)), "{location}");
    // Nothing changes before the task runs, and a writer racing the task
    // wins: the filter is checked when the task applies, not when it is sent.
    assert_eq!(issue_property(site, "10002", key), None);
    let racer = format!("/rest/api/3/issue/LOD-3/properties/{key}");
    assert_eq!(
        as_app(site, "lodger").call_with_headers("PUT", &racer, Some(json!({"v": 5}))).await.0,
        201
    );
    let task_path = location.strip_prefix(&site.base_url).unwrap();
    let (_, task, _) = as_app(site, "lodger").call_with_headers("GET", task_path, None).await;
    assert_ne!(task["status"], "COMPLETE", "the racing write came before the task applied");
    let seen = statuses_until_complete(site, "lodger", &location).await;
    assert!(matches!(seen[0].as_str(), "ENQUEUED" | "RUNNING"), "{seen:?}");
    assert!(seen.iter().all(|s| ["ENQUEUED", "RUNNING", "COMPLETE"].contains(&s.as_str())));
    assert_eq!(issue_property(site, "10001", key), Some(json!({"v": 1})), "kept");
    assert_eq!(issue_property(site, "10002", key), Some(json!({"v": 9})), "set");
    assert_eq!(issue_property(site, "10003", key), Some(json!({"v": 5})), "the racer's");
    // The task belongs to its submitter.
    install_probe(site, "probe", json!({})).await;
    assert_eq!(as_app(site, "probe").call_with_headers("GET", task_path, None).await.0, 403);
}

#[tokio::test]
async fn bulk_set_with_current_value_replaces_only_the_matching_issues() {
    let world = world().await;
    let site = &world.site;
    install_probe(site, "probe", json!({})).await;
    let key = "probe.counter";
    for (issue, v) in [("LOD-1", 1), ("LOD-2", 2), ("LOD-3", 1)] {
        let path = format!("/rest/api/3/issue/{issue}/properties/{key}");
        assert_eq!(
            as_app(site, "probe").call_with_headers("PUT", &path, Some(json!({"v": v}))).await.0,
            201
        );
    }
    let request = json!({
        "value": {"v": 3},
        "filter": {"entityIds": [10001, 10002], "currentValue": {"v": 1}},
    });
    let bulk = format!("/rest/api/3/issue/properties/{key}");
    let (status, _, headers) =
        as_app(site, "probe").call_with_headers("PUT", &bulk, Some(request)).await;
    assert_eq!(status, 303);
    statuses_until_complete(site, "probe", headers["location"].to_str().unwrap()).await;
    assert_eq!(issue_property(site, "10001", key), Some(json!({"v": 3})), "matched");
    assert_eq!(issue_property(site, "10002", key), Some(json!({"v": 2})), "other value");
    assert_eq!(issue_property(site, "10003", key), Some(json!({"v": 1})), "not in entityIds");
    // Bulk delete takes the same kind of filter.
    let (status, _, headers) = as_app(site, "probe")
        .call_with_headers("DELETE", &bulk, Some(json!({"currentValue": {"v": 2}})))
        .await;
    assert_eq!(status, 303);
    statuses_until_complete(site, "probe", headers["location"].to_str().unwrap()).await;
    assert_eq!(issue_property(site, "10002", key), None);
    assert_eq!(issue_property(site, "10001", key), Some(json!({"v": 3})));
    // A filter that can match nothing is an error, as Jira documents.
    let impossible = json!({"value": 1, "filter": {"currentValue": 1, "hasProperty": false}});
    assert_eq!(
        as_app(site, "probe").call_with_headers("PUT", &bulk, Some(impossible)).await.0,
        400
    );
}

#[tokio::test]
async fn jql_finds_issues_by_an_indexed_property_and_ignores_an_unindexed_one() {
    let world = world().await;
    let site = &world.site;
    install_probe(
        site,
        "probe",
        json!({"modules": {"jiraEntityProperties": [{
            "key": "probe-index",
            "name": {"value": "Probe index"},
            "entityType": "issue",
            "keyConfigurations": [{
                "propertyKey": "probe-checklist",
                "extractions": [
                    {"objectName": "open", "type": "number", "alias": "probeOpen"},
                    {"objectName": "owner", "type": "string"},
                ],
            }],
        }]}}),
    )
    .await;
    for (issue, key, value) in [
        ("LOD-1", "probe-checklist", json!({"open": 3, "owner": "ada"})),
        ("LOD-2", "probe-checklist", json!({"open": 0, "owner": "bob"})),
        ("LOD-3", "unindexed", json!({"open": 5})),
    ] {
        let path = format!("/rest/api/3/issue/{issue}/properties/{key}");
        assert_eq!(as_app(site, "probe").call_with_headers("PUT", &path, Some(value)).await.0, 201);
    }
    let dev = user(site, Role::User).account_id.clone();
    let search = |jql: &str| {
        let path = format!("/rest/api/3/search?jql={}", encode(jql));
        let dev = dev.clone();
        async move {
            let (status, body) = as_account(site, &dev).call_text("GET", &path, None).await;
            assert_eq!(status, 200, "{body}");
            let keys: Vec<String> = body["issues"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["key"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(body["total"], keys.len());
            keys
        }
    };
    assert_eq!(search("issue.property[probe-checklist].open > 0").await, ["LOD-1"]);
    assert_eq!(
        search("project = LOD AND issue.property[probe-checklist].open >= 0 ORDER BY key DESC")
            .await,
        ["LOD-2", "LOD-1"]
    );
    assert_eq!(search("issue.property[probe-checklist].owner = bob").await, ["LOD-2"]);
    assert_eq!(search("probeOpen < 1").await, ["LOD-2"]);
    assert_eq!(search("key in (LOD-1, LOD-3)").await, ["LOD-1", "LOD-3"]);
    assert!(search("issue.property[unindexed].open > 0").await.is_empty());

    // The response carries Jira's shape, and the app can search too (POST).
    let (status, body, _) = as_app(site, "probe")
        .call_with_headers(
            "POST",
            "/rest/api/3/search",
            Some(json!({"jql": "issuekey = LOD-1", "maxResults": 10, "fields": ["summary"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["startAt"].as_u64(), body["maxResults"].as_u64()), (Some(0), Some(10)));
    let issue = &body["issues"][0];
    assert_eq!((issue["id"].as_str(), issue["key"].as_str()), (Some("10001"), Some("LOD-1")));
    assert_eq!(issue["fields"]["summary"], "Try the checklist");
    assert!(issue["self"].as_str().unwrap().ends_with("/rest/api/3/issue/10001"));

    // The enhanced search pages by token and has no total.
    let path = format!(
        "/rest/api/3/search/jql?jql={}&maxResults=1&fields=summary",
        encode("project = LOD ORDER BY key")
    );
    let (status, page, _) = as_app(site, "probe").call_with_headers("GET", &path, None).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        (page["issues"][0]["key"].as_str(), page["isLast"].as_bool()),
        (Some("LOD-1"), Some(false))
    );
    let token = page["nextPageToken"].as_str().unwrap();
    let (_, page, _) = as_app(site, "probe")
        .call_with_headers("GET", &format!("{path}&nextPageToken={}", encode(token)), None)
        .await;
    assert_eq!(page["issues"][0]["key"], "LOD-2");

    // Syntax errors name the position; unknown projects are Jira's 400.
    let bad = format!("/rest/api/3/search?jql={}", encode("project LOD"));
    let (status, body) = as_account(site, &dev).call_text("GET", &bad, None).await;
    assert_eq!(status, 400);
    assert!(body["errorMessages"][0].as_str().unwrap().contains("(line 1, character 9)"), "{body}");
    let unknown = format!("/rest/api/2/search?jql={}", encode("project = NOPE"));
    assert_eq!(as_account(site, &dev).call_text("GET", &unknown, None).await.0, 400);
}

#[tokio::test]
async fn mypermissions_answers_per_role() {
    let world = world().await;
    let site = &world.site;
    let path = "/rest/api/3/mypermissions?permissions=EDIT_ISSUES,ADMINISTER_PROJECTS,ADMINISTER";
    let have = |body: &Value, key: &str| body["permissions"][key]["havePermission"].as_bool();
    let (status, admin) = as_user(site, Role::SiteAdmin).call_text("GET", path, None).await;
    assert_eq!(status, 200, "{admin}");
    assert_eq!(
        (
            have(&admin, "EDIT_ISSUES"),
            have(&admin, "ADMINISTER_PROJECTS"),
            have(&admin, "ADMINISTER")
        ),
        (Some(true), Some(true), Some(true))
    );
    assert_eq!(admin["permissions"]["EDIT_ISSUES"]["id"], "12");
    assert_eq!(admin["permissions"]["EDIT_ISSUES"]["type"], "PROJECT");
    let (_, lead) = as_user(site, Role::ProjectAdmin).call_text("GET", path, None).await;
    assert_eq!(
        (have(&lead, "EDIT_ISSUES"), have(&lead, "ADMINISTER_PROJECTS"), have(&lead, "ADMINISTER")),
        (Some(true), Some(true), Some(false))
    );
    let (_, dev) = as_user(site, Role::User).call_text("GET", path, None).await;
    assert_eq!(
        (have(&dev, "EDIT_ISSUES"), have(&dev, "ADMINISTER_PROJECTS"), have(&dev, "ADMINISTER")),
        (Some(true), Some(false), Some(false))
    );
    let dev_id = user(site, Role::User).account_id.clone();
    let in_project = "/rest/api/3/mypermissions?permissions=EDIT_ISSUES&projectKey=LOD";
    assert_eq!(as_account(site, &dev_id).call_text("GET", in_project, None).await.0, 200);
    let nowhere = "/rest/api/3/mypermissions?permissions=EDIT_ISSUES&projectKey=NOPE";
    assert_eq!(as_account(site, &dev_id).call_text("GET", nowhere, None).await.0, 404);
    let unknown = "/rest/api/3/mypermissions?permissions=FLY";
    assert_eq!(as_account(site, &dev_id).call_text("GET", unknown, None).await.0, 400);
    assert_eq!(
        as_account(site, &dev_id).call_text("GET", "/rest/api/3/mypermissions", None).await.0,
        400
    );
}

#[tokio::test]
async fn permissions_check_tells_the_app_what_an_account_may_do() {
    let world = world().await;
    let site = &world.site;
    let check = |account_id: String| {
        json!({
            "accountId": account_id,
            "globalPermissions": ["ADMINISTER"],
            "projectPermissions": [
                {"permissions": ["EDIT_ISSUES"], "projects": [10000, 99999], "issues": [10001, 99999]},
                {"permissions": ["ADMINISTER_PROJECTS"], "projects": [10000]},
            ],
        })
    };
    let path = "/rest/api/3/permissions/check";
    let (status, dev, _) = as_app(site, "lodger")
        .call_with_headers("POST", path, Some(check(user(site, Role::User).account_id.clone())))
        .await;
    assert_eq!(status, 200, "{dev}");
    assert_eq!(dev["globalPermissions"], json!([]));
    assert_eq!(
        dev["projectPermissions"],
        json!([
            {"permission": "EDIT_ISSUES", "issues": [10001], "projects": [10000]},
            {"permission": "ADMINISTER_PROJECTS", "issues": [], "projects": []},
        ])
    );
    let (_, admin, _) = as_app(site, "lodger")
        .call_with_headers(
            "POST",
            path,
            Some(check(user(site, Role::SiteAdmin).account_id.clone())),
        )
        .await;
    assert_eq!(admin["globalPermissions"], json!(["ADMINISTER"]));
    assert_eq!(admin["projectPermissions"][1]["projects"], json!([10000]));
    // Jira's error shape for a permission it does not know.
    let (status, body, _) = as_app(site, "lodger")
        .call_with_headers("POST", path, Some(json!({"globalPermissions": ["PERMISSION_123"]})))
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"]["PERMISSION_123"], "Unrecognized permission");
    // A user may check only themself unless they administer Jira.
    let body = check(user(site, Role::SiteAdmin).account_id.clone()).to_string();
    let (status, _) = as_user(site, Role::User).call_text("POST", path, Some(&body)).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn the_license_resource_has_a_license_only_for_apps_that_enable_licensing() {
    let world = world().await;
    let site = &world.site;
    let (status, lodger, _) = as_app(site, "lodger")
        .call_with_headers("GET", "/rest/atlassian-connect/1/addons/lodger", None)
        .await;
    assert_eq!(status, 200, "{lodger}");
    assert_eq!(
        (lodger["key"].as_str(), lodger["state"].as_str()),
        (Some("lodger"), Some("ENABLED"))
    );
    assert_eq!(lodger["host"]["product"], "Jira");
    assert_eq!(lodger["license"]["active"], true, "lodger enables licensing: {lodger}");

    install_probe(site, "free-probe", json!({})).await;
    let (_, free, _) = as_app(site, "free-probe")
        .call_with_headers("GET", "/rest/atlassian-connect/1/addons/free-probe", None)
        .await;
    assert!(free.get("license").is_none(), "a free app has no license: {free}");

    install_probe(site, "paid-probe", json!({"enableLicensing": true})).await;
    let path = "/rest/atlassian-connect/1/addons/paid-probe";
    let (status, paid, _) = as_app(site, "paid-probe").call_with_headers("GET", path, None).await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["license"]["active"], true);
    assert_eq!(paid["license"]["type"], "COMMERCIAL");
    assert_eq!(paid["license"]["evaluation"], false);
    site.data().license_active.insert("paid-probe".into(), false);
    let (_, lapsed, _) = as_app(site, "paid-probe").call_with_headers("GET", path, None).await;
    assert_eq!(lapsed["license"]["active"], false);

    assert_eq!(
        as_app(site, "lodger").call_with_headers("GET", path, None).await.0,
        403,
        "another app's key"
    );
    let unsigned = http().get(format!("{}{path}", site.base_url)).send().await.unwrap();
    assert_eq!(unsigned.status(), 401);
}

#[tokio::test]
async fn projects_and_users_answer_in_jiras_shapes() {
    let world = world().await;
    let site = &world.site;
    let (status, projects, _) =
        as_app(site, "lodger").call_with_headers("GET", "/rest/api/3/project", None).await;
    assert_eq!(status, 200);
    assert_eq!(projects[0]["key"], "LOD");
    for id_or_key in ["LOD", "10000"] {
        let (status, project, _) = as_app(site, "lodger")
            .call_with_headers("GET", &format!("/rest/api/2/project/{id_or_key}"), None)
            .await;
        assert_eq!((status, project["id"].as_str()), (200, Some("10000")));
    }
    assert_eq!(
        as_app(site, "lodger").call_with_headers("GET", "/rest/api/3/project/NOPE", None).await.0,
        404
    );
    let dev = user(site, Role::User).account_id.clone();
    let (status, user, _) = as_app(site, "lodger")
        .call_with_headers("GET", &format!("/rest/api/3/user?accountId={}", encode(&dev)), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        user["displayName"],
        support::site_client::user(site, Role::User).display_name.as_str()
    );
    assert!(user.get("emailAddress").is_none(), "lodger lacks ACCESS_EMAIL_ADDRESSES");
    assert_eq!(
        as_app(site, "lodger")
            .call_with_headers("GET", "/rest/api/3/user?accountId=nobody", None)
            .await
            .0,
        404
    );
}

/// Regression for issue 16 (item 4, "`Retry-After` as an HTTP date"): the
/// site answers one call 429 with `Retry-After` as an HTTP date (RFC 9110
/// §10.2.3), and lodger's host client waits until that date, then succeeds.
/// Its backoff is 10 ms here, so a wait of more than a second can only be
/// the date honoured.
#[tokio::test]
async fn the_host_client_waits_until_a_retry_after_date_and_then_succeeds() {
    use lodger::connect::installation::{Installation, Product};
    use lodger::devhost::inspector::exchanges::{Kind, Selection};
    use lodger::devhost::platform::faults::{Faults, RestFault, RetryAfterForm};
    use lodger::host::client::{HostClient, RetryPolicy};

    let world = world().await;
    let site = Arc::clone(&world.site);
    let installation = Installation {
        key: "lodger".into(),
        client_key: site.client_key.clone(),
        base_url: site.base_url.clone(),
        shared_secret: site.data().installs["lodger"].shared_secret.clone(),
        product_type: Product::Jira,
        oauth_client_id: None,
        installed_at: 0,
    };
    let path = "/rest/atlassian-connect/1/addons/lodger/properties";
    site.set_faults(Faults {
        rate: 1.0,
        kind: Some(RestFault::TooManyRequests {
            retry_after_secs: 2,
            form: RetryAfterForm::HttpDate,
        }),
        path: Some(path.into()),
        ..Faults::default()
    })
    .unwrap();
    /// The statuses the site answered to REST calls at `path`, oldest first.
    fn statuses(site: &Site, path: &str) -> Vec<u16> {
        let selection = Selection { kind: Some(Kind::Rest), ..Selection::default() };
        let listed = site.exchanges().newest_first(&selection);
        listed.iter().rev().filter(|e| e.url.ends_with(path)).filter_map(|e| e.status).collect()
    }
    // Once the site has answered 429, the limit lifts.
    let lifter = Arc::clone(&site);
    let lift = tokio::spawn(async move {
        while !statuses(&lifter, path).contains(&429) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        lifter.set_faults(Faults::default()).unwrap();
    });
    let client = HostClient::new(RetryPolicy {
        attempts: 3,
        first_delay: Duration::from_millis(10),
        max_delay: Duration::from_secs(10),
        timeout: Duration::from_secs(10),
    })
    .unwrap();
    let started = Instant::now();
    let answer = tokio::time::timeout(
        Duration::from_secs(20),
        client.send(&installation, reqwest::Method::GET, path, None),
    )
    .await
    .expect("the call ends within 20 s")
    .expect("the retry succeeds");
    let waited = started.elapsed();
    lift.await.unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(statuses(&site, path), [429, 200], "one refusal, then the retry");
    assert!(waited >= Duration::from_millis(1_500), "waited only {waited:?}: the date was ignored");
    // Below the policy's 10 s cap: a date misread as a huge wait is capped there.
    assert!(waited < Duration::from_secs(9), "waited {waited:?}: not the date's 2 s");
}
