//! The pages of the emulated product, and the endpoints those pages call.
//!
//! An issue page (`/browse/LOD-1`) is rendered like Jira renders one: the
//! server decides which app modules show (enabled apps' web panels for the
//! issue view), builds each module's signed iframe URL, and hands the list
//! to the page, whose script (`page/host.js`) creates the iframes with the
//! real connect-js host bundle and answers the iframes' `AP` calls.

use std::sync::Arc;

use serde_json::{Value, json};
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::DevHost;
use super::auth::SESSION_COOKIE;
use super::iframe::{ViewContext, module_url};
use super::rest::error;
use super::site::{Site, User};
use crate::connect::jwt::{self, Claims};
use crate::connect::qsh::CONTEXT_QSH;

/// The session value of a visitor who logged out.
const ANONYMOUS: &str = "anonymous";
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
        .and(warp::query::<std::collections::HashMap<String, String>>())
        .map(|query: std::collections::HashMap<String, String>| {
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
    let statics = warp::get().and(warp::path::full()).and(with).and_then(
        |path: warp::path::FullPath, (host, _): (Arc<DevHost>, Arc<Site>)| async move {
            host.static_file(path.as_str()).ok_or_else(warp::reject::not_found)
        },
    );
    browse
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
fn current_user<'a>(site: &'a Site, session: Option<&str>) -> Option<&'a User> {
    match session {
        Some(ANONYMOUS) => None,
        Some(account) => site.user(account),
        None => site.users.first(),
    }
}

/// `/browse/{key}`: the issue view with the apps' issue panels.
fn issue_page(site: &Site, key: &str, session: Option<String>) -> Response {
    let Some(issue) = site.issue(key) else {
        return error(StatusCode::NOT_FOUND, "Issue does not exist");
    };
    let user = current_user(site, session.as_deref());
    let project = site.project(&issue.project_id);
    let context = ViewContext {
        issue: Some((issue.key.clone(), issue.id.clone())),
        project: project.map(|p| (p.key.clone(), p.id.clone())),
    };
    let installs: Vec<_> = site.data().installs.values().filter(|i| i.enabled).cloned().collect();
    let mut modules = Vec::new();
    for install in &installs {
        let panels =
            install.descriptor["modules"]["webPanels"].as_array().cloned().unwrap_or_default();
        for panel in panels.iter().filter(|p| {
            p["location"].as_str().is_some_and(|l| l.starts_with("atl.jira.view.issue"))
        }) {
            let module_key = panel["key"].as_str().unwrap_or("panel");
            modules.push(json!({
                "addonKey": install.app_key,
                "moduleKey": module_key,
                "title": panel["name"]["value"],
                "url": module_url(site, install, panel, &context, user.map(|u| u.account_id.as_str())),
                "slot": format!("slot-{}-{module_key}", install.app_key.replace('.', "-")),
                "options": {"autoresize": true, "width": "100%", "height": "60px"},
            }));
        }
    }
    let view = json!({
        "site": {"name": site.name, "baseUrl": site.base_url, "product": "jira"},
        "user": user.map_or(json!({"loggedIn": false}), |u| json!({"accountId": u.account_id, "displayName": u.display_name, "loggedIn": true})),
        "context": context.claims(),
        "modules": modules,
    });
    let html = render_issue(site, &issue, user, &view, &modules);
    let mut response = Response::new(html.into());
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    // The page embeds signed iframe URLs that expire in minutes: never reuse it.
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // A first visit is signed in as the site admin; the cookie makes the
    // iframes' `AP.request` calls run as that same user.
    if let (None, Some(user)) = (&session, user) {
        let cookie =
            format!("{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax", user.account_id);
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().insert(header::SET_COOKIE, value);
        }
    }
    response
}

fn render_issue(
    site: &Site,
    issue: &super::site::Issue,
    user: Option<&User>,
    view: &Value,
    modules: &[Value],
) -> String {
    let switcher: String = site
        .users
        .iter()
        .map(|u| (u.account_id.as_str(), u.display_name.as_str()))
        .chain([(ANONYMOUS, "Anonymous (logged out)")])
        .map(|(account, name)| {
            let selected = user.map_or(ANONYMOUS, |u| u.account_id.as_str()) == account;
            format!(
                "<option value=\"{}\"{}>{}</option>",
                escape(account),
                if selected { " selected" } else { "" },
                escape(name)
            )
        })
        .collect();
    let slots: String = modules
        .iter()
        .map(|m| {
            format!(
                "<section class=\"panel\"><h2>{}</h2><div class=\"slot\" id=\"{}\"></div></section>",
                escape(m["title"].as_str().unwrap_or("")),
                escape(m["slot"].as_str().unwrap_or(""))
            )
        })
        .collect();
    let apps_note = if modules.is_empty() {
        "<p class=\"subtle\">No app adds a panel to this issue.</p>"
    } else {
        ""
    };
    let view_json = view.to_string().replace("</", "<\\/");
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{key}: {summary} - {site} (lodger dev host)</title>
<link rel="stylesheet" href="/dev/static/host.css">
<script id="lodger-dev-view" type="application/json">{view_json}</script>
</head>
<body>
<header class="topbar">
  <strong>{site}</strong> <span class="subtle">emulated Jira Cloud (lodger dev host)</span>
  <form class="user" method="get" action="/dev/login">
    <input type="hidden" name="next" value="/browse/{key}">
    <label>Signed in as <select name="account">{switcher}</select></label>
    <noscript><button>Switch</button></noscript>
  </form>
</header>
<main class="issue">
  <div class="issue-main">
    <p class="subtle">{project} / {key}</p>
    <h1>{summary}</h1>
  </div>
  <aside class="issue-context">{slots}{apps_note}</aside>
</main>
<div id="flags" aria-live="polite"></div>
<script src="/dev/static/jquery.js"></script>
<script src="/dev/static/globals.js"></script>
<script src="/dev/static/connect-host.js"></script>
<script src="/dev/static/host.js"></script>
</body>
</html>
"#,
        key = escape(&issue.key),
        summary = escape(&issue.summary),
        site = escape(&site.name),
        project =
            escape(&site.project(&issue.project_id).map_or(String::new(), |p| p.name.clone())),
    )
}

/// `POST /dev/api/context-token`: what `AP.context.getToken()` answers.
fn context_token(site: &Site, session: Option<String>, body: &Value) -> Response {
    let user = current_user(site, session.as_deref());
    let Some(app_key) = body["addonKey"].as_str() else {
        return error(StatusCode::BAD_REQUEST, "expected addonKey");
    };
    let Some(install) = site.data().installs.get(app_key).filter(|i| i.enabled).cloned() else {
        return error(StatusCode::NOT_FOUND, "app not installed or not enabled");
    };
    let claims = Claims {
        sub: user.map(|u| u.account_id.clone()),
        context: Some(body["context"].clone()),
        ..Claims::new(&site.client_key, crate::now(), CONTEXT_TOKEN_SECONDS, CONTEXT_QSH)
    };
    warp::reply::json(&json!({"token": jwt::sign(&claims, &install.shared_secret)})).into_response()
}

/// Minimal HTML escaping for text and attribute values.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
