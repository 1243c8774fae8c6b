//! Revocation in the dev world: the emulated site refuses a superseded or
//! uninstalled shared secret as Jira does (401), so lodger's confirmation
//! sees there what it sees in production; and lodger, which handled the
//! reinstall and the uninstall, refuses the old credential at once.
//! REST only: runs without the connect-js files.

mod support;

use base64::Engine;
use lodger::connect::jwt::{Claims, sign};
use lodger::connect::qsh::{CONTEXT_QSH, query_string_hash};
use lodger::connect::secret::Secret;
use lodger::devhost::site::Site;
use support::dev_world::world;
use support::site_client::http;

const PROPERTY: &str = "/rest/atlassian-connect/1/addons/lodger/properties/lodger-installation";

fn secret_of(site: &Site) -> Secret {
    site.data().installs["lodger"].shared_secret.clone()
}

fn credential_of(site: &Site) -> String {
    let data = site.data();
    let stored = &data.app_properties[&("lodger".to_owned(), "lodger-installation".to_owned())];
    stored["credential"].as_str().unwrap().to_owned()
}

/// Reads the app property as the app, signed with `secret`: what lodger's
/// confirmation does.
async fn read_as_app(site: &Site, secret: &Secret) -> u16 {
    let claims = Claims::new("lodger", lodger::now(), 60, &query_string_hash("GET", PROPERTY, ""));
    http()
        .get(format!("{}{PROPERTY}", site.base_url))
        .header("authorization", format!("JWT {}", sign(&claims, secret)))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// `GET /api/whoami` on the dev world's lodger, as a page would call it.
async fn whoami(app_url: &str, site: &Site, secret: &Secret, credential: &str) -> u16 {
    let claims = Claims {
        sub: Some(site.users[0].account_id.clone()),
        ..Claims::new(&site.client_key, lodger::now(), 60, CONTEXT_QSH)
    };
    http()
        .get(format!("{app_url}/api/whoami"))
        .header("authorization", format!("JWT {}", sign(&claims, secret)))
        .header("x-lodger-installation", credential)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn the_site_refuses_a_superseded_or_uninstalled_secret_and_so_does_lodger() {
    let world = world().await;
    let site = &world.site;
    let (old_secret, old_credential) = (secret_of(site), credential_of(site));
    assert_eq!(read_as_app(site, &old_secret).await, 200);
    assert_eq!(whoami(&world.app_url, site, &old_secret, &old_credential).await, 200);

    let registration = lodger::host::upm::Registration {
        site: &site.base_url,
        user: &site.users[0].email,
        token: &site.users[0].api_token,
        descriptor_url: &format!("{}/atlassian-connect.json", world.app_url),
    };
    assert_eq!(lodger::host::upm::register(&http(), &registration).await.unwrap(), "lodger");
    let (new_secret, new_credential) = (secret_of(site), credential_of(site));
    assert_ne!(new_secret, old_secret);
    assert_eq!(read_as_app(site, &old_secret).await, 401, "a reinstall revokes the old secret");
    assert_eq!(read_as_app(site, &new_secret).await, 200);
    assert_eq!(whoami(&world.app_url, site, &old_secret, &old_credential).await, 401);
    assert_eq!(whoami(&world.app_url, site, &new_secret, &new_credential).await, 200);

    let admin = &site.users[0];
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", admin.email, admin.api_token));
    let deleted = http()
        .delete(format!("{}/rest/plugins/1.0/lodger-key", site.base_url))
        .header("authorization", format!("Basic {basic}"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(read_as_app(site, &new_secret).await, 401, "an uninstall revokes the secret");
    assert_eq!(whoami(&world.app_url, site, &new_secret, &new_credential).await, 401);
}
