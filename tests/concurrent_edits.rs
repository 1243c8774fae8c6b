//! Concurrent edits, model-based: six people (three accounts, two tabs each) edit one issue's checklist at
//! once for 1,000 rounds against the dev host's entity properties and bulk
//! tasks, with the panel's own model and conditional write
//! (`tools/devhost/concurrent-edits.mjs`), and the final stored value is
//! checked against the merge rule of `docs/data.md`: no acknowledged item
//! lost, every acknowledged deletion kept, the stored value exactly the
//! merge of everyone's copies.
//!
//! Needs Node.js; without it the test fails naming what to install, or is
//! counted as a skip under `tools/test --allow-skips` (`support::prerequisites`).

mod support;

use std::process::Command;

use serde_json::{Value, json};
use support::prerequisites::{Prerequisite, require};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_rounds_of_concurrent_edits_lose_no_acknowledged_item() {
    if !require(Prerequisite::Node) {
        return;
    }
    let world = support::dev_world::world().await;
    let site = &world.site;
    let people: Vec<String> = ["admin", "lead", "dev", "admin", "lead", "dev"]
        .iter()
        .map(|role| {
            let user = site.users.iter().find(|u| u.account_id.ends_with(&format!("-{role}")));
            user.unwrap().account_id.clone()
        })
        .collect();
    let issue = site.issue("LOD-2").unwrap();
    // Tasks still queue and run, each step 10 ms instead of 150: a thousand
    // rounds of the same protocol in a minute or two.
    site.data().task_pace = Some(std::time::Duration::from_millis(10));
    let config = json!({
        "base": site.base_url,
        "issueId": issue.id,
        "users": people,
        "rounds": 1000,
        "seed": 20261124,
    });
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/devhost/concurrent-edits.mjs");
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node").arg(script).arg(config.to_string()).output().unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    eprintln!("concurrent edits: {report}");
    assert_eq!(report["violations"], json!([]), "{report}");
    assert_eq!(report["rounds"], 1000);
    assert!(report["acknowledgedAdds"].as_u64().unwrap() > 100, "{report}");
    assert!(report["acknowledgedDeletes"].as_u64().unwrap() > 10, "{report}");
    // Saves raced: some needed more than one attempt, and still nothing was lost.
    assert!(report["attempts"].as_u64() > report["saves"].as_u64(), "{report}");
    // The site holds what the script read.
    let stored =
        site.data().issue_properties[&(issue.id.clone(), "lodger-checklist".to_owned())].clone();
    assert_eq!(stored["total"].as_u64(), report["items"].as_u64());
}
