//! The pages' JavaScript unit tests (`tests/js/*.test.mjs`, run by
//! `node --test`): the checklist model's merge rule, tombstones, counts and
//! limits (docs/data.md). Needs Node.js ([`support::prerequisites`]).

mod support;

use std::path::PathBuf;
use std::process::Command;

use support::prerequisites::{Prerequisite, require};

#[test]
fn the_checklist_model_passes_its_node_unit_tests() {
    if !require(Prerequisite::Node) {
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let output =
        Command::new("node").arg("--test").arg("tests/js/").current_dir(&root).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "node --test tests/js/ failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("# fail 0"), "no test results reported:\n{stdout}");
}
