//! The Forge fixture app (`crates/devhost/tests/fixtures/forge-bridge-app`)
//! made ready to install: copied under `target/`, its manifest edited, and
//! its page bundled with the real `@forge/bridge` by esbuild.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::copy_tree;
use super::prerequisites::root;

/// A copy of the fixture under `target/<purpose>/`, its manifest passed
/// through `edit` (which must at least replace `REMOTE_BASE_URL`), with
/// `src/panel.js` bundled into its panel resource when `bundle`.
pub fn fixture_app(purpose: &str, edit: &dyn Fn(String) -> String, bundle: bool) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let source = root().join("crates/devhost/tests/fixtures/forge-bridge-app");
    let folder = root().join(format!("target/{purpose}/{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    copy_tree(&source, &folder);
    let manifest = std::fs::read_to_string(folder.join("manifest.yml")).unwrap();
    std::fs::write(folder.join("manifest.yml"), edit(manifest)).unwrap();
    if bundle {
        let node_modules = lodger::dev::default_node_modules();
        let status = Command::new(node_modules.join(".bin/esbuild"))
            .arg(folder.join("src/panel.js"))
            .args(["--bundle", "--format=iife", "--target=es2020", "--log-level=warning"])
            .arg(format!("--outfile={}", folder.join("resources/panel/panel.js").display()))
            .env("NODE_PATH", &node_modules)
            .status()
            .expect("esbuild runs");
        assert!(status.success(), "esbuild failed to bundle the fixture");
    }
    folder
}
