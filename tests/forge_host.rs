//! The emulated Forge Custom UI host (issue 15, item 5): a small fixture
//! Forge app (`crates/devhost/tests/fixtures/forge-bridge-app`), its page
//! bundled at test time with the real `@forge/bridge` 7.2.0 by esbuild into
//! `target/`, installed into an emulated site as `forge install` would, and
//! driven in headless Chromium on the emulated issue page
//! (`tools/devhost/forge-host-browser-test.mjs`): `view.getContext()`,
//! `requestJira` as the user with the manifest's scopes, `invokeRemote` to
//! an in-test remote that verifies the invocation token, `events` between
//! the app's two frames, `showFlag`, the frame fitting its content, a
//! `Modal` and its `onClose`, `router.navigate`, and the admin page. A screenshot goes to `target/test-artifacts/forge-panel.png`.
//!
//! Also, without a browser: the resources are served only on the app's own
//! origin, with the bridge injected first and Forge's CSP.

mod support;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use lodger::connect::invocation_token::{Expectation, verify};
use lodger::connect::jwks::Jwks;
use lodger::dev::world::Sites;
use lodger::devhost::confluence::page_view;
use lodger::devhost::forge::install::install;
use lodger::devhost::forge::resources::{resource_origin, resource_url};
use lodger::devhost::pages::forge_modules::admin_page_path;
use lodger::devhost::site::Role;
use serde_json::{Value, json};
use support::browser;
use support::forge_fixture::fixture_app;
use warp::Filter;

const APP_ID: &str = "ari:cloud:ecosystem::app/0f0f0f0f-1234-4abc-8def-000000000015";

/// The fixture app with its remote at `remote`, bundled when `bundle`.
fn fixture_folder(remote: &str, bundle: bool) -> PathBuf {
    fixture_app(
        "forge-host-fixture",
        &|manifest| manifest.replace("REMOTE_BASE_URL", remote),
        bundle,
    )
}

/// A remote that verifies each invocation token with the platform's key
/// set and answers what it verified.
async fn remote(sites: &Sites) -> (String, Arc<Mutex<Vec<Value>>>) {
    let jwks = Jwks::parse(sites.host.forge.jwks().to_string().as_bytes()).unwrap();
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let record = Arc::clone(&seen);
    let route = warp::post()
        .and(warp::path!("ui" / "hello"))
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::body::bytes())
        .map(move |authorization: Option<String>, body: bytes::Bytes| {
            let token = authorization.unwrap_or_default();
            let token = token.strip_prefix("Bearer ").unwrap_or_default();
            let expect = Expectation { app_id: APP_ID, now: lodger::connect::now() };
            let answer = match verify(token, &jwks, &expect) {
                Ok(_) => {
                    let claims = claims_of(token);
                    json!({
                        "verified": true,
                        "principal": claims["principal"],
                        "context": claims["context"],
                        "body": String::from_utf8_lossy(&body),
                    })
                }
                Err(e) => json!({"verified": false, "error": e.to_string()}),
            };
            record.lock().unwrap().push(answer.clone());
            warp::reply::json(&answer)
        });
    (format!("http://{}", support::spawn(route).await), seen)
}

/// The (already verified) claims of a JWT.
fn claims_of(token: &str) -> Value {
    use base64::Engine;
    let part = token.split('.').nth(1).unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

#[tokio::test]
async fn resources_are_served_only_on_the_apps_own_origin_with_the_bridge_first_and_forges_csp() {
    let sites = Sites::start(&support::dev_world::options()).await.unwrap();
    let site = &sites.sites[0];
    let folder = fixture_folder("http://127.0.0.1:9", false);
    let installed = install(&sites.host, site, &folder).await.unwrap();
    let origin = resource_origin(site, APP_ID).unwrap();
    let url = resource_url(site, &installed, "panel").unwrap();
    assert!(
        origin.starts_with("http://0f0f0f0f-1234-4abc-8def-000000000015.localhost:"),
        "{origin}"
    );
    assert_ne!(origin, site.base_url);
    let host = origin.trim_start_matches("http://").to_owned();
    let get = |path: &str, host: Option<&str>| {
        let mut request = support::site_client::http().get(format!("{}{path}", site.base_url));
        if let Some(host) = host {
            request = request.header("host", host);
        }
        request.send()
    };
    let index = get("/panel/index.html", Some(&host)).await.unwrap();
    assert_eq!(index.status(), 200);
    let csp = index.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self' 'sha256-"), "{csp}");
    assert!(csp.contains(&format!("frame-ancestors {}", site.base_url)), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let html = index.text().await.unwrap();
    let bridge = html.find("globalThis.__bridge = {").expect("the bridge is injected");
    assert!(bridge < html.find("panel.js").unwrap(), "the bridge comes before the app's bundle");
    assert_eq!(html.matches("<script>").count(), 1, "one injected script");
    assert!(url.ends_with("/panel/index.html"), "{url}");
    // The same path on the site's own host name is not a resource.
    let on_site = get("/panel/index.html", None).await.unwrap();
    assert!(on_site.status().is_client_error(), "{}", on_site.status());
    assert!(!on_site.text().await.unwrap().contains("__bridge"));
    // Nothing outside the resource, nothing of another app, nothing of the site.
    assert_eq!(get("/panel/../manifest.yml", Some(&host)).await.unwrap().status(), 404);
    assert_eq!(get("/panel/%2e%2e/manifest.yml", Some(&host)).await.unwrap().status(), 404);
    let port = host.rsplit(':').next().unwrap();
    let other = format!("00000000-0000-4000-8000-000000000000.localhost:{port}");
    assert_eq!(get("/panel/index.html", Some(&other)).await.unwrap().status(), 404);
    assert_eq!(get("/rest/api/3/myself", Some(&host)).await.unwrap().status(), 404);
    // A frame's requestJira, as the page's host half forwards it: the
    // session and the Forge app id; the user's permissions and the
    // manifest's scopes apply.
    let rest = |method: &str, path: &str, account: &str| {
        support::site_client::http()
            .request(method.parse().unwrap(), format!("{}{path}", site.base_url))
            .header("cookie", format!("lodger_dev_user={account}"))
            .header("x-lodger-dev-app", APP_ID)
            .header("content-type", "application/json")
            .body("{\"a\":1}")
            .send()
    };
    let admin = &site.users.iter().find(|u| u.role == Role::SiteAdmin).unwrap().account_id;
    let viewer = &site.users.iter().find(|u| u.role == Role::Viewer).unwrap().account_id;
    let property = format!("/rest/api/3/issue/{}/properties/p", site.first_issue_key());
    assert!(rest("PUT", &property, admin).await.unwrap().status().is_success());
    assert_eq!(rest("PUT", &property, viewer).await.unwrap().status(), 403);
    assert_eq!(rest("GET", &property, viewer).await.unwrap().status(), 200);
    assert_eq!(rest("GET", "/rest/api/3/myself", admin).await.unwrap().status(), 403);
    assert_eq!(
        rest("GET", "/rest/atlassian-connect/1/addons/x/properties", admin).await.unwrap().status(),
        403
    );
    // The issue page lists the Forge panel and issue context beside Connect's.
    let page = support::site_client::http()
        .get(format!("{}/browse/{}", site.base_url, site.first_issue_key()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("\"moduleKey\":\"bridge-panel\""), "{page}");
    assert!(page.contains("\"moduleKey\":\"bridge-context\""), "{page}");
    assert!(page.contains("/dev/static/forge-host.js"));
}

#[tokio::test]
async fn the_real_forge_bridge_runs_on_the_emulated_issue_page() {
    if !browser::ready() {
        return;
    }
    let sites = Sites::start(&support::dev_world::options()).await.unwrap();
    let site = Arc::clone(&sites.sites[0]);
    let (remote_url, seen) = remote(&sites).await;
    let folder = fixture_folder(&remote_url, true);
    let installed = install(&sites.host, &site, &folder).await.unwrap();
    let issue_key = site.first_issue_key();
    let admin = site.users.iter().find(|u| u.role == Role::SiteAdmin).unwrap();
    let viewer = site.users.iter().find(|u| u.role == Role::Viewer).unwrap();
    let screenshot = browser::artifacts().join("forge-panel.png");
    let confluence_page = page_view::navigation(&site).remove(0).0;
    let report = browser::run(
        "tools/devhost/forge-host-browser-test.mjs",
        vec![
            format!("{}/browse/{issue_key}", site.base_url),
            resource_origin(&site, APP_ID).unwrap(),
            viewer.account_id.clone(),
            format!("{}{}", site.base_url, admin_page_path(&installed)),
            format!("{}{}", site.base_url, confluence_page),
            screenshot.display().to_string(),
        ],
    )
    .await;

    let context = &report["context"];
    assert_eq!(context["extension"]["issue"]["key"], issue_key.as_str(), "{report:#}");
    assert_eq!(context["extension"]["type"], "jira:issuePanel");
    assert_eq!(context["accountId"], admin.account_id.as_str());
    assert_eq!(context["moduleKey"], "bridge-panel");
    assert_eq!(context["siteUrl"], site.base_url.as_str());
    assert_eq!(context["cloudId"], site.data().forge.cloud_id.clone().unwrap().as_str());
    assert_eq!(context["theme"]["colorMode"], "light");
    assert!(context.get("license").is_none(), "the manifest does not enable licensing");
    assert_eq!(report["contextOfContext"]["moduleKey"], "bridge-context");

    assert!(matches!(report["put"]["status"].as_u64(), Some(200 | 201)), "{report:#}");
    assert_eq!(report["get"]["status"], 200);
    assert_eq!(report["get"]["body"]["value"], json!({"ticked": 2, "by": "forge"}));
    assert_eq!(report["outsideScopes"]["status"], 403, "read:jira-user is not in the manifest");

    assert!(
        report["escape"].as_str().unwrap().contains("is not a path of the jira REST API"),
        "{report:#}"
    );
    assert_eq!(report["themeEnabled"], "light");
    assert_eq!(report["themeToggled"], "dark");

    assert_eq!(report["remote"]["status"], 200, "{report:#}");
    assert_eq!(report["remote"]["headers"]["content-type"], "application/json");
    let remote = &report["remote"]["body"];
    assert_eq!(remote["verified"], true, "{report:#}");
    assert_eq!(remote["principal"], admin.account_id.as_str());
    assert_eq!(remote["body"], r#"{"hello":"remote"}"#);
    assert_eq!(remote["context"]["moduleKey"], "bridge-panel");
    assert_eq!(remote["context"]["extension"]["issue"]["key"], issue_key.as_str());
    assert_eq!(seen.lock().unwrap().len(), 1);

    assert_eq!(report["received"], json!([{"n": 1, "from": "panel"}]));
    assert!(report["flag"].as_str().unwrap().contains("Fixture flag"));
    assert!(report["unknown"].as_str().unwrap().contains("\"noSuchCall\" is not implemented"));
    let (before, grown, shrunk) = (
        report["heightBefore"].as_u64().unwrap(),
        report["heightGrown"].as_u64().unwrap(),
        report["heightShrunk"].as_u64().unwrap(),
    );
    assert!(before < grown && shrunk < grown, "{before} {grown} {shrunk}");

    // A Modal: its context is the opener's plus `extension.modal`, one is
    // open at a time, and each close reaches the opener's onClose once.
    assert_eq!(report["modalOpened"], "opened", "{report:#}");
    let modal = &report["modalContext"];
    assert_eq!(modal["extension"]["modal"], json!({"pick": "x"}), "{report:#}");
    assert_eq!(modal["extension"]["issue"]["key"], issue_key.as_str());
    assert_eq!(modal["moduleKey"], "bridge-panel");
    assert_eq!(report["modalSize"], "small");
    assert_eq!(report["modalWidth"], 400, "Forge's small modal is 400px wide");
    assert!(report["modalFrameHeight"].as_u64().unwrap() >= 200, "the frame fills the dialog");
    assert_eq!(report["modalTitle"], "Fixture modal");
    assert_eq!(report["untitledModalHeaderHidden"], true);
    assert_eq!(report["secondModal"], false, "one modal at a time");
    assert_eq!(report["modalStayedOnEscape"], true, "closeOnEscape: false");
    assert_eq!(report["modalStayedOnOverlayClick"], true, "closeOnOverlayClick: false");
    assert_eq!(report["closed"], json!([{"chosen": 42}, null, null, null, "done"]), "{report:#}");
    assert!(
        report["missingResource"].as_str().unwrap().contains("\"nope\" is not a resource"),
        "{report:#}"
    );
    assert_eq!(report["modalsLeft"], 0);
    assert_eq!(report["opened"], json!(["opening", "/browse/LOD-3"]));
    assert_eq!(report["reloaded"], json!(["reloading", true]));
    assert!(
        report["navigateDev"].as_str().unwrap().contains("is the lodger dev host's"),
        "{report:#}"
    );
    assert!(
        report["navigateScript"].as_str().unwrap().contains("only http and https"),
        "{report:#}"
    );
    assert!(report["navigateTarget"].as_str().unwrap().contains("\"dashboard\" is not emulated"));
    assert_eq!(report["navigated"], "navigating");
    assert_eq!(report["navigatedTo"], "/browse/LOD-2");

    assert_eq!(report["viewerContext"]["accountId"], viewer.account_id.as_str());
    assert_eq!(report["contextExpandedAfterReload"], true, "remembered for the same person");
    assert_eq!(report["contextExpandedForViewer"], false, "remembered per person");
    assert_eq!(report["viewerPut"]["status"], 403, "a viewer may not edit the issue");
    assert_eq!(report["viewerGet"]["body"]["value"], json!({"ticked": 2, "by": "forge"}));
    assert_eq!(report["adminPageAsViewer"], 403);
    assert_eq!(report["adminContext"]["extension"]["type"], "jira:adminPage");
    assert_eq!(report["adminContext"]["moduleKey"], "bridge-admin");
    let settings = &report["projectSettingsContext"];
    assert_eq!(settings["extension"]["type"], "jira:projectSettingsPage", "{report:#}");
    assert_eq!(settings["extension"]["project"]["key"], "LOD");
    assert!(
        report["projectSettingsPath"]
            .as_str()
            .unwrap()
            .starts_with("/jira/software/projects/LOD/settings/apps/0f0f0f0f-")
    );
    let macro_context = &report["macroContext"];
    assert_eq!(macro_context["extension"]["type"], "macro");
    assert!(macro_context["extension"]["content"]["id"].is_string(), "{report:#}");
    assert!(macro_context["extension"]["space"]["key"].is_string());
    // Through Confluence's REST as the user with read:confluence-props: the
    // property is not there yet (not a 401 or 403).
    assert_eq!(report["contentProperty"]["status"], 404, "{report:#}");
    assert!(screenshot.is_file());
}
