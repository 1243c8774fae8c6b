//! Tools a test needs beyond Rust, and what happens when one is missing.
//!
//! A test that cannot run must not look like a pass. [`require`] answers
//! `true` when everything is here. When something is missing it fails the
//! test with a message naming the tool and the one command that installs
//! it, unless the run opted out with `LODGER_SKIP_MISSING=1` (what
//! `tools/test --allow-skips` sets): then the test says on stderr that it
//! skipped, appends a line to `target/test-skips.txt` (which `tools/test`
//! counts and prints at the end), and answers `false` so the test returns.
//!
//! `LODGER_REQUIRE_DEVHOST`, `_BROWSER`, `_NGINX`, `_ORACLE` (also for
//! Atlassian's Forge manifest validator and atlassian-connect-express) and
//! `_SHARED` (set by CI) still mean
//! "never skip this one", even with `LODGER_SKIP_MISSING=1`.
//!
//! Not for choosing what a test does: only whether it can run at all.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

/// Something outside the Rust toolchain that a test needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prerequisite {
    /// Node.js (`node` on `PATH`): the JavaScript tests and the browser scripts.
    Node,
    /// The npm packages of `tools/devhost`: connect-js and jQuery for the
    /// product pages that frame apps, playwright-core for the browser scripts.
    DevhostPackages,
    /// Debian's Chromium (`/usr/bin/chromium`, or `$CHROMIUM`).
    Chromium,
    /// nginx with the brotli static module.
    Nginx,
    /// The npm package `atlassian-jwt` in `tools/oracle` (and Node.js).
    Oracle,
    /// Atlassian's reference data beside the checkout (`../shared/connect-data`).
    Shared,
    /// The npm packages of `tools/forge` (`@forge/manifest` and what its
    /// validator script needs; `@forge/bridge` and esbuild, which
    /// `lodger export --forge` bundles the Forge pages with) and Node.js.
    ForgeManifest,
    /// The npm packages of `tools/ace`: atlassian-connect-express 11.5.3,
    /// whose own Forge invocation-token middleware `support::ace` runs, and
    /// Node.js.
    Ace,
    /// The npm packages of `tools/ace-app`, an unchanged
    /// atlassian-connect-express 11.5.3 app (with `sqlite3`, ACE's default
    /// store, a native module built at install), and Node.js.
    AceApp,
}

impl Prerequisite {
    /// What it is, for messages and the skip summary.
    pub fn name(self) -> &'static str {
        match self {
            Prerequisite::Node => "node",
            Prerequisite::DevhostPackages => "npm packages of tools/devhost",
            Prerequisite::Chromium => "chromium",
            Prerequisite::Nginx => "nginx",
            Prerequisite::Oracle => "npm packages of tools/oracle",
            Prerequisite::Shared => "../shared/connect-data",
            Prerequisite::ForgeManifest => "npm packages of tools/forge",
            Prerequisite::Ace => "npm packages of tools/ace",
            Prerequisite::AceApp => "npm packages of tools/ace-app",
        }
    }

    /// The one command that installs it.
    pub fn install(self) -> &'static str {
        match self {
            Prerequisite::Node => "sudo apt-get install nodejs npm",
            Prerequisite::DevhostPackages => lodger::devhost::INSTALL_CONNECT_JS,
            Prerequisite::Chromium => "sudo apt-get install chromium",
            Prerequisite::Nginx => {
                "sudo apt-get install nginx-light libnginx-mod-http-brotli-static"
            }
            Prerequisite::Oracle => "npm ci --prefix tools/oracle",
            Prerequisite::ForgeManifest => "npm ci --prefix tools/forge",
            Prerequisite::Ace => "npm ci --prefix tools/ace",
            Prerequisite::AceApp => "npm ci --prefix tools/ace-app",
            Prerequisite::Shared => {
                "check out the shared reference data beside the repository, as ../shared"
            }
        }
    }

    /// The variable CI sets so that this one never skips.
    fn required_by(self) -> &'static str {
        match self {
            Prerequisite::Node | Prerequisite::Chromium => "LODGER_REQUIRE_BROWSER",
            Prerequisite::DevhostPackages => "LODGER_REQUIRE_DEVHOST",
            Prerequisite::Nginx => "LODGER_REQUIRE_NGINX",
            Prerequisite::Oracle
            | Prerequisite::ForgeManifest
            | Prerequisite::Ace
            | Prerequisite::AceApp => "LODGER_REQUIRE_ORACLE",
            Prerequisite::Shared => "LODGER_REQUIRE_SHARED",
        }
    }

    /// What is missing, or `None` when it is here.
    pub fn missing(self) -> Option<String> {
        let root = root();
        match self {
            Prerequisite::Node => {
                let ok = Command::new("node").arg("--version").output();
                (!ok.is_ok_and(|o| o.status.success())).then(|| "node is not on PATH".to_owned())
            }
            Prerequisite::DevhostPackages => {
                let node_modules = lodger::dev::default_node_modules();
                [
                    "atlassian-connect-js/dist/connect-host.js",
                    "atlassian-connect-js/dist/iframe.js",
                    "jquery/dist/jquery.min.js",
                    "playwright-core/package.json",
                    "@forge/bridge/package.json",
                    "esbuild/package.json",
                ]
                .iter()
                .map(|file| node_modules.join(file))
                .find(|path| !path.exists())
                .map(|path| format!("{} is missing", path.display()))
            }
            Prerequisite::Chromium => {
                let chromium = chromium();
                (!chromium.exists()).then(|| format!("{} is missing", chromium.display()))
            }
            Prerequisite::Nginx => {
                installed_nginx().is_none().then(|| "nginx is not installed".to_owned())
            }
            Prerequisite::Oracle => Prerequisite::Node.missing().or_else(|| {
                ["atlassian-jwt"]
                    .iter()
                    .map(|library| root.join("tools/oracle/node_modules").join(library))
                    .find(|library| !library.is_dir())
                    .map(|library| format!("{} is missing", library.display()))
            }),
            Prerequisite::ForgeManifest => Prerequisite::Node.missing().or_else(|| {
                [
                    "@forge/manifest",
                    "tslib",
                    "ajv",
                    "ajv-formats",
                    "yaml",
                    "@forge/bridge",
                    "esbuild",
                ]
                .iter()
                .map(|library| root.join("tools/forge/node_modules").join(library))
                .find(|library| !library.is_dir())
                .map(|library| format!("{} is missing", library.display()))
            }),
            Prerequisite::Ace => Prerequisite::Node.missing().or_else(|| {
                let middleware = root.join(
                    "tools/ace/node_modules/atlassian-connect-express/lib/middleware/\
                     verify-forge-invocation-token.js",
                );
                (!middleware.is_file()).then(|| format!("{} is missing", middleware.display()))
            }),
            Prerequisite::AceApp => Prerequisite::Node.missing().or_else(|| {
                // Loading them is the check: sqlite3's native part may be
                // missing although its folder is there (a failed build).
                let dir = root.join("tools/ace-app");
                let loads = Command::new("node")
                    .args(["-e", "require('atlassian-connect-express'); require('sqlite3')"])
                    .current_dir(&dir)
                    .output();
                (!loads.is_ok_and(|o| o.status.success())).then(|| {
                    format!(
                        "atlassian-connect-express or sqlite3 does not load in {}",
                        dir.display()
                    )
                })
            }),
            Prerequisite::Shared => {
                let data = root.join("../shared/connect-data");
                (!data.is_dir()).then(|| format!("{} is missing", data.display()))
            }
        }
    }
}

/// The nginx binary, when installed.
pub fn installed_nginx() -> Option<PathBuf> {
    ["/usr/sbin/nginx", "/usr/bin/nginx"].iter().map(PathBuf::from).find(|p| p.exists())
}

/// The Chromium the browser scripts launch (`$CHROMIUM`, else Debian's).
pub fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// The checkout's root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The file `tools/test` reads the skips from.
pub fn skips_file() -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    target.join("test-skips.txt")
}

/// True when `prerequisite` is here. Otherwise fails the test naming what
/// is missing and how to install it, or, under `LODGER_SKIP_MISSING=1`,
/// records the skip and answers false (the test then returns).
pub fn require(prerequisite: Prerequisite) -> bool {
    require_all(&[prerequisite])
}

/// [`require`] for several at once: every missing one is named.
pub fn require_all(prerequisites: &[Prerequisite]) -> bool {
    let missing: Vec<(Prerequisite, String)> =
        prerequisites.iter().filter_map(|p| p.missing().map(|why| (*p, why))).collect();
    if missing.is_empty() {
        return true;
    }
    let test = test_name();
    let lines: Vec<String> = missing
        .iter()
        .map(|(p, why)| format!("{} ({why}): install with `{}`", p.name(), p.install()))
        .collect();
    let enforced = missing.iter().find(|(p, _)| flag(p.required_by()));
    if !flag("LODGER_SKIP_MISSING") || enforced.is_some() {
        let opt_out = match enforced {
            Some((p, _)) => format!("{}=1 forbids skipping it", p.required_by()),
            None => "or run `tools/test --allow-skips` (LODGER_SKIP_MISSING=1) to skip and count \
                     such tests"
                .to_owned(),
        };
        panic!("{test} cannot run, missing:\n  {}\n{opt_out}", lines.join("\n  "));
    }
    eprintln!("SKIPPED {test}, missing:\n  {}", lines.join("\n  "));
    record_skip(&test, &missing);
    false
}

fn flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "1")
}

/// `<test file>::<test>`: the test harness names each test's thread.
fn test_name() -> String {
    let thread = std::thread::current();
    format!("{}::{}", env!("CARGO_CRATE_NAME"), thread.name().unwrap_or("?"))
}

/// One line per skipped test: `test<TAB>prerequisites<TAB>install commands`.
fn record_skip(test: &str, missing: &[(Prerequisite, String)]) {
    let names: Vec<&str> = missing.iter().map(|(p, _)| p.name()).collect();
    let installs: Vec<&str> = missing.iter().map(|(p, _)| p.install()).collect();
    let path = skips_file();
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let line = format!("{test}\t{}\t{}\n", names.join(", "), installs.join(" && "));
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(line.as_bytes()));
    if let Err(error) = written {
        panic!("{test} skipped but could not record it in {}: {error}", path.display());
    }
}
