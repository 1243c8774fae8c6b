//! The emulated site's permission model (Atlassian: "Get my permissions",
//! "Built-in permissions", "Scopes for Connect apps"): a user's [`Role`]
//! grants a fixed set of Jira permissions on every project (the site has
//! one permission scheme), and an app's own user holds the permissions its
//! scopes imply. The permission resources, the entity property resources
//! and issue editing all ask it.
//!
//! What it is not: Jira's permission schemes, issue security or groups.

use crate::platform::auth::{Caller, has_scope};
use crate::site::{Role, SiteData};

/// A Jira permission the emulator knows: key, id, name, type, description
/// (Atlassian: "Get my permissions", "Built-in permissions"; ids are
/// Jira's long-standing numeric ids, EDIT_ISSUES = 12 as in Atlassian's
/// example).
const PERMISSIONS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "ADMINISTER",
        "0",
        "Administer Jira",
        "GLOBAL",
        "Create and administer projects, issue types, fields, workflows, and schemes for all projects.",
    ),
    (
        "SYSTEM_ADMIN",
        "44",
        "Jira System Administrators",
        "GLOBAL",
        "Ability to perform all administration functions.",
    ),
    (
        "USER_PICKER",
        "27",
        "Browse users and groups",
        "GLOBAL",
        "View and select users or groups from the user picker.",
    ),
    (
        "ADMINISTER_PROJECTS",
        "23",
        "Administer Projects",
        "PROJECT",
        "Ability to administer a project in Jira.",
    ),
    (
        "BROWSE_PROJECTS",
        "10",
        "Browse Projects",
        "PROJECT",
        "Ability to browse projects and the issues within them.",
    ),
    ("CREATE_ISSUES", "11", "Create Issues", "PROJECT", "Ability to create issues."),
    ("EDIT_ISSUES", "12", "Edit Issues", "PROJECT", "Ability to edit issues."),
    (
        "ASSIGN_ISSUES",
        "13",
        "Assign Issues",
        "PROJECT",
        "Ability to assign issues to other people.",
    ),
    ("ADD_COMMENTS", "15", "Add Comments", "PROJECT", "Ability to comment on issues."),
    ("DELETE_ISSUES", "16", "Delete Issues", "PROJECT", "Ability to delete issues."),
    ("TRANSITION_ISSUES", "46", "Transition Issues", "PROJECT", "Ability to transition issues."),
    (
        "EDIT_ALL_COMMENTS",
        "34",
        "Edit All Comments",
        "PROJECT",
        "Ability to edit all comments made on issues.",
    ),
    (
        "EDIT_OWN_COMMENTS",
        "35",
        "Edit Own Comments",
        "PROJECT",
        "Ability to edit own comments made on issues.",
    ),
    (
        "DELETE_ALL_COMMENTS",
        "36",
        "Delete All Comments",
        "PROJECT",
        "Ability to delete all comments made on issues.",
    ),
    (
        "DELETE_OWN_COMMENTS",
        "37",
        "Delete Own Comments",
        "PROJECT",
        "Ability to delete own comments made on issues.",
    ),
];

pub(crate) fn permission_info(
    key: &str,
) -> Option<&'static (&'static str, &'static str, &'static str, &'static str, &'static str)> {
    PERMISSIONS.iter().find(|p| p.0 == key)
}

pub(crate) fn is_global(key: &str) -> bool {
    permission_info(key).is_some_and(|p| p.3 == "GLOBAL")
}

/// Whether a person with `role` (`None`: anonymous) holds `permission`.
///
/// The emulated site's single permission scheme: everyone logged in browses;
/// everyone but viewers creates, edits, comments on and transitions issues,
/// and edits and deletes their own comments; project admins also
/// administer projects, delete issues and edit and delete anyone's
/// comments; site admins hold everything. Anonymous visitors hold nothing.
pub fn role_may(role: Option<Role>, permission: &str) -> bool {
    let Some(role) = role else { return false };
    match permission {
        "ADMINISTER" | "SYSTEM_ADMIN" => role == Role::SiteAdmin,
        "ADMINISTER_PROJECTS" | "DELETE_ISSUES" | "EDIT_ALL_COMMENTS" | "DELETE_ALL_COMMENTS" => {
            matches!(role, Role::SiteAdmin | Role::ProjectAdmin)
        }
        "USER_PICKER" | "BROWSE_PROJECTS" => true,
        "CREATE_ISSUES"
        | "EDIT_ISSUES"
        | "ASSIGN_ISSUES"
        | "ADD_COMMENTS"
        | "TRANSITION_ISSUES"
        | "EDIT_OWN_COMMENTS"
        | "DELETE_OWN_COMMENTS" => role != Role::Viewer,
        _ => false,
    }
}

/// Whether an app's own user holds `permission`, given its scopes
/// (Atlassian: "Scopes for Connect apps": READ < WRITE < DELETE <
/// PROJECT_ADMIN < ADMIN). Which permission each scope brings is this
/// emulator's reading; Atlassian documents scopes per operation instead.
pub fn scopes_may(scopes: &[String], permission: &str) -> bool {
    let needed = match permission {
        "USER_PICKER" | "BROWSE_PROJECTS" => "READ",
        "CREATE_ISSUES" | "EDIT_ISSUES" | "ASSIGN_ISSUES" | "ADD_COMMENTS"
        | "TRANSITION_ISSUES" | "EDIT_OWN_COMMENTS" | "EDIT_ALL_COMMENTS" => "WRITE",
        "DELETE_ISSUES" | "DELETE_OWN_COMMENTS" | "DELETE_ALL_COMMENTS" => "DELETE",
        "ADMINISTER_PROJECTS" => "PROJECT_ADMIN",
        "ADMINISTER" => "ADMIN",
        _ => return false,
    };
    has_scope(scopes, needed)
}

/// Whether a Forge app acting as itself holds `permission`, given its
/// manifest's scopes. The emulator's reading: on Jira the app's user gets
/// its permissions from project roles, which no scope documents; here
/// `read:jira-work` browses, `write:jira-work` edits, `manage:jira-project`
/// administers projects and `manage:jira-configuration` administers Jira.
pub fn forge_scopes_may(scopes: &[String], permission: &str) -> bool {
    let needed = match permission {
        "USER_PICKER" | "BROWSE_PROJECTS" => "read:jira-work",
        "CREATE_ISSUES"
        | "EDIT_ISSUES"
        | "ASSIGN_ISSUES"
        | "ADD_COMMENTS"
        | "TRANSITION_ISSUES"
        | "DELETE_ISSUES"
        | "EDIT_OWN_COMMENTS"
        | "EDIT_ALL_COMMENTS"
        | "DELETE_OWN_COMMENTS"
        | "DELETE_ALL_COMMENTS" => "write:jira-work",
        "ADMINISTER_PROJECTS" => "manage:jira-project",
        "ADMINISTER" => "manage:jira-configuration",
        _ => return false,
    };
    scopes.iter().any(|s| s == needed)
}

/// Whether `caller` holds `permission` on the site.
pub fn caller_may(data: &SiteData, caller: &Caller, permission: &str) -> bool {
    match caller {
        Caller::User { user, .. } => role_may(Some(user.role), permission),
        Caller::App { app_key } => match data.installs.get(app_key) {
            Some(install) => scopes_may(&install.scopes, permission),
            None => data
                .forge
                .installs
                .get(app_key)
                .is_some_and(|i| forge_scopes_may(&i.manifest.scopes, permission)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_grant_the_default_scheme() {
        assert!(role_may(Some(Role::User), "EDIT_ISSUES"));
        assert!(role_may(Some(Role::Viewer), "BROWSE_PROJECTS"));
        assert!(!role_may(Some(Role::Viewer), "EDIT_ISSUES"));
        assert!(!role_may(Some(Role::User), "ADMINISTER_PROJECTS"));
        assert!(role_may(Some(Role::ProjectAdmin), "ADMINISTER_PROJECTS"));
        assert!(!role_may(Some(Role::ProjectAdmin), "ADMINISTER"));
        assert!(role_may(Some(Role::SiteAdmin), "ADMINISTER"));
        assert!(role_may(Some(Role::User), "EDIT_OWN_COMMENTS"));
        assert!(!role_may(Some(Role::User), "DELETE_ALL_COMMENTS"));
        assert!(role_may(Some(Role::ProjectAdmin), "EDIT_ALL_COMMENTS"));
        assert!(!role_may(Some(Role::Viewer), "ADD_COMMENTS"));
        assert!(!role_may(None, "BROWSE_PROJECTS"));
    }

    #[test]
    fn app_permissions_follow_scopes() {
        let scopes = vec!["READ".to_owned(), "WRITE".to_owned()];
        assert!(scopes_may(&scopes, "EDIT_ISSUES"));
        assert!(!scopes_may(&scopes, "DELETE_ISSUES"));
        assert!(!scopes_may(&scopes, "ADMINISTER_PROJECTS"));
        assert!(scopes_may(&["ADMIN".to_owned()], "ADMINISTER"));
    }
}
