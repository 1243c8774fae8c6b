//! Confluence's conditions on a page (Atlassian: Confluence Cloud "Connect
//! conditions", developer.atlassian.com/cloud/confluence/conditions/): the
//! named conditions the emulator can answer from its data, evaluated
//! server-side for each module the page view would frame.
//!
//! Answered here:
//! - `user_is_admin`, `user_is_sysadmin`, `user_is_confluence_administrator`:
//!   the user is a site admin;
//! - `user_can_use_confluence`: someone is logged in;
//! - `viewing_content`, `has_page`, `has_space`, `latest_version`,
//!   `not_personal_space`: true on a seeded page (a current page of the
//!   global space `LOD`);
//! - `has_page_permission`, `has_space_permission` with
//!   `params.permission` (the vocabulary of Forge's Confluence display
//!   conditions: `VIEW`, `EDIT`, `EXPORT`, `REMOVE`, `SET_PERMISSIONS`,
//!   `ADMINISTER`; the Connect names and parameter are unverified): anyone
//!   who sees the page may `VIEW` it, signed-in users but viewers may also
//!   `EDIT`, `EXPORT` and `REMOVE`, site admins may do all.
//!
//! The property conditions (`content_property_*`, `space_property_*`,
//! `addon_property_*`, `entity_property_*` with `entity` `content`, `space`
//! or `addon`) are the common evaluator's ([`crate::platform::conditions`]),
//! over the page's content properties and the app's Confluence app
//! properties; the emulator has no space properties, so those never exist.
//! Any other name hides the module, as on Jira's pages.

use serde_json::Value;

use super::data::ContentPage;
use crate::pages::modules::hidden;
use crate::platform::conditions::{self, Facts};
use crate::site::{AppInstall, Role, Site, User};

/// Whether Confluence's named condition `name` holds for `user` on `page`;
/// `None` for a name the emulator does not answer.
pub fn named(name: &str, params: &Value, user: Option<&User>) -> Option<bool> {
    let admin = user.is_some_and(User::is_site_admin);
    let holds = match name {
        "user_is_admin" | "user_is_sysadmin" | "user_is_confluence_administrator" => admin,
        "user_can_use_confluence" => user.is_some(),
        "viewing_content" | "has_page" | "has_space" | "latest_version" | "not_personal_space" => {
            true
        }
        "has_page_permission" | "has_space_permission" => {
            let editor = user.is_some_and(|u| u.role != Role::Viewer);
            match params.get("permission").and_then(Value::as_str).unwrap_or_default() {
                "VIEW" => true,
                "EDIT" | "EXPORT" | "REMOVE" => editor,
                "SET_PERMISSIONS" | "ADMINISTER" => admin,
                _ => false,
            }
        }
        _ => return None,
    };
    Some(holds)
}

/// Evaluates a Confluence module's `conditions` for `user` on `page`; a
/// module they hide is recorded for the inspector, as Jira's are.
pub fn shows_on_page(
    site: &Site,
    install: &AppInstall,
    page: &ContentPage,
    user: Option<&User>,
    module: &Value,
) -> bool {
    let property = |entity: &str, key: &str| -> Option<Value> {
        let data = site.data();
        let confluence = &data.confluence;
        match entity {
            "addon" => {
                confluence.app_properties.get(&(install.app_key.clone(), key.to_owned())).cloned()
            }
            "content" => confluence
                .content_properties
                .get(&(page.id.clone(), key.to_owned()))
                .map(|p| p.value.clone()),
            _ => None,
        }
    };
    let product = |name: &str, params: &Value| named(name, params, user);
    let facts = Facts { logged_in: user.is_some(), property: &property, product: &product };
    let shown = conditions::shows(module.get("conditions"), &facts);
    if !shown {
        let first = conditions::first_false(module.get("conditions"), &facts);
        site.record(hidden(install, module, first));
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn person(role: Role) -> User {
        User {
            account_id: "557058:x".into(),
            display_name: "X".into(),
            email: "x@example.test".into(),
            api_token: "t".into(),
            role,
        }
    }

    #[test]
    fn administrators_are_site_admins() {
        let admin = person(Role::SiteAdmin);
        assert_eq!(named("user_is_confluence_administrator", &json!({}), Some(&admin)), Some(true));
        assert_eq!(named("user_is_admin", &json!({}), Some(&person(Role::User))), Some(false));
        assert_eq!(named("user_is_admin", &json!({}), None), Some(false));
    }

    #[test]
    fn page_permissions_follow_the_role() {
        let edit = json!({"permission": "EDIT"});
        assert_eq!(named("has_page_permission", &edit, Some(&person(Role::User))), Some(true));
        assert_eq!(named("has_page_permission", &edit, Some(&person(Role::Viewer))), Some(false));
        assert_eq!(named("has_page_permission", &edit, None), Some(false));
        assert_eq!(named("has_space_permission", &json!({"permission": "VIEW"}), None), Some(true));
        assert_eq!(named("has_page_permission", &json!({"permission": "FLY"}), None), Some(false));
    }

    #[test]
    fn names_the_emulator_does_not_answer_are_left_to_the_caller() {
        assert_eq!(named("favourite_page", &json!({}), None), None);
    }
}
