//! The issue view, `/browse/{issueKey}`, rendered like Jira renders one:
//! the server decides which app modules show (enabled apps' issue glances,
//! issue contexts, issue contents and web panels whose conditions hold),
//! builds each module's signed iframe URL, and hands the list to the page's
//! script, which frames them, each as Jira presents its kind
//! ([`super::issue_view`]; Atlassian: "Issue Glance", "Issue Context",
//! "Issue Content", "Web Panel" in `atl.jira.view.issue.*`).
//! The site's root redirects to its first issue.
//!
//! What it is not: Jira's issue view. No fields but the summary, no
//! comments, no transitions.

use std::sync::Arc;

use serde_json::Value;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::forge_modules::forge_modules_for;
use super::issue_view::QuickAdd;
use super::modules::modules_for;
use super::session::redirect;
use super::shell::{Page, respond};
use crate::platform::auth::{SESSION_COOKIE, current_user};
use crate::platform::call::with_site;
use crate::platform::errors::error;
use crate::platform::iframe::ViewContext;
use crate::site::{Issue, Site, User};
use lodger_connect::installation::Product;

/// `GET /browse/{issueKey}`.
pub fn routes(site: Arc<Site>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::get()
        .and(warp::path!("browse" / String))
        .and(warp::cookie::optional::<String>(SESSION_COOKIE))
        .and(with_site(site))
        .map(|key: String, session: Option<String>, site: Arc<Site>| {
            issue_page(&site, &key, session)
        })
}

/// `GET /dev/issue-module?issue=&app=&module=`: a module of the issue view
/// with a freshly signed URL, for a glance, context or content panel opened
/// after the page's own URLs expired (they live 3 minutes).
pub fn fresh_module_route(
    site: Arc<Site>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::get()
        .and(warp::path!("dev" / "issue-module"))
        .and(warp::query::<QuickAdd>())
        .and(warp::cookie::optional::<String>(SESSION_COOKIE))
        .and(with_site(site))
        .map(|module: QuickAdd, session: Option<String>, site: Arc<Site>| {
            fresh_module(&site, &module, session.as_deref())
        })
}

/// The issue view's entry for one module, as `session`'s user sees it now.
fn fresh_module(site: &Site, wanted: &QuickAdd, session: Option<&str>) -> Response {
    let Some(issue) = site.issue(&wanted.issue) else {
        return error(StatusCode::NOT_FOUND, "Issue does not exist");
    };
    let context = issue_context(site, &issue);
    let user = current_user(site, session);
    let modules = issue_modules(site, &context, user);
    match modules.iter().find(|m| m["addonKey"] == wanted.app && m["moduleKey"] == wanted.module) {
        Some(module) => warp::reply::json(module).into_response(),
        None => error(StatusCode::NOT_FOUND, "This module is not on the issue for you."),
    }
}

/// `GET /`: the site's first issue.
pub fn home_route(
    site: Arc<Site>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::get()
        .and(warp::path::end())
        .and(with_site(site))
        .map(|site: Arc<Site>| redirect(&format!("/browse/{}", site.first_issue_key()), None))
}

/// `/browse/{key}`: the issue view with the apps' issue panels.
fn issue_page(site: &Site, key: &str, session: Option<String>) -> Response {
    let Some(issue) = site.issue(key) else {
        return error(StatusCode::NOT_FOUND, "Issue does not exist");
    };
    let project = site.project(&issue.project_id);
    let mut page = Page {
        product: Product::Jira,
        body_html: None,
        path: format!("/browse/{}", issue.key),
        breadcrumb: format!("{} / {}", project.map_or("", |p| p.name.as_str()), issue.key),
        heading: issue.summary.clone(),
        context: issue_context(site, &issue),
        user: current_user(site, session.as_deref()),
        modules: Vec::new(),
        full_page: false,
    };
    page.modules = issue_modules(site, &page.context, page.user);
    respond(site, &page, session.is_none())
}

/// The modules the issue view of `context` shows `user`: enabled apps'
/// issue glances, contexts, contents and issue-view web panels, and Forge
/// apps' issue contexts and panels, each with a freshly signed URL.
pub(crate) fn issue_modules(site: &Site, context: &ViewContext, user: Option<&User>) -> Vec<Value> {
    let in_issue_view =
        |m: &Value| m["location"].as_str().is_some_and(|l| l.starts_with("atl.jira.view.issue"));
    let any = |_: &Value| true;
    let kinds = ["jiraIssueGlances", "jiraIssueContexts", "jiraIssueContents"];
    let mut modules = modules_for(site, context, user, false, &kinds, &any);
    modules.extend(modules_for(site, context, user, false, &["webPanels"], &in_issue_view));
    // Forge apps' issue panels and issue contexts, beside the Connect ones.
    modules.extend(forge_modules_for(
        site,
        context,
        user,
        &["jira:issueContext", "jira:issuePanel"],
    ));
    modules
}

/// The view context of `issue`'s page.
pub(crate) fn issue_context(site: &Site, issue: &Issue) -> ViewContext {
    let project = site.project(&issue.project_id);
    ViewContext {
        issue: Some((issue.key.clone(), issue.id.clone())),
        project: project.map(|p| (p.key.clone(), p.id.clone())),
        confluence: None,
    }
}
