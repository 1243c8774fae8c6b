//! Jira entity properties on the emulated site: JSON values that apps (and
//! users, through apps' iframes) attach to issues, projects and users
//! (Atlassian: "Entity properties", and the "Issue properties", "Project
//! properties" and "User properties" groups of the Jira REST API v3).
//!
//! | resource | what |
//! |---|---|
//! | `/rest/api/3/issue/{issueIdOrKey}/properties[/{propertyKey}]` | an issue's properties |
//! | `/rest/api/3/project/{projectIdOrKey}/properties[/{propertyKey}]` | a project's properties |
//! | `/rest/api/3/user/properties[/{propertyKey}]?accountId=` | a user's properties |
//! | `PUT`/`DELETE /rest/api/3/issue/properties/{propertyKey}` | bulk set / delete over issues, as a task ([`super::bulk_properties`]) |
//!
//! Each answers like Jira: the list is `{"keys": [{"key", "self"}]}`, one
//! property is `{"key", "value"}` (404 when absent), `PUT` takes the raw
//! JSON value (201 created, 200 updated; 400 for a value that is not JSON,
//! a key over 255 characters or a value over 32768 characters), `DELETE`
//! is 204 (404 when absent). Version 2 and 3 paths behave the same.
//!
//! **Who may.** A user (calling through an app's iframe) needs what Jira
//! asks: Browse Projects to read; Edit Issues to write an issue's
//! properties; Administer Projects (or Jira) to write a project's; and only
//! their own user properties unless they administer Jira. The app itself
//! may use all of them within its scopes, checked by the site's shared
//! authentication from the method: Jira's OpenAPI document gives these
//! operations the Connect scopes READ (GET), WRITE (PUT) and DELETE
//! (DELETE), project properties included. (The PROJECT_ADMIN scope is not
//! needed to set a project property, whatever its name suggests:
//! `setProjectProperty` is `x-atlassian-connect-scope: WRITE`.)
//!
//! **No versions.** Entity properties have no version or ETag: the last
//! writer wins. The only compare-and-set Jira offers is the bulk operation's
//! `filter` (`entityIds`, `hasProperty`, `currentValue`), evaluated when the
//! asynchronous task runs: here atomically, under the site's lock, so two
//! bulk writes racing on one issue cannot both see the old value.
//!
//! **Webhooks.** Setting or deleting an issue's property fires
//! `issue_property_set` or `issue_property_deleted` to the apps that
//! subscribed (Atlassian: "Webhooks", issue property events), with the
//! issue and `property: {key, value}` (that body is unverified: Atlassian
//! documents only `timestamp` and `webhookEvent` for these events).
//! Project and user properties fire nothing, as in Jira's event list; the
//! bulk operation fires nothing here (unverified for Jira).
//!
//! **Search.** [`super::property_index::index`] reads which issue properties installed apps index
//! (the `jiraEntityProperties` module), which is what makes
//! `issue.property[key].path` searchable in JQL (see [`super::jql`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};
use warp::http::{Method, StatusCode};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::issue_types::IssueType;
use super::issues::issue_type_of;
use super::webhooks::delivery::{
    self as webhooks, ISSUE_PROPERTY_DELETED, ISSUE_PROPERTY_SET, IssueEvent, PropertyChange,
};
use crate::platform::auth::Caller;
use crate::platform::call::{Call, call, with_site};
use crate::platform::errors::error;
use crate::platform::http::{api, encode, json_response, percent_decode, query_param, raw_query};
use crate::platform::permissions::caller_may;
use crate::site::{Site, SiteData};

/// Longest property key (Atlassian: "The maximum length is 255 characters").
pub const MAX_KEY_CHARS: usize = 255;
/// Longest property value, serialised (Atlassian: "The maximum length is
/// 32768 characters").
pub const MAX_VALUE_CHARS: usize = 32_768;

/// Why a request fails: a status and Jira's message, made into Jira's
/// error body at the end ([`error`]).
pub(crate) type Failure = (StatusCode, String);

fn fail(status: StatusCode, message: &str) -> Failure {
    (status, message.to_owned())
}

/// What kind of entity a property hangs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityKind {
    /// An issue (by id).
    Issue,
    /// A project (by id).
    Project,
    /// A user (by account id).
    User,
}

/// `/rest/api/{v}/{entity}/{idOrKey}/properties[/{key}]` for an entity
/// addressed in the path (issues, projects).
fn by_id(
    site: Arc<Site>,
    entity: &'static str,
    kind: EntityKind,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    api()
        .and(warp::path(entity))
        .and(warp::path::param::<String>())
        .and(warp::path("properties"))
        .and(warp::path::tail())
        .and(with_site(Arc::clone(&site)))
        .and(call(site))
        .map(
            move |version: String,
                  id: String,
                  tail: warp::path::Tail,
                  site: Arc<Site>,
                  call: Call| {
                let id = percent_decode(&id, false);
                property(&site, &version, kind, Some(id), tail.as_str(), &call)
            },
        )
}

/// Every entity-property route.
pub fn routes(site: Arc<Site>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let issue = by_id(Arc::clone(&site), "issue", EntityKind::Issue);
    let project = by_id(Arc::clone(&site), "project", EntityKind::Project);
    let user = api()
        .and(warp::path("user"))
        .and(warp::path("properties"))
        .and(warp::path::tail())
        .and(raw_query())
        .and(with_site(Arc::clone(&site)))
        .and(call(Arc::clone(&site)))
        .map(
            |version: String,
             tail: warp::path::Tail,
             query: String,
             site: Arc<Site>,
             call: Call| {
                let account = query_param(&query, "accountId").filter(|a| !a.is_empty());
                property(&site, &version, EntityKind::User, account, tail.as_str(), &call)
            },
        );
    issue.or(project).unify().or(user).unify()
}

/// The entity a request names, resolved: its id and the URL of its
/// property collection.
struct Entity {
    kind: EntityKind,
    id: String,
    /// `{base}/rest/api/{v}/issue/{id}/properties`, or the user's with the
    /// `?accountId=` to append after the key.
    collection: String,
    /// For a user: `?accountId=…`.
    suffix: String,
}

impl Entity {
    fn self_url(&self, key: &str) -> String {
        format!("{}/{}{}", self.collection, encode(key), self.suffix)
    }
}

fn resolve(
    site: &Site,
    version: &str,
    kind: EntityKind,
    id: Option<String>,
) -> Result<Entity, Failure> {
    let api = format!("{}/rest/api/{version}", site.base_url);
    match kind {
        EntityKind::Issue => {
            let given = id.unwrap_or_default();
            let issue = site.issue(&given).ok_or_else(|| {
                fail(
                    StatusCode::NOT_FOUND,
                    "Issue does not exist or you do not have permission to see it.",
                )
            })?;
            Ok(Entity {
                kind,
                collection: format!("{api}/issue/{}/properties", issue.id),
                id: issue.id,
                suffix: String::new(),
            })
        }
        EntityKind::Project => {
            let given = id.unwrap_or_default();
            let project = site.project(&given).ok_or_else(|| {
                fail(
                    StatusCode::NOT_FOUND,
                    &format!("No project could be found with key '{given}'."),
                )
            })?;
            Ok(Entity {
                kind,
                id: project.id.clone(),
                collection: format!("{api}/project/{}/properties", project.id),
                suffix: String::new(),
            })
        }
        EntityKind::User => {
            let Some(account_id) = id else {
                return Err(fail(
                    StatusCode::BAD_REQUEST,
                    "The accountId query parameter is required.",
                ));
            };
            if site.user(&account_id).is_none() {
                return Err(fail(
                    StatusCode::NOT_FOUND,
                    &format!("The user with account ID '{account_id}' does not exist."),
                ));
            }
            Ok(Entity {
                kind,
                collection: format!("{api}/user/properties"),
                suffix: format!("?accountId={}", encode(&account_id)),
                id: account_id,
            })
        }
    }
}

/// Whether `caller` may read (`write == false`) or change the entity's
/// properties. The app is bounded by its scopes only (already checked);
/// a user by the permissions Jira documents for each operation.
fn allowed(data: &SiteData, caller: &Caller, entity: &Entity, write: bool) -> Result<(), Failure> {
    let Caller::User { user, .. } = caller else { return Ok(()) };
    let (may, refusal) = match (entity.kind, write) {
        (EntityKind::User, _) => (
            user.account_id == entity.id || user.is_site_admin(),
            "You may only use your own user properties unless you administer Jira.",
        ),
        (_, false) => (
            caller_may(data, caller, "BROWSE_PROJECTS"),
            "You do not have permission to browse this project.",
        ),
        (EntityKind::Issue, true) => (
            caller_may(data, caller, "EDIT_ISSUES"),
            "You do not have permission to edit this issue.",
        ),
        (EntityKind::Project, true) => (
            caller_may(data, caller, "ADMINISTER_PROJECTS"),
            "You do not have permission to administer this project.",
        ),
    };
    if may { Ok(()) } else { Err(fail(StatusCode::FORBIDDEN, refusal)) }
}

fn properties_of(data: &mut SiteData, kind: EntityKind) -> &mut BTreeMap<(String, String), Value> {
    match kind {
        EntityKind::Issue => &mut data.issue_properties,
        EntityKind::Project => &mut data.project_properties,
        EntityKind::User => &mut data.user_properties,
    }
}

fn not_found(key: &str) -> Response {
    error(StatusCode::NOT_FOUND, &format!("The property with key '{key}' does not exist."))
}

/// One property request: list, get, set or delete. Setting or deleting an
/// issue's property fires `issue_property_set` / `issue_property_deleted`
/// (see [`announce`]).
fn property(
    site: &Arc<Site>,
    version: &str,
    kind: EntityKind,
    id: Option<String>,
    tail: &str,
    call: &Call,
) -> Response {
    let entity = match resolve(site, version, kind, id) {
        Ok(entity) => entity,
        Err((status, message)) => return error(status, &message),
    };
    let key = percent_decode(tail.trim_end_matches('/'), false);
    if key.contains('/') {
        return error(StatusCode::NOT_FOUND, "not found on this emulated site");
    }
    let write = !matches!(call.method, Method::GET | Method::HEAD);
    let mut data = site.data();
    if let Err((status, message)) = allowed(&data, &call.caller, &entity, write) {
        return error(status, &message);
    }
    let properties = properties_of(&mut data, kind);
    if key.is_empty() {
        if call.method != Method::GET {
            return error(StatusCode::METHOD_NOT_ALLOWED, "The property key is not specified.");
        }
        let keys: Vec<Value> = properties
            .range((entity.id.clone(), String::new())..)
            .take_while(|((id, _), _)| *id == entity.id)
            .map(|((_, k), _)| json!({ "key": k, "self": entity.self_url(k) }))
            .collect();
        return json_response(StatusCode::OK, &json!({ "keys": keys }));
    }
    let id = (entity.id.clone(), key.clone());
    let (response, change) = match call.method {
        Method::GET => match properties.get(&id) {
            Some(value) => {
                return json_response(StatusCode::OK, &json!({ "key": key, "value": value }));
            }
            None => return not_found(&key),
        },
        Method::PUT => {
            let value = match checked_value(&key, &call.body) {
                Ok(value) => value,
                Err((status, message)) => return error(status, &message),
            };
            let status = if properties.insert(id, value.clone()).is_some() {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            (warp::reply::with_status(warp::reply(), status).into_response(), Some(Some(value)))
        }
        Method::DELETE => match properties.remove(&id) {
            Some(_) => (StatusCode::NO_CONTENT.into_response(), Some(None)),
            None => return not_found(&key),
        },
        _ => return error(StatusCode::METHOD_NOT_ALLOWED, "use GET, PUT or DELETE"),
    };
    let issue_type = issue_type_of(&data, &entity.id);
    drop(data);
    if let (EntityKind::Issue, Some(value)) = (kind, change) {
        announce(site, &entity.id, issue_type, &key, value.as_ref(), call);
    }
    response
}

/// Fires `issue_property_set` (with the new value) or
/// `issue_property_deleted` (`value` is `None`) for an issue's property
/// (Atlassian: "Webhooks", issue property events; a dynamic webhook's
/// `issuePropertyKeysFilter` narrows them to some keys). Jira fires them
/// for every write, an unchanged value included; so does the emulator.
fn announce(
    site: &Arc<Site>,
    issue_id: &str,
    issue_type: IssueType,
    key: &str,
    value: Option<&Value>,
    call: &Call,
) {
    let Some(issue) = site.issue(issue_id) else { return };
    let name = if value.is_some() { ISSUE_PROPERTY_SET } else { ISSUE_PROPERTY_DELETED };
    webhooks::fire(
        site,
        &IssueEvent {
            name,
            issue: &issue,
            issue_type,
            user: call.caller.user(),
            changes: &[],
            property: Some(PropertyChange { key, value }),
        },
    );
}

pub(crate) fn key_too_long() -> Failure {
    fail(StatusCode::BAD_REQUEST, "The property key cannot be longer than 255 characters.")
}

pub(crate) fn value_too_long() -> Failure {
    fail(StatusCode::BAD_REQUEST, "The property value cannot be longer than 32768 characters.")
}

/// The value of a `PUT`: non-empty valid JSON of at most 32768 characters,
/// under a key of at most 255.
fn checked_value(key: &str, body: &[u8]) -> Result<Value, Failure> {
    if key.chars().count() > MAX_KEY_CHARS {
        return Err(key_too_long());
    }
    let invalid =
        || fail(StatusCode::BAD_REQUEST, "The property value must be valid, non-empty JSON.");
    let text = std::str::from_utf8(body).map_err(|_| invalid())?;
    if text.chars().count() > MAX_VALUE_CHARS {
        return Err(value_too_long());
    }
    if text.trim().is_empty() {
        return Err(invalid());
    }
    serde_json::from_str(text).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_must_be_json_within_the_limits() {
        assert!(checked_value("k", b"{\"a\": 1}").is_ok());
        assert!(checked_value("k", b"\"text\"").is_ok());
        for bad in [&b""[..], b"  ", b"{", b"\xff"] {
            let (status, _) = checked_value("k", bad).unwrap_err();
            assert_eq!(status, StatusCode::BAD_REQUEST);
        }
        let long_key = "k".repeat(MAX_KEY_CHARS + 1);
        assert!(checked_value(&long_key, b"1").is_err());
        assert!(checked_value(&"k".repeat(MAX_KEY_CHARS), b"1").is_ok());
        let at_limit = format!("\"{}\"", "x".repeat(MAX_VALUE_CHARS - 2));
        assert!(checked_value("k", at_limit.as_bytes()).is_ok());
        let over = format!("\"{}\"", "x".repeat(MAX_VALUE_CHARS - 1));
        assert!(checked_value("k", over.as_bytes()).is_err());
    }
}
