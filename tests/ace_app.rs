//! An unchanged atlassian-connect-express (ACE) 11.5.3 app (`tools/ace-app`,
//! the shape of ACE's default template) uses the emulated sites as it would
//! a cloud development site, with its own tooling only:
//!
//! 1. started with `node app.js` in development, its `addon.register()` asks
//!    the site's UPM for a token (Basic `admin:admin` from the `hosts` URL in
//!    its `config.json`), checks development mode, POSTs its descriptor URL
//!    and polls the task;
//! 2. the site sends the RS256-signed `installed`, which ACE verifies with
//!    the key it fetches from `CONNECT_KEYS_CDN_URL` (the site's
//!    `/dev/install-keys`) and stores;
//! 3. an edit to its descriptor makes ACE register again (its dev loop);
//!    the site reinstalls it with a new shared secret;
//! 4. in Chromium, its general page and its issue web panel ask the site who
//!    is looking with `AP.request('/rest/api/3/myself')` and send
//!    `AP.context.getToken()` to a route behind `addon.checkValidToken()`;
//! 5. on SIGINT, as a developer's Ctrl-C, ACE deregisters (`DELETE
//!    /rest/plugins/1.0/<key>-key`) and its `/uninstalled` route verifies the
//!    signed `uninstalled`.
//!
//! Only the sites run (`Sites::start`), not lodger. The app runs from a
//! temporary folder holding the `config.json` a developer would write (the
//! site's port is free, so it differs from the committed 2990) and the
//! descriptor; `app.js` and `node_modules` stay in `tools/ace-app`.
//! Needs `npm ci --prefix tools/ace-app`, `tools/devhost` and Chromium
//! ([`support::prerequisites`]). Screenshots go to `target/test-artifacts/`.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use lodger::connect::installation::Product;
use lodger::dev::world::Sites;
use lodger::devhost::site::Site;
use serde_json::{Value, json};
use support::browser;
use support::prerequisites::{Prerequisite, require, root};
use support::process::{Process, free_port};
use support::site_client::http;

/// The key in `tools/ace-app/atlassian-connect.json`.
const APP_KEY: &str = "lodger-ace-app";

/// Registration polls UPM (ACE waits `pingAfter` between polls) and ACE
/// loads sequelize and sqlite3 first: more than [`support::PATIENCE`].
const REGISTRATION: Duration = Duration::from_secs(45);

/// The apps the site's Jira UPM lists, with `enabled`, as the admin sees them.
async fn listed(site: &Site) -> Vec<(String, bool)> {
    let response = http()
        .get(format!("{}/rest/plugins/1.0/", site.base_url))
        .header("authorization", dev_admin())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let listing: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    let plugins = listing["plugins"].as_array().cloned().unwrap_or_default();
    plugins
        .iter()
        .map(|p| (p["key"].as_str().unwrap_or_default().to_owned(), p["enabled"] == true))
        .collect()
}

async fn sites() -> Sites {
    Sites::start(&support::dev_world::options()).await.expect("the emulated sites start")
}

fn dev_admin() -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("admin:admin"))
}

/// What ACE's registration (`register-jira-conf.js`) sends and reads, step
/// by step, with hello-panel as the app: needs no Node.js, so a change to
/// the emulated UPM that would break ACE fails here first.
#[tokio::test]
async fn upm_answers_each_step_of_aces_registration_as_ace_reads_it() {
    let sites = sites().await;
    let site = &sites.sites[0];
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app_url = format!("http://{}", listener.local_addr().unwrap());
    let app = hello_panel::App::new(app_url.clone(), sites.install_keys_url());
    tokio::spawn(hello_panel::serve(listener, app));
    let upm = format!("{}/rest/plugins/1.0/", site.base_url);

    // checkIfDevelopmentMode: 2xx, and connectDeveloperListingsEnabled true.
    let settings = format!("{upm}settings");
    assert_eq!(http().get(&settings).send().await.unwrap().status(), 401);
    let response = http().get(&settings).header("authorization", dev_admin()).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    let settings = body["settings"].as_array().unwrap();
    let development = settings.iter().find(|s| s["key"] == "connectDeveloperListingsEnabled");
    assert_eq!(development.unwrap()["value"], true, "{body}");

    // registerUpm: the token from a GET with no Accept header, then the
    // POST; anything but 202 fails.
    let response = http().get(&upm).header("authorization", dev_admin()).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let token = response.headers()["upm-token"].to_str().unwrap().to_owned();
    let response = http()
        .post(format!("{upm}?token={token}"))
        .header("authorization", dev_admin())
        .header("content-type", "application/vnd.atl.plugins.remote.install+json")
        .body(json!({"pluginUri": format!("{app_url}/atlassian-connect.json")}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let task: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    // waitForRegistrationResult: `status.done: true` would mean failed.
    assert_eq!(task["status"]["done"], false, "{task}");
    let link = task["links"]["self"].as_str().unwrap();
    let response = http().get(link).header("authorization", dev_admin()).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let done: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!((&done["key"], &done["enabled"]), (&json!(hello_panel::APP_KEY), &json!(true)));

    // deregisterUpm: DELETE <key>-key, any 2xx.
    let response = http()
        .delete(format!("{upm}{}-key", hello_panel::APP_KEY))
        .header("authorization", dev_admin())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert!(listed(site).await.is_empty());
}

/// A folder with the developer's own `config.json` for this site, and the
/// app's descriptor: ACE reads both from its working directory.
fn app_folder(site: &Site) -> PathBuf {
    let folder = std::env::temp_dir().join(format!("lodger-ace-app-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    let app = root().join("tools/ace-app");
    let mut config: Value =
        serde_json::from_slice(&std::fs::read(app.join("config.json")).unwrap()).unwrap();
    let host = site.base_url.replace("http://", "http://admin:admin@");
    config["development"]["hosts"] = json!([host]);
    std::fs::write(folder.join("config.json"), config.to_string()).unwrap();
    std::fs::copy(app.join("atlassian-connect.json"), folder.join("atlassian-connect.json"))
        .unwrap();
    folder
}

/// Starts `node tools/ace-app/app.js` as `npm start` would (development),
/// stdout and stderr into `log`.
fn start_app(folder: &Path, port: u16, site: &Site, log: &Path) -> Child {
    let out = std::fs::File::create(log).unwrap();
    Command::new("node")
        .arg(root().join("tools/ace-app/app.js"))
        .current_dir(folder)
        // Development is express's default when NODE_ENV is unset, which is
        // how `npm start` runs. Setting NODE_ENV=development explicitly
        // breaks ACE 11.5.3's registration: atlassian-connect-validator
        // 0.0.9 then requires `longjohn`, a package nothing installs, and
        // ACE logs "Auto registration is not available" (README).
        .env_remove("NODE_ENV")
        .env("PORT", port.to_string())
        // The two one-time settings of an ACE developer (README, "Use the
        // dev world for your own app"): where the site reaches the app (no
        // tunnel), and the key server of signed installs.
        .env("AC_LOCAL_BASE_URL", format!("http://localhost:{port}"))
        .env("CONNECT_KEYS_CDN_URL", format!("{}/dev/install-keys", site.base_url))
        .stdout(Stdio::from(out.try_clone().unwrap()))
        .stderr(Stdio::from(out))
        .spawn()
        .unwrap()
}

fn read_log(log: &Path) -> String {
    std::fs::read_to_string(log).unwrap_or_default()
}

#[tokio::test]
async fn an_unchanged_ace_app_registers_itself_renders_in_chromium_and_deregisters() {
    if !require(Prerequisite::AceApp) || !browser::ready() {
        return;
    }
    let sites = sites().await;
    let site = sites.sites[0].clone();
    let folder = app_folder(&site);
    let log = browser::artifacts().join("ace-app.log");
    let port = free_port();
    let mut app = Process(Some(start_app(&folder, port, &site, &log)));

    // 1-2. ACE's own registration, and its own verdict on the signed install.
    let what = "ACE's addon.register() installed the app (listed and enabled)";
    support::eventually_within(REGISTRATION, what, async || {
        listed(&site).await.contains(&(APP_KEY.to_owned(), true))
            && read_log(&log).contains("Registered with host at")
    })
    .await;
    let client_key = site.client_key_of(Product::Jira).to_owned();
    let output = read_log(&log);
    assert!(
        output.contains(&format!("Saved tenant details for {client_key}")),
        "ACE stored the tenant after verifying the signed install:\n{output}"
    );

    // 3. ACE's dev loop: an edited descriptor makes it register again (its
    // fs.watch); the site reinstalls with a new shared secret, which ACE
    // stores, so the pages below verify against the secret of the reinstall.
    // Written by rename, as editors save, so that one watch event fires.
    let descriptor_path = folder.join("atlassian-connect.json");
    let mut descriptor: Value =
        serde_json::from_slice(&std::fs::read(&descriptor_path).unwrap()).unwrap();
    descriptor["modules"]["webPanels"][0]["name"]["value"] = json!("ACE panel, edited");
    let edited = folder.join("atlassian-connect.json.new");
    std::fs::write(&edited, descriptor.to_string()).unwrap();
    std::fs::rename(&edited, &descriptor_path).unwrap();
    let panel_name = || {
        let data = site.data();
        let install = data.installs_in(Product::Jira).get(APP_KEY).cloned();
        install.map(|i| i.descriptor["modules"]["webPanels"][0]["name"]["value"].clone())
    };
    let what = "ACE re-registered after its descriptor changed, and every re-registration ended";
    support::eventually_within(REGISTRATION, what, async || {
        let output = read_log(&log);
        let again = output.matches("Re-registering due to").count();
        let registered = output.matches("Registered with host at").count();
        again >= 1 && registered == again + 1 && panel_name() == Some(json!("ACE panel, edited"))
    })
    .await;

    let output = read_log(&log);
    let saved = output.matches(&format!("Saved tenant details for {client_key}")).count();
    let registered = output.matches("Registered with host at").count();
    assert_eq!(saved, registered, "ACE stored each install's secret:\n{output}");

    // 4. Its general page and its issue panel, in Chromium.
    let admin = &site.users[0];
    let report = browser::run(
        "tools/devhost/ace-app-browser-test.mjs",
        vec![
            format!("{}/plugins/servlet/ac/{APP_KEY}/hello-world", site.base_url),
            format!("{}/browse/{}", site.base_url, site.first_issue_key()),
            format!("http://localhost:{port}"),
            browser::artifacts().display().to_string(),
        ],
    )
    .await;
    for view in ["generalPage", "webPanel"] {
        let seen = &report[view];
        assert_eq!(
            seen["myself"],
            format!("The site says you are {}", admin.display_name),
            "{view}"
        );
        assert_eq!(seen["myselfAccountId"], admin.account_id.as_str(), "{view}");
        assert_eq!(seen["whoami"], format!("The app verified {}", admin.account_id), "{view}");
    }

    // 5. Ctrl-C: ACE deregisters, then re-raises the signal and exits.
    let child = app.0.take().unwrap();
    let pid = child.id().to_string();
    let mut app = Process(Some(child));
    let sent = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(sent.success());
    let what = "ACE deregistered and exited on SIGINT";
    support::eventually_within(REGISTRATION, what, async || {
        app.0.as_mut().is_some_and(|c| c.try_wait().unwrap().is_some())
    })
    .await;
    let output = read_log(&log);
    assert!(output.contains("Unregistered on host"), "ACE's deregister succeeded:\n{output}");
    assert!(
        output.contains(&format!("uninstalled by {client_key}")),
        "the app verified the signed uninstalled:\n{output}"
    );
    assert!(!listed(&site).await.iter().any(|(key, _)| key == APP_KEY));
    let _ = std::fs::remove_dir_all(&folder);
}
