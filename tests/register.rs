//! `lodger register`, as a developer types it, against the emulated site:
//! the same UPM flow it runs against a real cloud development site.

mod support;

use std::process::Command;

use lodger::devhost::site::Role;
use support::site_client::user;

const BIN: &str = env!("CARGO_BIN_EXE_lodger");

#[tokio::test]
async fn register_installs_by_descriptor_url_and_explains_refusals() {
    let world = support::dev_world::world().await;
    let site = world.site.clone();
    let before = site.data().installs["lodger"].shared_secret.clone();
    let descriptor = format!("{}/atlassian-connect.json", world.app_url);
    let admin = user(&site, Role::SiteAdmin).clone();
    let run = move |token: &str| {
        let (site_url, email, token, descriptor) =
            (site.base_url.clone(), admin.email.clone(), token.to_owned(), descriptor.clone());
        tokio::task::spawn_blocking(move || {
            Command::new(BIN)
                .args([
                    "register",
                    "--site",
                    &site_url,
                    "--user",
                    &email,
                    "--descriptor-url",
                    &descriptor,
                ])
                .env("LODGER_API_TOKEN", token)
                .output()
                .unwrap()
        })
    };
    let output = run("admin").await.unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("installed lodger"));
    assert_ne!(
        world.site.data().installs["lodger"].shared_secret,
        before,
        "reinstalled with a new secret"
    );

    let output = run("wrong-token").await.unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("refused the credentials") && !stderr.contains("wrong-token"),
        "{stderr}"
    );
}
