//! Conditions: the host's rules for whether an app's module shows.
//!
//! A module may carry `conditions` (Atlassian: "Conditions", for Jira and
//! Confluence): a list that must all hold, where each entry is a named
//! condition (`{"condition": "user_is_logged_in"}`), possibly with `params`
//! and `"invert": true`, or a group `{"and": [...]}` / `{"or": [...]}`.
//! The host evaluates them; they decide what is *displayed*, never what is
//! allowed (the app must still check on its server).
//!
//! Supported here for every product: `user_is_logged_in`,
//! `entity_property_exists` and `entity_property_equal_to` for the entities
//! the product's [`Facts::property`] answers (Jira: `addon`, `project`,
//! `issue`; Confluence: `addon`, `content`, `space`), and their shorthands
//! `addon_property_*`, `content_property_*` and `space_property_*`
//! (`_exists`, `_equal_to`; Atlassian: Confluence "Conditions", common
//! and Confluence lists). A product adds its own named conditions through
//! [`Facts::product`] (Confluence's: [`crate::confluence::conditions`]).
//! A condition neither knows hides the module and is logged, so a
//! descriptor relying on it is noticed rather than silently shown.

use serde_json::Value;

/// What conditions may look at on the current page.
pub struct Facts<'a> {
    /// Whether a user is logged in.
    pub logged_in: bool,
    /// Looks up an entity property: `(entity, property key) -> value`, where
    /// entity is `addon`, `project` or `issue` (of the page being shown).
    pub property: &'a dyn Fn(&str, &str) -> Option<Value>,
    /// The product's own named conditions: `(name, params) -> holds`,
    /// `None` for a name the product does not emulate.
    pub product: &'a dyn Fn(&str, &Value) -> Option<bool>,
}

/// A product with no conditions of its own beyond the common ones.
pub fn no_product_conditions(_: &str, _: &Value) -> Option<bool> {
    None
}

/// Whether a module with these `conditions` shows (no conditions: it does).
pub fn shows(conditions: Option<&Value>, facts: &Facts<'_>) -> bool {
    match conditions {
        None | Some(Value::Null) => true,
        Some(Value::Array(all)) => all.iter().all(|c| holds(c, facts, 0)),
        Some(one) => holds(one, facts, 0),
    }
}

/// The first of `conditions` (all of which must hold) that does not, for
/// the inspector; `None` when they all hold.
pub fn first_false(conditions: Option<&Value>, facts: &Facts<'_>) -> Option<Value> {
    match conditions {
        None | Some(Value::Null) => None,
        Some(Value::Array(all)) => all.iter().find(|c| !holds(c, facts, 0)).cloned(),
        Some(one) => (!holds(one, facts, 0)).then(|| one.clone()),
    }
}

/// Groups nest; a bound keeps a hostile descriptor from exhausting the stack.
const MAX_DEPTH: usize = 16;

fn holds(condition: &Value, facts: &Facts<'_>, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    let result = if let Some(all) = condition.get("and").and_then(Value::as_array) {
        all.iter().all(|c| holds(c, facts, depth + 1))
    } else if let Some(any) = condition.get("or").and_then(Value::as_array) {
        any.iter().any(|c| holds(c, facts, depth + 1))
    } else {
        named(condition, facts)
    };
    let invert = condition.get("invert").and_then(Value::as_bool).unwrap_or(false);
    result != invert
}

fn named(condition: &Value, facts: &Facts<'_>) -> bool {
    let name = condition.get("condition").and_then(Value::as_str).unwrap_or_default();
    let params = condition.get("params").cloned().unwrap_or(Value::Null);
    let param = |key: &str| params.get(key).and_then(Value::as_str).unwrap_or_default();
    match name {
        "user_is_logged_in" => facts.logged_in,
        "entity_property_exists" => property(facts, param("entity"), &params, None),
        "entity_property_equal_to" => {
            property(facts, param("entity"), &params, Some(param("value")))
        }
        other => {
            // `addon_property_exists`, `content_property_equal_to`, ...
            let shorthand = ["addon", "content", "space"].iter().find_map(|entity| {
                match other.strip_prefix(entity)?.strip_prefix("_property_")? {
                    "exists" => Some(property(facts, entity, &params, None)),
                    "equal_to" => Some(property(facts, entity, &params, Some(param("value")))),
                    _ => None,
                }
            });
            match shorthand.or_else(|| (facts.product)(other, &params)) {
                Some(holds) => holds,
                None => {
                    tracing::warn!(condition = other, "condition not emulated: module hidden");
                    false
                }
            }
        }
    }
}

/// A property condition on `entity`: the property `propertyKey` exists (at
/// `objectName`), or, given `expected`, equals it there.
fn property(facts: &Facts<'_>, entity: &str, params: &Value, expected: Option<&str>) -> bool {
    let param = |key: &str| params.get(key).and_then(Value::as_str).unwrap_or_default();
    let found = (facts.property)(entity, param("propertyKey"));
    match (found.and_then(|value| at_path(value, param("objectName"))), expected) {
        (found, None) => found.is_some(),
        (Some(found), Some(expected)) => equals(&found, expected),
        (None, Some(_)) => false,
    }
}

/// The value at a dot-separated `objectName` path (empty: the value itself).
fn at_path(value: Value, path: &str) -> Option<Value> {
    if path.is_empty() {
        return Some(value);
    }
    path.split('.').try_fold(value, |current, step| current.get(step).cloned())
}

/// `entity_property_equal_to` compares with the JSON text of the value
/// (`"true"` equals `true`), and with a string's own text.
fn equals(found: &Value, expected: &str) -> bool {
    let json_text = found.to_string();
    json_text == expected || found.as_str() == Some(expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn facts(logged_in: bool) -> impl Fn(Value) -> bool {
        move |conditions: Value| {
            let lookup = |entity: &str, key: &str| match (entity, key) {
                ("addon", "settings") => Some(json!({"features": {"glance": true}, "name": "x"})),
                ("issue", "lodger-checklist") => Some(json!({"open": 2})),
                _ => None,
            };
            let facts = Facts { logged_in, property: &lookup, product: &no_product_conditions };
            shows(Some(&conditions), &facts)
        }
    }

    #[test]
    fn the_first_false_condition_is_named() {
        let lookup = |_: &str, _: &str| None;
        let facts = Facts { logged_in: false, property: &lookup, product: &no_product_conditions };
        let logged_in = json!({"condition": "user_is_logged_in"});
        let all = json!([{"condition": "user_is_logged_in", "invert": true}, logged_in]);
        assert_eq!(first_false(Some(&all), &facts), Some(logged_in));
        assert_eq!(first_false(None, &facts), None);
    }

    #[test]
    fn user_is_logged_in_and_its_inversion() {
        assert!(facts(true)(json!([{"condition": "user_is_logged_in"}])));
        assert!(!facts(false)(json!([{"condition": "user_is_logged_in"}])));
        assert!(facts(false)(json!([{"condition": "user_is_logged_in", "invert": true}])));
    }

    #[test]
    fn entity_properties_exist_and_equal_by_path() {
        let check = facts(true);
        let exists = |entity: &str, key: &str| json!([{"condition": "entity_property_exists", "params": {"entity": entity, "propertyKey": key}}]);
        assert!(check(exists("issue", "lodger-checklist")));
        assert!(!check(exists("project", "lodger-template")));
        let equal = |path: &str, value: &str| {
            json!([{"condition": "entity_property_equal_to",
                    "params": {"entity": "addon", "propertyKey": "settings", "objectName": path, "value": value}}])
        };
        assert!(check(equal("features.glance", "true")));
        assert!(!check(equal("features.glance", "false")));
        assert!(check(equal("name", "x")));
        assert!(!check(equal("missing.path", "x")));
        let addon = json!([{"condition": "addon_property_equal_to",
            "params": {"propertyKey": "settings", "objectName": "name", "value": "x"}}]);
        assert!(check(addon));
        assert!(!check(
            json!([{"condition": "content_property_exists", "params": {"propertyKey": "k"}}])
        ));
    }

    #[test]
    fn groups_combine_and_unknown_conditions_hide() {
        let check = facts(false);
        assert!(check(
            json!([{"or": [{"condition": "user_is_logged_in"}, {"condition": "user_is_logged_in", "invert": true}]}])
        ));
        assert!(!check(json!([{"and": [{"condition": "user_is_logged_in"}]}])));
        assert!(!check(json!([{"condition": "has_a_pony"}])));
        assert!(facts(true)(json!([])));
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing() {
        let mut deep = json!({"condition": "user_is_logged_in"});
        for _ in 0..100 {
            deep = json!({"and": [deep]});
        }
        assert!(!facts(true)(json!([deep])));
    }
}
