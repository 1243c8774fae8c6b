//! How Jira's issue view presents each kind of app module, and its
//! quick-add buttons (Atlassian: "Issue Glance", "Issue Context", "Issue
//! Content", "Issue view UI locations"; Forge: "Jira issue context",
//! "Jira issue panel").
//!
//! | module | presentation |
//! |---|---|
//! | `webPanels` in `atl.jira.view.issue.*` | `panel`: framed when the page loads |
//! | `jiraIssueGlances` | `glance`: a compact entry beside the fields (icon, name, status); opening it slides its target panel over the details, framed on first open; `ISSUE_GLANCE_OPENED` on later opens |
//! | `jiraIssueContexts`, Forge `jira:issueContext` | `context`: a collapsible panel under the fields with its label and status, collapsed at first; expanding frames it; the page remembers per person whether it was expanded, in the browser's storage (Jira remembers per user, across browsers too) |
//! | `jiraIssueContents`, Forge `jira:issuePanel` | `content`: a quick-add button under the summary; a click (by someone who may edit the issue) adds the panel below the description for everyone who opens the issue, and sends `ISSUE_QUICK_ADD_CLICKED` to a Connect panel already there; a Connect module whose `contentPresentConditions` hold is there from the start |
//!
//! The status of a glance or a context panel is the issue property
//! `com.atlassian.jira.issue:<appKey>:<moduleKey>:status`, whose value is
//! `{"type": "badge" | "lozenge", "value": {"label": ...}}` (both module
//! pages). Unverified: where Jira keeps which content panels were added to
//! an issue (the emulator keeps it in memory, per issue), and whether a
//! glance's first open sends `ISSUE_GLANCE_OPENED` (the emulator sends it
//! only to a frame already loaded).
//!
//! What it is not: which modules show ([`super::modules`],
//! [`super::forge_modules`]) or the page around them ([`super::shell`]).

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Value, json};
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::platform::auth::{SESSION_COOKIE, current_user};
use crate::platform::call::with_site;
use crate::platform::errors::error;
use crate::platform::http::names_site;
use crate::platform::iframe::ViewContext;
use crate::platform::permissions::role_may;
use crate::site::Site;
use lodger_connect::installation::Product;

/// How the issue view draws a module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presentation {
    /// A panel framed when the page loads.
    Panel,
    /// An issue glance: a compact entry that opens its target panel.
    Glance,
    /// An issue context: a collapsible panel, collapsed at first.
    Context,
    /// Issue content (Connect) or an issue panel (Forge): added by its
    /// quick-add button.
    Content,
}

impl Presentation {
    /// The presentation of a Connect module kind or Forge module type.
    pub(crate) fn of(kind: &str) -> Self {
        match kind {
            "jiraIssueGlances" => Presentation::Glance,
            "jiraIssueContexts" | "jira:issueContext" => Presentation::Context,
            "jiraIssueContents" | "jira:issuePanel" => Presentation::Content,
            _ => Presentation::Panel,
        }
    }

    /// Its name in the page's view JSON.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Presentation::Panel => "panel",
            Presentation::Glance => "glance",
            Presentation::Context => "context",
            Presentation::Content => "content",
        }
    }
}

/// The status of a glance or context panel on the issue of `context`:
/// `{"type", "label"}` from the app's status property, if it set one.
pub(crate) fn status(
    site: &Site,
    app_key: &str,
    module_key: &str,
    context: &ViewContext,
) -> Option<Value> {
    let (_, issue_id) = context.issue.as_ref()?;
    let key = format!("com.atlassian.jira.issue:{app_key}:{module_key}:status");
    let data = site.data();
    let value = data.issue_properties.get(&(issue_id.clone(), key))?;
    let label = value["value"]["label"].as_str()?;
    let kind = if value["type"] == "lozenge" { "lozenge" } else { "badge" };
    Some(json!({"type": kind, "label": label}))
}

/// Whether someone added the content panel `module_key` of `app` to the
/// issue of `context` with its quick-add button.
pub(crate) fn is_added(site: &Site, app: &str, module_key: &str, context: &ViewContext) -> bool {
    context.issue.as_ref().is_some_and(|(_, issue_id)| {
        site.data().added_content.contains(&(
            issue_id.clone(),
            app.to_owned(),
            module_key.to_owned(),
        ))
    })
}

/// Which module of which issue: what a quick-add button posts, and what a
/// fresh URL is asked for.
#[derive(Debug, Deserialize)]
pub(crate) struct QuickAdd {
    pub(crate) issue: String,
    pub(crate) app: String,
    pub(crate) module: String,
}

/// `POST /dev/issue-content`: a quick-add button was clicked. The body is
/// JSON, so another origin's page cannot send it without a CORS preflight,
/// which the emulator never grants; and the `Host` must be the site's.
pub fn routes(site: Arc<Site>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::post()
        .and(warp::path!("dev" / "issue-content"))
        .and(warp::header::exact_ignore_case("content-type", "application/json"))
        .and(warp::header::optional::<String>("host"))
        .and(warp::body::content_length_limit(4096))
        .and(warp::body::json())
        .and(warp::cookie::optional::<String>(SESSION_COOKIE))
        .and(with_site(site))
        .map(|host: Option<String>, add: QuickAdd, session: Option<String>, site: Arc<Site>| {
            if !names_site(&site.base_url, host.as_deref()) {
                return error(StatusCode::FORBIDDEN, "the request's Host is not this site");
            }
            quick_add(&site, add, session.as_deref())
        })
}

fn quick_add(site: &Site, add: QuickAdd, session: Option<&str>) -> Response {
    let Some(user) = current_user(site, session) else {
        return error(StatusCode::UNAUTHORIZED, "Log in to add content to an issue.");
    };
    let Some(issue) = site.issue(&add.issue) else {
        return error(StatusCode::NOT_FOUND, "Issue does not exist");
    };
    // Adding content changes the issue's view for everyone: the emulator
    // asks for Edit Issues (unverified which permission Jira asks).
    if !role_may(Some(user.role), "EDIT_ISSUES") {
        return error(StatusCode::FORBIDDEN, "You do not have permission to edit this issue.");
    }
    if !offers_content(site, &add.app, &add.module) {
        return error(StatusCode::NOT_FOUND, "No installed app offers this issue content.");
    }
    site.data().added_content.insert((issue.id, add.app, add.module));
    StatusCode::NO_CONTENT.into_response()
}

/// Whether an enabled Jira app has a content module (Connect
/// `jiraIssueContents`, Forge `jira:issuePanel`) with this key.
fn offers_content(site: &Site, app: &str, module_key: &str) -> bool {
    let data = site.data();
    let connect = data.installs.get(app).filter(|i| i.enabled).is_some_and(|install| {
        install.modules("jiraIssueContents").iter().any(|m| m["key"] == module_key)
    });
    connect
        || data.forge.installs.values().any(|install| {
            install.app_id == app
                && install.manifest.products.contains(&Product::Jira)
                && install
                    .manifest
                    .ui_modules_of("jira:issuePanel")
                    .any(|module| module.key == module_key)
        })
}
