//! What the integration tests share, one module per concern. Every test
//! file includes the whole tree with `mod support;`.
//!
//! | module | what |
//! |---|---|
//! | [`doubles`] | Atlassian's side of the protocol as doubles: key server, a host that stores properties, signing as hosts do (re-exported here) |
//! | [`dev_world`] | the dev world (app + emulated sites) on free ports |
//! | [`site_client`] | calling an emulated site as a user, anonymously or as an app; `http()`, `json_of` |
//! | [`browser`] | running the `tools/devhost/*.mjs` browser scripts |
//! | [`forge`] | Forge's side of an invocation: a signing key, its JWKS, invocation tokens |
//! | [`forge_fixture`] | the Forge fixture app, copied, its manifest edited, bundled with `@forge/bridge` |
//! | [`ace`] | atlassian-connect-express's own Forge invocation-token check, run on any key set and tokens |
//! | [`logs`] | what lodger logs during a test, captured |
//! | [`nginx`] | real nginx in front of real `lodger` processes |
//! | [`process`] | child processes, free ports, waiting until a server answers |
//! | [`prerequisites`] | tools beyond Rust: a missing one fails the test, or is counted as a skip |
//!
//! Not for assertions about behaviour: those stay in the tests.
#![allow(dead_code, unused_imports)]

pub mod ace;
pub mod browser;
pub mod dev_world;
pub mod doubles;
pub mod forge;
pub mod forge_fixture;
pub mod logs;
pub mod nginx;
pub mod prerequisites;
pub mod process;
pub mod site_client;

pub use doubles::*;

use std::time::{Duration, Instant};

/// How long [`eventually`] waits before failing the test.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Waits (at most [`PATIENCE`]) until `check` holds; fails saying `what`.
pub async fn eventually(what: &str, check: impl AsyncFnMut() -> bool) {
    eventually_within(PATIENCE, what, check).await;
}

/// Waits at most `patience` until `check` holds; fails saying `what`.
pub async fn eventually_within(
    patience: Duration,
    what: &str,
    mut check: impl AsyncFnMut() -> bool,
) {
    let deadline = Instant::now() + patience;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out after {patience:?} waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every file under `dir`, relative path to bytes.
pub fn read_tree(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut tree = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                tree.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    tree
}

/// The size of `bytes` gzipped at the best level, as the budgets count it.
pub fn gzip_len(bytes: &[u8]) -> usize {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap().len()
}

/// Copies the folder `from` into `to`, recursively (creating `to`).
pub fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
