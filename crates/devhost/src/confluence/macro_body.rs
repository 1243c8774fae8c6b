//! A dynamic content macro instance's body (Atlassian: "Dynamic Content
//! Macro", `bodyType: none | rich-text | plain-text`, its URL variables
//! `{macro.body}`, `{macro.truncated}` and `{macro.hash}`, and the
//! "confluence" JavaScript module's `getMacroBody`).
//!
//! On Confluence the body is what the author types inside the macro in the
//! page editor: storage-format HTML for `rich-text`, text for
//! `plain-text`. The emulator has no page editor, so each instance of a
//! macro with a body starts with a seeded one (a sentence naming the macro,
//! in a `<p>` for `rich-text`), and `PUT /wiki/dev/api/macro-body` (see
//! [`super::macro_editor`]) stands in for editing it.
//!
//! In the macro's URL, `{macro.body}` is the body cut to its first 128
//! characters ("truncated to around 128 characters", Atlassian says),
//! `{macro.truncated}` says whether it was cut, and `{macro.hash}` is a hash
//! of the whole body: SHA-256 in hex here (unverified: Atlassian documents
//! it only as the body's hash, deprecated in favour of `{macro.id}`).

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::site::Site;

/// How much of the body `{macro.body}` carries, in characters.
pub const URL_BODY_CHARS: usize = 128;
/// The longest body the emulator stores, in characters.
pub const MAX_BODY_CHARS: usize = 64 * 1024;

/// Whether the macro declares a body (`bodyType` other than `none`).
pub fn has_body(module: &Value) -> bool {
    matches!(module["bodyType"].as_str(), Some("rich-text" | "plain-text"))
}

/// The body an instance starts with.
fn seeded(module: &Value) -> String {
    let name =
        module["name"]["value"].as_str().or_else(|| module["key"].as_str()).unwrap_or("macro");
    let text = format!("The body of this {name} macro.");
    if module["bodyType"] == "rich-text" { format!("<p>{text}</p>") } else { text }
}

/// The body of one instance, `None` for a macro without one.
pub fn body(site: &Site, content_id: &str, macro_id: &str, module: &Value) -> Option<String> {
    if !has_body(module) {
        return None;
    }
    let key = (content_id.to_owned(), macro_id.to_owned());
    let stored = site.data().confluence.macro_bodies.get(&key).cloned();
    Some(stored.unwrap_or_else(|| seeded(module)))
}

/// The URL variables a body makes: `macro.body`, `macro.truncated` and
/// `macro.hash` (all empty for a macro without a body).
pub fn url_variables(body: Option<&str>) -> Vec<(String, String)> {
    let body = body.unwrap_or_default();
    let cut: String = body.chars().take(URL_BODY_CHARS).collect();
    let truncated = body.chars().count() > URL_BODY_CHARS;
    let hash = if body.is_empty() {
        String::new()
    } else {
        Sha256::digest(body.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
    };
    vec![
        ("macro.body".to_owned(), cut),
        ("macro.truncated".to_owned(), truncated.to_string()),
        ("macro.hash".to_owned(), hash),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_rich_and_plain_text_macros_have_bodies() {
        assert!(has_body(&json!({"bodyType": "rich-text"})));
        assert!(has_body(&json!({"bodyType": "plain-text"})));
        assert!(!has_body(&json!({"bodyType": "none"})));
        assert!(!has_body(&json!({})));
        assert_eq!(
            seeded(&json!({"bodyType": "rich-text", "key": "k"})),
            "<p>The body of this k macro.</p>"
        );
    }

    #[test]
    fn the_url_carries_a_cut_body_and_says_so() {
        let long = "x".repeat(URL_BODY_CHARS + 5);
        let variables = url_variables(Some(&long));
        assert_eq!(variables[0].1.len(), URL_BODY_CHARS);
        assert_eq!(variables[1].1, "true");
        assert_eq!(variables[2].1.len(), 64);
        assert_eq!(url_variables(None)[1].1, "false");
    }
}
