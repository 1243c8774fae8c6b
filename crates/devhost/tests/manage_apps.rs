//! The "Manage apps" page (issue 16, item 1): UPM's admin page on each
//! product of a site, listing the installed Connect and Forge apps, with
//! Uninstall and Upload app; and UPM's install task carrying a failure.

mod forge_support;

use std::sync::{Arc, Mutex};

use base64::Engine;
use forge_support::{APP, Remote, World};
use lodger_connect::installation::Product;
use lodger_connect::jwt::{Claims, Expectation, UnverifiedToken, sign};
use lodger_connect::qsh::query_string_hash;
use lodger_connect::signed_install::{InstallExpectation, decoding_key, verify};
use lodger_devhost::platform::auth::SESSION_COOKIE;
use lodger_devhost::platform::install;
use lodger_devhost::site::{Role, Site};
use serde_json::{Value, json};
use warp::Filter;
use warp::http::StatusCode;

const KEY: &str = "com.example.managed";

/// One lifecycle callback the Connect app received: path and Authorization.
type Seen = Arc<Mutex<Vec<(String, String)>>>;

/// A Connect app on a loopback port whose lifecycle routes answer 204 and
/// record what they get; its base URL.
async fn connect_app(seen: Seen) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let descriptor = json!({
        "key": KEY,
        "name": "Managed <b>app</b>",
        "baseUrl": base,
        "enableLicensing": true,
        "authentication": {"type": "jwt"},
        "apiMigrations": {"signed-install": true, "context-qsh": true},
        "lifecycle": {"installed": "/installed", "enabled": "/enabled", "disabled": "/disabled", "uninstalled": "/uninstalled"},
        "scopes": ["read", "write"],
        "modules": {
            "webhooks": [{"event": "jira:issue_created", "url": "/hook"}],
            "webPanels": [{"key": "checklist-panel", "url": "/panel", "location": "atl.jira.view.issue.right.context", "name": {"value": "P"}}],
        },
    });
    let served = warp::get()
        .and(warp::path!("atlassian-connect.json"))
        .map(move || warp::reply::json(&descriptor));
    let lifecycle = warp::post()
        .and(warp::path::param::<String>())
        .and(warp::path::end())
        .and(warp::header::optional::<String>("authorization"))
        .map(move |event: String, auth: Option<String>| {
            seen.lock().unwrap().push((format!("/{event}"), auth.unwrap_or_default()));
            StatusCode::NO_CONTENT
        });
    tokio::spawn(warp::serve(served.or(lifecycle)).incoming(listener).run());
    base
}

/// A world with the Connect app in its Jira and the Forge app installed.
async fn world_with_apps()
-> (World, String, Seen, lodger_devhost::forge::install::ForgeInstallation) {
    let world = World::start().await;
    let seen: Seen = Arc::default();
    let app = connect_app(Arc::clone(&seen)).await;
    let url = format!("{app}/atlassian-connect.json");
    install::install(&world.host, &world.site, Product::Jira, &url).await.unwrap();
    let remote = Remote::start(200).await;
    let forge = world.install(&remote).await;
    (world, app, seen, forge)
}

fn account(site: &Site, role: Role) -> String {
    site.users.iter().find(|u| u.role == role).unwrap().account_id.clone()
}

fn admin_basic(site: &Site) -> String {
    let admin = site.users.iter().find(|u| u.role == Role::SiteAdmin).unwrap();
    let pair = format!("{}:{}", admin.email, admin.api_token);
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
}

/// `GET path` as the user of `account`: status and body.
async fn page_as(world: &World, path: &str, account: &str) -> (u16, String) {
    let response = world
        .http
        .get(format!("{}{path}", world.base))
        .header("cookie", format!("{SESSION_COOKIE}={account}"))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// A form POST to the Jira page's `action` as `account`, with `origin`.
async fn post_form(
    world: &World,
    action: &str,
    account: &str,
    origin: Option<&str>,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = world
        .http
        .post(format!("{}/plugins/servlet/upm/{action}", world.base))
        .header("cookie", format!("{SESSION_COOKIE}={account}"))
        .form(form);
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    request.send().await.unwrap()
}

async fn upm_keys(world: &World) -> Vec<Value> {
    let upm = format!("{}/rest/plugins/1.0/", world.base);
    let response =
        world.http.get(upm).header("authorization", admin_basic(&world.site)).send().await.unwrap();
    let body: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    body["plugins"].as_array().unwrap().iter().map(|p| p["key"].clone()).collect()
}

#[tokio::test]
async fn the_page_lists_connect_apps_with_modules_scopes_and_lifecycle_and_forge_apps_with_modules()
{
    let (world, app, _, forge) = world_with_apps().await;
    let admin = account(&world.site, Role::SiteAdmin);
    let (status, html) = page_as(&world, "/plugins/servlet/upm", &admin).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<h1>Manage apps</h1>"), "{html}");

    // The Connect app, its name escaped.
    assert!(html.contains(&format!("data-app=\"{KEY}\"")), "{html}");
    assert!(html.contains("Managed &lt;b&gt;app&lt;/b&gt;"), "{html}");
    assert!(!html.contains("Managed <b>app</b>"));
    assert!(html.contains(&format!("<dd class=\"base-url\">{}</dd>", app)));
    assert!(html.contains("<dd class=\"scopes\"><code>READ</code> <code>WRITE</code> </dd>"));
    assert!(html.contains("<dd class=\"licensing\">licensed, license active</dd>"));
    assert!(html.contains("<li><code>webPanels</code>: <code>checklist-panel</code> </li>"));
    assert!(html.contains("<li><code>webhooks</code>: <code>jira:issue_created</code> </li>"));
    assert!(html.contains("<dd class=\"lifecycle\">enabled: the app answered 204</dd>"), "{html}");
    assert!(html.contains(">enabled</span>"));

    // The Forge app, with its modules, scopes and installation.
    assert!(html.contains(&format!("data-app=\"{APP}\"")), "{html}");
    assert!(html.contains("<li><code>jira:issuePanel</code>: <code>panel</code> </li>"), "{html}");
    assert!(html.contains("<li><code>jira:adminPage</code>: <code>admin</code> </li>"));
    assert!(html.contains("<code>installed (avi:forge:installed:app)</code>"), "{html}");
    assert!(html.contains("<code>read:jira-work</code>"));
    let installation = format!("<dd class=\"installation-id\">{}</dd>", forge.installation_id);
    assert!(html.contains(&installation), "{html}");
    assert!(html.contains(&format!("DEVELOPMENT ({})", forge.environment_id)));

    // The admin's navigation links to it; the Confluence page lists the
    // Forge app (compatible with Confluence) but not the Jira-only Connect app.
    assert!(html.contains("<a href=\"/plugins/servlet/upm\">Manage apps (Jira)</a>"), "{html}");
    let (status, wiki) = page_as(&world, "/wiki/plugins/servlet/upm", &admin).await;
    assert_eq!(status, 200);
    assert!(wiki.contains(&format!("data-app=\"{APP}\"")));
    assert!(!wiki.contains(&format!("data-app=\"{KEY}\"")));
    assert!(wiki.contains("action=\"/wiki/plugins/servlet/upm/uninstall\""));
}

#[tokio::test]
async fn a_user_who_is_not_a_site_admin_is_refused_the_page_and_its_forms() {
    let (world, _, seen, _) = world_with_apps().await;
    let user = account(&world.site, Role::User);
    for who in [user.as_str(), "anonymous"] {
        let (status, html) = page_as(&world, "/plugins/servlet/upm", who).await;
        assert_eq!(status, 403, "{who}: {html}");
        assert!(!html.contains(KEY));
        let response = post_form(
            &world,
            "uninstall",
            who,
            Some(&world.base),
            &[("kind", "connect"), ("app", KEY)],
        )
        .await;
        assert_eq!(response.status(), 403, "{who}");
    }
    // Nor does the navigation of an ordinary user link to it.
    let (_, issue) = page_as(&world, "/browse/LOD-1", &user).await;
    assert!(!issue.contains("/plugins/servlet/upm"), "{issue}");
    assert!(world.site.data().installs.contains_key(KEY));
    assert!(!seen.lock().unwrap().iter().any(|(path, _)| path == "/uninstalled"));
}

#[tokio::test]
async fn uninstalling_from_the_page_sends_a_signed_uninstalled_and_the_app_leaves_page_and_upm() {
    let (world, app, seen, _) = world_with_apps().await;
    let admin = account(&world.site, Role::SiteAdmin);
    assert!(upm_keys(&world).await.contains(&json!(KEY)));
    let response = post_form(
        &world,
        "uninstall",
        &admin,
        Some(&world.base),
        &[("kind", "connect"), ("app", KEY)],
    )
    .await;
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, format!("/plugins/servlet/upm?uninstalled={KEY}"));

    // `disabled` then `uninstalled`, the latter RS256-signed by the host.
    let calls = seen.lock().unwrap().clone();
    let paths: Vec<&str> = calls.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["/installed", "/enabled", "/disabled", "/uninstalled"]);
    let token = calls[3].1.strip_prefix("JWT ").unwrap();
    let key = decoding_key(world.host.signer.public_pem().as_bytes()).unwrap();
    let qsh = query_string_hash("POST", "/uninstalled", "");
    let expect = InstallExpectation {
        app_base_url: &app,
        client_key: &world.site.client_key,
        qsh: &qsh,
        now: lodger_connect::now(),
    };
    verify(token, &key, &expect).unwrap();

    let (_, html) = page_as(&world, &location, &admin).await;
    assert!(html.contains(&format!("Uninstalled {KEY}.")), "{html}");
    assert!(!html.contains(&format!("data-app=\"{KEY}\"")), "{html}");
    assert!(!upm_keys(&world).await.contains(&json!(KEY)));

    // The Forge app goes the same way.
    let response = post_form(
        &world,
        "uninstall",
        &admin,
        Some(&world.base),
        &[("kind", "forge"), ("app", APP)],
    )
    .await;
    assert_eq!(response.status(), 303);
    assert!(world.site.data().forge.installs.is_empty());
    let (_, html) = page_as(&world, "/plugins/servlet/upm", &admin).await;
    assert!(!html.contains(&format!("data-app=\"{APP}\"")));
    assert!(html.contains("No app is installed in Jira."), "{html}");
}

#[tokio::test]
async fn disabling_from_the_page_sends_disabled_and_upm_enables_the_app_again() {
    let (world, _, seen, _) = world_with_apps().await;
    let admin = account(&world.site, Role::SiteAdmin);
    let secret = world.site.data().installs[KEY].shared_secret.clone();
    let project = |world: &World| {
        let qsh = query_string_hash("GET", "/rest/api/3/project", "");
        let token = sign(&Claims::new(KEY, lodger_connect::now(), 180, &qsh), &secret);
        world
            .http
            .get(format!("{}/rest/api/3/project", world.base))
            .header("authorization", format!("JWT {token}"))
            .send()
    };
    assert_eq!(project(&world).await.unwrap().status(), 200);

    // Disable from the page: the app hears `disabled`, signed with its secret.
    let response = post_form(&world, "disable", &admin, Some(&world.base), &[("app", KEY)]).await;
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let (_, html) = page_as(&world, &location, &admin).await;
    assert!(html.contains(&format!("Disabled {KEY}.")), "{html}");
    assert!(html.contains("<span class=\"badge\">disabled</span>"), "{html}");
    assert!(html.contains("/plugins/servlet/upm/enable\"><input type=\"hidden\" name=\"app\""));
    let calls = seen.lock().unwrap().clone();
    assert_eq!(calls.last().unwrap().0, "/disabled");
    let token = calls.last().unwrap().1.strip_prefix("JWT ").unwrap().to_owned();
    let qsh = query_string_hash("POST", "/disabled", "");
    let claims = UnverifiedToken::parse(&token)
        .unwrap()
        .verify(&secret, &Expectation::request(&qsh, lodger_connect::now()))
        .unwrap();
    assert_eq!(claims.iss, world.site.client_key);
    assert_eq!(upm_enabled(&world).await, Some(false));

    // UPM's toggle turns it on again: `enabled`, and its calls work.
    let upm = format!("{}/rest/plugins/1.0/{KEY}-key", world.base);
    let toggle = |body: &'static str, auth: Option<String>| {
        let mut request =
            world.http.put(&upm).header("content-type", "application/json").body(body);
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        request.send()
    };
    assert_eq!(toggle(r#"{"enabled": true}"#, None).await.unwrap().status(), 401);
    let basic = Some(admin_basic(&world.site));
    assert_eq!(toggle("enabled", basic.clone()).await.unwrap().status(), 400);
    let enabled = toggle(r#"{"enabled": true}"#, basic).await.unwrap();
    assert_eq!(enabled.status(), 200);
    let entry: Value = serde_json::from_slice(&enabled.bytes().await.unwrap()).unwrap();
    assert_eq!(entry, json!({"key": KEY, "enabled": true, "userInstalled": true}));
    assert_eq!(seen.lock().unwrap().last().unwrap().0, "/enabled");
    assert_eq!(upm_enabled(&world).await, Some(true));
    assert_eq!(project(&world).await.unwrap().status(), 200);
}

/// Whether UPM's list says the Connect app is enabled.
async fn upm_enabled(world: &World) -> Option<bool> {
    let upm = format!("{}/rest/plugins/1.0/", world.base);
    let response =
        world.http.get(upm).header("authorization", admin_basic(&world.site)).send().await.unwrap();
    let body: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    body["plugins"].as_array()?.iter().find(|p| p["key"] == KEY)?["enabled"].as_bool()
}

#[tokio::test]
async fn a_cross_site_post_is_refused_and_uninstalls_nothing() {
    let (world, _, seen, _) = world_with_apps().await;
    let admin = account(&world.site, Role::SiteAdmin);
    let form = [("kind", "connect"), ("app", KEY)];
    for origin in [Some("http://evil.test"), Some("null"), None] {
        let response = post_form(&world, "uninstall", &admin, origin, &form).await;
        assert_eq!(response.status(), 403, "{origin:?}");
    }
    let forge = [("kind", "forge"), ("app", APP)];
    let response = post_form(&world, "uninstall", &admin, Some("http://evil.test"), &forge).await;
    assert_eq!(response.status(), 403);
    let upload = [("url", "http://127.0.0.1:9/atlassian-connect.json")];
    let response = post_form(&world, "upload", &admin, Some("http://evil.test"), &upload).await;
    assert_eq!(response.status(), 403);
    assert!(world.site.data().installs.contains_key(KEY));
    assert!(world.site.data().forge.installs.contains_key(APP));
    assert!(world.site.data().upm_tasks.is_empty());
    assert!(
        !seen.lock().unwrap().iter().any(|(path, _)| path != "/installed" && path != "/enabled")
    );
}

#[tokio::test]
async fn uploading_a_descriptor_url_from_the_page_installs_the_app_or_shows_why_not() {
    let world = World::start().await;
    let admin = account(&world.site, Role::SiteAdmin);
    let app = connect_app(Arc::default()).await;
    let url = format!("{app}/atlassian-connect.json");
    let response = post_form(&world, "upload", &admin, Some(&world.base), &[("url", &url)]).await;
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let (_, html) = page_as(&world, &location, &admin).await;
    assert!(html.contains(&format!("Installed {KEY}.")), "{html}");
    assert!(html.contains(&format!("data-app=\"{KEY}\"")));

    let dead = [("url", "http://127.0.0.1:9/atlassian-connect.json")];
    let response = post_form(&world, "upload", &admin, Some(&world.base), &dead).await;
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let (_, html) = page_as(&world, &location, &admin).await;
    assert!(
        html.contains("The app could not be installed: could not fetch the descriptor"),
        "{html}"
    );
}

#[tokio::test]
async fn a_failed_install_answers_202_and_its_task_reports_the_error_to_a_site_admin_only() {
    let world = World::start().await;
    let upm = format!("{}/rest/plugins/1.0/", world.base);
    let basic = admin_basic(&world.site);
    let response = world.http.get(&upm).header("authorization", &basic).send().await.unwrap();
    let token = response.headers()["upm-token"].to_str().unwrap().to_owned();
    let response = world
        .http
        .post(format!("{upm}?token={token}"))
        .header("authorization", &basic)
        .header("content-type", "application/vnd.atl.plugins.install.uri+json")
        .body(json!({"pluginUri": "http://127.0.0.1:9/atlassian-connect.json"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let task: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(task["status"]["done"], false, "{task}");
    let link = task["links"]["self"].as_str().unwrap();

    assert_eq!(world.http.get(link).send().await.unwrap().status(), 401);
    let response = world.http.get(link).header("authorization", &basic).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let done: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(done["status"]["done"], true, "{done}");
    let message = done["status"]["errorMessage"].as_str().unwrap();
    assert!(message.contains("could not fetch the descriptor"), "{message}");
    assert!(done["key"].is_null());
    assert!(world.site.data().installs.is_empty());
}
