//! The Confluence page view, `/wiki/spaces/{spaceKey}/pages/{id}`, in the
//! host's shell (Atlassian: "Dynamic Content Macro" module): the page's
//! title and body, with its macros framed. What the page holds is
//! [`crate::confluence::page_view`]'s; this file serves it.
//!
//! Not here: the macro editor's endpoints ([`crate::confluence::macro_editor`]).

use std::sync::Arc;

use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::forge_modules::forge_modules_for;
use super::shell::{Page, respond};
use crate::confluence::data::{ContentPage, SPACE_NAME};
use crate::confluence::forge_macro_config::add_config_editors;
use crate::confluence::page_view::{framed_macros, page_context, page_path};
use crate::platform::auth::{SESSION_COOKIE, current_user};
use crate::platform::errors::confluence_error as error;
use crate::site::{Site, User};
use lodger_connect::installation::Product;
use serde_json::Value;

/// The page view route, to mount under `wiki`.
pub fn routes(site: Arc<Site>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::get()
        .and(warp::path!("spaces" / String / "pages" / String))
        .and(warp::cookie::optional::<String>(SESSION_COOKIE))
        .map(move |space: String, id: String, session: Option<String>| {
            page_view(&site, &space, &id, session)
        })
}

fn page_view(site: &Site, space: &str, id: &str, session: Option<String>) -> Response {
    let Some(page) = site.data().confluence.page(id).filter(|p| p.space_key == space) else {
        return error(StatusCode::NOT_FOUND, "Page not found");
    };
    let user = current_user(site, session.as_deref());
    let page_view = Page {
        product: Product::Confluence,
        path: page_path(&page),
        breadcrumb: format!("{SPACE_NAME} / Pages"),
        heading: page.title.clone(),
        // The body is the emulator's own seeded HTML, not user input.
        body_html: Some(page.body_html.clone()),
        // The claims the page hands to `AP.context`: the page, no macro.
        context: page_context(&page, None, Vec::new()),
        user,
        modules: page_modules(site, &page, user),
        full_page: true,
    };
    respond(site, &page_view, session.is_none())
}

/// What the view of `page` frames for `user`: the Connect apps' dynamic
/// content macros whose conditions hold, then the Forge apps' `macro`
/// modules, one instance of each on every page (the emulator has no editor
/// to insert them with), those with a `config` resource editable.
pub fn page_modules(site: &Site, page: &ContentPage, user: Option<&User>) -> Vec<Value> {
    let mut modules = framed_macros(site, page, user);
    let context = page_context(page, None, Vec::new());
    let mut forge = forge_modules_for(site, &context, user, &["macro"]);
    add_config_editors(site, &mut forge, &page.id);
    modules.extend(forge);
    modules
}
