//! Atlassian Document Format, as far as the emulator reads and writes it
//! (Atlassian: "Atlassian Document Format", document structure): the plain
//! text of a document, and plain text as a document. Jira's REST API v3
//! takes and gives rich text (a comment's body) as ADF; v2 as text.
//!
//! What it is not: a validator of the ADF schema, or a renderer of marks,
//! mentions, tables or media (their text, if any, is kept; the rest dropped).

use serde_json::{Value, json};

/// The text of an ADF node: its `text`s, each paragraph, heading and code
/// block a line of its own.
pub fn plain_text(node: &Value) -> String {
    let mut out = String::new();
    collect_text(node, &mut out);
    out.trim_end_matches('\n').to_owned()
}

fn collect_text(node: &Value, out: &mut String) {
    if let Some(text) = node["text"].as_str() {
        out.push_str(text);
    }
    if node["type"] == "hardBreak" {
        out.push('\n');
    }
    for child in node["content"].as_array().into_iter().flatten() {
        collect_text(child, out);
    }
    // Blocks of inline content end a line; containers (lists, quotes) do not.
    if matches!(node["type"].as_str(), Some("paragraph" | "heading" | "codeBlock")) {
        out.push('\n');
    }
}

/// Plain text as an ADF document: one paragraph per line.
pub fn adf_of(text: &str) -> Value {
    let paragraphs: Vec<Value> = text
        .split('\n')
        .map(|line| {
            if line.is_empty() {
                json!({"type": "paragraph", "content": []})
            } else {
                json!({"type": "paragraph", "content": [{"type": "text", "text": line}]})
            }
        })
        .collect();
    json!({"type": "doc", "version": 1, "content": paragraphs})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_adf_convert_both_ways() {
        let doc = adf_of("first line\n\nthird");
        assert_eq!(plain_text(&doc), "first line\n\nthird");
        let nested = json!({"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "a"}, {"type": "hardBreak"}, {"type": "text", "text": "b"}]},
            {"type": "bulletList", "content": [{"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "c"}]}]}]},
        ]});
        assert_eq!(plain_text(&nested), "a\nb\nc");
    }
}
