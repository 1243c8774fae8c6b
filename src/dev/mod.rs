//! `lodger dev`: the glue between the app and the emulated sites of
//! [`lodger_devhost`] (cargo feature `dev-host`).
//!
//! | file | what |
//! |---|---|
//! | [`world`] | app and sites side by side, the app installed through UPM and ready to open |
//! | [`watch`] | edit and reload: `site/` from disk, descriptor edits reinstall |

pub mod watch;
pub mod world;

use std::path::PathBuf;

/// The npm package folder that holds connect-js and jQuery
/// (`tools/devhost/node_modules`, installed by `npm ci --prefix tools/devhost`).
pub fn default_node_modules() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tools/devhost/node_modules")
}

/// The checkout this binary was built from, if it is still there (it holds
/// the `site/` and `descriptor/` the dev world serves and watches).
pub fn checkout_dir() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    (root.join("site").is_dir() && root.join("descriptor").is_dir()).then_some(root)
}
