//! `lodger export --forge DIR`: the Forge app folder passes Atlassian's own
//! manifest validator (`@forge/manifest` 13.7.0, full and product-trigger
//! validation, plus each module's entries against the package's module
//! schemas: `tools/forge/validate-manifest.js`), says what the product needs
//! and nothing more, is the same bytes every time, and the command refuses
//! bad input with a message that says what was expected.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output};

use lodger::forge::paths;
use serde_json::Value;
use support::nginx::tempdir;
use support::prerequisites::{Prerequisite, require, root};
use support::read_tree;

const BIN: &str = env!("CARGO_BIN_EXE_lodger");
const APP_ID: &str = "ari:cloud:ecosystem::app/8ab4c5e1-9d3f-4e2a-b1c0-123456789abc";
const REMOTE_URL: &str = "https://lodger.example.com";

/// `lodger export --forge DIR --app-id … --remote-url …` plus `extra` flags.
fn export_forge(dir: &Path, app_id: &str, remote_url: &str, extra: &[&str]) -> Output {
    Command::new(BIN)
        .arg("export")
        .arg("--forge")
        .arg(dir)
        .args(["--app-id", app_id, "--remote-url", remote_url])
        .args(extra)
        .env_remove("LODGER_BASE_URL")
        .env_remove("LODGER_FORGE_APP_ID")
        .env_remove("LODGER_FORGE_REMOTE_URL")
        .output()
        .unwrap()
}

fn exported(label: &str) -> (tempdir::Dir, std::path::PathBuf) {
    let temp = tempdir::Dir::new(label);
    let dir = temp.path().join("forge-app");
    let output = export_forge(&dir, APP_ID, REMOTE_URL, &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    (temp, dir)
}

/// The validator's JSON report on `dir`.
fn validate(dir: &Path) -> Value {
    let output = Command::new("node")
        .arg(root().join("tools/forge/validate-manifest.js"))
        .arg(dir)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!("no JSON report ({error}): {}", String::from_utf8_lossy(&output.stderr))
    });
    assert_eq!(output.status.success(), report["errors"] == 0, "exit code and report disagree");
    report
}

fn strings(value: &Value) -> Vec<&str> {
    value.as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect()
}

#[test]
fn the_exported_folder_passes_atlassians_manifest_validator() {
    if !require(Prerequisite::ForgeManifest) {
        return;
    }
    let (_temp, dir) = exported("forge-valid");
    let report = validate(&dir);
    assert_eq!(report["errors"], 0, "{report:#}");
    assert_eq!(report["warnings"], 0, "{report:#}");
    assert_eq!(report["processor"]["success"], true, "{report:#}");
    let modules: BTreeSet<&str> =
        report["modules"].as_object().unwrap().keys().map(String::as_str).collect();
    let expected = [
        "endpoint",
        "jira:adminPage",
        "jira:entityProperty",
        "jira:issueContext",
        "jira:issuePanel",
        "jira:projectSettingsPage",
        "macro",
        "trigger",
    ];
    assert_eq!(modules, expected.into_iter().collect(), "every module was checked by its schema");
}

#[test]
fn a_broken_manifest_fails_the_validator() {
    if !require(Prerequisite::ForgeManifest) {
        return;
    }
    let (_temp, dir) = exported("forge-broken");
    let manifest = dir.join("manifest.yml");
    let original = std::fs::read_to_string(&manifest).unwrap();
    // A trigger without the scope its event needs, a misspelt module field
    // and a resource that is not there: each must be an error.
    for (what, from, to) in [
        ("trigger scope", "    - \"read:jira-work\"\n", ""),
        ("module field", "propertyKey:", "propertykey:"),
        ("missing resource", "resource: \"macro-editor\"", "resource: \"nope\""),
        ("unknown scope", "read:confluence-user", "read:confluence-usr"),
    ] {
        assert!(original.contains(from), "{what}: the manifest has no {from:?}");
        std::fs::write(&manifest, original.replacen(from, to, 1)).unwrap();
        let report = validate(&dir);
        assert!(report["errors"].as_u64().unwrap() > 0, "{what} passed: {report:#}");
    }
}

#[test]
fn the_manifest_asks_for_what_the_product_needs_and_nothing_more() {
    if !require(Prerequisite::ForgeManifest) {
        return;
    }
    let (_temp, dir) = exported("forge-content");
    // What Atlassian's YAML reader made of the file.
    let manifest = validate(&dir)["parsed"].clone();

    assert_eq!(manifest["app"]["id"], APP_ID);
    assert_eq!(manifest["app"]["licensing"]["enabled"], true);
    assert!(manifest["app"]["runtime"]["name"].as_str().unwrap().starts_with("nodejs"));
    assert_eq!(manifest["app"]["compatibility"]["jira"]["required"], true);
    assert_eq!(manifest["app"]["compatibility"]["confluence"]["required"], false);
    assert!(manifest.get("connectModules").is_none(), "a new Forge app has no connectModules");
    assert!(manifest["app"].get("connect").is_none());

    let scopes = strings(&manifest["permissions"]["scopes"]);
    assert_eq!(
        scopes,
        [
            "read:app-data:jira",
            "read:app-system-token",
            "read:app-user-token",
            "read:confluence-props",
            "read:confluence-user",
            "read:jira-user",
            "read:jira-work",
            "write:app-data:jira",
            "write:confluence-props",
            "write:jira-work",
        ],
        "exactly these scopes, sorted"
    );
    assert!(!scopes.iter().any(|s| s.contains(":connect-")), "no Connect scopes");
    assert!(manifest["permissions"].get("content").is_none(), "no inline scripts or styles");
    assert_eq!(
        manifest["permissions"]["external"]["fetch"]["backend"],
        serde_json::json!([{ "remote": paths::REMOTE }])
    );

    let remote = &manifest["remotes"][0];
    assert_eq!(manifest["remotes"].as_array().unwrap().len(), 1);
    assert_eq!(remote["key"], paths::REMOTE);
    assert_eq!(remote["baseUrl"], REMOTE_URL);
    assert!(strings(&remote["operations"]).contains(&"compute"));
    assert_eq!(remote["auth"]["appSystemToken"]["enabled"], true);
    assert_eq!(remote["auth"]["appUserToken"]["enabled"], true);

    let modules = &manifest["modules"];
    let index = &modules["jira:entityProperty"][0];
    assert_eq!(index["entityType"], "issue");
    assert_eq!(index["propertyKey"], "lodger-checklist");
    assert_eq!(
        index["values"],
        serde_json::json!([
            { "path": "open", "type": "number" },
            { "path": "done", "type": "number" },
            { "path": "total", "type": "number" },
        ])
    );

    // Endpoints: key -> (route, user token).
    let endpoints: BTreeMap<&str, (&str, bool)> = modules["endpoint"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["remote"], paths::REMOTE);
            assert_eq!(e["auth"]["appSystemToken"]["enabled"], true);
            let user = e["auth"]["appUserToken"]["enabled"].as_bool().unwrap();
            (e["key"].as_str().unwrap(), (e["route"]["path"].as_str().unwrap(), user))
        })
        .collect();
    assert_eq!(
        endpoints,
        BTreeMap::from([
            (paths::ENDPOINT_UI, (paths::INVOKE, false)),
            (paths::ENDPOINT_ADMIN, (paths::INVOKE_ADMIN, true)),
            (paths::ENDPOINT_ISSUE_CREATED, (paths::EVENT_ISSUE_CREATED, false)),
            (paths::ENDPOINT_INSTALLED, (paths::EVENT_INSTALLED, false)),
        ])
    );

    let triggers: BTreeMap<&str, &str> = modules["trigger"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let events = strings(&t["events"]);
            assert_eq!(events.len(), 1, "{t}");
            (events[0], t["endpoint"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        triggers,
        BTreeMap::from([
            ("avi:jira:created:issue", paths::ENDPOINT_ISSUE_CREATED),
            ("avi:forge:installed:app", paths::ENDPOINT_INSTALLED),
        ])
    );

    // Every page names a resource that is a folder with index.html, and a
    // resolver endpoint that exists; icons are files in their resource.
    let resources: BTreeMap<&str, &str> = manifest["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["key"].as_str().unwrap(), r["path"].as_str().unwrap()))
        .collect();
    for path in resources.values() {
        assert!(dir.join(path).join("index.html").is_file(), "{path}/index.html");
    }
    let pages = [
        ("jira:issuePanel", paths::ENDPOINT_UI),
        ("jira:issueContext", paths::ENDPOINT_UI),
        ("jira:adminPage", paths::ENDPOINT_ADMIN),
        ("jira:projectSettingsPage", paths::ENDPOINT_UI),
        ("macro", paths::ENDPOINT_UI),
    ];
    for (module, endpoint) in pages {
        let entry = &modules[module][0];
        let resource = entry["resource"].as_str().unwrap();
        assert!(resources.contains_key(resource), "{module} names {resource}");
        assert_eq!(entry["resolver"]["endpoint"], endpoint, "{module}");
        if let Some(icon) = entry["icon"].as_str() {
            let (key, file) =
                icon.strip_prefix("resource:").and_then(|i| i.split_once(';')).unwrap();
            assert!(dir.join(resources[key]).join(file).is_file(), "{module}: {icon}");
        }
    }
    let editor = modules["macro"][0]["config"]["resource"].as_str().unwrap();
    assert!(resources.contains_key(editor));
}

#[test]
fn two_exports_are_byte_identical_and_follow_the_remote_url() {
    if !require(Prerequisite::ForgeManifest) {
        return;
    }
    let (_one, a) = exported("forge-a");
    let (_two, b) = exported("forge-b");
    let (a, b) = (read_tree(&a), read_tree(&b));
    assert!(a.contains_key("manifest.yml") && a.len() > 10, "{:?}", a.keys());
    assert_eq!(a, b);

    let temp = tempdir::Dir::new("forge-elsewhere");
    let elsewhere = temp.path().join("app");
    let output = export_forge(&elsewhere, APP_ID, "https://elsewhere.example.com/", &[]);
    assert!(output.status.success());
    let manifest = std::fs::read_to_string(elsewhere.join("manifest.yml")).unwrap();
    assert!(manifest.contains("baseUrl: \"https://elsewhere.example.com\"\n"), "{manifest}");
}

#[test]
fn bad_input_is_refused_saying_what_was_expected() {
    if !require(Prerequisite::ForgeManifest) {
        return;
    }
    let temp = tempdir::Dir::new("forge-bad");
    let dir = temp.path().join("app");
    for (app_id, remote_url, expected) in [
        ("8ab4c5e1-9d3f-4e2a-b1c0-123456789abc", REMOTE_URL, "ari:cloud:ecosystem::app/<uuid>"),
        ("ari:cloud:ecosystem::app/not-a-uuid", REMOTE_URL, "ari:cloud:ecosystem::app/<uuid>"),
        (APP_ID, "http://lodger.example.com", "http only on localhost"),
        (APP_ID, "lodger.example.com", "must be https://"),
    ] {
        let output = export_forge(&dir, app_id, remote_url, &[]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{app_id} {remote_url} was accepted");
        assert!(stderr.contains(expected), "{app_id} {remote_url}: {stderr}");
        assert!(!dir.exists(), "nothing is written on bad input");
    }

    // --forge needs both flags, and takes no Connect DIR beside it.
    let missing = Command::new(BIN)
        .args(["export", "--forge"])
        .arg(&dir)
        .args(["--app-id", APP_ID])
        .env_remove("LODGER_FORGE_REMOTE_URL")
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("--remote-url"));

    // A folder with files is kept unless --force.
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("precious.txt"), "keep me").unwrap();
    let refused = export_forge(&dir, APP_ID, REMOTE_URL, &[]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--force"));
    assert!(dir.join("precious.txt").exists());
    let forced = export_forge(&dir, APP_ID, REMOTE_URL, &["--force"]);
    assert!(forced.status.success(), "{}", String::from_utf8_lossy(&forced.stderr));
    assert!(!dir.join("precious.txt").exists() && dir.join("manifest.yml").is_file());
}

/// Issue 15: each resource is the site's page with the Forge adapter
/// (bundled with `@forge/bridge`) in place of the Connect one, loaded before
/// the seam, every script from the resource's own folder, nothing inline
/// (Forge's Custom UI Content-Security-Policy), and no Connect JS.
#[test]
fn each_resource_loads_the_bundled_forge_bridge_then_the_seam_and_nothing_inline() {
    if !require(Prerequisite::ForgeManifest) {
        return;
    }
    let (_temp, dir) = exported("forge-resources");
    let tree = read_tree(&dir);
    for key in ["admin", "issue-panel", "macro", "macro-editor", "project-template"] {
        let folder = format!("resources/{key}/");
        let html = String::from_utf8(tree[&format!("{folder}index.html")].clone()).unwrap();
        let scripts: Vec<&str> = html
            .split("<script")
            .skip(1)
            .map(|tag| {
                let tag = &tag[..tag.find("</script>").expect("a closed script")];
                let src =
                    tag.split("src=\"./").nth(1).unwrap_or_else(|| panic!("{key}: inline {tag}"));
                &src[..src.find('"').unwrap()]
            })
            .collect();
        assert!(
            scripts[0].starts_with("js/forge-bridge.") && scripts[0].ends_with(".js"),
            "{key}: {scripts:?}"
        );
        assert!(
            scripts[1].starts_with("js/bridge."),
            "{key}: the seam after the bridge: {scripts:?}"
        );
        for script in &scripts {
            assert!(
                tree.contains_key(&format!("{folder}{script}")),
                "{key}: {script} is in the folder"
            );
        }
        assert!(!html.contains("<style") && !html.contains(" style=\""), "{key}: inline style");
        assert!(
            !html.contains("src=\"./js/connect.") && !html.contains("all.js"),
            "{key}: Connect JS"
        );
        let bundle = String::from_utf8(tree[&format!("{folder}{}", scripts[0])].clone()).unwrap();
        assert!(
            bundle.contains("callBridge") && bundle.contains("lodgerAdapters"),
            "{key}: the bridge"
        );
        assert!(
            !bundle.contains("/work/") && !bundle.contains("sourceMappingURL"),
            "{key}: no paths"
        );
    }
    let bundles: BTreeSet<&Vec<u8>> = tree
        .iter()
        .filter(|(path, _)| path.contains("/js/forge-bridge."))
        .map(|(_, b)| b)
        .collect();
    assert_eq!(bundles.len(), 1, "one bundle, the same in every resource");
    let bundle = bundles.into_iter().next().unwrap();
    eprintln!(
        "the Forge bridge bundle: {} bytes, {} gzipped",
        bundle.len(),
        support::gzip_len(bundle)
    );
}

#[test]
fn without_the_bundler_the_export_names_the_install_command() {
    let temp = tempdir::Dir::new("forge-no-tools");
    let dir = temp.path().join("app");
    let output = Command::new(BIN)
        .args(["export", "--forge"])
        .arg(&dir)
        .args(["--app-id", APP_ID, "--remote-url", REMOTE_URL])
        .env("LODGER_FORGE_TOOLS", temp.path().join("nowhere"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("npm ci --prefix tools/forge"), "{stderr}");
    assert!(!dir.exists(), "nothing is written");
}

#[test]
fn help_explains_each_forge_flag() {
    let output = Command::new(BIN).args(["export", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in ["--forge <DIR>", "--app-id <ARI>", "--remote-url <URL>", "--force"] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
    assert!(help.contains("ari:cloud:ecosystem::app/<uuid>"), "{help}");
    assert!(help.contains("forge deploy"), "{help}");
}
