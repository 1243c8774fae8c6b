//! A dynamic content macro instance's parameters (Atlassian: "Dynamic
//! Content Macro", `parameters[{identifier, defaultValue}]`): what an
//! editor saved for the instance, else the descriptor's defaults, and the
//! variables they make in the macro's URL (`{title}`).
//!
//! What it is not: the editor that changes them ([`super::macro_editor`]).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::site::Site;

/// A macro's declared parameters: identifier and default value, if any.
pub fn declared(module: &Value) -> Vec<(String, Option<String>)> {
    let list = match &module["parameters"] {
        Value::Array(list) => list.clone(),
        _ => Vec::new(),
    };
    list.iter()
        .filter_map(|p| {
            let identifier = p["identifier"].as_str()?.to_owned();
            let default = match &p["defaultValue"] {
                Value::String(s) => Some(s.clone()),
                Value::Null => None,
                other => Some(other.to_string()),
            };
            Some((identifier, default))
        })
        .collect()
}

/// The parameters of one instance: what an editor saved, else the
/// declared defaults.
pub fn parameters(
    site: &Site,
    content_id: &str,
    macro_id: &str,
    module: &Value,
) -> BTreeMap<String, String> {
    let key = (content_id.to_owned(), macro_id.to_owned());
    if let Some(saved) = site.data().confluence.macro_parameters.get(&key) {
        return saved.clone();
    }
    declared(module).into_iter().filter_map(|(name, default)| Some((name, default?))).collect()
}

/// The `(identifier, value)` pairs substituted into a macro URL: every
/// declared identifier (empty when unset) and every stored parameter.
pub fn url_variables(module: &Value, values: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let mut all: BTreeMap<String, String> =
        declared(module).into_iter().map(|(name, _)| (name, String::new())).collect();
    all.extend(values.iter().map(|(k, v)| (k.clone(), v.clone())));
    all.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn declared_parameters_keep_their_defaults() {
        let module = json!({"parameters": [
            {"identifier": "title", "defaultValue": "Checklist"},
            {"identifier": "size"},
            {"name": {"value": "no identifier"}}
        ]});
        assert_eq!(
            declared(&module),
            vec![("title".to_owned(), Some("Checklist".to_owned())), ("size".to_owned(), None)]
        );
        let values = BTreeMap::from([("title".to_owned(), "Mine".to_owned())]);
        assert_eq!(
            url_variables(&module, &values),
            vec![("size".into(), String::new()), ("title".into(), "Mine".into())]
        );
    }
}
