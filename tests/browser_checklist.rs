//! The checklist as people use it, in a real browser on the dev world
//! (`tools/devhost/checklist-browser-test.mjs`): one person adds, ticks,
//! renames, reorders (keyboard and drag) and deletes, and sees it all after
//! a reload; two people edit one issue at once in seeded random
//! interleavings and lose nothing; a viewer sees it read-only; an
//! unlicensed site shows the banner; two people edit one Confluence macro at
//! once through a 409. Then this test reads what the sites store and checks
//! it against what the browser showed, as docs/data.md describes it.
//!
//! Screenshots go to `target/test-artifacts/` (panel.png, macro.png) and are
//! copied to `docs/` for the README when `LODGER_UPDATE_SCREENSHOTS=1`.
//!
//! Needs Node.js, `npm ci --prefix tools/devhost` and Debian's `chromium`;
//! without them it fails naming what to install, or is counted as a skip
//! under `tools/test --allow-skips` (`support::prerequisites`).

mod support;

use lodger::app::template::Template;
use lodger::dev::world::{DEV_FORGE_APP_ID, World};
use lodger::devhost::site::Role;
use serde_json::{Value, json};
use support::prerequisites::{Prerequisite, require};
use support::site_client::as_user;

/// Runs the checklist script with `config`; answers its JSON report.
async fn run_script(config: Value) -> Value {
    support::browser::run("tools/devhost/checklist-browser-test.mjs", vec![config.to_string()])
        .await
}

fn texts(checklist: &Value) -> Vec<String> {
    let mut items: Vec<&Value> = checklist["items"].as_array().unwrap().iter().collect();
    items.sort_by(|a, b| {
        a["rank"]
            .as_f64()
            .unwrap()
            .total_cmp(&b["rank"].as_f64().unwrap())
            .then_with(|| a["id"].as_str().cmp(&b["id"].as_str()))
    });
    items.iter().map(|i| i["text"].as_str().unwrap().to_owned()).collect()
}

/// Which of lodger's flavours a run drives.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavour {
    Connect,
    Forge,
}

impl Flavour {
    fn name(self) -> &'static str {
        match self {
            Flavour::Connect => "connect",
            Flavour::Forge => "forge",
        }
    }

    /// The key under which the site's license for this flavour is kept.
    fn license_key(self) -> &'static str {
        match self {
            Flavour::Connect => "lodger",
            Flavour::Forge => DEV_FORGE_APP_ID,
        }
    }

    /// The screenshots a run saves.
    fn shots(self) -> [&'static str; 2] {
        match self {
            Flavour::Connect => ["panel.png", "macro.png"],
            Flavour::Forge => ["forge-panel.png", "forge-macro.png"],
        }
    }
}

fn account(world: &World, role: &str) -> String {
    world
        .site
        .users
        .iter()
        .find(|u| u.account_id.ends_with(&format!("-{role}")))
        .map(|u| u.account_id.clone())
        .unwrap()
}

fn config(world: &World, flavour: Flavour, issue_url: &str) -> Value {
    json!({
        "mode": "main",
        "flavour": flavour.name(),
        "issueUrl": issue_url,
        "pageUrl": world.page_url,
        "users": {"admin": account(world, "admin"), "dev": account(world, "dev"), "viewer": account(world, "viewer")},
        "artifacts": support::browser::artifacts(),
        "seed": 20261124,
        "rounds": 20,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_edit_checklists_in_the_browser_and_the_site_keeps_every_acknowledged_item() {
    if !support::browser::ready() {
        return;
    }
    let world = support::dev_world::world().await;
    let config = config(&world, Flavour::Connect, &world.issue_url);
    let report = run_script(config.clone()).await;
    check(&world, Flavour::Connect, config, report).await;
}

/// The same steps through the Forge flavour: the exported Custom UI
/// resources with the real `@forge/bridge`, framed by the emulated Forge
/// host. First, a checklist written through the Connect flavour (its page's
/// `AP.request`, in the shape its pages write) opens unchanged in the
/// Forge panel.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_forge_flavour_passes_the_same_browser_steps_and_reads_what_connect_wrote() {
    if !support::browser::ready() || !require(Prerequisite::ForgeManifest) {
        return;
    }
    let world = support::dev_world::both_flavours().await;
    let written = Template { items: vec!["Written by Connect".into(), "Read by Forge".into()] };
    let issue_id = world.site.data().issues[0].id.clone();
    let value = lodger::app::checklist::from_template(&written, &issue_id, 1_764_000_000_000);
    let path = format!("/rest/api/3/issue/{issue_id}/properties/lodger-checklist");
    let (status, _) = as_user(&world.site, Role::SiteAdmin).call("PUT", &path, Some(value)).await;
    assert_eq!(status, 201, "the Connect flavour's page wrote the checklist");

    // The steps need an empty issue: LOD-2.
    let second = world.issue_url.replace("LOD-1", "LOD-2");
    let mut config = config(&world, Flavour::Forge, &second);
    config["seededUrl"] = json!(world.issue_url);
    config["seeded"] = json!(written.items);
    let report = run_script(config.clone()).await;
    assert_eq!(report["seededShown"], json!(written.items));
    check(&world, Flavour::Forge, config, report).await;
}

/// What the site stores after a run, against what the browser showed.
async fn check(world: &World, flavour: Flavour, config: Value, report: Value) {
    // The issue property holds exactly what the people saw, in the contract's shape.
    let issue_id = report["issueId"].as_str().unwrap().to_owned();
    let (stored, glance) = {
        let data = world.site.data();
        let stored =
            data.issue_properties[&(issue_id.clone(), "lodger-checklist".to_owned())].clone();
        let glance = data
            .issue_properties
            .get(&(
                issue_id.clone(),
                "com.atlassian.jira.issue:lodger:checklist-glance:status".to_owned(),
            ))
            .cloned();
        (stored, glance)
    };
    assert_eq!(stored["v"], 1);
    let stored_texts = texts(&stored);
    assert_eq!(
        stored_texts,
        report["concurrent"]["shown"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_owned())
            .collect::<Vec<_>>(),
        "the stored order is the order people see"
    );
    for expected in report["concurrent"]["expected"].as_array().unwrap() {
        assert!(
            stored_texts.contains(&expected.as_str().unwrap().to_owned()),
            "{expected} is stored"
        );
    }
    for deleted in report["concurrent"]["deleted"].as_array().unwrap() {
        assert!(
            !stored_texts.contains(&deleted.as_str().unwrap().to_owned()),
            "{deleted} stays deleted"
        );
    }
    let items = stored["items"].as_array().unwrap();
    let done = items.iter().filter(|i| i["done"] == true).count();
    assert_eq!(stored["total"], items.len());
    assert_eq!(stored["done"], done);
    assert_eq!(stored["open"], items.len() - done);
    // Who ticked: an account id (never a name) and when; nothing when open.
    let people = [account(world, "admin"), account(world, "dev")];
    for item in items {
        if item["done"] == true {
            let by = item["doneBy"].as_str().unwrap_or_default();
            assert!(people.iter().any(|p| p == by), "doneBy is an account id: {item}");
            assert!(item["doneAt"].as_str().is_some_and(|at| at.ends_with('Z')), "doneAt: {item}");
        } else {
            assert_eq!((&item["doneBy"], &item["doneAt"]), (&Value::Null, &Value::Null), "{item}");
        }
    }
    assert!(!stored["removed"].as_object().unwrap().is_empty(), "deletions leave tombstones");
    if flavour == Flavour::Connect {
        let glance = glance.expect("the glance status is written");
        assert_eq!(glance["type"], "badge");
        assert_eq!(glance["value"]["label"], format!("{done}/{}", items.len()));
    } else {
        // Forge's issue context shows a fixed label: no status property.
        assert_eq!(glance, None);
    }

    // The viewer saw the list read-only, with the reason.
    assert_eq!(
        report["viewer"]["reason"],
        "You can't edit this issue, so the checklist is read-only."
    );
    assert_eq!(report["viewer"]["addable"], false);
    assert_eq!(report["viewer"]["disabled"], report["viewer"]["items"]);

    // The macro's content property has every note, after at least one 409.
    assert!(report["macro"]["conflicts"].as_u64().unwrap() >= 1);
    let content_id = report["macro"]["contentId"].as_str().unwrap().to_owned();
    let property = {
        let data = world.site.data();
        let mut checklists =
            data.confluence.content_properties.iter().filter(|((content, key), _)| {
                *content == content_id && key.starts_with("lodger-checklist-")
            });
        let (key, property) = checklists.next().expect("the macro wrote its content property");
        if flavour == Flavour::Connect {
            let macro_id = report["macro"]["macroId"].as_str().unwrap();
            assert_eq!(key.1, format!("lodger-checklist-{macro_id}"));
        }
        assert!(checklists.next().is_none(), "one checklist property per macro");
        property.clone()
    };
    assert!(property.version >= 2, "the macro updated its property (version {})", property.version);
    let notes = texts(&property.value);
    for added in report["macro"]["added"].as_array().unwrap() {
        assert!(
            notes.contains(&added.as_str().unwrap().to_owned()),
            "{added} is in the macro's property"
        );
    }

    // An unlicensed site: the banner, and no way to edit.
    world.site.data().license_active.insert(flavour.license_key().into(), false);
    let mut unlicensed = config;
    unlicensed["mode"] = json!("unlicensed");
    let report = run_script(unlicensed).await;
    assert_eq!(
        report["banner"],
        "lodger's license for this site is not active, so checklists are read-only. A site admin can renew it in Manage apps."
    );
    assert_eq!(report["addable"], false);
    assert_eq!(report["deletable"], false);

    for name in flavour.shots() {
        let shot = support::browser::artifacts().join(name);
        assert!(shot.exists(), "{name} was saved");
        if let Some(docs) = support::browser::docs_to_update() {
            std::fs::copy(&shot, docs.join(name)).unwrap();
        }
    }
}
