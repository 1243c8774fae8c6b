//! The pages' JavaScript unit tests (`tests/js/*.test.mjs`, run by
//! `node --test`): the checklist model's merge rule, tombstones, counts and
//! limits (docs/data.md). Without Node.js this test prints why and passes,
//! unless `LODGER_REQUIRE_BROWSER=1` (CI has node).

use std::path::PathBuf;
use std::process::Command;

#[test]
fn the_checklist_model_passes_its_node_unit_tests() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let output =
        match Command::new("node").arg("--test").arg("tests/js/").current_dir(&root).output() {
            Ok(output) => output,
            Err(error) => {
                if std::env::var("LODGER_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
                    panic!("node is required to run tests/js: {error}");
                }
                eprintln!("skipping the JavaScript unit tests: node is not installed ({error})");
                return;
            }
        };
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "node --test tests/js/ failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("# fail 0"), "no test results reported:\n{stdout}");
}
