//! The real binary: `lodger serve` on a port, installed through signed
//! lifecycle calls from a test host, then called as a page would; and the
//! developer commands as a user types them.

mod support;

use std::process::{Command, Stdio};

use support::eventually;
use support::process::*;
use support::*;

async fn start(port: u16, master_key: &str, key_server: &str) -> Process {
    let child = Command::new(BIN)
        .args(["serve", "--port", &port.to_string()])
        .env("LODGER_MASTER_KEYS", master_key)
        .env("LODGER_INSTALL_KEYS_URL", key_server)
        .env_remove("LODGER_BASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Process(Some(child));
    wait_healthy(&format!("http://127.0.0.1:{port}/healthz"), "lodger serve").await;
    server
}

#[tokio::test]
async fn serves_installs_and_authenticates_over_a_real_socket() {
    let keys = key_server().await;
    let host = test_host("jira:client-bin", "ATCO-binary-secret").await;
    let master = lodger::connect::sealed::MasterKey::generate().to_config_string();
    let port = free_port();
    let _server = start(port, &master, &keys.url).await;
    let base = format!("http://localhost:{port}");
    let http = reqwest::Client::new();

    let descriptor = http
        .get(format!("{base}/atlassian-connect.json"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let descriptor: serde_json::Value = serde_json::from_slice(&descriptor).unwrap();
    assert_eq!(descriptor["baseUrl"], base);
    assert_eq!(descriptor["apiMigrations"]["signed-install"], true);

    let response = installed(&http, &host, &base).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 204);

    let credential = host.stored_credential("lodger").expect("stored in the host");
    let whoami = http
        .get(format!("{base}/api/whoami"))
        .header(
            "authorization",
            format!("JWT {}", context_token(&host.client_key, "ATCO-binary-secret")),
        )
        .header("x-lodger-installation", credential)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let whoami: serde_json::Value = serde_json::from_slice(&whoami).unwrap();
    assert_eq!(whoami["accountId"], "557058:user-1");
}

#[test]
fn serve_without_a_master_key_exits_non_zero_and_says_how_to_make_one() {
    let output = Command::new(BIN)
        .args(["serve", "--port", "0"])
        .env_remove("LODGER_MASTER_KEYS")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("lodger keygen"), "{stderr}");
}

#[tokio::test]
async fn serve_as_a_forge_remote_alone_needs_no_master_key() {
    let port = free_port();
    let child = Command::new(BIN)
        .args(["serve", "--port", &port.to_string()])
        .args(["--forge-app-id", support::forge::APP])
        .env_remove("LODGER_MASTER_KEYS")
        .env_remove("LODGER_FORGE_JWKS_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _server = Process(Some(child));
    wait_healthy(&format!("http://127.0.0.1:{port}/healthz"), "lodger serve --forge-app-id").await;
    let http = support::site_client::http();
    let invoke = format!("http://127.0.0.1:{port}{}", lodger::forge::paths::INVOKE);
    let (status, body) =
        support::site_client::json_of(http.post(&invoke).send().await.unwrap()).await;
    assert_eq!(status, 401, "{body}");
    assert!(body["error"].as_str().unwrap().contains("Bearer"), "{body}");
    let descriptor = http.get(format!("http://127.0.0.1:{port}/atlassian-connect.json"));
    assert_eq!(descriptor.send().await.unwrap().status(), 404);
}

#[test]
fn serve_refuses_a_forge_app_id_that_is_not_an_ari() {
    let output = Command::new(BIN)
        .args(["serve", "--port", "0", "--forge-app-id", "8a1f0c7e"])
        .env_remove("LODGER_MASTER_KEYS")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ari:cloud:ecosystem::app/<uuid>"), "{stderr}");
}

#[test]
fn serve_refuses_a_revocation_bound_outside_one_second_to_ten_minutes() {
    let key = lodger::connect::sealed::MasterKey::generate().to_config_string();
    for bound in ["0", "601"] {
        let output = Command::new(BIN)
            .args(["serve", "--port", "0"])
            .env("LODGER_MASTER_KEYS", &key)
            .env("LODGER_REVOCATION_CHECK_SECONDS", bound)
            .output()
            .unwrap();
        assert!(!output.status.success(), "{bound} accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("--revocation-check-seconds") && stderr.contains(bound),
            "{stderr}"
        );
    }
}

#[test]
fn keygen_prints_a_key_that_serve_accepts() {
    let output = Command::new(BIN).arg("keygen").output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let key = stdout.lines().next().unwrap();
    assert!(key.parse::<lodger::connect::sealed::MasterKey>().is_ok(), "{key}");
}

#[test]
fn qsh_command_prints_the_canonical_request() {
    let output = Command::new(BIN)
        .args(["qsh", "get", "https://app.example/panel?b=2&a=1&jwt=x"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("canonical request: GET&/panel&a=1&b=2"), "{stdout}");
    assert!(stdout.contains(&lodger::connect::qsh::query_string_hash("GET", "/panel", "a=1&b=2")));
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["keygen", "--help"],
        vec!["qsh", "--help"],
        vec!["jwt", "decode", "--help"],
        vec!["descriptor", "--help"],
    ] {
        let output = Command::new(BIN).args(&args).output().unwrap();
        assert!(output.status.success(), "{args:?}");
        assert!(String::from_utf8_lossy(&output.stdout).contains("Usage"), "{args:?}");
    }
}

#[test]
fn descriptor_validate_exits_zero_for_the_shipped_descriptors() {
    for product in ["jira", "confluence"] {
        let output = Command::new(BIN)
            .args(["descriptor", "--validate", "--product", product])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    }
}

/// A signed `installed` for `host` (with its current secret) to `base`.
fn installed(http: &reqwest::Client, host: &TestHost, base: &str) -> reqwest::RequestBuilder {
    let token = signed_install_token(&host.client_key, "/lifecycle/installed", base, KID);
    http.post(format!("{base}/lifecycle/installed"))
        .header("authorization", format!("JWT {token}"))
        .header("content-type", "application/json")
        .body(host.payload("installed", "lodger").to_string())
}

/// Whether a sealed credential opens, under `master`, to the host's tenant
/// with the host's current secret.
fn opens_with_current_secret(sealed: &str, master: &str, host: &TestHost) -> bool {
    let keyring = lodger::connect::sealed::Keyring::new(
        lodger::SEALING_PURPOSE,
        vec![master.parse().unwrap()],
    )
    .unwrap();
    keyring
        .open(sealed, &host.client_key, "lodger")
        .is_ok_and(|i| i.shared_secret.expose() == host.secret())
}

#[tokio::test]
async fn an_app_killed_in_the_middle_of_a_reinstall_leaves_the_host_whole_and_the_retry_finishes() {
    let keys = key_server().await;
    let host = test_host("jira:client-kill", "ATCO-secret-before").await;
    let master = lodger::connect::sealed::MasterKey::generate().to_config_string();
    let port = free_port();
    let base = format!("http://localhost:{port}");
    let http = reqwest::Client::new();
    let mut server = start(port, &master, &keys.url).await;
    assert_eq!(installed(&http, &host, &base).send().await.unwrap().status().as_u16(), 204);
    let before = host.webhooks.lock().unwrap().clone();
    assert_eq!(before.len(), 1);

    // The host reinstalls with a new secret; the app dies while it
    // registers the webhook that carries the new credential.
    *host.secret.lock().unwrap() = lodger::connect::secret::Secret::new("ATCO-secret-after");
    host.hold_registrations.store(true, std::sync::atomic::Ordering::SeqCst);
    let reinstall = tokio::spawn(installed(&http, &host, &base).send());
    eventually("the reinstall never reached the registration", async || {
        host.log.lock().unwrap().iter().any(|l| l.ends_with("(held)"))
    })
    .await;
    server.kill();
    host.hold_registrations.store(false, std::sync::atomic::Ordering::SeqCst);
    assert!(reinstall.await.unwrap().is_err(), "the host got no answer: the install failed");

    // Each value in the host is whole: the credential is the new one (one
    // PUT); the old registration is gone and the new one never came (Jira
    // takes one URL per app, so lodger deletes before it registers).
    let credential = host.stored_credential("lodger").unwrap();
    assert!(opens_with_current_secret(&credential, &master, &host), "the new secret is stored");
    assert_eq!(*host.webhooks.lock().unwrap(), [], "deleted, not yet registered");

    // Restarted, the app puts the webhook back on the tenant's next request
    // (a page relaying the credential), with no reinstall.
    let _server = start(port, &master, &keys.url).await;
    let page_call = http
        .get(format!("{base}/api/whoami"))
        .header("authorization", format!("JWT {}", context_token(&host.client_key, &host.secret())))
        .header("x-lodger-installation", &credential)
        .send()
        .await
        .unwrap();
    assert_eq!(page_call.status().as_u16(), 200);
    eventually("the webhook never came back", async || !host.webhooks.lock().unwrap().is_empty())
        .await;
    // And the host's retry of the failed install ends in the same place.
    assert_eq!(installed(&http, &host, &base).send().await.unwrap().status().as_u16(), 204);
    let after = host.webhooks.lock().unwrap().clone();
    assert_eq!(after.len(), 1, "exactly one registration: {after:?}");
    assert!(
        opens_with_current_secret(
            after[0].1.split_once("?c=").map_or("", |(_, c)| c),
            &master,
            &host
        ),
        "it carries the new credential"
    );
}
