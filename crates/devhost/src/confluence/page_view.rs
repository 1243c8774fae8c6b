//! The Confluence page view, `/wiki/spaces/{spaceKey}/pages/{id}`: the page's
//! title and body, with each installed app's **dynamic content macro**
//! framed where the page uses it (Atlassian: "Dynamic Content Macro" module,
//! `modules.dynamicContentMacros[{key, name, url, parameters?}]`).
//!
//! The seeded pages hold one instance of every enabled Confluence app's
//! dynamic macros, each with a fixed `macroId` (`<app>__<macro>`), so a
//! test app's macro shows on every page without an editor to insert it.
//! Each iframe URL has the page's variables substituted (`{content.id}`,
//! `{content.version}`, `{content.type}`, `{space.key}`, `{macro.id}`) and a
//! `jwt` signed with the *Confluence* installation's secret.
//!
//! Each instance has parameters (the descriptor's defaults until an editor
//! saves others), substituted into its URL as `{identifier}` variables; a
//! macro with an `editor` gets an "Edit" button (see
//! [`super::macro_editor`]).
//!
//! A macro whose descriptor carries `conditions` is framed only when they
//! hold (Atlassian's macro reference lists no `conditions` field; the
//! emulator evaluates them where a descriptor gives them, as on any
//! Confluence module; see [`super::conditions`]).
//!
//! A macro with a `bodyType` carries its body ([`super::macro_body`]),
//! also as `{macro.body}`, `{macro.truncated}` and `{macro.hash}`; one with
//! `parameters` and no `editor` gets Confluence's generated form.
//!
//! Not here: static content macros and the page editor.
//! The HTML shell that shows it is the host's ([`crate::pages`]); this
//! file says what the page holds: its path, its context and its macros.

use serde_json::{Value, json};

use super::conditions::shows_on_page;
use super::data::{ContentPage, SPACE_NAME};
use super::{macro_body, macro_parameters};
use crate::platform::iframe::{ConfluenceContext, ViewContext, module_url};
use crate::site::{AppInstall, CONFLUENCE_CONTEXT_PATH, Site, User};

/// The path of a page's view, under the site's origin.
pub fn page_path(page: &ContentPage) -> String {
    format!("{}/spaces/{}/pages/{}", CONFLUENCE_CONTEXT_PATH, page.space_key, page.id)
}

/// Links to the Confluence pages, for the site's navigation.
pub fn navigation(site: &Site) -> Vec<(String, String)> {
    site.data()
        .confluence
        .pages
        .iter()
        .map(|p| (page_path(p), format!("{} › {}", SPACE_NAME, p.title)))
        .collect()
}

/// The fixed id of an app's macro instance on every seeded page.
pub fn macro_id(app_key: &str, macro_key: &str) -> String {
    format!("{app_key}__{macro_key}")
}

/// The context of a page, as the host states it, with a macro's id and
/// URL variables when a macro is framed.
pub fn page_context(
    page: &ContentPage,
    macro_id: Option<String>,
    macro_parameters: Vec<(String, String)>,
) -> ViewContext {
    ViewContext {
        confluence: Some(ConfluenceContext {
            content_id: page.id.clone(),
            content_version: page.version,
            content_type: "page".into(),
            space_key: page.space_key.clone(),
            macro_id,
            macro_parameters,
        }),
        ..ViewContext::default()
    }
}

/// The context claims for a context token: the page must exist, its version
/// and space come from the host; only the macro id is taken as asked (an
/// opaque id, bounded).
pub fn stated_context(site: &Site, asked: &Value) -> Option<ViewContext> {
    let asked = &asked["confluence"];
    let page = site.data().confluence.page(asked["content"]["id"].as_str()?)?;
    let macro_id = asked["macro"]["id"]
        .as_str()
        .filter(|id| id.len() <= 255 && !id.is_empty())
        .map(str::to_owned);
    Some(page_context(&page, macro_id, Vec::new()))
}

/// The macros framed on `page`: every enabled Confluence app's dynamic
/// content macros whose `conditions` hold for `user` (see
/// [`super::conditions`]), in app key order, as the page's view entries.
pub fn framed_macros(site: &Site, page: &ContentPage, user: Option<&User>) -> Vec<Value> {
    let account_id = user.map(|u| u.account_id.as_str());
    let installs: Vec<AppInstall> = {
        let data = site.data();
        let mut installs: Vec<AppInstall> =
            data.confluence.installs.values().filter(|i| i.enabled).cloned().collect();
        installs.sort_by(|a, b| a.app_key.cmp(&b.app_key));
        installs
    };
    let mut modules = Vec::new();
    for install in &installs {
        let macros = install.modules("dynamicContentMacros");
        for module in macros.iter().filter(|m| shows_on_page(site, install, page, user, m)) {
            let key = module["key"].as_str().unwrap_or("macro");
            let id = macro_id(&install.app_key, key);
            let values = macro_parameters::parameters(site, &page.id, &id, module);
            let body = macro_body::body(site, &page.id, &id, module);
            let mut variables = macro_parameters::url_variables(module, &values);
            variables.extend(macro_body::url_variables(body.as_deref()));
            let context = page_context(page, Some(id.clone()), variables);
            // Which macros can be edited (a custom editor, or Confluence's
            // generated form), and the instance the editor edits.
            let form = macro_parameters::form(module);
            let editor = (module["editor"]["url"].is_string() || form.is_some())
                .then(|| json!({"contentId": page.id, "macroId": id}));
            modules.push(json!({
                "parameters": values,
                "body": body,
                "form": form,
                "editor": editor,
                "addonKey": install.app_key,
                "moduleKey": key,
                "title": module["name"]["value"],
                "url": module_url(site, install, module, &context, account_id),
                "context": context.claims(),
                "slot": format!("slot-{}-{key}", install.app_key.replace('.', "-")),
                "options": {"autoresize": true, "width": "100%", "height": "150px", "isFullPage": false},
            }));
        }
    }
    modules
}
