//! Issue search: `GET`/`POST /rest/api/3/search` and its enhanced
//! successor `/search/jql` (Atlassian: "The Jira Cloud platform REST API",
//! "Issue search"), over the JQL subset of [`super::jql`].
//!
//! What it is not: any field but `summary` and `project` in results, or
//! pagination beyond `startAt`/`maxResults`/`nextPageToken`. `POST /search`
//! needs only the READ scope, as Atlassian's OpenAPI document says (see
//! [`crate::platform::auth::scope_for`]).

use std::sync::Arc;

use serde_json::{Map, Value, json};
use warp::Filter;
use warp::http::StatusCode;
use warp::reply::Response;

use super::people::project_json;
use super::{jql, jql_run};
use crate::platform::call::{Call, call, with_site};
use crate::platform::errors::error;
use crate::platform::http::{api, json_response, query_param, raw_query};
use crate::platform::permissions::caller_may;
use crate::site::{Site, SiteData};

/// `/search` (by `startAt`) and `/search/jql` (by `nextPageToken`).
pub fn routes(
    site: Arc<Site>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
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
    search_offset.or(search_jql).unify()
}

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
    let hits = match jql_run::run(&parsed, &universe) {
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
fn universe<'a>(site: &'a Site, data: &'a SiteData) -> jql_run::Universe<'a> {
    let projects = site
        .projects
        .iter()
        .map(|p| jql_run::ProjectFacts { id: &p.id, key: &p.key, name: &p.name })
        .collect();
    let issues = data
        .issues
        .iter()
        .map(|issue| jql_run::IssueFacts {
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
    jql_run::Universe { projects, issues, index: super::property_index::index(data) }
}
