//! What the browser tests share: whether Chromium, Node.js and the npm
//! packages are here, and running one of the `tools/devhost/*.mjs` scripts,
//! which prints its report as the last line of stdout.
//!
//! Without the tools a test fails, or skips and is counted under
//! `tools/test --allow-skips` ([`super::prerequisites`]).

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

pub use super::prerequisites::root;
use super::prerequisites::{Prerequisite, require_all};

/// Where screenshots go (created).
pub fn artifacts() -> PathBuf {
    let dir = root().join("target/test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// True when node, the npm packages and Chromium are here; otherwise fails
/// the test, or records the skip ([`super::prerequisites`]).
pub fn ready() -> bool {
    require_all(&[Prerequisite::Node, Prerequisite::DevhostPackages, Prerequisite::Chromium])
}

/// Runs `node <script> <args...>` (script relative to the checkout) off the
/// async runtime; asserts it succeeded and answers its JSON report.
pub async fn run(script: &str, args: Vec<String>) -> Value {
    let script = root().join(script);
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node").arg(&script).args(&args).output().unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the browser script failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or_default()).unwrap_or_else(|err| {
        panic!("the script's last line is not its JSON report ({err}):\n{stdout}")
    })
}

/// Where to copy screenshots for the README: `docs/`, only when
/// `LODGER_UPDATE_SCREENSHOTS=1`, so that tests leave the tree clean.
pub fn docs_to_update() -> Option<PathBuf> {
    std::env::var("LODGER_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1").then(|| root().join("docs"))
}
