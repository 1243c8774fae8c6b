//! What the browser tests share: whether Chromium, Node.js and the npm
//! packages are here, and running one of the `tools/devhost/*.mjs` scripts,
//! which prints its report as the last line of stdout.
//!
//! Without the tools a test prints why and passes, unless
//! `LODGER_REQUIRE_BROWSER=1` (as in CI), which makes it a failure.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The checkout's root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where screenshots go (created).
pub fn artifacts() -> PathBuf {
    let dir = root().join("target/test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// True when node, the npm packages and Chromium are here; otherwise says
/// why `test` skips (or panics when they are required).
pub fn ready(test: &str) -> bool {
    let Some(why) = missing() else { return true };
    if std::env::var("LODGER_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
        panic!("{test} cannot run: {why}");
    }
    eprintln!("skipping {test}: {why}");
    false
}

fn missing() -> Option<String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let node_modules = lodger::dev::default_node_modules();
    if Command::new("node").arg("--version").output().is_err() {
        return Some("node is not installed".into());
    }
    if !node_modules.join("playwright-core").exists()
        || !node_modules.join("atlassian-connect-js").exists()
    {
        return Some("run `npm ci --prefix tools/devhost`".into());
    }
    if !Path::new(&chromium).exists() {
        return Some(format!("{chromium} is missing: install Debian's chromium"));
    }
    None
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
