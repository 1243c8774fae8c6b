//! A project's checklist template: the project entity property
//! `lodger-template` (Atlassian: "Entity properties", project properties),
//! written by project admins from the project settings page, read by the
//! server when an issue is created.
//!
//! Anyone with the right permission can write any JSON there, so the server
//! reads it defensively: items that are not `{"text": <1 to 500 characters>}`
//! are skipped, at most [`MAX_ITEMS`] are used, and a value that is not an
//! object with an `items` list is an empty template.

use serde_json::Value;

/// The project property that holds a project's template.
pub const TEMPLATE_PROPERTY: &str = "lodger-template";
/// The most items a template applies.
pub const MAX_ITEMS: usize = 100;
/// The longest item text, in characters (the same bound as the pages').
pub const MAX_TEXT_CHARS: usize = 500;

/// The default items of a project, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Template {
    /// Item texts, trimmed, each 1 to [`MAX_TEXT_CHARS`] characters.
    pub items: Vec<String>,
}

impl Template {
    /// Reads the property's value, keeping what is well-formed.
    ///
    /// ```
    /// use lodger::app::template::Template;
    /// use serde_json::json;
    ///
    /// let value = json!({"v": 1, "items": [{"text": " Write tests "}, {"text": 7}, {"text": ""}]});
    /// assert_eq!(Template::from_value(&value).items, ["Write tests"]);
    /// assert!(Template::from_value(&json!("not a template")).items.is_empty());
    /// ```
    pub fn from_value(value: &Value) -> Template {
        let items = value["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|item| item["text"].as_str())
                    .map(str::trim)
                    .filter(|text| (1..=MAX_TEXT_CHARS).contains(&text.chars().count()))
                    .take(MAX_ITEMS)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Template { items }
    }

    /// Whether there is nothing to apply.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}
