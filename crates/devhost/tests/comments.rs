//! Issue comments (issue 16, item 4): the REST resource in v2 and v3 with
//! Jira's shapes, statuses, permissions and scopes, and the events each
//! change fires to descriptor webhooks, dynamic webhooks and Forge triggers.

mod forge_support;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use forge_support::{APP, Remote, World, bearer, installed_system_token, rand_suffix, send_json};
use lodger_connect::installation::Product;
use lodger_connect::jwt::{Claims, sign};
use lodger_connect::qsh::query_string_hash;
use lodger_connect::secret::Secret;
use lodger_devhost::jira::webhooks::state::{DeliveryPolicy, Outcome};
use lodger_devhost::platform::install;
use serde_json::{Value, json};
use warp::Filter;
use warp::http::{Method, StatusCode};

const KEY: &str = "com.example.commenter";

/// What the Connect app received: (path, JSON body).
type Received = Arc<Mutex<Vec<(String, Value)>>>;

/// A Connect app on a loopback port with `scopes`, descriptor webhooks on
/// the three comment events and `jira:issue_updated` at `/hooks/<event>`,
/// recording every POST.
async fn connect_app(scopes: &[&str]) -> (String, Received) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hooks: Vec<Value> =
        ["comment_created", "comment_updated", "comment_deleted", "jira:issue_updated"]
            .iter()
            .map(|event| json!({"event": event, "url": format!("/hooks/{event}")}))
            .collect();
    let descriptor = json!({
        "key": KEY,
        "name": "Commenter",
        "baseUrl": base,
        "authentication": {"type": "jwt"},
        "apiMigrations": {"signed-install": true, "context-qsh": true},
        "lifecycle": {"installed": "/installed", "enabled": "/enabled", "uninstalled": "/uninstalled"},
        "scopes": scopes,
        "modules": {"webhooks": hooks},
    });
    let received: Received = Arc::default();
    let log = Arc::clone(&received);
    let served = warp::get()
        .and(warp::path!("atlassian-connect.json"))
        .map(move || warp::reply::json(&descriptor));
    let posts = warp::post().and(warp::path::full()).and(warp::body::bytes()).map(
        move |path: warp::path::FullPath, body: Bytes| {
            let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
            log.lock().unwrap().push((path.as_str().to_owned(), body));
            StatusCode::OK
        },
    );
    tokio::spawn(warp::serve(served.or(posts)).incoming(listener).run());
    (base, received)
}

/// A site with the Connect app installed in its Jira.
struct Site {
    world: World,
    secret: Secret,
    app_base: String,
    received: Received,
}

impl Site {
    async fn start(scopes: &[&str]) -> Site {
        let world = World::start().await;
        world.site.set_delivery_policy(DeliveryPolicy {
            base_backoff: Duration::from_millis(10),
            ..DeliveryPolicy::default()
        });
        let (app_base, received) = connect_app(scopes).await;
        let url = format!("{app_base}/atlassian-connect.json");
        install::install(&world.host, &world.site, Product::Jira, &url).await.unwrap();
        let secret = world.site.data().installs[KEY].shared_secret.clone();
        Site { world, secret, app_base, received }
    }

    /// `method path` signed as the app.
    async fn as_app(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let (bare, query) = path.split_once('?').unwrap_or((path, ""));
        let qsh = query_string_hash(method.as_str(), bare, query);
        let token = sign(&Claims::new(KEY, lodger_connect::now(), 180, &qsh), &self.secret);
        let url = format!("{}{path}", self.world.base);
        self.world.call(method, &url, &format!("JWT {token}"), body).await
    }

    /// `method path` as the user whose email starts with `who`, through
    /// the app's iframe (`AP.request`).
    async fn as_user(
        &self,
        who: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let user = self.world.site.users.iter().find(|u| u.email.starts_with(who)).unwrap();
        let request = self
            .world
            .http
            .request(method, format!("{}{path}", self.world.base))
            .header("Cookie", format!("lodger_dev_user={}", user.account_id))
            .header("X-Lodger-Dev-App", KEY);
        send_json(request, body).await
    }

    /// As `dev`: adds "Hi" to LOD-1, edits it to "Hello", deletes it;
    /// answers the comment as added.
    async fn comment_edit_and_delete_as_dev(&self) -> Value {
        let path = "/rest/api/3/issue/LOD-1/comment";
        let (_, added) =
            self.as_user("dev", Method::POST, path, Some(json!({"body": adf("Hi")}))).await;
        let one = format!("{path}/{}", added["id"].as_str().unwrap());
        self.as_user("dev", Method::PUT, &one, Some(json!({"body": adf("Hello")}))).await;
        self.as_user("dev", Method::DELETE, &one, None).await;
        added
    }

    /// Waits until every logged webhook delivery is settled; the app's
    /// received requests then.
    async fn settled(&self) -> Vec<(String, Value)> {
        for _ in 0..500 {
            let pending = self
                .world
                .site
                .data()
                .webhooks
                .deliveries
                .iter()
                .any(|d| d.outcome == Outcome::Pending);
            if !pending {
                return self.received.lock().unwrap().clone();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("webhook deliveries did not settle");
    }
}

fn adf(text: &str) -> Value {
    json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]})
}

#[tokio::test]
async fn comments_are_added_listed_read_edited_and_deleted_in_v3_and_v2() {
    let site = Site::start(&["READ", "WRITE", "DELETE"]).await;
    let base = site.world.base.clone();

    let (status, added) = site
        .as_app(
            Method::POST,
            "/rest/api/3/issue/LOD-1/comment",
            Some(json!({"body": adf("First")})),
        )
        .await;
    assert_eq!(status, 201, "{added}");
    let id = added["id"].as_str().unwrap().to_owned();
    assert_eq!(added["self"], format!("{base}/rest/api/3/issue/10001/comment/{id}"));
    assert_eq!(added["body"], adf("First"));
    assert_eq!(added["author"]["accountType"], "app");
    assert_eq!(added["updateAuthor"], added["author"]);
    assert_eq!(added["created"], added["updated"]);
    assert!(added["created"].as_str().unwrap().ends_with("+0000"));
    assert_eq!(added["jsdPublic"], true);

    let (status, second) = site
        .as_app(Method::POST, "/rest/api/2/issue/10001/comment", Some(json!({"body": "Second"})))
        .await;
    assert_eq!(status, 201);
    assert_eq!(second["body"], "Second");
    assert!(second["self"].as_str().unwrap().contains("/rest/api/2/issue/10001/comment/"));

    let (status, page) = site.as_app(Method::GET, "/rest/api/2/issue/LOD-1/comment", None).await;
    assert_eq!(status, 200);
    assert_eq!((page["startAt"].clone(), page["total"].clone()), (json!(0), json!(2)));
    assert!(page["maxResults"].is_u64());
    assert_eq!(page["comments"][0]["body"], "First", "v2 gives the ADF body as text");
    assert_eq!(page["comments"][1]["id"], second["id"]);
    let (_, newest) = site
        .as_app(Method::GET, "/rest/api/3/issue/LOD-1/comment?orderBy=-created&maxResults=1", None)
        .await;
    assert_eq!(newest["comments"].as_array().unwrap().len(), 1);
    assert_eq!(newest["comments"][0]["body"], adf("Second"), "v3 gives the text as ADF");
    assert_eq!(newest["total"], 2);

    let one = format!("/rest/api/3/issue/LOD-1/comment/{id}");
    let (status, read) = site.as_app(Method::GET, &one, None).await;
    assert_eq!((status, read["id"].clone()), (200, json!(id)));
    let v2 = format!("/rest/api/2/issue/LOD-1/comment/{id}");
    let (status, edited) = site.as_app(Method::PUT, &v2, Some(json!({"body": "Edited"}))).await;
    assert_eq!((status, edited["body"].clone()), (200, json!("Edited")));
    let (_, read) = site.as_app(Method::GET, &one, None).await;
    assert_eq!(read["body"], adf("Edited"));

    let (status, listed) = site
        .as_app(
            Method::POST,
            "/rest/api/3/comment/list",
            Some(json!({"ids": [id.parse::<u64>().unwrap(), 1]})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["values"][0]["id"], json!(id));

    let (status, _) = site.as_app(Method::DELETE, &one, None).await;
    assert_eq!(status, 204);
    let (status, gone) = site.as_app(Method::GET, &one, None).await;
    assert_eq!(status, 404, "{gone}");
    assert_eq!(site.as_app(Method::DELETE, &one, None).await.0, 404);
}

#[tokio::test]
async fn bad_bodies_unknown_issues_and_foreign_comments_get_jiras_errors() {
    let site = Site::start(&["READ", "WRITE"]).await;
    let (status, empty) = site
        .as_app(Method::POST, "/rest/api/2/issue/LOD-1/comment", Some(json!({"body": "  "})))
        .await;
    assert_eq!(status, 400);
    assert_eq!(empty["errors"]["comment"], "Comment body can not be empty!");
    let (status, _) =
        site.as_app(Method::POST, "/rest/api/3/issue/LOD-1/comment", Some(json!({}))).await;
    assert_eq!(status, 400);
    let (status, text_in_v3) = site
        .as_app(Method::POST, "/rest/api/3/issue/LOD-1/comment", Some(json!({"body": "plain"})))
        .await;
    assert_eq!(status, 400);
    assert!(text_in_v3["errors"]["comment"].as_str().unwrap().contains("Atlassian Document"));

    let (status, missing) = site
        .as_app(Method::POST, "/rest/api/3/issue/NOPE-9/comment", Some(json!({"body": adf("x")})))
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        missing["errorMessages"][0],
        "Issue does not exist or you do not have permission to see it."
    );
    assert_eq!(site.as_app(Method::GET, "/rest/api/3/issue/NOPE-9/comment", None).await.0, 404);

    let (_, on_one) = site
        .as_app(Method::POST, "/rest/api/3/issue/LOD-1/comment", Some(json!({"body": adf("x")})))
        .await;
    let elsewhere = format!("/rest/api/3/issue/LOD-2/comment/{}", on_one["id"].as_str().unwrap());
    assert_eq!(site.as_app(Method::GET, &elsewhere, None).await.0, 404);
    assert_eq!(
        site.as_app(Method::GET, "/rest/api/3/issue/LOD-1/comment/99999", None).await.0,
        404
    );
}

#[tokio::test]
async fn a_viewer_cannot_add_a_comment_and_a_user_can() {
    let site = Site::start(&["READ", "WRITE"]).await;
    let path = "/rest/api/3/issue/LOD-1/comment";
    let (status, refused) =
        site.as_user("viewer", Method::POST, path, Some(json!({"body": adf("hi")}))).await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused["errorMessages"][0].as_str().unwrap().contains("permission"));
    let (status, _) = site.as_user("viewer", Method::GET, path, None).await;
    assert_eq!(status, 200, "a viewer still browses");

    let (status, added) =
        site.as_user("dev", Method::POST, path, Some(json!({"body": adf("hi")}))).await;
    assert_eq!(status, 201);
    let dev = site.world.site.users.iter().find(|u| u.email.starts_with("dev")).unwrap();
    assert_eq!(added["author"]["accountId"], dev.account_id);
    assert_eq!(added["author"]["displayName"], dev.display_name);
    assert_eq!(added["author"]["accountType"], "atlassian");
}

#[tokio::test]
async fn a_user_changes_only_their_own_comments_and_a_project_admin_changes_anyones() {
    let site = Site::start(&["READ", "WRITE", "DELETE"]).await;
    let path = "/rest/api/3/issue/LOD-1/comment";
    let (_, leads) =
        site.as_user("lead", Method::POST, path, Some(json!({"body": adf("lead's")}))).await;
    let (_, devs) =
        site.as_user("dev", Method::POST, path, Some(json!({"body": adf("dev's")}))).await;
    let (_, apps) = site.as_app(Method::POST, path, Some(json!({"body": adf("app's")}))).await;
    let at = |c: &Value| format!("{path}/{}", c["id"].as_str().unwrap());
    let edit = || Some(json!({"body": adf("changed")}));

    for other in [&leads, &apps] {
        let (status, refused) = site.as_user("dev", Method::PUT, &at(other), edit()).await;
        assert_eq!(status, 400, "{refused}");
        assert_eq!(site.as_user("dev", Method::DELETE, &at(other), None).await.0, 400);
    }
    let (status, own) = site.as_user("dev", Method::PUT, &at(&devs), edit()).await;
    assert_eq!((status, own["body"].clone()), (200, adf("changed")));

    let (status, by_lead) = site.as_user("lead", Method::PUT, &at(&devs), edit()).await;
    assert_eq!(status, 200);
    let lead = site.world.site.users.iter().find(|u| u.email.starts_with("lead")).unwrap();
    assert_eq!(by_lead["updateAuthor"]["accountId"], lead.account_id);
    assert_ne!(by_lead["author"]["accountId"], lead.account_id);
    assert_eq!(site.as_user("lead", Method::DELETE, &at(&devs), None).await.0, 204);
    assert_eq!(site.as_user("dev", Method::DELETE, &at(&devs), None).await.0, 404);
}

#[tokio::test]
async fn a_missing_connect_scope_is_refused_with_403() {
    let reader = Site::start(&["READ"]).await;
    let path = "/rest/api/3/issue/LOD-1/comment";
    let (status, refused) =
        reader.as_app(Method::POST, path, Some(json!({"body": adf("x")}))).await;
    assert_eq!(status, 403);
    assert!(refused["errorMessages"][0].as_str().unwrap().contains("WRITE"));
    assert_eq!(reader.as_app(Method::GET, path, None).await.0, 200);
    let (status, _) =
        reader.as_app(Method::POST, "/rest/api/3/comment/list", Some(json!({"ids": []}))).await;
    assert_eq!(status, 200, "comments by ids needs only READ");

    let writer = Site::start(&["READ", "WRITE"]).await;
    let (_, added) = writer.as_app(Method::POST, path, Some(json!({"body": adf("x")}))).await;
    let one = format!("{path}/{}", added["id"].as_str().unwrap());
    let (status, refused) = writer.as_app(Method::DELETE, &one, None).await;
    assert_eq!(status, 403);
    assert!(refused["errorMessages"][0].as_str().unwrap().contains("DELETE"));
}

#[tokio::test]
async fn each_comment_event_reaches_descriptor_webhooks_and_matching_dynamic_webhooks_only() {
    let site = Site::start(&["READ", "WRITE", "DELETE"]).await;
    let dynamic = format!("{}/dyn", site.app_base);
    let every = ["comment_created", "comment_updated", "comment_deleted"];
    let (status, registered) = site
        .as_app(
            Method::POST,
            "/rest/api/3/webhook",
            Some(json!({"url": dynamic, "webhooks": [
                {"events": every, "jqlFilter": "project = LOD"},
                {"events": every, "jqlFilter": "issuekey = LOD-2"},
            ]})),
        )
        .await;
    assert_eq!(status, 200, "{registered}");
    let matching = registered["webhookRegistrationResult"][0]["createdWebhookId"].clone();
    assert!(matching.is_u64(), "{registered}");

    let added = site.comment_edit_and_delete_as_dev().await;

    let received = site.settled().await;
    let dev = site.world.site.users.iter().find(|u| u.email.starts_with("dev")).unwrap();
    for (event, text) in
        [("comment_created", "Hi"), ("comment_updated", "Hello"), ("comment_deleted", "Hello")]
    {
        let descriptor: Vec<&Value> = received
            .iter()
            .filter(|(p, _)| *p == format!("/hooks/{event}"))
            .map(|(_, b)| b)
            .collect();
        assert_eq!(descriptor.len(), 1, "{event}: {received:?}");
        let body = descriptor[0];
        assert_eq!(body["webhookEvent"], event);
        assert!(body["timestamp"].is_i64());
        assert_eq!(body["comment"]["id"], added["id"]);
        assert_eq!(body["comment"]["body"], text);
        assert_eq!(body["comment"]["author"]["accountId"], dev.account_id);
        assert!(
            body["comment"]["self"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/comment/{}", added["id"].as_str().unwrap()))
        );
        assert!(body["comment"]["created"].is_string() && body["comment"]["updated"].is_string());
        assert_eq!(body["issue"]["key"], "LOD-1");
        assert_eq!(body["issue"]["id"], "10001");
        assert!(body["issue"]["self"].as_str().unwrap().ends_with("/rest/api/2/issue/10001"));
        assert_eq!(body["issue"]["fields"]["project"]["key"], "LOD");
        assert!(body.get("matchedWebhookIds").is_none());

        let dynamic: Vec<&Value> = received
            .iter()
            .filter(|(p, b)| p == "/dyn" && b["webhookEvent"] == event)
            .map(|(_, b)| b)
            .collect();
        assert_eq!(dynamic.len(), 1, "{event}: {received:?}");
        assert_eq!(
            dynamic[0]["matchedWebhookIds"],
            json!([matching]),
            "the LOD-2 filter does not match"
        );
        assert_eq!(dynamic[0]["comment"]["id"], added["id"]);
    }
}

#[tokio::test]
async fn each_comment_change_is_also_an_issue_update_typed_by_its_jira_event() {
    let site = Site::start(&["READ", "WRITE", "DELETE"]).await;
    let dynamic = format!("{}/dyn", site.app_base);
    let (status, registered) = site
        .as_app(
            Method::POST,
            "/rest/api/3/webhook",
            Some(json!({"url": dynamic, "webhooks": [
                {"events": ["jira:issue_updated"], "jqlFilter": "project = LOD"},
                {"events": ["jira:issue_updated"], "jqlFilter": "project = LOD", "fieldIdsFilter": ["summary"]},
            ]})),
        )
        .await;
    assert_eq!(status, 200, "{registered}");
    let unfiltered = registered["webhookRegistrationResult"][0]["createdWebhookId"].clone();

    let added = site.comment_edit_and_delete_as_dev().await;

    let received = site.settled().await;
    let dev = site.world.site.users.iter().find(|u| u.email.starts_with("dev")).unwrap();
    for (hook, matched) in [("/hooks/jira:issue_updated", None), ("/dyn", Some(&unfiltered))] {
        let mut types: Vec<&str> = received
            .iter()
            .filter(|(p, b)| p == hook && b["webhookEvent"] == "jira:issue_updated")
            .map(|(_, body)| {
                assert_eq!(body["issue"]["key"], "LOD-1");
                assert_eq!(body["comment"]["id"], added["id"]);
                assert_eq!(body["user"]["accountId"], dev.account_id, "{body}");
                assert!(body.get("changelog").is_none(), "{body}");
                if let Some(id) = matched {
                    assert_eq!(
                        body["matchedWebhookIds"],
                        json!([id]),
                        "not the fieldIdsFilter one"
                    );
                }
                body["issue_event_type_name"].as_str().unwrap()
            })
            .collect();
        types.sort_unstable();
        assert_eq!(
            types,
            ["issue_comment_deleted", "issue_comment_edited", "issue_commented"],
            "{hook}: {received:?}"
        );
    }
}

/// A Forge app folder whose remote is at `remote`, with a trigger on
/// `avi:jira:commented:issue`.
fn commenting_app(remote: &str) -> PathBuf {
    let folder = std::env::temp_dir().join(format!("lodger-forge-comments-{}", rand_suffix()));
    std::fs::create_dir_all(&folder).unwrap();
    let manifest = format!(
        "app:
  id: {APP}
  runtime: {{name: nodejs22.x}}
  compatibility: {{jira: {{required: true}}}}
modules:
  trigger:
    - {{key: installed, events: [avi:forge:installed:app], endpoint: installed}}
    - {{key: commented, events: [avi:jira:commented:issue], endpoint: commented}}
  endpoint:
    - {{key: installed, remote: r, route: {{path: /forge/events/installed}}, auth: {{appSystemToken: {{enabled: true}}}}}}
    - {{key: commented, remote: r, route: {{path: /forge/events/commented}}, auth: {{appSystemToken: {{enabled: true}}}}}}
remotes:
  - {{key: r, baseUrl: '{remote}', operations: [compute], auth: {{appSystemToken: {{enabled: true}}}}}}
permissions:
  scopes: [read:app-system-token, read:jira-work, write:jira-work]
"
    );
    std::fs::write(folder.join("manifest.yml"), manifest).unwrap();
    folder
}

#[tokio::test]
async fn a_new_comment_triggers_avi_jira_commented_issue_on_a_forge_remote() {
    let world = World::start().await;
    let remote = Remote::start(200).await;
    lodger_devhost::forge::install::install(&world.host, &world.site, &commenting_app(&remote.url))
        .await
        .unwrap();
    let system = installed_system_token(&world, &remote).await;
    let url = format!("{}/rest/api/3/issue/LOD-1/comment", world.api_base());
    let (status, added) =
        world.call(Method::POST, &url, &bearer(&system), Some(json!({"body": adf("Forge")}))).await;
    assert_eq!(status, 201, "{added}");
    let (status, _) = world.call(Method::GET, &url, &bearer(&system), None).await;
    assert_eq!(status, 200);

    let deliveries = world.settled(2).await;
    let commented: Vec<_> =
        deliveries.iter().filter(|d| d.event == "avi:jira:commented:issue").collect();
    assert_eq!(commented.len(), 1, "{deliveries:?}");
    assert_eq!(commented[0].module_key, "commented");
    let seen = remote.seen_at("/forge/events/commented");
    assert_eq!(seen.len(), 1);
    let event = seen[0].json();
    assert_eq!(event["eventType"], "avi:jira:commented:issue");
    assert_eq!(event["issue"]["key"], "LOD-1");
    assert_eq!(event["comment"]["id"], added["id"]);
    assert_eq!(event["comment"]["body"], adf("Forge"));
    assert_eq!(event["context"]["moduleKey"], "commented");
    assert_eq!(event["context"]["cloudId"], world.cloud_id());
}
