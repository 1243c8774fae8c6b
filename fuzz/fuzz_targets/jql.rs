//! The dev host's JQL subset: parse, then run over a small universe.
//! Properties: no panic, no stack overflow (nesting is bounded), results are
//! positions of existing issues.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use lodger::devhost::jira::jql::parse;
use lodger::devhost::jira::jql_run::{
    Extraction, ExtractionType, IssueFacts, ProjectFacts, Universe, run,
};
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(query) = parse(text) else { return };
    let checklist = json!({"open": 2, "done": 1, "label": "1/3", "items": [{"text": "a"}]});
    let empty = json!({});
    let universe = Universe {
        projects: vec![
            ProjectFacts { id: "10000", key: "LOD", name: "Lodger" },
            ProjectFacts { id: "10001", key: "OPS", name: "Ops" },
        ],
        issues: vec![
            IssueFacts {
                id: "10001",
                key: "LOD-1",
                summary: "first",
                project_id: "10000",
                properties: BTreeMap::from([("lodger-checklist", &checklist)]),
            },
            IssueFacts {
                id: "10002",
                key: "OPS-1",
                summary: "second",
                project_id: "10001",
                properties: BTreeMap::from([("lodger-checklist", &empty)]),
            },
        ],
        index: vec![
            Extraction {
                property_key: "lodger-checklist".into(),
                object_name: "open".into(),
                kind: ExtractionType::Number,
                alias: Some("checklistOpen".into()),
            },
            Extraction {
                property_key: "lodger-checklist".into(),
                object_name: "label".into(),
                kind: ExtractionType::Text,
                alias: None,
            },
        ],
    };
    if let Ok(hits) = run(&query, &universe) {
        assert!(hits.iter().all(|i| *i < universe.issues.len()));
        let mut unique = hits.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), hits.len(), "an issue matched twice");
    }
});
