//! The pages' JavaScript unit tests, run by `node --test`:
//!
//! - `tests/js/`: the checklist model's merge rule, tombstones, counts and
//!   limits (docs/data.md); the bridge seam with its Connect adapter against
//!   a fake `AP`, and that no page touches `AP` or `@forge/bridge`. Needs
//!   Node.js.
//! - `tests/js-forge/`: the seam with its Forge adapter, bundled with the
//!   real `@forge/bridge` by the pinned esbuild, against a fake
//!   `__bridge.callBridge`. Needs `npm ci --prefix tools/forge` too.
//!
//! See [`support::prerequisites`].

mod support;

use std::path::PathBuf;
use std::process::Command;

use support::prerequisites::{Prerequisite, require};

/// Runs `node --test <dir>` from the crate root and checks every test passed.
fn node_tests(dir: &str) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new("node").arg("--test").arg(dir).current_dir(&root).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "node --test {dir} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("# fail 0"), "no test results reported:\n{stdout}");
}

#[test]
fn the_checklist_model_and_the_connect_bridge_pass_their_node_unit_tests() {
    if !require(Prerequisite::Node) {
        return;
    }
    node_tests("tests/js/");
}

#[test]
fn the_forge_bridge_passes_its_node_unit_tests() {
    if !require(Prerequisite::Node) || !require(Prerequisite::ForgeManifest) {
        return;
    }
    node_tests("tests/js-forge/");
}
