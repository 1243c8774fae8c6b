//! The Forge adapter of the pages' bridge seam, bundled with Atlassian's
//! `@forge/bridge` by esbuild, for the Custom UI resources ("Custom UI":
//! `forge deploy` uploads a resource as it is, so it must carry its own
//! bundle).
//!
//! The adapter's source is `site/forge/adapter.js`, built into the binary;
//! `@forge/bridge` 7.2.0 and esbuild are pinned in `tools/forge/package.json`
//! and installed with `npm ci --prefix tools/forge`. The bundle is made at
//! export time by `tools/forge/bundle.js` (esbuild's `--bundle --format=iife
//! --minify`, fixed options, entry on stdin, no source map): the same
//! packages give the same bytes. It is never committed.
//!
//! Which `tools/forge` folder: `$LODGER_FORGE_TOOLS`, else the checkout the
//! binary was built from.
//!
//! Not for the Connect site: nothing here reaches a Connect page (build.rs
//! leaves `site/forge/` out of the embedded site).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The Forge adapter's source (`site/forge/adapter.js`).
pub const ADAPTER: &str = include_str!("../../../site/forge/adapter.js");

/// The environment variable naming the `tools/forge` folder to use.
pub const TOOLS_ENV: &str = "LODGER_FORGE_TOOLS";

/// The command that installs the bundler and `@forge/bridge`.
pub const INSTALL: &str = "npm ci --prefix tools/forge";

/// Files that must be in the tools folder for a bundle.
const NEEDED: [&str; 3] =
    ["bundle.js", "node_modules/esbuild/package.json", "node_modules/@forge/bridge/package.json"];

/// Why no bundle was made.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The pinned packages are not installed.
    #[error(
        "{0} is missing: the Forge export bundles @forge/bridge with esbuild from tools/forge; \
         install them with `{INSTALL}` (or point {TOOLS_ENV} at a folder where that ran)"
    )]
    Missing(PathBuf),
    /// `node` could not be started.
    #[error("could not run node to bundle @forge/bridge (is Node.js installed?): {0}")]
    Node(#[source] std::io::Error),
    /// esbuild refused the source.
    #[error("esbuild failed to bundle the Forge adapter: {0}")]
    Failed(String),
}

/// The `tools/forge` folder: `$LODGER_FORGE_TOOLS`, else the checkout's.
pub fn tools_dir() -> PathBuf {
    std::env::var_os(TOOLS_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tools/forge"))
}

/// The adapter and `@forge/bridge` as one minified script, made by the
/// esbuild in `tools`.
pub fn forge_bridge(tools: &Path) -> Result<Vec<u8>, BundleError> {
    if let Some(missing) = NEEDED.iter().map(|file| tools.join(file)).find(|p| !p.is_file()) {
        return Err(BundleError::Missing(missing));
    }
    let mut child = Command::new("node")
        .arg(tools.join("bundle.js"))
        .current_dir(tools)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(BundleError::Node)?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(ADAPTER.as_bytes()).map_err(BundleError::Node)?;
    }
    let output = child.wait_with_output().map_err(BundleError::Node)?;
    if !output.status.success() || output.stdout.is_empty() {
        return Err(BundleError::Failed(String::from_utf8_lossy(&output.stderr).trim().to_owned()));
    }
    Ok(output.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_without_the_packages_names_the_install_command() {
        let error = forge_bridge(Path::new("/nonexistent/tools/forge")).unwrap_err();
        assert!(matches!(error, BundleError::Missing(_)));
        assert!(error.to_string().contains("npm ci --prefix tools/forge"), "{error}");
    }
}
