//! The rendered descriptors against Atlassian's Jira descriptor JSON schema
//! (`../shared/connect-data/jira-global-schema.json`). The schema predates
//! the `signed-install` and `context-qsh` API migrations, so those two keys
//! are added to it before validating.

mod support;

use lodger::connect::installation::Product;
use lodger::descriptor::{AppKeys, Templates};
use serde_json::{Value, json};
use support::prerequisites::{Prerequisite, require};

fn schema() -> Option<Value> {
    let path =
        concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/connect-data/jira-global-schema.json");
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let mut schema: Value = serde_json::from_str(&text).unwrap();
            let migrations = &mut schema["properties"]["apiMigrations"]["properties"];
            migrations["signed-install"] = json!({"type": "boolean"});
            migrations["context-qsh"] = json!({"type": "boolean"});
            Some(schema)
        }
        Err(_) if !require(Prerequisite::Shared) => None,
        Err(error) => panic!("{path} is not readable: {error}"),
    }
}

/// Atlassian's schema is generated from Java beans, where `format: uri` means
/// a `java.net.URI`: relative references such as `/lifecycle/installed` are
/// URIs there, and Atlassian's own examples use them. JSON Schema's `uri`
/// means an absolute URI, so the check is replaced by one for URI references.
fn uri_reference(value: &str) -> bool {
    let no_blanks = !value.chars().any(|c| c.is_whitespace() || c.is_control());
    let absolute = value.split_once("://").is_some_and(|(scheme, _)| {
        !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    no_blanks && (value.starts_with('/') || absolute)
}

fn validate(schema: &Value, instance: &Value) -> Vec<String> {
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .with_format("uri", uri_reference)
        .build(schema)
        .unwrap();
    validator.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path)).collect()
}

#[test]
fn rendered_descriptors_are_valid_against_atlassians_schema() {
    let Some(schema) = schema() else { return };
    let keys = AppKeys::new("com.example.lodger").unwrap();
    let templates = Templates::embedded().unwrap();
    for product in [Product::Jira, Product::Confluence] {
        let text = templates.render(product, "https://lodger.example.com", &keys).unwrap();
        let descriptor: Value = serde_json::from_str(&text).unwrap();
        let errors = validate(&schema, &descriptor);
        assert!(errors.is_empty(), "{product:?}: {errors:#?}");
    }
}

#[test]
fn the_schema_check_would_catch_a_broken_descriptor() {
    let Some(schema) = schema() else { return };
    let broken = json!({
        "key": "has spaces", "baseUrl": "https://x", "authentication": {"type": "jwt"},
        "scopes": ["EVERYTHING"], "lifecycle": {"installed": "not a uri"}
    });
    let errors = validate(&schema, &broken);
    for field in ["/key", "/scopes/0", "/lifecycle/installed"] {
        assert!(errors.iter().any(|e| e.ends_with(field)), "{field} not in {errors:#?}");
    }
}
