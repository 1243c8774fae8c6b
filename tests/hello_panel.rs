//! hello-panel (`examples/hello-panel`), the second app built only on the
//! kit's core, installed into the dev world next to lodger through UPM: its
//! signed install is verified, its panel iframe refuses a missing or forged
//! token, and in a real browser it greets the signed-in user after one
//! `AP.request` round trip through connect-js. A screenshot is saved to
//! `target/test-artifacts/hello-panel.png`.
//!
//! The test lives in the root package (not in the example) because it needs
//! lodger's dev world; the example itself depends on `lodger-connect` only.
//! The browser test needs Chromium and `npm ci --prefix tools/devhost`; the
//! others run without them (see `support::prerequisites`).

mod support;

use std::sync::Arc;

use base64::Engine;
use hello_panel::App;
use lodger::connect::descriptor::problems;
use lodger::connect::installation::Product;
use lodger::dev::world::World;
use serde_json::Value;
use support::browser;
use support::site_client::http;

fn admin_basic(world: &World) -> String {
    let admin = &world.site.users[0];
    let pair = format!("{}:{}", admin.email, admin.api_token);
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
}

/// Starts hello-panel on a free port and installs it into the acme site's
/// Jira through UPM, as `lodger register` would; answers the app and its URL.
async fn install_hello_panel(world: &World) -> (Arc<App>, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let app = App::new(base_url.clone(), world.install_keys_url());
    tokio::spawn(hello_panel::serve(listener, Arc::clone(&app)));
    let site = &world.site;
    let registration = lodger::host::upm::Registration {
        site: &site.base_url,
        user: &site.users[0].email,
        token: &site.users[0].api_token,
        descriptor_url: &format!("{base_url}/atlassian-connect.json"),
    };
    let key = lodger::host::upm::register(&http(), &registration).await.unwrap();
    assert_eq!(key, hello_panel::APP_KEY);
    (app, base_url)
}

/// The apps UPM lists on the acme site, as a site admin sees them.
async fn listed_apps(world: &World) -> Vec<String> {
    let response = http()
        .get(format!("{}/rest/plugins/1.0/", world.site.base_url))
        .header("authorization", admin_basic(world))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let listing: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    let plugins = listing["plugins"].as_array().unwrap();
    plugins.iter().map(|plugin| plugin["key"].as_str().unwrap().to_owned()).collect()
}

/// The URL the issue page frames hello-panel's panel with (jwt included).
async fn panel_url(world: &World) -> String {
    let page = http().get(&world.issue_url).send().await.unwrap().text().await.unwrap();
    let start = page.find(r#"type="application/json">"#).unwrap() + 24;
    let end = start + page[start..].find("</script>").unwrap();
    let view: Value = serde_json::from_str(&page[start..end].replace("<\\/", "</")).unwrap();
    let modules = view["modules"].as_array().unwrap();
    let panel = modules.iter().find(|m| m["addonKey"] == hello_panel::APP_KEY);
    panel.unwrap_or_else(|| panic!("hello-panel is framed: {modules:?}"))["url"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn the_descriptor_passes_the_kits_checks() {
    assert_eq!(problems(&hello_panel::descriptor("http://127.0.0.1:8090")), Vec::<String>::new());
    // The same checks refuse what a host would: a public http base URL.
    let refused = problems(&hello_panel::descriptor("http://hello.example"));
    assert!(refused.iter().any(|problem| problem.contains("baseUrl")), "{refused:?}");
}

#[tokio::test]
async fn installs_next_to_lodger_and_verifies_its_signed_install() {
    let world = support::dev_world::world().await;
    let (app, base_url) = install_hello_panel(&world).await;
    let listed = listed_apps(&world).await;
    assert!(listed.iter().any(|key| key == "lodger"), "{listed:?}");
    assert!(listed.iter().any(|key| key == hello_panel::APP_KEY), "{listed:?}");
    // The app kept the tenant only after verifying the RS256 signed install.
    let acme = world.site.client_key_of(Product::Jira).to_owned();
    assert_eq!(app.tenants().await, std::slice::from_ref(&acme));

    // An `installed` the host did not sign is refused and changes nothing: no
    // token, then a token signed HS256 with a secret of the attacker's choice.
    let payload = serde_json::json!({
        "key": hello_panel::APP_KEY, "clientKey": "attacker", "sharedSecret": "chosen",
        "baseUrl": "https://attacker.example", "productType": "jira", "eventType": "installed"
    });
    let qsh = lodger::connect::qsh::query_string_hash("POST", "/installed", "");
    let secret = lodger::connect::secret::Secret::new("chosen");
    let claims = lodger::connect::jwt::Claims::new("attacker", lodger::now(), 180, &qsh);
    let forged = lodger::connect::jwt::sign(&claims, &secret);
    for authorization in [None, Some(format!("JWT {forged}"))] {
        let mut request = http()
            .post(format!("{base_url}/installed"))
            .header("content-type", "application/json")
            .body(payload.to_string());
        if let Some(value) = &authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{authorization:?}");
        assert!(response.headers()["www-authenticate"].to_str().unwrap().starts_with("JWT"));
    }
    assert_eq!(app.tenants().await, [acme]);

    // Uninstalling through UPM sends the signed `uninstalled`: the app forgets.
    let response = http()
        .delete(format!("{}/rest/plugins/1.0/{}-key", world.site.base_url, hello_panel::APP_KEY))
        .header("authorization", admin_basic(&world))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(app.tenants().await, Vec::<String>::new());
    assert!(!listed_apps(&world).await.iter().any(|key| key == hello_panel::APP_KEY));
}

#[tokio::test]
async fn the_panel_accepts_only_the_host_signed_iframe_url() {
    let world = support::dev_world::world().await;
    install_hello_panel(&world).await;
    let url = panel_url(&world).await;
    assert!(url.contains("/panel?issueKey=LOD-1&"), "{url}");

    let response = http().get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    let sub = format!(r#"data-sub="{}""#, world.site.users[0].account_id);
    assert!(page.contains(&sub), "the page carries the verified sub: {page}");

    let (without_jwt, token) = url.rsplit_once("&jwt=").unwrap();
    // The signature's first character carries six bits of the MAC.
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let flipped = if signature.starts_with('A') { 'B' } else { 'A' };
    let bad_signature = format!("{signed}.{flipped}{}", &signature[1..]);
    for (what, tampered) in [
        ("no jwt", without_jwt.to_owned()),
        ("another issue", url.replace("issueKey=LOD-1", "issueKey=LOD-2")),
        ("a changed signature", format!("{without_jwt}&jwt={bad_signature}")),
        ("garbage", format!("{without_jwt}&jwt=not.a.token")),
    ] {
        let response = http().get(&tampered).send().await.unwrap();
        assert_eq!(response.status(), 401, "{what}: {tampered}");
        let body = response.text().await.unwrap();
        assert!(!body.contains("data-sub"), "{what}: no page behind a refusal");
    }
}

#[tokio::test]
async fn the_panel_greets_the_viewer_through_ap_request_in_a_real_browser() {
    if !browser::ready() {
        return;
    }
    let world = support::dev_world::world().await;
    let (_app, base_url) = install_hello_panel(&world).await;
    let screenshot = browser::artifacts().join("hello-panel.png");
    let report = browser::run(
        "tools/devhost/hello-panel-browser-test.mjs",
        vec![world.issue_url.clone(), base_url, screenshot.display().to_string()],
    )
    .await;
    let admin = &world.site.users[0];
    assert_eq!(report["lodgerPanel"], true);
    assert_eq!(report["greeting"], format!("Hello, {}", admin.display_name));
    assert_eq!(report["sub"], admin.account_id.as_str());
    assert!(screenshot.exists());
}
