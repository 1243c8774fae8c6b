//! Jira platform REST resources of the emulated site that are about who may
//! do what, and finding things (Atlassian: "The Jira Cloud platform REST
//! API" v3, whose paths also answer under `/rest/api/2/`):
//!
//! | resource | Atlassian's operation |
//! |---|---|
//! | `GET /rest/api/3/project`, `/project/{projectIdOrKey}` | Get all projects, Get project |
//! | `GET /rest/api/3/user?accountId=` | Get user |
//! | `GET /rest/api/3/mypermissions?permissions=` | Get my permissions |
//! | `POST /rest/api/3/permissions/check` | Get bulk permissions |
//! | `GET`/`POST /rest/api/3/search`, `/search/jql` | Search for issues using JQL (and its enhanced successor) |
//! | `GET /rest/api/3/task/{taskId}` | Get task (the bulk property operations run as tasks) |
//! | `GET /rest/atlassian-connect/1/addons/{appKey}` | "License API for cloud apps" |
//!
//! It also holds the emulator's permission model, which the entity
//! property resources share: a user's [`Role`] grants a fixed set of Jira
//! permissions on every project (the site has one permission scheme), and
//! the app's own user holds the permissions its scopes imply.
//!
//! What it is not: Jira's permission schemes, issue security, groups,
//! pagination beyond `startAt`/`maxResults`/`nextPageToken`, or any field
//! but `summary` and `project` in search results.
//!
//! `POST /search` and `POST /permissions/check` need only the READ scope, as
//! Atlassian's OpenAPI document says (`x-atlassian-connect-scope`); see
//! [`crate::platform::auth::scope_for`].

use std::sync::Arc;

use serde_json::{Map, Value, json};
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::platform::auth::Caller;
use crate::platform::call::{Call, call, with_site};
use crate::platform::errors::error;
use crate::platform::http::{api, encode, json_response, percent_decode, query_param, raw_query};
use crate::platform::permissions::{caller_may, is_global, permission_info, role_may};
use crate::site::{Project, Role, Site, User};

/// The JSON Jira gives a user (Atlassian: "Get user").
fn user_json(site: &Site, version: &str, user: &User, with_email: bool) -> Value {
    let mut body = json!({
        "self": format!("{}/rest/api/{version}/user?accountId={}", site.base_url, encode(&user.account_id)),
        "accountId": user.account_id,
        "accountType": "atlassian",
        "displayName": user.display_name,
        "active": true,
        "timeZone": "UTC",
        "locale": "en_US",
    });
    if with_email {
        body["emailAddress"] = json!(user.email);
    }
    body
}

/// The JSON Jira gives a project (Atlassian: "Get project").
pub(crate) fn project_json(site: &Site, version: &str, project: &Project) -> Value {
    json!({
        "self": format!("{}/rest/api/{version}/project/{}", site.base_url, project.id),
        "id": project.id,
        "key": project.key,
        "name": project.name,
        "projectTypeKey": "software",
        "simplified": false,
        "style": "classic",
        "isPrivate": false,
    })
}

// --- Routes ------------------------------------------------------------------

/// Every route of this file.
pub fn routes(site: Arc<Site>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let projects = warp::get()
        .and(api())
        .and(warp::path("project"))
        .and(warp::path::end())
        .and(with_site(Arc::clone(&site)))
        .and(call(Arc::clone(&site)))
        .map(|version: String, site: Arc<Site>, _call: Call| {
            let all: Vec<Value> =
                site.projects.iter().map(|p| project_json(&site, &version, p)).collect();
            json_response(StatusCode::OK, &Value::Array(all))
        });
    let project = warp::get()
        .and(api())
        .and(warp::path("project"))
        .and(warp::path::param::<String>())
        .and(warp::path::end())
        .and(with_site(Arc::clone(&site)))
        .and(call(Arc::clone(&site)))
        .map(|version: String, id_or_key: String, site: Arc<Site>, _call: Call| {
            let id_or_key = percent_decode(&id_or_key, false);
            match site.project(&id_or_key) {
                Some(p) => json_response(StatusCode::OK, &project_json(&site, &version, p)),
                None => no_project(&id_or_key),
            }
        });
    let user = warp::get()
        .and(api())
        .and(warp::path("user"))
        .and(warp::path::end())
        .and(raw_query())
        .and(with_site(Arc::clone(&site)))
        .and(call(Arc::clone(&site)))
        .map(|version: String, query: String, site: Arc<Site>, call: Call| {
            get_user(&site, &version, &query, &call)
        });
    let my_permissions = warp::get()
        .and(api())
        .and(warp::path("mypermissions"))
        .and(warp::path::end())
        .and(raw_query())
        .and(with_site(Arc::clone(&site)))
        .and(call(Arc::clone(&site)))
        .map(|_version: String, query: String, site: Arc<Site>, call: Call| {
            my_permissions(&site, &query, &call)
        });
    let check = warp::post()
        .and(api())
        .and(warp::path("permissions"))
        .and(warp::path("check"))
        .and(warp::path::end())
        .and(with_site(Arc::clone(&site)))
        .and(call(Arc::clone(&site)))
        .map(|_version: String, site: Arc<Site>, call: Call| bulk_permissions(&site, &call));
    projects.or(project).unify().or(user).unify().or(my_permissions).unify().or(check).unify()
}

/// Jira's answer for a project that does not exist (or is hidden).
pub(crate) fn no_project(id_or_key: &str) -> Response {
    error(StatusCode::NOT_FOUND, &format!("No project could be found with key '{id_or_key}'."))
}

/// `GET /rest/api/3/user?accountId=`: 404 for an unknown account. The
/// email address shows only to the user themself, or to an app with the
/// ACCESS_EMAIL_ADDRESSES scope (Atlassian: "Scopes for Connect apps").
fn get_user(site: &Site, version: &str, query: &str, call: &Call) -> Response {
    let Some(account_id) = query_param(query, "accountId").filter(|a| !a.is_empty()) else {
        return error(StatusCode::BAD_REQUEST, "The accountId query parameter is required.");
    };
    let Some(user) = site.user(&account_id) else {
        return error(
            StatusCode::NOT_FOUND,
            &format!("The user with account ID '{account_id}' does not exist."),
        );
    };
    let with_email = match &call.caller {
        Caller::User { user: me, .. } => me.account_id == user.account_id,
        Caller::App { app_key } => site
            .data()
            .installs
            .get(app_key)
            .is_some_and(|i| i.scopes.iter().any(|s| s == "ACCESS_EMAIL_ADDRESSES")),
    };
    json_response(StatusCode::OK, &user_json(site, version, user, with_email))
}

/// `GET /rest/api/3/mypermissions?permissions=EDIT_ISSUES,…`: for each key,
/// whether the caller holds it. 400 without keys or for an unknown key; 404
/// for a project or issue context that does not exist.
fn my_permissions(site: &Site, query: &str, call: &Call) -> Response {
    let wanted = query_param(query, "permissions").unwrap_or_default();
    let keys: Vec<&str> = wanted.split(',').map(str::trim).filter(|k| !k.is_empty()).collect();
    if keys.is_empty() {
        return error(StatusCode::BAD_REQUEST, "The permissions query parameter is required.");
    }
    if let Some(unknown) = keys.iter().find(|k| permission_info(k).is_none()) {
        return error(
            StatusCode::BAD_REQUEST,
            &format!("Could not find permission with key: {unknown}"),
        );
    }
    let project = query_param(query, "projectId").or_else(|| query_param(query, "projectKey"));
    if let Some(project) = project.filter(|p| !p.is_empty()) {
        if site.project(&project).is_none() {
            return no_project(&project);
        }
    }
    let issue = query_param(query, "issueId").or_else(|| query_param(query, "issueKey"));
    if let Some(issue) = issue.filter(|i| !i.is_empty()) {
        if site.issue(&issue).is_none() {
            return error(
                StatusCode::NOT_FOUND,
                "Issue does not exist or you do not have permission to see it.",
            );
        }
    }
    let data = site.data();
    let mut permissions = Map::new();
    for key in keys {
        if let Some((key, id, name, kind, description)) = permission_info(key) {
            permissions.insert(
                (*key).to_owned(),
                json!({
                    "id": id,
                    "key": key,
                    "name": name,
                    "type": kind,
                    "description": description,
                    "havePermission": caller_may(&data, &call.caller, key),
                }),
            );
        }
    }
    json_response(StatusCode::OK, &json!({ "permissions": permissions }))
}

/// `POST /rest/api/3/permissions/check`: which of the asked global
/// permissions, and which projects and issues per project permission, an
/// account (default: the caller) has. Unknown ids are ignored; unknown
/// permission keys are 400 in Jira's `errors` shape; checking someone else
/// needs Administer Jira when a user asks (an app may ask for any account).
fn bulk_permissions(site: &Site, call: &Call) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&call.body) else {
        return error(StatusCode::BAD_REQUEST, "The request body must be JSON.");
    };
    let strings = |value: &Value| -> Vec<String> {
        value.as_array().map_or_else(Vec::new, |items| {
            items.iter().filter_map(Value::as_str).map(str::to_owned).collect()
        })
    };
    let ids = |value: &Value| -> Vec<i64> {
        value.as_array().map_or_else(Vec::new, |items| {
            items
                .iter()
                .filter_map(|v| v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
                .collect()
        })
    };
    let global = strings(&body["globalPermissions"]);
    let mut unrecognized = Map::new();
    for key in &global {
        if !is_global(key) {
            unrecognized.insert(key.clone(), json!("Unrecognized permission"));
        }
    }
    let mut asked = Vec::new();
    for entry in body["projectPermissions"].as_array().map_or(&[][..], Vec::as_slice) {
        let permissions = strings(&entry["permissions"]);
        let (projects, issues) = (ids(&entry["projects"]), ids(&entry["issues"]));
        if permissions.is_empty() && !(projects.is_empty() && issues.is_empty()) {
            return error(
                StatusCode::BAD_REQUEST,
                "Project or issue ids were given without a project permission.",
            );
        }
        for key in &permissions {
            if permission_info(key).is_none() || is_global(key) {
                unrecognized.insert(key.clone(), json!("Unrecognized permission"));
            }
        }
        asked.push((permissions, projects, issues));
    }
    if !unrecognized.is_empty() {
        let body = json!({ "errorMessages": [], "errors": unrecognized });
        return json_response(StatusCode::BAD_REQUEST, &body);
    }
    // Whose permissions: the account asked about, or the caller.
    let subject: Option<Option<Role>> = match body["accountId"].as_str() {
        Some(account_id) => {
            let Some(user) = site.user(account_id) else {
                return error(
                    StatusCode::BAD_REQUEST,
                    &format!("The account ID '{account_id}' is invalid."),
                );
            };
            if let Caller::User { user: me, .. } = &call.caller {
                if me.account_id != user.account_id && !me.is_site_admin() {
                    return error(
                        StatusCode::FORBIDDEN,
                        "Only Jira administrators can perform this operation.",
                    );
                }
            }
            Some(Some(user.role))
        }
        None => None,
    };
    let data = site.data();
    let may = |permission: &str| match subject {
        Some(role) => role_may(role, permission),
        None => caller_may(&data, &call.caller, permission),
    };
    let granted_global: Vec<&String> = global.iter().filter(|k| may(k)).collect();
    // One entry per permission, ids merged across the request's entries.
    let mut granted: Vec<(String, Vec<i64>, Vec<i64>)> = Vec::new();
    for (permissions, projects, issues) in &asked {
        for key in permissions {
            let position = match granted.iter().position(|(k, _, _)| k == key) {
                Some(position) => position,
                None => {
                    granted.push((key.clone(), Vec::new(), Vec::new()));
                    granted.len() - 1
                }
            };
            if !may(key) {
                continue;
            }
            let (_, granted_projects, granted_issues) = &mut granted[position];
            for id in projects {
                let exists = site.projects.iter().any(|p| p.id == id.to_string());
                if exists && !granted_projects.contains(id) {
                    granted_projects.push(*id);
                }
            }
            for id in issues {
                let exists = data.issues.iter().any(|i| i.id == id.to_string());
                if exists && !granted_issues.contains(id) {
                    granted_issues.push(*id);
                }
            }
        }
    }
    let project_permissions: Vec<Value> = granted
        .into_iter()
        .map(|(permission, projects, issues)| {
            json!({ "permission": permission, "issues": issues, "projects": projects })
        })
        .collect();
    json_response(
        StatusCode::OK,
        &json!({ "globalPermissions": granted_global, "projectPermissions": project_permissions }),
    )
}

/// `GET /rest/api/{2|3}/myself` (Atlassian: "Get current user"): the user
/// an iframe's `AP.request` runs as; the app itself has none.
pub fn myself_route(
    site: Arc<Site>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("rest" / "api" / String / "myself").and(call(site)).map(
        |_version: String, call: Call| match call.caller {
            Caller::User { user, .. } => warp::reply::json(&json!({
                "accountId": user.account_id,
                "displayName": user.display_name,
                "emailAddress": user.email,
                "active": true,
            }))
            .into_response(),
            Caller::App { .. } => {
                error(StatusCode::UNAUTHORIZED, "myself needs a user; the app has none")
            }
        },
    )
}
