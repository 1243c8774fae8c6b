//! The app descriptor: the JSON document a host reads to learn what an app is.
//!
//! A Connect app is installed by URL: the host fetches the descriptor
//! (Atlassian: "App descriptor"), reads the app `key`, its `baseUrl`, the
//! lifecycle URLs, the scopes it asks for and the modules (panels, pages,
//! macros, webhooks) it adds to the product. Descriptors are
//! product-specific: a Jira descriptor and a Confluence descriptor are two
//! apps with two keys.
//!
//! This module checks a descriptor the way a host does at install, plus the
//! two API migrations this kit relies on (`signed-install`, `context-qsh`).
//! How a descriptor is written (a template, a struct, a file) is the app's
//! business, not the kit's.
//!
//! ```
//! let descriptor = serde_json::json!({
//!     "key": "hello-panel",
//!     "baseUrl": "https://hello.example",
//!     "authentication": {"type": "jwt"},
//!     "lifecycle": {"installed": "/installed", "uninstalled": "/uninstalled"},
//!     "apiMigrations": {"signed-install": true, "context-qsh": true},
//!     "scopes": ["READ"],
//!     "modules": {"webPanels": [{"key": "hello", "url": "/hello?issue={issue.key}"}]}
//! });
//! assert!(lodger_connect::descriptor::problems(&descriptor).is_empty());
//! ```

use serde_json::Value;

use crate::installation::is_acceptable_base_url;

/// The scopes a Connect descriptor may request.
const SCOPES: &[&str] = &[
    "NONE",
    "READ",
    "WRITE",
    "DELETE",
    "PROJECT_ADMIN",
    "SPACE_ADMIN",
    "ADMIN",
    "ACT_AS_USER",
    "ACCESS_EMAIL_ADDRESSES",
];

/// Checks a descriptor against the rules hosts enforce at install and that
/// this kit relies on. Returns one sentence per problem; empty means valid.
///
/// This is not a full JSON-schema validation (the schema is Atlassian's and
/// is not shipped with the kit); check against the schema in your tests too.
pub fn problems(descriptor: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let mut problem = |text: String| problems.push(text);
    let text = |pointer: &str| descriptor.pointer(pointer).and_then(Value::as_str);

    match text("/key") {
        Some(key)
            if key.len() <= 80
                && !key.is_empty()
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_')) => {}
        _ => problem("`key` must be 1 to 80 letters, digits, '-', '.' or '_'".into()),
    }
    let base_url = text("/baseUrl").unwrap_or_default();
    if !is_acceptable_base_url(base_url) {
        problem("`baseUrl` must be an https URL (http only on loopback)".into());
    }
    if text("/authentication/type").map(str::to_ascii_lowercase).as_deref() != Some("jwt") {
        problem("`authentication.type` must be \"jwt\": the kit verifies every request".into());
    }
    for event in ["installed", "uninstalled"] {
        if text(&format!("/lifecycle/{event}")).is_none() {
            problem(format!("`lifecycle.{event}` is missing"));
        }
    }
    for migration in ["signed-install", "context-qsh"] {
        if descriptor.pointer(&format!("/apiMigrations/{migration}")) != Some(&Value::Bool(true)) {
            problem(format!("`apiMigrations.{migration}` must be true"));
        }
    }
    match descriptor.get("scopes").and_then(Value::as_array) {
        Some(scopes) => {
            for scope in scopes {
                let known = scope
                    .as_str()
                    .is_some_and(|s| SCOPES.contains(&s.to_ascii_uppercase().as_str()));
                if !known {
                    problem(format!("unknown scope {scope}"));
                }
            }
        }
        None => {
            problem("`scopes` is missing: a Connect app without scopes cannot call the host".into())
        }
    }
    let mut module_keys = Vec::new();
    if let Some(modules) = descriptor.get("modules").and_then(Value::as_object) {
        for (kind, entries) in modules {
            let entries = match entries {
                Value::Array(many) => many.iter().collect(),
                one => vec![one],
            };
            for module in entries {
                check_module(kind, module, base_url, &mut module_keys, &mut problem);
            }
        }
    }
    problems
}

fn check_module(
    kind: &str,
    module: &Value,
    base_url: &str,
    keys: &mut Vec<String>,
    problem: &mut impl FnMut(String),
) {
    if let Some(key) = module.get("key").and_then(Value::as_str) {
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            problem(format!("module key {key:?} in `{kind}` must be letters, digits and '-'"));
        }
        if keys.iter().any(|seen| seen == key) {
            problem(format!("module key {key:?} is used twice"));
        }
        keys.push(key.to_owned());
    }
    if let Some(url) = module.get("url").and_then(Value::as_str) {
        if !(url.starts_with('/') || url.starts_with(base_url)) {
            problem(format!("module url {url:?} in `{kind}` must be relative to baseUrl"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_what_a_host_would_refuse() {
        let bad = serde_json::json!({
            "key": "has space", "baseUrl": "http://public.example", "authentication": {"type": "none"},
            "scopes": ["READ", "EVERYTHING"], "apiMigrations": {"signed-install": false},
            "modules": {"webPanels": [{"key": "a", "url": "https://elsewhere.example/x"}, {"key": "a"}]}
        });
        let found = problems(&bad);
        for expected in [
            "`key`",
            "`baseUrl`",
            "authentication",
            "lifecycle.installed",
            "signed-install",
            "context-qsh",
            "EVERYTHING",
            "relative to baseUrl",
            "used twice",
        ] {
            assert!(found.iter().any(|p| p.contains(expected)), "{expected} not in {found:?}");
        }
    }
}
