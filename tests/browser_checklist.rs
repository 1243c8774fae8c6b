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

use serde_json::{Value, json};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_edit_checklists_in_the_browser_and_the_site_keeps_every_acknowledged_item() {
    if !support::browser::ready() {
        return;
    }
    let world = support::dev_world::world().await;
    let artifacts = support::browser::artifacts();
    let account = |role: &str| {
        world
            .site
            .users
            .iter()
            .find(|u| u.account_id.ends_with(&format!("-{role}")))
            .map(|u| u.account_id.clone())
            .unwrap()
    };
    let config = json!({
        "mode": "main",
        "issueUrl": world.issue_url,
        "pageUrl": world.page_url,
        "users": {"admin": account("admin"), "dev": account("dev"), "viewer": account("viewer")},
        "artifacts": artifacts,
        "seed": 20261124,
        "rounds": 20,
    });
    let report = run_script(config.clone()).await;

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
    let people = [account("admin"), account("dev")];
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
    let glance = glance.expect("the glance status is written");
    assert_eq!(glance["type"], "badge");
    assert_eq!(glance["value"]["label"], format!("{done}/{}", items.len()));

    // The viewer saw the list read-only, with the reason.
    assert_eq!(
        report["viewer"]["reason"],
        "You can't edit this issue, so the checklist is read-only."
    );
    assert_eq!(report["viewer"]["addable"], false);
    assert_eq!(report["viewer"]["disabled"], report["viewer"]["items"]);

    // The macro's content property has every note, after at least one 409.
    assert!(report["macro"]["conflicts"].as_u64().unwrap() >= 1);
    let key = format!("lodger-checklist-{}", report["macro"]["macroId"].as_str().unwrap());
    let content_id = report["macro"]["contentId"].as_str().unwrap().to_owned();
    let property = world.site.data().confluence.content_properties[&(content_id, key)].clone();
    assert!(property.version >= 2, "the macro updated its property (version {})", property.version);
    let notes = texts(&property.value);
    for added in report["macro"]["added"].as_array().unwrap() {
        assert!(
            notes.contains(&added.as_str().unwrap().to_owned()),
            "{added} is in the macro's property"
        );
    }

    // An unlicensed site: the banner, and no way to edit.
    world.site.data().license_active.insert("lodger".into(), false);
    let mut unlicensed = config;
    unlicensed["mode"] = json!("unlicensed");
    let report = run_script(unlicensed).await;
    assert_eq!(
        report["banner"],
        "lodger's license for this site is not active, so checklists are read-only. A site admin can renew it in Manage apps."
    );
    assert_eq!(report["addable"], false);
    assert_eq!(report["deletable"], false);

    for name in ["panel.png", "macro.png"] {
        let shot = artifacts.join(name);
        assert!(shot.exists(), "{name} was saved");
        if let Some(docs) = support::browser::docs_to_update() {
            std::fs::copy(&shot, docs.join(name)).unwrap();
        }
    }
}
