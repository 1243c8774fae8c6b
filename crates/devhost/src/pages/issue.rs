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
use warp::{Filter, Rejection};

use super::forge_modules::forge_modules_for;
use super::modules::modules_for;
use super::session::redirect;
use super::shell::{Page, respond};
use crate::platform::auth::{SESSION_COOKIE, current_user};
use crate::platform::call::with_site;
use crate::platform::errors::error;
use crate::platform::iframe::ViewContext;
use crate::site::Site;
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
        context: ViewContext {
            issue: Some((issue.key.clone(), issue.id.clone())),
            project: project.map(|p| (p.key.clone(), p.id.clone())),
            confluence: None,
        },
        user: current_user(site, session.as_deref()),
        modules: Vec::new(),
        full_page: false,
    };
    let in_issue_view =
        |m: &Value| m["location"].as_str().is_some_and(|l| l.starts_with("atl.jira.view.issue"));
    let any = |_: &Value| true;
    page.modules = modules_for(
        site,
        &page.context,
        page.user,
        false,
        &["jiraIssueGlances", "jiraIssueContexts", "jiraIssueContents"],
        &any,
    );
    page.modules.extend(modules_for(
        site,
        &page.context,
        page.user,
        false,
        &["webPanels"],
        &in_issue_view,
    ));
    // Forge apps' issue panels and issue contexts, beside the Connect ones.
    page.modules.extend(forge_modules_for(
        site,
        &page.context,
        page.user,
        &["jira:issueContext", "jira:issuePanel"],
    ));
    respond(site, &page, session.is_none())
}
