//! Issue comments, with the paths, bodies and status codes of Atlassian's
//! "Jira REST API v3: Issue comments" (v2 the same but for the body, a
//! string there and an Atlassian Document Format document in v3), and the
//! webhooks each change fires (Atlassian: "Webhooks", `comment_created`,
//! `comment_updated`, `comment_deleted`, and `jira:issue_updated` typed
//! `issue_commented`, `issue_comment_edited` or `issue_comment_deleted`)
//! and the Forge trigger of a new comment (`avi:jira:commented:issue`).
//!
//! | request | answer | event |
//! |---|---|---|
//! | `GET /rest/api/3/issue/{idOrKey}/comment?startAt&maxResults&orderBy` | `200 {startAt, maxResults, total, comments}` | |
//! | `POST /rest/api/3/issue/{idOrKey}/comment` `{"body"}` | `201` the comment | `comment_created`, `jira:issue_updated` |
//! | `GET /rest/api/3/issue/{idOrKey}/comment/{id}` | `200` the comment | |
//! | `PUT /rest/api/3/issue/{idOrKey}/comment/{id}` `{"body"}` | `200` the comment | `comment_updated`, `jira:issue_updated` |
//! | `DELETE /rest/api/3/issue/{idOrKey}/comment/{id}` | `204` | `comment_deleted`, `jira:issue_updated` |
//! | `POST /rest/api/3/comment/list` `{"ids"}` | `200 {startAt, maxResults, total, isLast, values}` | |
//!
//! A comment is `{self, id, author, body, updateAuthor, created, updated,
//! jsdPublic}`. An empty body is a `400` whose `errors.comment` says so; a
//! body of the wrong kind for the version is a `400` too. An unknown issue,
//! or a comment not on that issue, is a `404` that does not say whether it
//! exists.
//!
//! Who may, as the operations' "Permissions required" say, mapped to the
//! site's one permission scheme ([`crate::platform::permissions`]):
//! *Browse projects* to read, *Add comments* to add, *Edit all comments*
//! (or *Edit own comments* for one's own) to edit, *Delete all comments*
//! (or *Delete own comments*) to delete. Atlassian documents a refused edit
//! or deletion as a `400`, not a `403`; a refused addition is a `400` here
//! too (unverified: the reference lists no `403` for it). Apps need the
//! Connect scope READ to read (`comment/list` included), WRITE to add and
//! edit, DELETE to delete ([`crate::platform::auth::scope_for`]); Forge apps
//! `read:jira-work` / `write:jira-work` ([`crate::forge::scopes`]). A comment
//! an app adds is its own; its author is the app (`accountType: "app"`,
//! unverified: the emulator has no app users, so `accountId` is the app key).
//!
//! What it is not: `visibility` (role or group restrictions), comment
//! properties, `expand=renderedBody`, wiki markup rendering and mentions
//! are left out. Nothing is seeded.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Value, json};
use warp::http::{Method, StatusCode};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::adf::{adf_of, plain_text};
use super::issues::issue_type_of;
use super::webhooks::delivery::{self as webhooks, IssueEvent};
use crate::forge::events::iso_timestamp;
use crate::platform::auth::Caller;
use crate::platform::call::{Call, call, with_site};
use crate::platform::errors::error;
use crate::platform::http::{
    api_version, encode, json_response, now_millis, query_param, raw_query,
};
use crate::platform::permissions::caller_may;
use crate::site::{Issue, Site};

/// Jira's default (and largest) page of comments.
const MAX_RESULTS: usize = 5000;
/// The first comment id a site hands out.
const FIRST_ID: u64 = 10000;

/// Who wrote or last edited a comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Author {
    /// A person, by account id.
    User(String),
    /// An app acting as itself, by app key (Connect) or app id (Forge).
    App(String),
}

/// A comment on an issue (Atlassian: "Jira REST API v3: Issue comments",
/// `Comment`).
#[derive(Debug, Clone)]
pub struct Comment {
    /// The comment id, numeric, as a string.
    pub id: String,
    /// The id of the issue it is on.
    pub issue_id: String,
    /// Who wrote it.
    pub author: Author,
    /// Who edited it last (the author until someone edits it).
    pub update_author: Author,
    /// The body, as an Atlassian Document Format document.
    pub body: Value,
    /// When it was written, milliseconds since the epoch.
    pub created_ms: i64,
    /// When it was last edited, milliseconds since the epoch.
    pub updated_ms: i64,
}

/// The comments a site keeps ([`crate::site::SiteData::comments`]).
#[derive(Debug, Default)]
pub struct Comments {
    /// Every comment of every issue, in creation order.
    pub all: Vec<Comment>,
    last_id: u64,
}

impl Comments {
    fn next_id(&mut self) -> String {
        self.last_id = self.last_id.max(FIRST_ID - 1) + 1;
        self.last_id.to_string()
    }
}

/// Why a request body is refused: the `errors` entry and its message.
#[derive(Debug, PartialEq, Eq)]
enum BodyProblem {
    /// No body, or one with no text.
    Empty,
    /// A body of the wrong kind for the API version.
    WrongKind(&'static str),
}

/// Every route of this file (Atlassian: "Jira REST API v3: Issue comments").
pub fn routes(site: Arc<Site>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let issue_comments = warp::path!("rest" / "api" / String / "issue" / String / "comment")
        .and_then(|version, key| async move { api_version(version).await.map(|v| (v, key)) })
        .untuple_one()
        .and(raw_query())
        .and(with_site(Arc::clone(&site)))
        .and(call(Arc::clone(&site)))
        .map(|version: String, key: String, query: String, site: Arc<Site>, call: Call| match call
            .method
        {
            Method::GET => list(&site, &version, &key, &query, &call),
            Method::POST => add(&site, &version, &key, &call),
            _ => error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
        });
    let one = warp::path!("rest" / "api" / String / "issue" / String / "comment" / String)
        .and_then(
            |version, key, id| async move { api_version(version).await.map(|v| (v, key, id)) },
        )
        .untuple_one()
        .and(with_site(Arc::clone(&site)))
        .and(call(Arc::clone(&site)))
        .map(|version: String, key: String, id: String, site: Arc<Site>, call: Call| {
            match call.method {
                Method::GET => get(&site, &version, &key, &id, &call),
                Method::PUT => edit(&site, &version, &key, &id, &call),
                Method::DELETE => delete(&site, &key, &id, &call),
                _ => error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
            }
        });
    let by_ids = warp::post()
        .and(warp::path!("rest" / "api" / String / "comment" / "list"))
        .and_then(api_version)
        .and(with_site(Arc::clone(&site)))
        .and(call(site))
        .map(|version: String, site: Arc<Site>, call: Call| list_by_ids(&site, &version, &call));
    issue_comments.or(one).unify().or(by_ids).unify()
}

fn issue_not_found() -> Response {
    error(StatusCode::NOT_FOUND, "Issue does not exist or you do not have permission to see it.")
}

/// Jira's answer for a comment id not found on the issue (wording unverified).
fn comment_not_found(id: &str) -> Response {
    error(StatusCode::NOT_FOUND, &format!("Can not find a comment for the id: {id}."))
}

/// The caller as a comment's author.
fn author_of(caller: &Caller) -> Author {
    match caller {
        Caller::User { user, .. } => Author::User(user.account_id.clone()),
        Caller::App { app_key } => Author::App(app_key.clone()),
    }
}

/// The issue, if it exists and the caller may browse it.
fn browsable(site: &Site, key: &str, caller: &Caller) -> Option<Issue> {
    let issue = site.issue(key)?;
    caller_may(&site.data(), caller, "BROWSE_PROJECTS").then_some(issue)
}

/// The API version a body is shaped for: `3` gets ADF, `2` and `latest` text.
fn is_v3(version: &str) -> bool {
    version == "3"
}

/// The most characters Jira keeps in a comment (Atlassian: "Add comment",
/// the 32,767-character text limit of Jira's fields).
const MAX_COMMENT_CHARACTERS: usize = 32_767;

/// The most ids `POST /comment/list` takes ("Get comments by IDs":
/// "A maximum of 1000 IDs can be specified").
const MAX_IDS: usize = 1000;

/// Reads `{"body"}` as the version expects it: an ADF `doc` in v3, a
/// string in v2.
fn read_body(version: &str, request: &Bytes) -> Result<Value, BodyProblem> {
    let request: Value = serde_json::from_slice(request)
        .map_err(|_| BodyProblem::WrongKind("The request body is not valid JSON."))?;
    let body = match (&request["body"], is_v3(version)) {
        (Value::Null, _) => return Err(BodyProblem::Empty),
        (Value::Object(doc), true) if doc.get("type") == Some(&json!("doc")) => {
            Value::Object(doc.clone())
        }
        (_, true) => {
            return Err(BodyProblem::WrongKind(
                "Operation value must be an Atlassian Document (see the Atlassian Document Format)",
            ));
        }
        (Value::String(text), false) => adf_of(text),
        (_, false) => return Err(BodyProblem::WrongKind("Operation value must be a string")),
    };
    let text = plain_text(&body);
    // A document of mentions, emoji or media alone has no text but is not
    // empty; only a body without any content node is.
    if text.trim().is_empty() && !has_content_beyond_text(&body) {
        return Err(BodyProblem::Empty);
    }
    // Jira's limit on a comment (unverified that v2 counts the same way).
    if text.chars().count() > MAX_COMMENT_CHARACTERS {
        return Err(BodyProblem::WrongKind(
            "The entered text is too long. It exceeds the allowed limit of 32,767 characters.",
        ));
    }
    Ok(body)
}

/// Whether an ADF node holds something other than text, paragraphs and
/// line breaks (a mention, an emoji, media, a table…).
fn has_content_beyond_text(node: &Value) -> bool {
    node["content"].as_array().is_some_and(|children| {
        children.iter().any(|child| match child["type"].as_str() {
            Some("text" | "hardBreak") => false,
            Some("paragraph") => has_content_beyond_text(child),
            _ => true,
        })
    })
}

/// The `400` for a refused body, in Jira's `errors.comment` shape.
fn body_refused(problem: &BodyProblem) -> Response {
    let message = match problem {
        BodyProblem::Empty => "Comment body can not be empty!",
        BodyProblem::WrongKind(message) => message,
    };
    let body = json!({"errorMessages": [], "errors": {"comment": message}});
    json_response(StatusCode::BAD_REQUEST, &body)
}

/// The JSON Jira gives a comment's author (Atlassian: "Get user", the
/// `UserDetails` of a comment).
fn author_json(site: &Site, version: &str, author: &Author) -> Value {
    match author {
        Author::User(account_id) => {
            let name = site.user(account_id).map_or("", |u| u.display_name.as_str());
            json!({
                "self": format!("{}/rest/api/{version}/user?accountId={}", site.base_url, encode(account_id)),
                "accountId": account_id,
                "displayName": name,
                "active": true,
                "timeZone": "UTC",
                "accountType": "atlassian",
            })
        }
        Author::App(app_key) => json!({
            "self": format!("{}/rest/api/{version}/user?accountId={}", site.base_url, encode(app_key)),
            "accountId": app_key,
            "displayName": app_key,
            "active": true,
            "accountType": "app",
        }),
    }
}

/// The JSON Jira gives a comment in `version` (Atlassian: "Jira REST API
/// v3: Issue comments", `Comment`): the body as ADF in v3, as text in v2.
pub fn comment_json(site: &Site, version: &str, comment: &Comment) -> Value {
    let version = if is_v3(version) { "3" } else { "2" };
    let body = if is_v3(version) { comment.body.clone() } else { json!(plain_text(&comment.body)) };
    json!({
        "self": format!("{}/rest/api/{version}/issue/{}/comment/{}", site.base_url, comment.issue_id, comment.id),
        "id": comment.id,
        "author": author_json(site, version, &comment.author),
        "body": body,
        "updateAuthor": author_json(site, version, &comment.update_author),
        "created": iso_timestamp(comment.created_ms),
        "updated": iso_timestamp(comment.updated_ms),
        "jsdPublic": true,
    })
}

/// `GET …/issue/{idOrKey}/comment`: a page of the issue's comments,
/// oldest first (`orderBy=-created` newest first).
fn list(site: &Site, version: &str, key: &str, query: &str, call: &Call) -> Response {
    let Some(issue) = browsable(site, key, &call.caller) else { return issue_not_found() };
    let number = |name: &str, default: usize| match query_param(query, name) {
        None => Ok(default),
        Some(text) => text.parse::<usize>().map_err(|_| name.to_owned()),
    };
    let (start_at, max_results) = match (number("startAt", 0), number("maxResults", MAX_RESULTS)) {
        (Ok(start), Ok(max)) => (start, max.min(MAX_RESULTS)),
        (Err(name), _) | (_, Err(name)) => {
            return error(StatusCode::BAD_REQUEST, &format!("The value of '{name}' is invalid."));
        }
    };
    let mut comments: Vec<Comment> =
        site.data().comments.all.iter().filter(|c| c.issue_id == issue.id).cloned().collect();
    if query_param(query, "orderBy").is_some_and(|o| o.trim() == "-created") {
        comments.reverse();
    }
    let total = comments.len();
    let page: Vec<Value> = comments
        .iter()
        .skip(start_at)
        .take(max_results)
        .map(|c| comment_json(site, version, c))
        .collect();
    json_response(
        StatusCode::OK,
        &json!({"startAt": start_at, "maxResults": max_results, "total": total, "comments": page}),
    )
}

/// `POST …/issue/{idOrKey}/comment`: adds a comment; `201` with it.
fn add(site: &Arc<Site>, version: &str, key: &str, call: &Call) -> Response {
    let Some(issue) = browsable(site, key, &call.caller) else { return issue_not_found() };
    if !caller_may(&site.data(), &call.caller, "ADD_COMMENTS") {
        return error(
            StatusCode::BAD_REQUEST,
            "You do not have the permission to comment on this issue.",
        );
    }
    let body = match read_body(version, &call.body) {
        Ok(body) => body,
        Err(problem) => return body_refused(&problem),
    };
    let now = now_millis();
    let comment = {
        let mut data = site.data();
        let author = author_of(&call.caller);
        let comment = Comment {
            id: data.comments.next_id(),
            issue_id: issue.id.clone(),
            update_author: author.clone(),
            author,
            body,
            created_ms: now,
            updated_ms: now,
        };
        data.comments.all.push(comment.clone());
        comment
    };
    tracing::info!(site = %site.name, issue = %issue.key, comment = %comment.id, "comment added");
    tell_apps(site, webhooks::COMMENT_CREATED, &issue, &comment, &call.caller);
    json_response(StatusCode::CREATED, &comment_json(site, version, &comment))
}

/// The comment `id` on `issue`, if there is one.
fn find(site: &Site, issue: &Issue, id: &str) -> Option<Comment> {
    site.data().comments.all.iter().find(|c| c.id == id && c.issue_id == issue.id).cloned()
}

/// `GET …/issue/{idOrKey}/comment/{id}`.
fn get(site: &Site, version: &str, key: &str, id: &str, call: &Call) -> Response {
    let Some(issue) = browsable(site, key, &call.caller) else { return issue_not_found() };
    match find(site, &issue, id) {
        Some(comment) => json_response(StatusCode::OK, &comment_json(site, version, &comment)),
        None => comment_not_found(id),
    }
}

/// Whether the caller may change `comment`: the `own` permission for its
/// author, else the `all` one.
fn may_change(site: &Site, caller: &Caller, comment: &Comment, own: &str, all: &str) -> bool {
    let data = site.data();
    let needed = if comment.author == author_of(caller) { own } else { all };
    caller_may(&data, caller, needed) || caller_may(&data, caller, all)
}

/// `PUT …/issue/{idOrKey}/comment/{id}` `{"body"}`: `200` with the comment.
fn edit(site: &Arc<Site>, version: &str, key: &str, id: &str, call: &Call) -> Response {
    let Some(issue) = browsable(site, key, &call.caller) else { return issue_not_found() };
    let Some(comment) = find(site, &issue, id) else { return comment_not_found(id) };
    if !may_change(site, &call.caller, &comment, "EDIT_OWN_COMMENTS", "EDIT_ALL_COMMENTS") {
        return error(
            StatusCode::BAD_REQUEST,
            "You do not have the permission to edit this comment.",
        );
    }
    let body = match read_body(version, &call.body) {
        Ok(body) => body,
        Err(problem) => return body_refused(&problem),
    };
    let edited = {
        let mut data = site.data();
        let Some(stored) = data.comments.all.iter_mut().find(|c| c.id == comment.id) else {
            return comment_not_found(id);
        };
        stored.body = body;
        stored.update_author = author_of(&call.caller);
        stored.updated_ms = now_millis().max(stored.created_ms);
        stored.clone()
    };
    tell_apps(site, webhooks::COMMENT_UPDATED, &issue, &edited, &call.caller);
    json_response(StatusCode::OK, &comment_json(site, version, &edited))
}

/// `DELETE …/issue/{idOrKey}/comment/{id}`: `204`.
fn delete(site: &Arc<Site>, key: &str, id: &str, call: &Call) -> Response {
    let Some(issue) = browsable(site, key, &call.caller) else { return issue_not_found() };
    let Some(comment) = find(site, &issue, id) else { return comment_not_found(id) };
    if !may_change(site, &call.caller, &comment, "DELETE_OWN_COMMENTS", "DELETE_ALL_COMMENTS") {
        return error(
            StatusCode::BAD_REQUEST,
            "You do not have the permission to delete this comment.",
        );
    }
    site.data().comments.all.retain(|c| c.id != comment.id);
    tracing::info!(site = %site.name, issue = %issue.key, comment = %comment.id, "comment deleted");
    tell_apps(site, webhooks::COMMENT_DELETED, &issue, &comment, &call.caller);
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /rest/api/3/comment/list` `{"ids": [...]}` (Atlassian: "Get
/// comments by IDs"): the comments among `ids` the caller may browse, in
/// id order, as a page.
fn list_by_ids(site: &Site, version: &str, call: &Call) -> Response {
    let ids: Option<Vec<String>> = serde_json::from_slice::<Value>(&call.body).ok().and_then(|b| {
        b["ids"].as_array().map(|ids| {
            ids.iter()
                .filter_map(|id| match id {
                    Value::Number(n) => Some(n.to_string()),
                    Value::String(s) => Some(s.clone()),
                    _ => None,
                })
                .collect()
        })
    });
    let Some(ids) = ids else {
        let body = json!({"errorMessages": [], "errors": {"ids": "The list of comment IDs must be provided."}});
        return json_response(StatusCode::BAD_REQUEST, &body);
    };
    if ids.len() > MAX_IDS {
        let body = json!({"errorMessages": [format!("A maximum of {MAX_IDS} comment IDs can be specified.")], "errors": {}});
        return json_response(StatusCode::BAD_REQUEST, &body);
    }
    let ids: std::collections::HashSet<String> = ids.into_iter().collect();
    if !caller_may(&site.data(), &call.caller, "BROWSE_PROJECTS") {
        return json_response(
            StatusCode::OK,
            &json!({"startAt": 0, "maxResults": 1000, "total": 0, "isLast": true, "values": []}),
        );
    }
    let mut found: Vec<Comment> = {
        let data = site.data();
        data.comments
            .all
            .iter()
            .filter(|c| ids.contains(&c.id))
            .filter(|c| data.issues.iter().any(|i| i.id == c.issue_id))
            .cloned()
            .collect()
    };
    found.sort_by_key(|c| c.id.parse::<u64>().unwrap_or(u64::MAX));
    let values: Vec<Value> = found.iter().map(|c| comment_json(site, version, c)).collect();
    json_response(
        StatusCode::OK,
        &json!({"startAt": 0, "maxResults": 1000, "total": values.len(), "isLast": true, "values": values}),
    )
}

/// Fires `event` about `comment` to descriptor and dynamic webhooks, and
/// a new comment to Forge triggers.
fn tell_apps(
    site: &Arc<Site>,
    event: &'static str,
    issue: &Issue,
    comment: &Comment,
    caller: &Caller,
) {
    let issue_type = issue_type_of(&site.data(), &issue.id);
    let user = caller.user().cloned();
    // Webhook bodies carry `self` links of API v2, as Jira's do.
    let body = comment_json(site, "2", comment);
    let about = IssueEvent {
        name: event,
        issue,
        issue_type,
        user: user.as_ref(),
        changes: &[],
        property: None,
    };
    webhooks::fire_comment(site, &about, &body);
    if event == webhooks::COMMENT_CREATED {
        let forge_body = comment_json(site, "3", comment);
        crate::forge::triggers::issue_commented(
            site,
            issue,
            issue_type,
            user.as_ref(),
            &forge_body,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_read_as_each_version_expects() {
        let v3 = |b: Value| read_body("3", &Bytes::from(json!({"body": b}).to_string()));
        let v2 = |b: Value| read_body("2", &Bytes::from(json!({"body": b}).to_string()));
        assert_eq!(v2(json!("hi")).map(|b| plain_text(&b)), Ok("hi".to_owned()));
        assert_eq!(v2(json!("   ")), Err(BodyProblem::Empty));
        assert!(matches!(v2(json!({"type": "doc"})), Err(BodyProblem::WrongKind(_))));
        assert!(matches!(v3(json!("hi")), Err(BodyProblem::WrongKind(_))));
        assert_eq!(
            v3(json!({"type": "doc", "version": 1, "content": []})),
            Err(BodyProblem::Empty)
        );
        assert_eq!(read_body("3", &Bytes::from_static(b"{}")), Err(BodyProblem::Empty));
        assert!(matches!(
            read_body("3", &Bytes::from_static(b"{")),
            Err(BodyProblem::WrongKind(_))
        ));
        let mention = json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "mention", "attrs": {"id": "x"}}]}]});
        assert!(v3(mention).is_ok(), "a mention alone is a comment");
        let long = "x".repeat(MAX_COMMENT_CHARACTERS + 1);
        assert!(matches!(v2(json!(long)), Err(BodyProblem::WrongKind(_))));
    }
}
