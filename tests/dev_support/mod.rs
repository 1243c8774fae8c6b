//! Starting the dev world (app + emulated sites) in a test, on free ports.
//!
//! The emulated sites serve connect-js from npm; without
//! `npm ci --prefix tools/devhost` the tests that need them print why and
//! pass, unless `LODGER_REQUIRE_DEVHOST=1` (as in CI), which makes it a failure.
#![allow(dead_code)]

use std::path::PathBuf;

use lodger::dev::world::{World, WorldOptions, start};

/// The installed npm packages, or `None` after saying why the test skips.
pub fn node_modules() -> Option<PathBuf> {
    let node_modules = lodger::dev::default_node_modules();
    if node_modules.join("atlassian-connect-js/dist/connect-host.js").exists() {
        return Some(node_modules);
    }
    let why = format!(
        "{} has no connect-js: run `npm ci --prefix tools/devhost`",
        node_modules.display()
    );
    if std::env::var("LODGER_REQUIRE_DEVHOST").is_ok_and(|v| v == "1") {
        panic!("{why}");
    }
    eprintln!("skipping: {why}");
    None
}

/// A running dev world serving the embedded site, or `None` (skipped).
pub async fn world() -> Option<World> {
    world_from(None).await
}

/// A running dev world serving and watching `source_dir` when given.
pub async fn world_from(source_dir: Option<PathBuf>) -> Option<World> {
    let options = WorldOptions {
        app_port: 0,
        host_port: 0,
        node_modules: node_modules()?,
        install_npm_packages: false,
        source_dir,
    };
    Some(start(&options).await.expect("the dev world starts"))
}
