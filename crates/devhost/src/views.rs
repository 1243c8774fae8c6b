//! The pages of the emulated product, and the endpoints those pages call.
//!
//! An issue page (`/browse/LOD-1`) is rendered like Jira renders one: the
//! server decides which app modules show (enabled apps' issue glances and
//! web panels whose conditions hold), builds each module's signed iframe
//! URL, and hands the list
//! to the page, whose script (`page/host.js`) creates the iframes with the
//! real connect-js host bundle and answers the iframes' `AP` calls.
//!
//! The Confluence page view (`/wiki/spaces/LOD/pages/{id}`) lives in
//! [`super::confluence_page`] and renders through the same `Page` shell.
//!
//! Every page has a light/dark toggle in its top bar (`page/theme.js`): it
//! sets `data-color-mode` and `data-theme` on the page's `<html>`, as
//! Atlassian's products do, which is what connect-js's theme observer reads
//! to theme iframes that called `AP.theming.initializeTheming()`. The choice
//! is kept in the browser's localStorage.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::DevHost;
use super::auth::SESSION_COOKIE;
use super::conditions::{self, Facts};
use super::iframe::{ViewContext, module_url};
use super::rest::error;
use super::site::{AppInstall, Role, Site, User};
use lodger_connect::installation::Product;
use lodger_connect::jwt::{self, Claims};
use lodger_connect::qsh::CONTEXT_QSH;

/// The session value of a visitor who logged out.
pub const ANONYMOUS: &str = "anonymous";
/// Context tokens live 15 minutes, like the ones Atlassian issues.
const CONTEXT_TOKEN_SECONDS: i64 = 15 * 60;

/// The product pages and their helper endpoints.
pub fn routes(
    host: Arc<DevHost>,
    site: Arc<Site>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let with = {
        let (host, site) = (Arc::clone(&host), Arc::clone(&site));
        warp::any().map(move || (Arc::clone(&host), Arc::clone(&site)))
    };
    let session = warp::cookie::optional::<String>(SESSION_COOKIE);
    let browse =
        warp::get().and(warp::path!("browse" / String)).and(session).and(with.clone()).map(
            |key: String, session: Option<String>, (_, site): (Arc<DevHost>, Arc<Site>)| {
                issue_page(&site, &key, session)
            },
        );
    let home = warp::get().and(warp::path::end()).and(with.clone()).map(
        |(_, site): (Arc<DevHost>, Arc<Site>)| {
            redirect(&format!("/browse/{}", site.first_issue_key()), None)
        },
    );
    let login = warp::get()
        .and(warp::path!("dev" / "login"))
        .and(warp::query::<HashMap<String, String>>())
        .map(|query: HashMap<String, String>| {
            let account = query.get("account").map_or(ANONYMOUS, String::as_str);
            let next = query
                .get("next")
                .filter(|n| n.starts_with('/') && !n.starts_with("//"))
                .map_or("/", String::as_str);
            redirect(next, Some(account))
        });
    let context_token = warp::post()
        .and(warp::path!("dev" / "api" / "context-token"))
        .and(session)
        .and(warp::body::content_length_limit(16 * 1024))
        .and(warp::body::json())
        .and(with.clone())
        .map(|session: Option<String>, body: Value, (_, site): (Arc<DevHost>, Arc<Site>)| {
            context_token(&site, session, &body)
        });
    let keys = warp::get()
        .and(warp::path("dev"))
        .and(warp::path("install-keys"))
        .and(warp::path::tail())
        .and(with.clone())
        .map(|kid: warp::path::Tail, (host, _): (Arc<DevHost>, Arc<Site>)| {
            if kid.as_str() == host.signer.kid() {
                let mut response = Response::new(host.signer.public_pem().to_owned().into());
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/x-pem-file"),
                );
                response
            } else {
                error(StatusCode::NOT_FOUND, "no such key")
            }
        });
    let statics = warp::get().and(warp::path::full()).and(with.clone()).and_then(
        |path: warp::path::FullPath, (host, _): (Arc<DevHost>, Arc<Site>)| async move {
            host.static_file(path.as_str()).ok_or_else(warp::reject::not_found)
        },
    );
    let servlet = warp::get()
        .and(warp::path!("plugins" / "servlet" / "ac" / String / String))
        .and(warp::query::<HashMap<String, String>>())
        .and(session)
        .and(with.clone())
        .map(
            |app: String,
             module: String,
             query: HashMap<String, String>,
             session: Option<String>,
             (_, site): (Arc<DevHost>, Arc<Site>)| {
                module_page(&site, &app, &module, &query, session)
            },
        );
    browse
        .or(servlet)
        .unify()
        .or(home)
        .unify()
        .or(login)
        .unify()
        .or(context_token)
        .unify()
        .or(keys)
        .unify()
        .or(statics)
        .unify()
}

fn redirect(location: &str, account: Option<&str>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, value);
    }
    if let Some(account) = account {
        let cookie = format!("{SESSION_COOKIE}={account}; Path=/; HttpOnly; SameSite=Lax");
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            headers.insert(header::SET_COOKIE, value);
        }
    }
    response
}

/// The logged-in user: the session's, or the site admin for a first visit.
pub(super) fn current_user<'a>(site: &'a Site, session: Option<&str>) -> Option<&'a User> {
    match session {
        Some(ANONYMOUS) => None,
        Some(account) => site.user(account),
        None => site.users.first(),
    }
}

/// A page of the emulated product and the app modules it frames.
pub(super) struct Page<'a> {
    /// Which product shows the page (its REST base, its label).
    pub(super) product: Product,
    /// The path, to come back to after switching user.
    pub(super) path: String,
    /// Above the heading: where the page sits.
    pub(super) breadcrumb: String,
    /// The heading.
    pub(super) heading: String,
    /// Trusted HTML shown under the heading (a Confluence page's body).
    pub(super) body_html: String,
    /// What the page is about (issue, project), for URLs, claims and conditions.
    pub(super) context: ViewContext,
    /// The signed-in user.
    pub(super) user: Option<&'a User>,
    /// The modules, in the page's view JSON shape.
    pub(super) modules: Vec<Value>,
    /// Whether the modules fill the main column (full-page modules) rather
    /// than the right-hand context column (panels).
    pub(super) full_page: bool,
}

/// The modules of `kinds` from enabled apps that `pick` selects and whose
/// conditions hold, as the page's view entries.
fn modules_for(
    site: &Site,
    page: &Page<'_>,
    kinds: &[&str],
    pick: &dyn Fn(&Value) -> bool,
) -> Vec<Value> {
    let installs: Vec<AppInstall> =
        site.data().installs.values().filter(|i| i.enabled).cloned().collect();
    let account_id = page.user.map(|u| u.account_id.as_str());
    let mut entries = Vec::new();
    for install in &installs {
        for kind in kinds {
            let modules = match &install.descriptor["modules"][*kind] {
                Value::Array(many) => many.clone(),
                Value::Null => Vec::new(),
                one => vec![one.clone()],
            };
            for module in modules
                .iter()
                .filter(|m| pick(m) && shows_for(site, install, &page.context, page.user, m))
            {
                let module_key = module["key"].as_str().unwrap_or("module");
                let height = if page.full_page { "400px" } else { "60px" };
                // A glance opens its target panel; its status badge comes from
                // an issue property the app writes.
                let (framed, status) = if *kind == "jiraIssueGlances" {
                    let mut target = module.clone();
                    target["url"] = module["target"]["url"].clone();
                    (target, glance_status(site, install, &page.context, module_key))
                } else {
                    (module.clone(), None)
                };
                entries.push(json!({
                    "addonKey": install.app_key,
                    "moduleKey": module_key,
                    "title": module["name"]["value"],
                    "status": status,
                    "url": module_url(site, install, &framed, &page.context, account_id),
                    "slot": format!("slot-{}-{module_key}", install.app_key.replace('.', "-")),
                    "options": {"autoresize": true, "width": "100%", "height": height, "isFullPage": page.full_page},
                }));
            }
        }
    }
    entries
}

/// The label of an issue glance's status: the issue property
/// `com.atlassian.jira.issue:<appKey>:<glanceKey>:status`, whose value is
/// `{"type": "badge" | "lozenge", "value": {"label": ...}}` (Atlassian:
/// "Issue Glance").
fn glance_status(
    site: &Site,
    install: &AppInstall,
    context: &ViewContext,
    glance: &str,
) -> Option<String> {
    let (_, issue_id) = context.issue.as_ref()?;
    let key = format!("com.atlassian.jira.issue:{}:{glance}:status", install.app_key);
    let data = site.data();
    let value = data.issue_properties.get(&(issue_id.clone(), key))?;
    value["value"]["label"].as_str().map(str::to_owned)
}

/// Evaluates a module's conditions for this page.
fn shows_for(
    site: &Site,
    install: &AppInstall,
    context: &ViewContext,
    user: Option<&User>,
    module: &Value,
) -> bool {
    let property = |entity: &str, key: &str| -> Option<Value> {
        let data = site.data();
        match entity {
            "addon" => data.app_properties.get(&(install.app_key.clone(), key.to_owned())).cloned(),
            "issue" => {
                let (_, id) = context.issue.as_ref()?;
                data.issue_properties.get(&(id.clone(), key.to_owned())).cloned()
            }
            "project" => {
                let (_, id) = context.project.as_ref()?;
                data.project_properties.get(&(id.clone(), key.to_owned())).cloned()
            }
            _ => None,
        }
    };
    conditions::shows(
        module.get("conditions"),
        &Facts { logged_in: user.is_some(), property: &property },
    )
}

/// `/browse/{key}`: the issue view with the apps' issue panels.
fn issue_page(site: &Site, key: &str, session: Option<String>) -> Response {
    let Some(issue) = site.issue(key) else {
        return error(StatusCode::NOT_FOUND, "Issue does not exist");
    };
    let project = site.project(&issue.project_id);
    let mut page = Page {
        product: Product::Jira,
        body_html: String::new(),
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
    let glance = |_: &Value| true;
    page.modules = modules_for(site, &page, &["jiraIssueGlances"], &glance);
    page.modules.extend(modules_for(site, &page, &["webPanels"], &in_issue_view));
    respond(site, &page, session.is_none())
}

/// The module kinds served at `/plugins/servlet/ac/{app}/{module}`, and who may open them.
const PAGE_MODULES: &[(&str, Role)] = &[
    ("generalPages", Role::Viewer),
    ("jiraProjectPages", Role::Viewer),
    ("jiraProjectAdminTabPanels", Role::ProjectAdmin),
    ("adminPages", Role::SiteAdmin),
    ("configurePage", Role::SiteAdmin),
];

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
        body_html: String::new(),
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
    page.modules = modules_for(site, &page, &[kind], &|m: &Value| m["key"] == module_key);
    if let Some(project) = project {
        page.path.push_str(&format!("?project.key={}", project.key));
    }
    respond(site, &page, session.is_none())
}

/// General pages are open to anyone; other pages need a user of the role.
fn may_open(kind: &str, role: Role, user: Option<&User>) -> bool {
    kind == "generalPages" || user.is_some_and(|u| rank(u.role) >= rank(role))
}

fn rank(role: Role) -> u8 {
    match role {
        Role::Viewer | Role::User => 0,
        Role::ProjectAdmin => 1,
        Role::SiteAdmin => 2,
    }
}

/// Renders a page; a first visit also gets the session cookie of the site
/// admin, so that the iframes' `AP.request` calls run as that user.
pub(super) fn respond(site: &Site, page: &Page<'_>, first_visit: bool) -> Response {
    let mut response = Response::new(render(site, page).into());
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    // The page embeds signed iframe URLs that expire in minutes: never reuse it.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let (true, Some(user)) = (first_visit, page.user) {
        let cookie =
            format!("{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax", user.account_id);
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            headers.insert(header::SET_COOKIE, value);
        }
    }
    response
}

/// Links to every page of the site the current user may open.
fn navigation(site: &Site, user: Option<&User>) -> String {
    let mut links: Vec<(String, String)> = site
        .data()
        .issues
        .iter()
        .map(|i| (format!("/browse/{}", i.key), format!("{} {}", i.key, i.summary)))
        .collect();
    links.extend(super::confluence_page::navigation(site));
    let installs: Vec<AppInstall> =
        site.data().installs.values().filter(|i| i.enabled).cloned().collect();
    let project = site.projects.first();
    for install in &installs {
        for (kind, role) in PAGE_MODULES {
            if !may_open(kind, *role, user) {
                continue;
            }
            let modules = match &install.descriptor["modules"][*kind] {
                Value::Array(many) => many.clone(),
                Value::Null => Vec::new(),
                one => vec![one.clone()],
            };
            for module in modules {
                let key = module["key"].as_str().unwrap_or_default();
                let mut href = format!("/plugins/servlet/ac/{}/{key}", install.app_key);
                if kind.starts_with("jiraProject") {
                    href.push_str(&format!(
                        "?project.key={}",
                        project.map_or("", |p| p.key.as_str())
                    ));
                }
                links.push((href, module["name"]["value"].as_str().unwrap_or(key).to_owned()));
            }
        }
    }
    links
        .iter()
        .map(|(href, text)| format!("<li><a href=\"{}\">{}</a></li>", escape(href), escape(text)))
        .collect()
}

fn render(site: &Site, page: &Page<'_>) -> String {
    let switcher: String = site
        .users
        .iter()
        .map(|u| (u.account_id.as_str(), u.display_name.as_str()))
        .chain([(ANONYMOUS, "Anonymous (logged out)")])
        .map(|(account, name)| {
            let selected = page.user.map_or(ANONYMOUS, |u| u.account_id.as_str()) == account;
            format!(
                "<option value=\"{}\"{}>{}</option>",
                escape(account),
                if selected { " selected" } else { "" },
                escape(name)
            )
        })
        .collect();
    let slots: String = page
        .modules
        .iter()
        .map(|m| {
            let badge = m["status"]
                .as_str()
                .map(|label| format!(" <span class=\"badge\">{}</span>", escape(label)))
                .unwrap_or_default();
            // A macro with a custom editor: host.js opens it from this button.
            let edit = if m["editor"].is_object() {
                format!(
                    " <button type=\"button\" class=\"macro-edit\" data-slot=\"{}\" aria-label=\"Edit {}\">Edit</button>",
                    escape(m["slot"].as_str().unwrap_or("")),
                    escape(m["title"].as_str().unwrap_or("macro"))
                )
            } else {
                String::new()
            };
            format!(
                "<section class=\"panel\"><h2>{}{badge}{edit}</h2><div class=\"slot\" id=\"{}\"></div></section>",
                escape(m["title"].as_str().unwrap_or("")),
                escape(m["slot"].as_str().unwrap_or(""))
            )
        })
        .collect();
    let note = if page.modules.is_empty() {
        "<p class=\"subtle\">No app adds anything here.</p>"
    } else {
        ""
    };
    let (main, aside) = if page.full_page {
        (format!("{}{slots}{note}", page.body_html), String::new())
    } else {
        (String::new(), format!("{slots}{note}"))
    };
    let view = json!({
        "site": {"name": site.name, "baseUrl": site.base_url_of(page.product), "product": page.product.as_str()},
        "user": page.user.map_or(json!({"loggedIn": false}), |u| json!({"accountId": u.account_id, "displayName": u.display_name, "loggedIn": true})),
        "context": page.context.claims(),
        "modules": page.modules,
    });
    let view_json = view.to_string().replace("</", "<\\/");
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{heading} - {site} (lodger dev host)</title>
<link rel="stylesheet" href="/dev/static/host.css">
<script src="/dev/static/theme.js"></script>
<script id="lodger-dev-view" type="application/json">{view_json}</script>
</head>
<body>
<header class="topbar">
  <strong>{site}</strong> <span class="subtle">emulated {product} Cloud (lodger dev host)</span>
  <button type="button" id="theme-toggle" class="theme-toggle" aria-pressed="false">Dark theme</button>
  <form class="user" method="get" action="/dev/login">
    <input type="hidden" name="next" value="{path}">
    <label>Signed in as <select name="account">{switcher}</select></label>
    <noscript><button>Switch</button></noscript>
  </form>
</header>
<div class="layout">
<nav class="sidebar" aria-label="Site"><ul>{nav}</ul></nav>
<main class="issue">
  <div class="issue-main">
    <p class="subtle">{breadcrumb}</p>
    <h1>{heading}</h1>
    {main}
  </div>
  <aside class="issue-context">{aside}</aside>
</main>
</div>
<div id="flags" aria-live="polite"></div>
<script src="/dev/static/jquery.js"></script>
<script src="/dev/static/globals.js"></script>
<script src="/dev/static/connect-host.js"></script>
<script src="/dev/static/host.js"></script>
</body>
</html>
"#,
        heading = escape(&page.heading),
        product = match page.product {
            Product::Jira => "Jira",
            Product::Confluence => "Confluence",
        },
        site = escape(&site.name),
        path = escape(&page.path),
        breadcrumb = escape(&page.breadcrumb),
        nav = navigation(site, page.user),
    )
}

/// `POST /dev/api/context-token`: what `AP.context.getToken()` answers.
/// The page says which product the module belongs to (`product`, default
/// `jira`): the token is signed with that product's installation of the app,
/// since Jira and Confluence hand the app different secrets.
fn context_token(site: &Site, session: Option<String>, body: &Value) -> Response {
    let user = current_user(site, session.as_deref());
    let Some(app_key) = body["addonKey"].as_str() else {
        return error(StatusCode::BAD_REQUEST, "expected addonKey");
    };
    let product = match body["product"].as_str() {
        None | Some("jira") => Product::Jira,
        Some("confluence") => Product::Confluence,
        Some(_) => return error(StatusCode::BAD_REQUEST, "product must be jira or confluence"),
    };
    let Some(install) =
        site.data().installs_in(product).get(app_key).filter(|i| i.enabled).cloned()
    else {
        return error(StatusCode::NOT_FOUND, "app not installed or not enabled");
    };
    if product == Product::Confluence {
        let Some(context) = super::confluence_page::stated_context(site, &body["context"]) else {
            return error(StatusCode::BAD_REQUEST, "expected the context of an existing page");
        };
        let claims = Claims {
            sub: user.map(|u| u.account_id.clone()),
            context: Some(context.claims()),
            ..Claims::new(
                &site.confluence_client_key,
                lodger_connect::now(),
                CONTEXT_TOKEN_SECONDS,
                CONTEXT_QSH,
            )
        };
        let token = jwt::sign(&claims, &install.shared_secret);
        return warp::reply::json(&json!({ "token": token })).into_response();
    }
    // The page says what it shows; the host, not the page, states the
    // context claims, so only issues and projects that exist get in.
    let asked = &body["context"]["jira"];
    let issue = asked["issue"]["key"].as_str().and_then(|key| site.issue(key));
    let project = issue
        .as_ref()
        .map(|i| i.project_id.clone())
        .or_else(|| asked["project"]["key"].as_str().map(str::to_owned))
        .and_then(|key| site.project(&key).cloned());
    let context = ViewContext {
        issue: issue.map(|i| (i.key, i.id)),
        project: project.map(|p| (p.key, p.id)),
        confluence: None,
    };
    let claims = Claims {
        sub: user.map(|u| u.account_id.clone()),
        context: Some(context.claims()),
        ..Claims::new(&site.client_key, lodger_connect::now(), CONTEXT_TOKEN_SECONDS, CONTEXT_QSH)
    };
    warp::reply::json(&json!({"token": jwt::sign(&claims, &install.shared_secret)})).into_response()
}

/// Minimal HTML escaping for text and attribute values.
pub(super) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
