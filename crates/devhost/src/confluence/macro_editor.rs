//! Macro parameters and the macro editor of the emulated Confluence.
//!
//! On Atlassian's Confluence a dynamic content macro instance carries
//! parameters (the descriptor's `parameters[{identifier, defaultValue, …}]`),
//! stored in the page's storage format. Confluence substitutes them into the
//! macro's URL as variables (`{title}`), and an app may give the macro a
//! custom editor (`editor: {url, editTitle, width, height}`): Confluence opens
//! that URL, signed with a `jwt` like any module, in a dialog, where the app
//! reads the instance's parameters with `AP.confluence.getMacroData`, and
//! hands new ones back with `AP.confluence.saveMacro(params)` and
//! `AP.confluence.closeMacroEditor()` (Atlassian: "Dynamic Content Macro",
//! "Macro Editor", "confluence" JavaScript module).
//!
//! What the dev host emulates:
//! - each seeded macro instance has parameters, stored per (page, macro id)
//!   in [`super::data::ConfluenceData::macro_parameters`]; until an
//!   editor saves some, the descriptor's `defaultValue`s apply;
//! - an "Edit" button by each macro that has an `editor` opens the editor
//!   URL in a dialog on the page (`page/host.js`), signed for the current
//!   user with the macro's context (`macro.id` included);
//! - `saveMacro` stores the parameters at once and the page shows the macro
//!   again with them when the editor closes.
//!
//! - a macro with `parameters` and no `editor` gets Confluence's generated
//!   form instead, drawn by `page/host.js` from the page's entry; what it
//!   saves goes through the same endpoint, checked against the declared
//!   types ([`super::macro_parameters::check_form`]);
//! - `getMacroBody` answers the instance's body ([`super::macro_body`]);
//!   `PUT /wiki/dev/api/macro-body` stands in for typing it in the page
//!   editor.
//!
//! What it does not: Confluence's page editor. There is no draft and no
//! "Publish": a save is live for everyone immediately. No `insertTitle`
//! flow; `saveMacro`'s body argument is ignored (the body is the page
//! editor's).
//! Like Confluence's editor, only people who may edit the page (here: any
//! signed-in user but a viewer) may open the editor or save.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::macro_body;
use super::macro_parameters::{check_form, form, parameters, url_variables};
use super::page_view::{macro_id, page_context};
use crate::platform::auth::{SESSION_COOKIE, current_user};
use crate::platform::call::with_site;
use crate::platform::errors::confluence_error as error;
use crate::platform::iframe::module_url;
use crate::site::{AppInstall, Role, Site, User};

/// At most this many parameters per instance, of these sizes.
const MAX_PARAMETERS: usize = 50;
const MAX_NAME_CHARS: usize = 100;
const MAX_VALUE_CHARS: usize = 2000;

/// The macro module `module_key` of an enabled Confluence app.
pub fn macro_module(install: &AppInstall, module_key: &str) -> Option<Value> {
    match &install.descriptor["modules"]["dynamicContentMacros"] {
        Value::Array(many) => many.iter().find(|m| m["key"] == module_key).cloned(),
        one if one["key"] == module_key => Some(one.clone()),
        _ => None,
    }
}

/// The dev endpoints behind the editor, to mount under `wiki`:
/// `POST /wiki/dev/api/macro-editor` (a freshly signed editor URL) and
/// `PUT /wiki/dev/api/macro-parameters` (what `saveMacro` stores).
pub fn routes(site: Arc<Site>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let forge_config = super::forge_macro_config::routes(Arc::clone(&site));
    let with = with_site(site);
    let session = warp::cookie::optional::<String>(SESSION_COOKIE);
    let body = warp::body::content_length_limit(256 * 1024).and(warp::body::json::<Value>());
    let editor = warp::post()
        .and(warp::path!("dev" / "api" / "macro-editor"))
        .and(session)
        .and(body)
        .and(with.clone())
        .map(|session: Option<String>, body: Value, site: Arc<Site>| {
            editor(&site, session.as_deref(), &body)
        });
    let save = warp::put()
        .and(warp::path!("dev" / "api" / "macro-parameters"))
        .and(session)
        .and(body)
        .and(with.clone())
        .map(|session: Option<String>, body: Value, site: Arc<Site>| {
            save(&site, session.as_deref(), &body)
        });
    let set_body = warp::put()
        .and(warp::path!("dev" / "api" / "macro-body"))
        .and(session)
        .and(body)
        .and(with)
        .map(|session: Option<String>, body: Value, site: Arc<Site>| {
            set_body(&site, session.as_deref(), &body)
        });
    editor.or(save).unify().or(set_body).unify().or(forge_config).unify()
}

/// The macro instance a request names, and the user who may edit it.
struct Instance<'a> {
    install: AppInstall,
    module: Value,
    content_id: String,
    macro_id: String,
    user: &'a User,
}

fn instance<'a>(
    site: &'a Site,
    session: Option<&str>,
    body: &Value,
) -> Result<Instance<'a>, (StatusCode, &'static str)> {
    let text = |name: &str| body[name].as_str().unwrap_or_default().to_owned();
    let (app_key, module_key, content_id, asked_macro) =
        (text("addonKey"), text("moduleKey"), text("contentId"), text("macroId"));
    let Some(user) = current_user(site, session) else {
        return Err((StatusCode::UNAUTHORIZED, "log in to edit this page"));
    };
    if user.role == Role::Viewer {
        return Err((StatusCode::FORBIDDEN, "you may view this page but not edit it"));
    }
    let install = site.data().confluence.installs.get(&app_key).filter(|i| i.enabled).cloned();
    let Some(install) = install else {
        return Err((StatusCode::NOT_FOUND, "no such app enabled in this Confluence"));
    };
    let Some(module) = macro_module(&install, &module_key) else {
        return Err((StatusCode::NOT_FOUND, "the app has no macro with that key"));
    };
    // The seeded pages hold exactly one instance of each macro.
    if site.data().confluence.page(&content_id).is_none()
        || asked_macro != macro_id(&app_key, &module_key)
    {
        return Err((StatusCode::NOT_FOUND, "no such macro on that page"));
    }
    Ok(Instance { install, module, content_id, macro_id: asked_macro, user })
}

/// `POST /wiki/dev/api/macro-editor`: the editor's signed URL (signed now,
/// since a `jwt` lives three minutes), its title and size, and the
/// instance's parameters.
fn editor(site: &Site, session: Option<&str>, body: &Value) -> Response {
    let it = match instance(site, session, body) {
        Ok(it) => it,
        Err((status, message)) => return error(status, message),
    };
    let editor = &it.module["editor"];
    let Some(url) = editor["url"].as_str() else {
        return error(StatusCode::NOT_FOUND, "this macro has no custom editor");
    };
    let Some(page) = site.data().confluence.page(&it.content_id) else {
        return error(StatusCode::NOT_FOUND, "no such page");
    };
    let values = parameters(site, &it.content_id, &it.macro_id, &it.module);
    let body = macro_body::body(site, &it.content_id, &it.macro_id, &it.module);
    let mut variables = url_variables(&it.module, &values);
    variables.extend(macro_body::url_variables(body.as_deref()));
    let context = page_context(&page, Some(it.macro_id.clone()), variables);
    let framed = json!({"key": it.module["key"], "url": url});
    let title = editor["editTitle"]["value"]
        .as_str()
        .or_else(|| it.module["name"]["value"].as_str())
        .unwrap_or("Edit macro");
    warp::reply::json(&json!({
        "url": module_url(site, &it.install, &framed, &context, Some(&it.user.account_id)),
        "context": context.claims(),
        "title": title,
        "width": editor["width"].as_str().unwrap_or("600px"),
        "height": editor["height"].as_str().unwrap_or("400px"),
        "parameters": values,
        "body": body,
    }))
    .into_response()
}

/// Checks what `saveMacro` handed over: an object of at most
/// 50 entries with short names; strings kept, numbers and
/// booleans turned into text (Confluence stores every parameter as text).
pub fn checked_parameters(given: &Value) -> Result<BTreeMap<String, String>, &'static str> {
    let Value::Object(map) = given else {
        return Err("parameters must be a JSON object");
    };
    if map.len() > MAX_PARAMETERS {
        return Err("at most 50 macro parameters");
    }
    let mut out = BTreeMap::new();
    for (name, value) in map {
        let valid_name = !name.is_empty()
            && name.chars().count() <= MAX_NAME_CHARS
            && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid_name {
            return Err("a parameter name is 1 to 100 letters, digits, '-', '_' or '.'");
        }
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return Err("a parameter value must be text"),
        };
        if text.chars().count() > MAX_VALUE_CHARS {
            return Err("a parameter value is at most 2000 characters");
        }
        out.insert(name.clone(), text);
    }
    Ok(out)
}

/// `PUT /wiki/dev/api/macro-parameters`: stores an instance's parameters.
fn save(site: &Site, session: Option<&str>, body: &Value) -> Response {
    let it = match instance(site, session, body) {
        Ok(it) => it,
        Err((status, message)) => return error(status, message),
    };
    let values = match checked_parameters(&body["parameters"]) {
        Ok(values) => values,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    if let Some(form) = form(&it.module)
        && let Err(message) = check_form(&form, &values)
    {
        return error(StatusCode::BAD_REQUEST, &message);
    }
    site.data()
        .confluence
        .macro_parameters
        .insert((it.content_id.clone(), it.macro_id.clone()), values.clone());
    warp::reply::json(&json!({ "parameters": values })).into_response()
}

/// `PUT /wiki/dev/api/macro-body`: sets an instance's body, as typing in
/// the page editor would (no such endpoint on a real site).
fn set_body(site: &Site, session: Option<&str>, body: &Value) -> Response {
    let it = match instance(site, session, body) {
        Ok(it) => it,
        Err((status, message)) => return error(status, message),
    };
    if !macro_body::has_body(&it.module) {
        return error(StatusCode::BAD_REQUEST, "this macro has no body (bodyType none)");
    }
    let Some(text) = body["body"].as_str() else {
        return error(StatusCode::BAD_REQUEST, "body must be text");
    };
    if text.chars().count() > macro_body::MAX_BODY_CHARS {
        return error(StatusCode::PAYLOAD_TOO_LARGE, "a macro body is at most 64K characters");
    }
    site.data().confluence.macro_bodies.insert((it.content_id, it.macro_id), text.to_owned());
    warp::reply::json(&json!({ "body": text })).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_parameters_are_text_with_plain_names() {
        let ok = checked_parameters(&json!({"title": "A & B", "n": 3, "on": true})).unwrap();
        assert_eq!(ok["title"], "A & B");
        assert_eq!(ok["n"], "3");
        assert_eq!(ok["on"], "true");
        assert!(checked_parameters(&json!({"bad name": "x"})).is_err());
        assert!(checked_parameters(&json!({"x": {"nested": 1}})).is_err());
        assert!(checked_parameters(&json!(["title"])).is_err());
        assert!(checked_parameters(&json!({"t": "x".repeat(MAX_VALUE_CHARS + 1)})).is_err());
    }
}
