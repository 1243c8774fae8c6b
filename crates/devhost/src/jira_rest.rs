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
//! [`super::auth::scope_for`].

use std::sync::Arc;

use serde_json::{Map, Value, json};
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::auth::{Caller, has_scope};
use super::jql;
use super::rest::{Call, call, error};
use super::site::{Role, Site, SiteData, User};

/// `/rest/api/{2|3}/`: both versions answer alike (only the rich-text
/// format of some issue fields differs between them, and no field here has
/// rich text). Extracts the version, for `self` links.
pub(crate) fn api() -> impl Filter<Extract = (String,), Error = Rejection> + Clone {
    warp::path("rest").and(warp::path("api")).and(warp::path::param::<String>()).and_then(
        |version: String| async move {
            if version == "2" || version == "3" {
                Ok(version)
            } else {
                Err(warp::reject::not_found())
            }
        },
    )
}

/// The raw query string, empty when there is none.
pub(crate) fn raw_query()
-> impl Filter<Extract = (String,), Error = std::convert::Infallible> + Clone {
    warp::query::raw().or(warp::any().map(String::new)).unify()
}

/// The site, for handlers.
pub(crate) fn with_site(
    site: Arc<Site>,
) -> impl Filter<Extract = (Arc<Site>,), Error = std::convert::Infallible> + Clone {
    warp::any().map(move || Arc::clone(&site))
}

/// The decoded value of `name` in a raw `application/x-www-form-urlencoded`
/// query (the first one, if repeated).
pub(crate) fn query_param(raw: &str, name: &str) -> Option<String> {
    raw.split('&').filter(|pair| !pair.is_empty()).find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(key, true) == name).then(|| percent_decode(value, true))
    })
}

/// Decodes `%XX` escapes (and `+` as a space in queries); invalid escapes
/// stay as they are, invalid UTF-8 becomes U+FFFD.
pub(crate) fn percent_decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
        match bytes[i] {
            b'%' => match (hex(i + 1), hex(i + 2)) {
                (Some(high), Some(low)) => {
                    out.push((high * 16 + low) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus_is_space => out.push(b' '),
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes everything but `A-Z a-z 0-9 - . _ ~`, for URLs this
/// site writes into `self` links and `Location` headers.
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A JSON response with a status.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    warp::reply::with_status(warp::reply::json(body), status).into_response()
}

/// Milliseconds since the epoch (Jira's task timestamps).
pub(crate) fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
}

// --- Permissions -------------------------------------------------------------

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
];

fn permission_info(
    key: &str,
) -> Option<&'static (&'static str, &'static str, &'static str, &'static str, &'static str)> {
    PERMISSIONS.iter().find(|p| p.0 == key)
}

fn is_global(key: &str) -> bool {
    permission_info(key).is_some_and(|p| p.3 == "GLOBAL")
}

/// Whether a person with `role` (`None`: anonymous) holds `permission`.
///
/// The emulated site's single permission scheme: everyone logged in browses;
/// everyone but viewers creates, edits, comments on and transitions issues;
/// project admins also administer projects and delete issues; site admins
/// hold everything. Anonymous visitors hold nothing.
pub fn role_may(role: Option<Role>, permission: &str) -> bool {
    let Some(role) = role else { return false };
    match permission {
        "ADMINISTER" | "SYSTEM_ADMIN" => role == Role::SiteAdmin,
        "ADMINISTER_PROJECTS" | "DELETE_ISSUES" => {
            matches!(role, Role::SiteAdmin | Role::ProjectAdmin)
        }
        "USER_PICKER" | "BROWSE_PROJECTS" => true,
        "CREATE_ISSUES" | "EDIT_ISSUES" | "ASSIGN_ISSUES" | "ADD_COMMENTS"
        | "TRANSITION_ISSUES" => role != Role::Viewer,
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
        | "TRANSITION_ISSUES" => "WRITE",
        "DELETE_ISSUES" => "DELETE",
        "ADMINISTER_PROJECTS" => "PROJECT_ADMIN",
        "ADMINISTER" => "ADMIN",
        _ => return false,
    };
    has_scope(scopes, needed)
}

/// Whether `caller` holds `permission` on the site.
pub fn caller_may(data: &SiteData, caller: &Caller, permission: &str) -> bool {
    match caller {
        Caller::User { user, .. } => role_may(Some(user.role), permission),
        Caller::App { app_key } => {
            data.installs.get(app_key).is_some_and(|i| scopes_may(&i.scopes, permission))
        }
    }
}

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

fn project_json(site: &Site, version: &str, project: &super::site::Project) -> Value {
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
    let search_offset = api()
        .and(warp::path("search"))
        .and(warp::path::end())
        .and(raw_query())
        .and(with_site(Arc::clone(&site)))
        .and(call(Arc::clone(&site)))
        .map(|version: String, query: String, site: Arc<Site>, call: Call| {
            search(&site, &version, &query, &call, Paging::Offset)
        });
    let search_jql = api()
        .and(warp::path("search"))
        .and(warp::path("jql"))
        .and(warp::path::end())
        .and(raw_query())
        .and(with_site(Arc::clone(&site)))
        .and(call(Arc::clone(&site)))
        .map(|version: String, query: String, site: Arc<Site>, call: Call| {
            search(&site, &version, &query, &call, Paging::Token)
        });
    let task = warp::get()
        .and(api())
        .and(warp::path("task"))
        .and(warp::path::param::<String>())
        .and(warp::path::end())
        .and(with_site(Arc::clone(&site)))
        .and(call(Arc::clone(&site)))
        .map(|version: String, id: String, site: Arc<Site>, call: Call| {
            get_task(&site, &version, &id, &call)
        });
    let license = warp::get()
        .and(warp::path!("rest" / "atlassian-connect" / "1" / "addons" / String))
        .and(with_site(Arc::clone(&site)))
        .and(call(Arc::clone(&site)))
        .map(|app_key: String, site: Arc<Site>, call: Call| app_resource(&site, &app_key, &call));
    projects
        .or(project)
        .unify()
        .or(user)
        .unify()
        .or(my_permissions)
        .unify()
        .or(check)
        .unify()
        .or(search_offset)
        .unify()
        .or(search_jql)
        .unify()
        .or(task)
        .unify()
        .or(license)
        .unify()
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
                if me.account_id != user.account_id && me.role != Role::SiteAdmin {
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

// --- Search --------------------------------------------------------------------

/// How a search pages: `/search` by `startAt` (with a `total`), the
/// enhanced `/search/jql` by `nextPageToken` (no total; Atlassian's
/// replacement for `/search`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Paging {
    Offset,
    Token,
}

/// The most issues one page returns.
const MAX_PAGE: usize = 100;

/// The search parameters, from the query (GET) or the JSON body (POST).
struct SearchRequest {
    jql: String,
    start: usize,
    max: usize,
    fields: Option<Vec<String>>,
}

fn search_request(query: &str, call: &Call, paging: Paging) -> Result<SearchRequest, String> {
    let number = |value: Option<&Value>, name: &str, default: usize| -> Result<usize, String> {
        match value {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Number(n)) => n
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| format!("The value of {name} must be a non-negative integer.")),
            Some(Value::String(s)) => s
                .trim()
                .parse::<usize>()
                .map_err(|_| format!("The value '{s}' is invalid for {name}.")),
            Some(_) => Err(format!("The value of {name} must be a non-negative integer.")),
        }
    };
    let (params, jql) = if call.method == warp::http::Method::POST {
        let body: Value = serde_json::from_slice(&call.body)
            .map_err(|_| "The request body must be JSON.".to_owned())?;
        let jql = body["jql"].as_str().unwrap_or_default().to_owned();
        (body, jql)
    } else {
        let mut params = Map::new();
        for name in ["startAt", "maxResults", "nextPageToken", "fields"] {
            if let Some(value) = query_param(query, name) {
                params.insert(name.to_owned(), Value::String(value));
            }
        }
        (Value::Object(params), query_param(query, "jql").unwrap_or_default())
    };
    let start = match paging {
        Paging::Offset => number(params.get("startAt"), "startAt", 0)?,
        Paging::Token => match params.get("nextPageToken").and_then(Value::as_str) {
            None => 0,
            Some(token) => token
                .strip_prefix("page-")
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| format!("The nextPageToken '{token}' is invalid."))?,
        },
    };
    let max = number(params.get("maxResults"), "maxResults", 50)?.min(MAX_PAGE);
    let fields = match params.get("fields") {
        Some(Value::String(list)) => {
            Some(list.split(',').map(|f| f.trim().to_owned()).filter(|f| !f.is_empty()).collect())
        }
        Some(Value::Array(list)) => {
            Some(list.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        }
        _ => None,
    };
    Ok(SearchRequest { jql, start, max, fields })
}

/// `GET`/`POST /rest/api/3/search` and `/search/jql`: the issues a JQL
/// query (see [`jql`]) selects, a page at a time. Syntax and field errors
/// are 400 with Jira's message; the enhanced search refuses an unbounded
/// query, as Atlassian's does.
fn search(site: &Site, version: &str, query: &str, call: &Call, paging: Paging) -> Response {
    if !matches!(call.method, warp::http::Method::GET | warp::http::Method::POST) {
        return error(StatusCode::METHOD_NOT_ALLOWED, "use GET or POST");
    }
    let request = match search_request(query, call, paging) {
        Ok(request) => request,
        Err(message) => return error(StatusCode::BAD_REQUEST, &message),
    };
    let parsed = match jql::parse(&request.jql) {
        Ok(parsed) => parsed,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    if paging == Paging::Token && parsed.condition.is_none() {
        return error(
            StatusCode::BAD_REQUEST,
            "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.",
        );
    }
    let data = site.data();
    if !caller_may(&data, &call.caller, "BROWSE_PROJECTS") {
        return error(StatusCode::FORBIDDEN, "You do not have permission to browse projects.");
    }
    let universe = universe(site, &data);
    let hits = match jql::run(&parsed, &universe) {
        Ok(hits) => hits,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let wants = |field: &str| match &request.fields {
        // `/search` returns the navigable fields by default, `/search/jql` only ids.
        None => paging == Paging::Offset,
        Some(fields) => fields.iter().any(|f| f == field || f == "*all" || f == "*navigable"),
    };
    let issues: Vec<Value> = hits
        .iter()
        .skip(request.start)
        .take(request.max)
        .filter_map(|position| data.issues.get(*position))
        .map(|issue| {
            let mut fields = Map::new();
            if wants("summary") {
                fields.insert("summary".into(), json!(issue.summary));
            }
            if wants("project") {
                if let Some(p) = site.project(&issue.project_id) {
                    fields.insert("project".into(), project_json(site, version, p));
                }
            }
            let mut item = json!({
                "id": issue.id,
                "key": issue.key,
                "self": format!("{}/rest/api/{version}/issue/{}", site.base_url, issue.id),
            });
            if !fields.is_empty() || paging == Paging::Offset {
                item["fields"] = Value::Object(fields);
            }
            item
        })
        .collect();
    let end = request.start.saturating_add(issues.len());
    let body = match paging {
        Paging::Offset => json!({
            "startAt": request.start,
            "maxResults": request.max,
            "total": hits.len(),
            "issues": issues,
        }),
        Paging::Token => {
            let is_last = end >= hits.len();
            let mut body = json!({ "issues": issues, "isLast": is_last });
            // Atlassian leaves the token out on the last page (JRACLOUD-92184).
            if !is_last {
                body["nextPageToken"] = json!(format!("page-{end}"));
            }
            body
        }
    };
    json_response(StatusCode::OK, &body)
}

/// The site as a query sees it: projects, issues with their properties,
/// and the property paths installed apps index.
fn universe<'a>(site: &'a Site, data: &'a SiteData) -> jql::Universe<'a> {
    let projects = site
        .projects
        .iter()
        .map(|p| jql::ProjectFacts { id: &p.id, key: &p.key, name: &p.name })
        .collect();
    let issues = data
        .issues
        .iter()
        .map(|issue| jql::IssueFacts {
            id: &issue.id,
            key: &issue.key,
            summary: &issue.summary,
            project_id: &issue.project_id,
            properties: data
                .issue_properties
                .range((issue.id.clone(), String::new())..)
                .take_while(|((id, _), _)| *id == issue.id)
                .map(|((_, key), value)| (key.as_str(), value))
                .collect(),
        })
        .collect();
    jql::Universe { projects, issues, index: super::entity_properties::index(data) }
}

// --- Tasks -------------------------------------------------------------------

/// Where a long-running task is (Atlassian: "Get task", `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    /// Waiting to run.
    Enqueued,
    /// Running.
    Running,
    /// Done.
    Complete,
    /// Gave up.
    Failed,
}

impl TaskStatus {
    /// Jira's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Enqueued => "ENQUEUED",
            TaskStatus::Running => "RUNNING",
            TaskStatus::Complete => "COMPLETE",
            TaskStatus::Failed => "FAILED",
        }
    }
}

/// A long-running asynchronous task (Atlassian: "Jira REST API v3",
/// "Asynchronous operations" and "Get task"): an operation answers 303 with
/// the task's URL, and `GET /rest/api/3/task/{taskId}` follows it.
#[derive(Debug, Clone)]
pub struct Task {
    /// The id.
    pub id: String,
    /// What it does.
    pub description: String,
    /// Who submitted it: an account id, or `app:<key>` for an app.
    pub submitted_by: String,
    /// Where it is.
    pub status: TaskStatus,
    /// Percent done.
    pub progress: u8,
    /// Submitted, started, finished: milliseconds since the epoch.
    pub submitted: i64,
    /// When it started running.
    pub started: Option<i64>,
    /// When it finished.
    pub finished: Option<i64>,
    /// The task's result, when it has one.
    pub result: Option<Value>,
}

impl Task {
    /// A new task, enqueued now.
    pub fn enqueued(id: String, description: String, submitted_by: String) -> Task {
        Task {
            id,
            description,
            submitted_by,
            status: TaskStatus::Enqueued,
            progress: 0,
            submitted: now_millis(),
            started: None,
            finished: None,
            result: None,
        }
    }

    /// Jira's task JSON.
    pub fn to_json(&self, base_url: &str, version: &str) -> Value {
        let now = now_millis();
        let elapsed = self.started.map_or(0, |started| self.finished.unwrap_or(now) - started);
        let mut body = json!({
            "self": format!("{base_url}/rest/api/{version}/task/{}", self.id),
            "id": self.id,
            "description": self.description,
            "status": self.status.as_str(),
            // Jira's numeric user id: the emulator has none to give.
            "submittedBy": 0,
            "progress": self.progress,
            "elapsedRuntime": elapsed,
            "submitted": self.submitted,
            "lastUpdate": self.finished.or(self.started).unwrap_or(self.submitted),
        });
        if let Some(started) = self.started {
            body["started"] = json!(started);
        }
        if let Some(finished) = self.finished {
            body["finished"] = json!(finished);
        }
        if let Some(result) = &self.result {
            body["result"] = result.clone();
        }
        body
    }
}

/// Who submitted a task, as [`Task::submitted_by`] records it.
pub fn submitter(caller: &Caller) -> String {
    match caller {
        Caller::App { app_key } => format!("app:{app_key}"),
        Caller::User { user, .. } => user.account_id.clone(),
    }
}

/// Adds a task to the site and returns the 303 that points at it.
pub fn start_task(site: &Site, data: &mut SiteData, version: &str, task: Task) -> Response {
    let location = format!("{}/rest/api/{version}/task/{}", site.base_url, task.id);
    data.tasks.insert(task.id.clone(), task);
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// A fresh task id: numeric, like Jira's.
pub fn next_task_id(data: &SiteData) -> String {
    (10_000 + data.tasks.len()).to_string()
}

/// `GET /rest/api/3/task/{taskId}`: for the task's submitter or a site
/// admin (Atlassian: "either of: Administer Jira, creator of the task").
fn get_task(site: &Site, version: &str, id: &str, call: &Call) -> Response {
    let data = site.data();
    let Some(task) = data.tasks.get(id) else {
        return error(StatusCode::NOT_FOUND, &format!("Task {id} not found."));
    };
    let admin = matches!(&call.caller, Caller::User { user, .. } if user.role == Role::SiteAdmin);
    if task.submitted_by != submitter(&call.caller) && !admin {
        return error(
            StatusCode::FORBIDDEN,
            "Only the task's creator or a Jira administrator may see it.",
        );
    }
    json_response(StatusCode::OK, &task.to_json(&site.base_url, version))
}

// --- The app resource (licensing) ---------------------------------------------

/// `GET /rest/atlassian-connect/1/addons/{appKey}` (Atlassian: "License API
/// for cloud apps"): the app's key, version, state (ENABLED is the only one
/// Atlassian returns), host, and, for an app whose descriptor says
/// `enableLicensing: true`, its `license`. Only the app itself may ask (an
/// iframe's user calls on the app's behalf); another app's key is 403.
fn app_resource(site: &Site, app_key: &str, call: &Call) -> Response {
    if call.caller.app_key() != Some(app_key) {
        return error(StatusCode::FORBIDDEN, "An app may only read its own app resource.");
    }
    let data = site.data();
    let Some(install) = data.installs.get(app_key) else {
        return error(StatusCode::NOT_FOUND, &format!("The app {app_key} is not installed."));
    };
    let descriptor = &install.descriptor;
    let contacts: Vec<Value> = site
        .users
        .iter()
        .filter(|u| u.role == Role::SiteAdmin)
        .map(|u| json!({ "name": u.display_name, "email": u.email }))
        .collect();
    let mut body = json!({
        "key": app_key,
        "version": descriptor["version"].as_str().unwrap_or("1.0.0"),
        "state": "ENABLED",
        "host": { "product": "Jira", "contacts": contacts },
    });
    if descriptor["enableLicensing"] == Value::Bool(true) {
        let active = data.license_active.get(app_key).copied().unwrap_or(true);
        // Stable per site and app, shaped like Atlassian's identifiers.
        let hash = lodger_connect::qsh::sha256_hex(&format!("{}:{app_key}", site.client_key));
        let part = |from: usize, to: usize| hash.get(from..to).unwrap_or_default();
        let number = u64::from_str_radix(part(0, 8), 16).unwrap_or_default();
        body["license"] = json!({
            "active": active,
            "type": "COMMERCIAL",
            "evaluation": false,
            "supportEntitlementNumber": format!("SEN-L{number}"),
            "entitlementId": format!("{}-{}-{}-{}-{}", part(0, 8), part(8, 12), part(12, 16), part(16, 20), part(20, 32)),
            "entitlementNumber": format!("E-{}", part(32, 42).to_ascii_uppercase()),
        });
    }
    json_response(StatusCode::OK, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_params_decode_like_forms() {
        let raw = "jql=project%20%3D%20LOD+AND+x&accountId=557058%3Aabc&empty";
        assert_eq!(query_param(raw, "jql").as_deref(), Some("project = LOD AND x"));
        assert_eq!(query_param(raw, "accountId").as_deref(), Some("557058:abc"));
        assert_eq!(query_param(raw, "empty").as_deref(), Some(""));
        assert_eq!(query_param(raw, "missing"), None);
        assert_eq!(percent_decode("%zz%4", false), "%zz%4");
        assert_eq!(encode("a b:c"), "a%20b%3Ac");
    }

    #[test]
    fn roles_grant_the_default_scheme() {
        assert!(role_may(Some(Role::User), "EDIT_ISSUES"));
        assert!(role_may(Some(Role::Viewer), "BROWSE_PROJECTS"));
        assert!(!role_may(Some(Role::Viewer), "EDIT_ISSUES"));
        assert!(!role_may(Some(Role::User), "ADMINISTER_PROJECTS"));
        assert!(role_may(Some(Role::ProjectAdmin), "ADMINISTER_PROJECTS"));
        assert!(!role_may(Some(Role::ProjectAdmin), "ADMINISTER"));
        assert!(role_may(Some(Role::SiteAdmin), "ADMINISTER"));
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
