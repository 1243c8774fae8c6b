//! A small YAML emitter for the Forge manifest (`manifest.yml`): block
//! style, keys sorted, every scalar written as its JSON text.
//!
//! Why not a crate: `serde_yaml` is deprecated and unmaintained, and its
//! forks are young; the manifest needs only maps, lists, strings, numbers
//! and booleans. Why not JSON named `manifest.yml` (valid YAML 1.2, since
//! YAML is a superset of JSON): the manifest is a file people read and edit
//! after `forge register` (Forge's own docs show it in block style), and a
//! block document diffs line by line.
//!
//! What keeps it unambiguous: every string is double-quoted with JSON
//! escapes, which YAML's double-quoted scalars read the same way ("YAML Ain't
//! Markup Language 1.2.2", 7.3.1), so no value is ever re-typed by a YAML
//! reader (`"on"`, `"1.0"`, `"no"` stay strings). Keys are left plain only
//! when they are letters, digits and `_ - . :` starting with a letter or `_`
//! and are not one of YAML 1.1's boolean or null words; any other key is
//! quoted too. Output depends only on the value: keys are sorted here,
//! whatever order the map kept.
//!
//! Not a general YAML writer: no anchors, tags, comments or multi-line
//! scalars, and the top level must be a map.

use serde_json::{Map, Value};

/// Words YAML 1.1 readers turn into booleans or null when plain.
const RESERVED_WORDS: &[&str] = &["y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"];

/// The YAML document for `map`, ending in a newline.
///
/// ```
/// use lodger::export::yaml::to_yaml;
///
/// let value = serde_json::json!({"modules": {"jira:issuePanel": [{"key": "panel", "title": "on"}]}});
/// let map = value.as_object().ok_or("not a map")?;
/// assert_eq!(to_yaml(map), "modules:\n  jira:issuePanel:\n    - key: \"panel\"\n      title: \"on\"\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn to_yaml(map: &Map<String, Value>) -> String {
    let mut out = String::new();
    write_map(map, 0, &mut out);
    out
}

fn write_map(map: &Map<String, Value>, indent: usize, out: &mut String) {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    for (key, value) in entries {
        out.push_str(&" ".repeat(indent));
        out.push_str(&yaml_key(key));
        out.push(':');
        write_value_after_key(value, indent, out);
    }
}

/// A value after `key:`: inline when a scalar or empty, else on the next lines.
fn write_value_after_key(value: &Value, indent: usize, out: &mut String) {
    match value {
        Value::Object(inner) if !inner.is_empty() => {
            out.push('\n');
            write_map(inner, indent + 2, out);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_list(items, indent + 2, out);
        }
        scalar => {
            out.push(' ');
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
}

fn write_list(items: &[Value], indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    for item in items {
        match item {
            Value::Object(inner) if !inner.is_empty() => {
                // The map as if indented under the dash, its first line's
                // indent replaced by the dash.
                let mut nested = String::new();
                write_map(inner, indent + 2, &mut nested);
                out.push_str(&pad);
                out.push_str("- ");
                out.push_str(&nested[indent + 2..]);
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push_str(&pad);
                out.push_str("-\n");
                write_list(inner, indent + 2, out);
            }
            scalar => {
                out.push_str(&pad);
                out.push_str("- ");
                out.push_str(&scalar_text(scalar));
                out.push('\n');
            }
        }
    }
}

/// A scalar (or an empty map or list) as JSON text, which YAML reads alike.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::Object(_) => "{}".to_owned(),
        Value::Array(_) => "[]".to_owned(),
        other => other.to_string(),
    }
}

fn yaml_key(key: &str) -> String {
    let mut chars = key.chars();
    let plain = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
        && !key.ends_with(':')
        && !RESERVED_WORDS.contains(&key.to_ascii_lowercase().as_str());
    if plain { key.to_owned() } else { Value::String(key.to_owned()).to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_lists_and_maps_are_block_style_with_sorted_keys() {
        let value = json!({
            "b": [1, true, null, [], {}, ["x"], {"z": 1, "a": {"k": "v"}}],
            "a": {},
        });
        let yaml = to_yaml(value.as_object().unwrap());
        let expected = "a: {}\nb:\n  - 1\n  - true\n  - null\n  - []\n  - {}\n  -\n    - \"x\"\n  - a:\n      k: \"v\"\n    z: 1\n";
        assert_eq!(yaml, expected);
    }

    #[test]
    fn keys_that_yaml_would_retype_or_misread_are_quoted() {
        for (key, expected) in [
            ("jira:issuePanel", "jira:issuePanel"),
            ("read:app-system-token", "read:app-system-token"),
            ("on", "\"on\""),
            ("No", "\"No\""),
            ("1x", "\"1x\""),
            ("a b", "\"a b\""),
            ("a:", "\"a:\""),
            ("", "\"\""),
            ("#x", "\"#x\""),
        ] {
            assert_eq!(yaml_key(key), expected, "{key}");
        }
    }

    #[test]
    fn strings_keep_their_escapes() {
        let value = json!({"s": "line\n\"quoted\" \\ tab\t ünï"});
        assert_eq!(
            to_yaml(value.as_object().unwrap()),
            "s: \"line\\n\\\"quoted\\\" \\\\ tab\\t ünï\"\n"
        );
    }
}
