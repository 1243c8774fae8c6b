//! Forge display conditions: whether a Forge UI module shows on a page
//! (Forge: "Display conditions", "Usage with Jira modules", "Entity
//! property conditions").
//!
//! A module's `displayConditions` is a map whose entries must all hold;
//! `and` and `or` take a map of conditions, `not` negates its map. The
//! emulator answers:
//!
//! | condition | from |
//! |---|---|
//! | `isLoggedIn`, `hasCoreAccess`, `hasSoftwareAccess` | someone is signed in (every user of the site has Jira) |
//! | `canAdministerJira`, `can<Permission>` (e.g. `canEditIssues`, `canAddComments`, `canDeleteIssues`, `canAdministerProjects`) | the user's role, through the site's permission scheme ([`crate::platform::permissions`]); a permission the emulator does not model is not held |
//! | `isProjectAdmin` | Administer Projects |
//! | `hasGlobalPermission` | the named global permission |
//! | `issueKey`, `issueId`, `issueType`, `projectKey`, `projectId`, `projectType` | the page's issue and project (a string or a list; any one matches; `false` off an issue view) |
//! | `entityPropertyExists`, `entityPropertyEqualTo`, `entityPropertyContainsAny`, `entityPropertyContainsAll` | `app` (the Forge app's properties), `issue`, `project` and `user` properties, with `objectName` a dotted path |
//!
//! Anything else (`jiraExpression`, `hasAppAccess`, `appEdition`, service
//! desk conditions) is false and named in the inspector, as an unemulated
//! Connect condition is. A condition's value is compared to what the page
//! knows: `canEditIssues: false` holds for someone who may not edit.
//!
//! What it is not: security. Atlassian: "You should not rely on display
//! conditions as a mechanism to protect sensitive data."

use serde_json::{Map, Value};

use crate::jira::issue_types::ISSUE_TYPES;
use crate::platform::iframe::ViewContext;
use crate::platform::permissions::{is_global, role_may};
use crate::site::{Site, User};

/// What display conditions may ask about the page being drawn.
pub struct Page<'a> {
    /// The site.
    pub site: &'a Site,
    /// The Forge app whose module is being drawn.
    pub app_id: &'a str,
    /// The page's issue and project.
    pub context: &'a ViewContext,
    /// The signed-in user, if any.
    pub user: Option<&'a User>,
}

/// Groups nest; a bound keeps a hostile manifest from exhausting the stack.
const MAX_DEPTH: usize = 16;

/// Whether `conditions` (a module's `displayConditions`, absent: shown)
/// hold; when not, the first condition that does not, as `{name: value}`.
pub fn evaluate(conditions: Option<&Value>, page: &Page<'_>) -> Result<(), Value> {
    match conditions {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Object(all)) => all_hold(all, page, 0),
        Some(other) => Err(other.clone()),
    }
}

fn all_hold(all: &Map<String, Value>, page: &Page<'_>, depth: usize) -> Result<(), Value> {
    for (name, value) in all {
        if !holds(name, value, page, depth) {
            let mut first = Map::new();
            first.insert(name.clone(), value.clone());
            return Err(Value::Object(first));
        }
    }
    Ok(())
}

fn holds(name: &str, value: &Value, page: &Page<'_>, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    let group = value.as_object();
    match (name, group) {
        ("and", Some(all)) => all_hold(all, page, depth + 1).is_ok(),
        ("or", Some(any)) => any.iter().any(|(n, v)| holds(n, v, page, depth + 1)),
        ("not", Some(all)) => all_hold(all, page, depth + 1).is_err(),
        _ => named(name, value, page),
    }
}

fn named(name: &str, value: &Value, page: &Page<'_>) -> bool {
    let role = page.user.map(|u| u.role);
    let issue = page.context.issue.as_ref();
    let project = page.context.project.as_ref();
    let flag = |actual: bool| value.as_bool() == Some(actual);
    match name {
        "isLoggedIn" | "hasCoreAccess" | "hasSoftwareAccess" => flag(page.user.is_some()),
        "canAdministerJira" => flag(role_may(role, "ADMINISTER")),
        "isProjectAdmin" => flag(role_may(role, "ADMINISTER_PROJECTS")),
        "hasGlobalPermission" => {
            value.as_str().is_some_and(|key| is_global(key) && role_may(role, key))
        }
        "issueKey" => issue.is_some_and(|(key, _)| matches(value, key)),
        "issueId" => issue.is_some_and(|(_, id)| matches(value, id)),
        "issueType" => issue.is_some_and(|(_, id)| matches(value, issue_type(page.site, id))),
        "projectKey" => project.is_some_and(|(key, _)| matches(value, key)),
        "projectId" => project.is_some_and(|(_, id)| matches(value, id)),
        // Every emulated project is a software project.
        "projectType" => project.is_some() && matches(value, "software"),
        "entityPropertyExists"
        | "entityPropertyEqualTo"
        | "entityPropertyContainsAny"
        | "entityPropertyContainsAll" => property_condition(name, value, page),
        permission if permission.starts_with("can") => {
            flag(role_may(role, &permission_key(&permission["can".len()..])))
        }
        other => {
            tracing::warn!(
                condition = other,
                "Forge display condition not emulated: module hidden"
            );
            false
        }
    }
}

/// `EditIssues` → `EDIT_ISSUES`, Jira's permission key.
fn permission_key(camel: &str) -> String {
    let mut key = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            key.push('_');
        }
        key.push(c.to_ascii_uppercase());
    }
    key
}

/// A condition's value (a string or a list of strings) matches `actual`.
fn matches(value: &Value, actual: &str) -> bool {
    match value {
        Value::String(one) => one == actual,
        Value::Array(any) => any.iter().any(|v| v.as_str() == Some(actual)),
        _ => false,
    }
}

fn issue_type(site: &Site, issue_id: &str) -> &'static str {
    let type_id = site.data().issue_extras.types.get(issue_id).copied();
    type_id
        .and_then(|id| ISSUE_TYPES.iter().find(|t| t.id == id))
        .map_or(ISSUE_TYPES[0].name, |t| t.name)
}

fn property_condition(name: &str, params: &Value, page: &Page<'_>) -> bool {
    let text = |key: &str| params.get(key).and_then(Value::as_str).unwrap_or_default();
    let Some(stored) = property(page, text("entity"), text("propertyKey")) else {
        return false;
    };
    let object_name = text("objectName");
    let found = if object_name.is_empty() {
        Some(&stored)
    } else {
        object_name.split('.').try_fold(&stored, |at, part| at.get(part))
    };
    let Some(found) = found else { return false };
    let wanted: Vec<&str> = match &params["value"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let has = |w: &str| match found {
        Value::Array(items) => items.iter().any(|item| same(item, w)),
        one => same(one, w),
    };
    match name {
        "entityPropertyExists" => true,
        "entityPropertyEqualTo" => wanted.len() == 1 && same(found, wanted[0]),
        "entityPropertyContainsAny" => wanted.iter().any(|w| has(w)),
        _ => !wanted.is_empty() && wanted.iter().all(|w| has(w)),
    }
}

/// A stored value equals a condition's string: strings by text, anything
/// else by its JSON text (`true`, `3`).
fn same(stored: &Value, wanted: &str) -> bool {
    match stored {
        Value::String(text) => text == wanted,
        other => serde_json::to_string(other).is_ok_and(|text| text == wanted),
    }
}

fn property(page: &Page<'_>, entity: &str, key: &str) -> Option<Value> {
    let data = page.site.data();
    let owner = match entity {
        "app" => {
            return data
                .forge
                .app_properties
                .get(&(page.app_id.to_owned(), key.to_owned()))
                .cloned();
        }
        "issue" => &data.issue_properties,
        "project" => &data.project_properties,
        "user" => &data.user_properties,
        _ => return None,
    };
    let id = match entity {
        "issue" => &page.context.issue.as_ref()?.1,
        "project" => &page.context.project.as_ref()?.1,
        _ => &page.user?.account_id,
    };
    owner.get(&(id.clone(), key.to_owned())).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn on_issue<'a>(site: &'a Site, context: &'a ViewContext, user: Option<&'a User>) -> Page<'a> {
        Page { site, app_id: "ari:cloud:ecosystem::app/x", context, user }
    }

    fn issue_context() -> ViewContext {
        ViewContext {
            issue: Some(("LOD-1".into(), "10001".into())),
            project: Some(("LOD".into(), "10000".into())),
            confluence: None,
        }
    }

    #[test]
    fn nested_and_or_not_follow_the_manifest_reference_example() {
        let site = Site::seeded("acme", "http://127.0.0.1:2990");
        let context = issue_context();
        // "or: canDeleteAllComments: true, and: projectKey: TEST, not: issueType: Epic"
        let rule = json!({"or": {"canDeleteAllComments": true, "and": {"projectKey": "LOD", "not": {"issueType": "Epic"}}}});
        let viewer = site.users.iter().find(|u| u.role == crate::site::Role::Viewer);
        assert_eq!(evaluate(Some(&rule), &on_issue(&site, &context, viewer)), Ok(()));
        site.data().issue_extras.types.insert("10001".into(), "10004");
        assert_eq!(evaluate(Some(&rule), &on_issue(&site, &context, viewer)), Err(rule.clone()));
    }

    #[test]
    fn permissions_come_from_the_users_role_and_false_asks_for_their_absence() {
        let site = Site::seeded("acme", "http://127.0.0.1:2990");
        let context = issue_context();
        let by_role = |role| site.users.iter().find(|u| u.role == role);
        let edit = json!({"canEditIssues": true});
        let cannot = json!({"canEditIssues": false});
        let dev = by_role(crate::site::Role::User);
        let viewer = by_role(crate::site::Role::Viewer);
        assert_eq!(evaluate(Some(&edit), &on_issue(&site, &context, dev)), Ok(()));
        assert!(evaluate(Some(&edit), &on_issue(&site, &context, viewer)).is_err());
        assert_eq!(evaluate(Some(&cannot), &on_issue(&site, &context, viewer)), Ok(()));
        assert!(
            evaluate(Some(&json!({"isLoggedIn": true})), &on_issue(&site, &context, None)).is_err()
        );
        let admin = json!({"canAdministerJira": true, "hasGlobalPermission": "ADMINISTER"});
        assert_eq!(
            evaluate(
                Some(&admin),
                &on_issue(&site, &context, by_role(crate::site::Role::SiteAdmin))
            ),
            Ok(())
        );
        assert!(evaluate(Some(&admin), &on_issue(&site, &context, dev)).is_err());
    }

    #[test]
    fn issue_conditions_are_false_off_an_issue_and_lists_match_any() {
        let site = Site::seeded("acme", "http://127.0.0.1:2990");
        let issue = issue_context();
        let rule =
            json!({"issueKey": ["LOD-9", "LOD-1"], "issueType": "Task", "projectType": "software"});
        assert_eq!(evaluate(Some(&rule), &on_issue(&site, &issue, None)), Ok(()));
        let elsewhere = ViewContext::default();
        assert_eq!(
            evaluate(Some(&rule), &on_issue(&site, &elsewhere, None)),
            Err(json!({"issueKey": ["LOD-9", "LOD-1"]}))
        );
    }

    #[test]
    fn entity_property_conditions_read_the_issue_and_the_apps_own_properties() {
        let site = Site::seeded("acme", "http://127.0.0.1:2990");
        let context = issue_context();
        let page = on_issue(&site, &context, None);
        let equal = json!({"entityPropertyEqualTo": {"entity": "issue", "propertyKey": "flags", "objectName": "panel.show", "value": "true"}});
        assert!(evaluate(Some(&equal), &page).is_err());
        site.data().issue_properties.insert(
            ("10001".into(), "flags".into()),
            json!({"panel": {"show": true, "tags": ["a", "b"]}}),
        );
        assert_eq!(evaluate(Some(&equal), &page), Ok(()));
        let any = json!({"entityPropertyContainsAny": {"entity": "issue", "propertyKey": "flags", "objectName": "panel.tags", "value": ["x", "b"]}});
        let all = json!({"entityPropertyContainsAll": {"entity": "issue", "propertyKey": "flags", "objectName": "panel.tags", "value": ["a", "x"]}});
        assert_eq!(evaluate(Some(&any), &page), Ok(()));
        assert!(evaluate(Some(&all), &page).is_err());
        let app = json!({"entityPropertyExists": {"entity": "app", "propertyKey": "on"}});
        assert!(evaluate(Some(&app), &page).is_err());
        site.data()
            .forge
            .app_properties
            .insert(("ari:cloud:ecosystem::app/x".into(), "on".into()), json!(1));
        assert_eq!(evaluate(Some(&app), &page), Ok(()));
    }

    #[test]
    fn unemulated_conditions_hide_the_module_and_are_named() {
        let site = Site::seeded("acme", "http://127.0.0.1:2990");
        let context = issue_context();
        let rule = json!({"jiraExpression": "user.accountId != null"});
        assert_eq!(evaluate(Some(&rule), &on_issue(&site, &context, None)), Err(rule.clone()));
    }
}
