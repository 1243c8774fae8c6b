//! `lodger export`: what a CDN gets. Deterministic output, every file under
//! its served and plain name with its compressed variants, hosting files
//! with the binary's own headers, and nothing lost when DIR is in the way.
//! (Serving it through real nginx is in `tests/nginx.rs`.)

mod support;

use std::collections::BTreeMap;
use std::process::Command;

use lodger::descriptor::AppKeys;
use lodger::export::{ExportOptions, build, export};
use lodger::web::security_headers::SecurityHeaders;
use support::nginx::tempdir;
use support::read_tree;

fn options() -> ExportOptions {
    ExportOptions {
        base_url: "https://lodger.example.com".into(),
        keys: AppKeys::new("lodger").unwrap(),
        auth_url: "http://127.0.0.1:8081".into(),
        extra_hosts: vec!["http://127.0.0.1:2990".into()],
        force: false,
    }
}

#[test]
fn the_same_inputs_give_byte_identical_exports() {
    let (one, two) = (tempdir::Dir::new("export-a"), tempdir::Dir::new("export-b"));
    let (a, b) = (one.path().join("site"), two.path().join("site"));
    export(&a, &options()).unwrap();
    export(&b, &options()).unwrap();
    let (a, b) = (read_tree(&a), read_tree(&b));
    assert!(a.len() > 20, "{:?}", a.keys());
    assert_eq!(a, b);
    assert_eq!(a, build(&options()).unwrap().into_iter().collect::<BTreeMap<_, _>>());
    let mut other = options();
    other.base_url = "https://elsewhere.example.com".into();
    assert_ne!(build(&other).unwrap(), build(&options()).unwrap(), "the base URL is in the output");
}

#[test]
fn every_file_is_there_with_its_hashed_name_and_compressed_variants() {
    let tree = build(&options()).unwrap();
    let descriptor: serde_json::Value =
        serde_json::from_slice(&tree["atlassian-connect.json"]).unwrap();
    assert_eq!(descriptor["baseUrl"], "https://lodger.example.com");
    let confluence: serde_json::Value =
        serde_json::from_slice(&tree["confluence/atlassian-connect.json"]).unwrap();
    assert_eq!(confluence["key"], "lodger.confluence");

    let page = String::from_utf8(tree["jira/issue-panel.html"].clone()).unwrap();
    assert!(page.contains(r#"<meta name="lodger-app-key" content="lodger">"#));
    assert!(
        tree.contains_key("jira/issue-panel.html.br")
            && tree.contains_key("jira/issue-panel.html.gz")
    );
    // Each script the page links to is exported under that hashed name, compressed too.
    let mut linked = 0;
    for part in page.split("src=\"/").skip(1) {
        let path = &part[..part.find('"').unwrap()];
        if path.starts_with("js/") {
            assert!(tree.contains_key(path), "{path} is exported");
            assert!(tree.contains_key(&format!("{path}.br")), "{path}.br is exported");
            linked += 1;
        }
    }
    assert!(linked >= 2, "the panel links its scripts: {page}");
    assert!(tree.contains_key("js/bridge.js"), "plain names stay for old links");
}

/// Issue 15: the Connect flavour loads only Connect JS. The Forge adapter
/// and `@forge/bridge` are bundled into the Forge resources only; the seam
/// and the Connect adapter are here.
#[test]
fn the_connect_export_holds_no_forge_bridge_code() {
    let tree = build(&options()).unwrap();
    assert!(tree.contains_key("js/bridge.js") && tree.contains_key("js/connect.js"));
    for (path, bytes) in &tree {
        let text = String::from_utf8_lossy(bytes);
        for forge in ["@forge/bridge", "callBridge", "forge-bridge", "invokeRemote", "requestJira"]
        {
            assert!(!text.contains(forge), "{path} holds {forge:?}");
        }
        assert!(!path.starts_with("forge/"), "{path}: the Forge adapter's source");
    }
}

#[test]
fn hosting_files_route_the_dynamic_paths_and_carry_the_binarys_headers() {
    let tree = build(&options()).unwrap();
    let text = |path: &str| String::from_utf8(tree[path].clone()).unwrap();
    let csp = {
        let mut headers = warp::http::HeaderMap::new();
        SecurityHeaders::new(&options().extra_hosts).apply(&mut headers, true);
        headers["content-security-policy"].to_str().unwrap().to_owned()
    };
    let nginx = text("hosting/nginx/locations.conf");
    for prefix in ["/lifecycle/", "/api/", "/webhooks/"] {
        assert!(
            nginx.contains(&format!("location {prefix} {{\n    proxy_pass http://lodger_auth;")),
            "{nginx}"
        );
    }
    assert!(nginx.contains(&csp), "nginx sends the binary's CSP");
    assert!(text("hosting/nginx/upstream.conf").contains("server 127.0.0.1:8081"));
    let caddy = text("hosting/Caddyfile");
    assert!(caddy.contains("reverse_proxy @dynamic http://127.0.0.1:8081") && caddy.contains(&csp));
    let redirects = text("_redirects");
    assert!(redirects.contains("/api/*  http://127.0.0.1:8081/api/:splat  200"), "{redirects}");
    let headers = text("_headers");
    assert!(headers.contains("/jira/issue-panel.html\n  Cache-Control: no-cache\n"));
    assert!(headers.contains(&format!("Content-Security-Policy: {csp}")));
    for path in
        tree.keys().filter(|p| p.starts_with("js/") && !p.ends_with(".gz") && !p.ends_with(".br"))
    {
        assert!(headers.contains(&format!("/{path}\n")), "_headers covers /{path}");
    }
}

#[test]
fn refuses_a_folder_with_files_unless_forced_and_keeps_it_intact() {
    let root = tempdir::Dir::new("export-busy");
    let dir = root.path().join("site");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("keep.txt"), "mine").unwrap();
    let output = Command::new(support::nginx::BIN)
        .arg("export")
        .arg(&dir)
        .args(["--base-url", "https://lodger.example.com"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not empty"));
    assert_eq!(std::fs::read_to_string(dir.join("keep.txt")).unwrap(), "mine");

    let bad = Command::new(support::nginx::BIN)
        .arg("export")
        .arg(root.path().join("other"))
        .args(["--base-url", "https://lodger.example.com", "--auth-url", "ftp://x"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--auth-url"));
    assert!(!root.path().join("other").exists(), "nothing is written on a bad option");

    let mut forced = options();
    forced.force = true;
    export(&dir, &forced).unwrap();
    assert!(!dir.join("keep.txt").exists() && dir.join("atlassian-connect.json").exists());
    let leftovers: Vec<_> =
        std::fs::read_dir(root.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 1, "no staging folder left behind: {leftovers:?}");
}
