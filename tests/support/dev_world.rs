//! Starting the dev world (app + two emulated sites) in a test, on free ports.
//!
//! The sites start without connect-js: REST, UPM and installs need none of
//! it. A test that opens a product page that frames apps (an issue page, a
//! Confluence page view, a general page) or loads `all.js` first calls
//! [`pages`], which requires the npm packages ([`super::prerequisites`]).

use std::path::PathBuf;

use lodger::dev::world::{World, WorldOptions, start};
use lodger::devhost::jira::webhooks::state::{DeliveryRecord, Outcome};
use lodger::devhost::site::Site;

use super::prerequisites::{Prerequisite, require};

/// A running dev world serving the embedded site, with the Connect flavour
/// only (the Forge flavour would apply project templates too).
pub async fn world() -> World {
    world_from(None).await
}

/// A running dev world serving and watching `source_dir` when given, with
/// the Connect flavour only.
pub async fn world_from(source_dir: Option<PathBuf>) -> World {
    start_with(source_dir, false).await
}

/// The dev world as `lodger dev` starts it: both flavours in both sites.
pub async fn both_flavours() -> World {
    start_with(None, true).await
}

async fn start_with(source_dir: Option<PathBuf>, forge: bool) -> World {
    let options = WorldOptions { source_dir, forge, ..options() };
    start(&options).await.expect("the dev world starts")
}

/// A test's world options: free ports, the embedded site, no npm installs,
/// the Connect flavour only.
pub fn options() -> WorldOptions {
    WorldOptions {
        app_port: 0,
        host_port: 0,
        node_modules: lodger::dev::default_node_modules(),
        install_npm_packages: false,
        source_dir: None,
        forge: false,
    }
}

/// True when the product pages can frame apps (connect-js is installed);
/// otherwise fails the test, or records the skip (see [`require`]).
pub fn pages() -> bool {
    require(Prerequisite::DevhostPackages)
}

/// Waits until every webhook delivery `site` recorded for `app_key` is
/// settled (delivered, failed for good, or dropped) and answers them. A
/// delivery is recorded when its event fires, before the REST call that
/// fired it answers, so after this nothing more arrives for the events
/// fired so far: no fixed wait needed to show that.
pub async fn deliveries_settled(site: &Site, app_key: &str) -> Vec<DeliveryRecord> {
    let pending = || {
        let data = site.data();
        let records = data.webhooks.deliveries.iter().filter(|r| r.app_key == app_key);
        records.filter(|r| r.outcome == Outcome::Pending).count()
    };
    super::eventually(&format!("{app_key}'s webhook deliveries are settled"), async || {
        pending() == 0
    })
    .await;
    let data = site.data();
    data.webhooks.deliveries.iter().filter(|r| r.app_key == app_key).cloned().collect()
}
