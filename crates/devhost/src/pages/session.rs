//! The dev host's session endpoints: `GET /dev/login?account=&next=`,
//! which switches the signed-in user (the product pages' user switcher),
//! and `POST /dev/api/context-token`, what `AP.context.getToken()` answers
//! (Atlassian: "Context JWT", "AP.context"). Neither exists on a real
//! site, whose login is Atlassian's.
//!
//! What it is not: authentication of REST calls ([`crate::platform::auth`]).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::confluence::page_view::stated_context;
use crate::platform::auth::{ANONYMOUS, SESSION_COOKIE, current_user};
use crate::platform::call::with_site;
use crate::platform::errors::error;
use crate::platform::iframe::ViewContext;
use crate::site::Site;
use lodger_connect::installation::Product;
use lodger_connect::jwt::{self, Claims};
use lodger_connect::qsh::CONTEXT_QSH;

/// Context tokens live 15 minutes, like the ones Atlassian issues.
const CONTEXT_TOKEN_SECONDS: i64 = 15 * 60;

/// `GET /dev/login`: sets the session cookie and goes back to `next`.
pub fn login_route() -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::get().and(warp::path!("dev" / "login")).and(warp::query::<HashMap<String, String>>()).map(
        |query: HashMap<String, String>| {
            let account = query.get("account").map_or(ANONYMOUS, String::as_str);
            let next = query
                .get("next")
                .filter(|n| n.starts_with('/') && !n.starts_with("//"))
                .map_or("/", String::as_str);
            redirect(next, Some(account))
        },
    )
}

/// `POST /dev/api/context-token`.
pub fn context_token_route(
    site: Arc<Site>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::post()
        .and(warp::path!("dev" / "api" / "context-token"))
        .and(warp::cookie::optional::<String>(SESSION_COOKIE))
        .and(warp::body::content_length_limit(16 * 1024))
        .and(warp::body::json())
        .and(with_site(site))
        .map(|session: Option<String>, body: Value, site: Arc<Site>| {
            context_token(&site, session, &body)
        })
}

/// A `303` to `location`, setting the session to `account` if given.
pub(crate) fn redirect(location: &str, account: Option<&str>) -> Response {
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
        let Some(context) = stated_context(site, &body["context"]) else {
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
