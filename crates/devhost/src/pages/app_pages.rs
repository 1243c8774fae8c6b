//! An app's full pages, `/plugins/servlet/ac/{appKey}/{moduleKey}`, as
//! Jira serves them (Atlassian: "General Page", "Project Page", "Project
//! Admin Tab Panel", "Admin Page", "Configure Page" modules), and who may
//! open each kind.
//!
//! What it is not: the modules' iframes themselves (see [`super::modules`]).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::modules::{PAGE_MODULES, may_open, modules_for, shows_for};
use super::shell::{Page, respond};
use crate::platform::auth::{SESSION_COOKIE, current_user};
use crate::platform::call::with_site;
use crate::platform::errors::error;
use crate::platform::iframe::ViewContext;
use crate::site::Site;
use lodger_connect::installation::Product;

/// `GET /plugins/servlet/ac/{appKey}/{moduleKey}`.
pub fn routes(site: Arc<Site>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::get()
        .and(warp::path!("plugins" / "servlet" / "ac" / String / String))
        .and(warp::query::<HashMap<String, String>>())
        .and(warp::cookie::optional::<String>(SESSION_COOKIE))
        .and(with_site(site))
        .map(
            |app: String,
             module: String,
             query: HashMap<String, String>,
             session: Option<String>,
             site: Arc<Site>| { module_page(&site, &app, &module, &query, session) },
        )
}

/// `/plugins/servlet/ac/{appKey}/{moduleKey}`: an app's full page (general,
/// project, project settings, admin, configure), as Jira serves them.
fn module_page(
    site: &Site,
    app_key: &str,
    module_key: &str,
    query: &HashMap<String, String>,
    session: Option<String>,
) -> Response {
    let user = current_user(site, session.as_deref());
    let Some(install) = site.data().installs.get(app_key).filter(|i| i.enabled).cloned() else {
        return error(StatusCode::NOT_FOUND, "no such app on this site");
    };
    let found = PAGE_MODULES.iter().find_map(|(kind, role)| {
        let module = match &install.descriptor["modules"][*kind] {
            Value::Array(many) => many.iter().find(|m| m["key"] == module_key).cloned(),
            one if one["key"] == module_key => Some(one.clone()),
            _ => None,
        };
        module.map(|m| (*kind, *role, m))
    });
    let Some((kind, role, module)) = found else {
        return error(StatusCode::NOT_FOUND, "the app has no page with that key");
    };
    if !may_open(kind, role, user) {
        return error(StatusCode::FORBIDDEN, "you do not have permission to see this page");
    }
    let project =
        query.get("project.key").or_else(|| query.get("project.id")).and_then(|p| site.project(p));
    let mut page = Page {
        product: Product::Jira,
        body_html: None,
        path: format!("/plugins/servlet/ac/{app_key}/{module_key}"),
        breadcrumb: match kind {
            "adminPages" | "configurePage" => "Administration / Apps".to_owned(),
            "jiraProjectAdminTabPanels" => {
                format!("{} / Project settings", project.map_or("", |p| p.name.as_str()))
            }
            _ => "Apps".to_owned(),
        },
        heading: module["name"]["value"].as_str().unwrap_or(module_key).to_owned(),
        context: ViewContext {
            issue: None,
            project: project.map(|p| (p.key.clone(), p.id.clone())),
            confluence: None,
        },
        user,
        modules: Vec::new(),
        full_page: true,
    };
    if !shows_for(site, &install, &page.context, user, &module) {
        return error(
            StatusCode::NOT_FOUND,
            "this page is not available (its conditions do not hold)",
        );
    }
    page.modules =
        modules_for(site, &page.context, user, true, &[kind], &|m: &Value| m["key"] == module_key);
    if let Some(project) = project {
        page.path.push_str(&format!("?project.key={}", project.key));
    }
    respond(site, &page, session.is_none())
}
