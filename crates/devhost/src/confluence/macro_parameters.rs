//! A dynamic content macro instance's parameters (Atlassian: "Dynamic
//! Content Macro", `parameters[{identifier, defaultValue}]`): what an
//! editor saved for the instance, else the descriptor's defaults, and the
//! variables they make in the macro's URL (`{title}`).
//!
//! A macro with `parameters` but no custom `editor` gets Confluence's
//! generated parameter form instead ([`form`]): one field per parameter,
//! of the declared `type` (Atlassian: "Macro Input Parameter": `string`,
//! `enum` with `values`, `boolean`, `int`, and others the emulator shows as
//! text), whose values are checked ([`check_form`]) before they are saved.
//!
//! What it is not: the editor that changes them ([`super::macro_editor`]).

use std::collections::BTreeMap;

use serde_json::{Value, json};

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

/// The generated parameter form of a macro that declares `parameters` and
/// no custom `editor`: `[{identifier, name, type, required, values,
/// defaultValue}]`; `None` for other macros.
pub fn form(module: &Value) -> Option<Value> {
    let Value::Array(list) = &module["parameters"] else { return None };
    if module["editor"].is_object() || list.is_empty() {
        return None;
    }
    let fields: Vec<Value> = list
        .iter()
        .filter_map(|p| {
            let identifier = p["identifier"].as_str()?;
            Some(json!({
                "identifier": identifier,
                "name": p["name"]["value"].as_str().unwrap_or(identifier),
                "type": p["type"].as_str().unwrap_or("string"),
                "required": p["required"].as_bool().unwrap_or(false),
                "values": p["values"].as_array().cloned().unwrap_or_default(),
                "defaultValue": p["defaultValue"],
            }))
        })
        .collect();
    Some(Value::Array(fields))
}

/// Checks values saved from a generated form against the declaration: a
/// required parameter present, an `enum` among its `values`, a `boolean`
/// `true` or `false`, an `int` a whole number; names the first problem.
pub fn check_form(form: &Value, values: &BTreeMap<String, String>) -> Result<(), String> {
    for field in form.as_array().into_iter().flatten() {
        let identifier = field["identifier"].as_str().unwrap_or_default();
        let Some(value) = values.get(identifier).filter(|v| !v.is_empty()) else {
            if field["required"] == true {
                return Err(format!("the parameter '{identifier}' is required"));
            }
            continue;
        };
        let valid = match field["type"].as_str().unwrap_or("string") {
            "enum" => field["values"].as_array().into_iter().flatten().any(|v| v == value.as_str()),
            "boolean" => matches!(value.as_str(), "true" | "false"),
            "int" => value.parse::<i64>().is_ok(),
            _ => true,
        };
        if !valid {
            return Err(format!("'{value}' is not a valid value of the parameter '{identifier}'"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_macro_without_an_editor_gets_a_form_that_checks_types() {
        let module = json!({"parameters": [
            {"identifier": "title", "name": {"value": "Title"}, "type": "string", "required": true},
            {"identifier": "size", "type": "enum", "values": ["S", "L"]},
            {"identifier": "done", "type": "boolean"}
        ]});
        let form = form(&module).unwrap();
        assert_eq!(form[0]["name"], "Title");
        assert_eq!(form[1]["values"], json!(["S", "L"]));
        let values = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
        };
        assert!(
            check_form(&form, &values(&[("title", "T"), ("size", "L"), ("done", "true")])).is_ok()
        );
        assert!(check_form(&form, &values(&[("size", "L")])).is_err(), "title is required");
        assert!(check_form(&form, &values(&[("title", "T"), ("size", "M")])).is_err());
        assert!(check_form(&form, &values(&[("title", "T"), ("done", "yes")])).is_err());
        let with_editor = json!({"editor": {"url": "/e"}, "parameters": [{"identifier": "x"}]});
        assert_eq!(super::form(&with_editor), None);
    }

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
