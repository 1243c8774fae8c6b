//! A Forge app's `jira:entityProperty` modules: which issue property paths
//! it makes searchable with JQL (Forge: "Jira entity property" module:
//! `entityType` (default `issue`), `propertyKey`, `values[{path, type,
//! searchAlias}]`). The Connect counterpart is the descriptor's
//! `jiraEntityProperties`; [`crate::jira::property_index`] reads both.

use serde_json::Value;

use crate::jira::jql_run::{Extraction, ExtractionType};

/// The searchable paths of a manifest's `jira:entityProperty` entries.
pub fn extractions(entries: &[Value]) -> Vec<Extraction> {
    let mut found = Vec::new();
    for entry in entries {
        let entity_type = entry["entityType"].as_str().unwrap_or("issue");
        let Some(property_key) = entry["propertyKey"].as_str() else { continue };
        if !entity_type.eq_ignore_ascii_case("issue") {
            continue;
        }
        for value in entry["values"].as_array().map(Vec::as_slice).unwrap_or_default() {
            let Some(path) = value["path"].as_str() else { continue };
            let kind = ExtractionType::named(value["type"].as_str());
            found.push(Extraction {
                property_key: property_key.to_owned(),
                object_name: path.to_owned(),
                kind,
                alias: value["searchAlias"].as_str().map(str::to_owned),
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_each_value_path_of_issue_properties_only() {
        let entries = [
            json!({"key": "a", "propertyKey": "lodger-checklist", "values": [
                {"path": "open", "type": "number"}, {"path": "owner", "type": "string", "searchAlias": "who"}]}),
            json!({"key": "b", "entityType": "project", "propertyKey": "p", "values": [{"path": "x", "type": "number"}]}),
        ];
        let found = extractions(&entries);
        assert_eq!(found.len(), 2);
        assert_eq!(
            (found[0].object_name.as_str(), found[0].kind),
            ("open", ExtractionType::Number)
        );
        assert_eq!(found[1].alias.as_deref(), Some("who"));
    }
}
