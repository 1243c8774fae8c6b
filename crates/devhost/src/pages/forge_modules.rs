//! Which Forge UI modules a product page frames, and the Forge pages
//! themselves (Forge: "Jira issue panel", "Jira issue context", "Jira
//! admin page", "Jira project settings page" module references; the
//! `view.getContext()` shape from `@forge/bridge` 7.2.0 `out/types.d.ts`,
//! `FullContext`).
//!
//! Each entry goes into the page's view JSON beside the Connect ones, with
//! `forge: true`, the resource's URL and origin ([`crate::forge::resources`]),
//! the URLs of all the app's resources (a `Modal` may open any of them)
//! and the context `getContext` answers; `page/forge-host.js` frames it and
//! answers its bridge calls.
//!
//! The Forge pages' paths follow Jira's URLs for Forge apps:
//!
//! | module | path |
//! |---|---|
//! | `jira:issuePanel`, `jira:issueContext` | the issue view, `/browse/{issueKey}` |
//! | `macro` | the Confluence page view, `/wiki/spaces/{spaceKey}/pages/{id}` (one instance per page; its `config` resource opens from an "Edit" button, see [`crate::confluence::forge_macro_config`]) |
//! | `jira:adminPage` | `/jira/settings/apps/{appUuid}/{environmentId}` |
//! | `jira:projectSettingsPage` | `/jira/software/projects/{projectKey}/settings/apps/{appUuid}/{environmentId}` |
//!
//! (The admin and project settings paths are Jira's as seen in browsers;
//! unverified for every page kind.)
//!
//! What it is not: the bridge (`page/forge-host.js`), the resources' server.

use std::sync::Arc;

use serde_json::{Value, json};
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::issue_view::{self, Presentation};
use super::shell::{Page, respond};
use crate::confluence::forge_macro_config::config_of;
use crate::forge::display_conditions;
use crate::forge::install::ForgeInstallation;
use crate::forge::manifest::UiModule;
use crate::forge::resources::{origin_label, resource_origin, resource_url};
use crate::forge::state::license_of;
use crate::inspector::exchanges::{Check, Exchange, Kind, Reason};
use crate::platform::auth::{SESSION_COOKIE, current_user};
use crate::platform::call::with_site;
use crate::platform::errors::error;
use crate::platform::iframe::ViewContext;
use crate::site::{Role, Site, User};
use lodger_connect::installation::Product;

/// The Forge modules of `module_types` of every Forge app in `site`, as
/// view entries for a page about `context`, signed-in `user`.
pub(crate) fn forge_modules_for(
    site: &Site,
    context: &ViewContext,
    user: Option<&User>,
    module_types: &[&str],
) -> Vec<Value> {
    let installs: Vec<ForgeInstallation> = site.data().forge.installs.values().cloned().collect();
    let mut entries = Vec::new();
    for install in &installs {
        let product =
            if context.confluence.is_some() { Product::Confluence } else { Product::Jira };
        if !install.manifest.products.contains(&product) {
            continue;
        }
        for module_type in module_types {
            for module in install.manifest.ui_modules_of(module_type) {
                if let Some(entry) = entry(site, install, module, context, user) {
                    entries.push(entry);
                }
            }
        }
    }
    entries
}

/// One module's view entry, `None` when its resource is not in the
/// manifest or its display conditions hide it (recorded in the inspector).
fn entry(
    site: &Site,
    install: &ForgeInstallation,
    module: &UiModule,
    context: &ViewContext,
    user: Option<&User>,
) -> Option<Value> {
    let url = resource_url(site, install, &module.resource)?;
    let label = origin_label(&install.app_id)?;
    let page = display_conditions::Page { site, app_id: &install.app_id, context, user };
    if let Err(condition) = display_conditions::evaluate(module.display_conditions.as_ref(), &page)
    {
        let reason = Reason {
            condition: Some(condition),
            ..Reason::new(Check::ConditionFalse, "a display condition is false")
        };
        site.record(
            Exchange::to_app(Kind::Iframe, &install.app_id, "GET", &url)
                .about(format!("module {} hidden by its display conditions", module.key))
                .refused(reason),
        );
        return None;
    }
    let presentation = Presentation::of(&module.module_type);
    let deferred = match presentation {
        Presentation::Panel => false,
        Presentation::Glance | Presentation::Context => true,
        Presentation::Content => !issue_view::is_added(site, &install.app_id, &module.key, context),
    };
    let title = module.title.clone().unwrap_or_else(|| module.key.clone());
    // Every resource of the app by key: a `Modal` may open any of them.
    let resources: serde_json::Map<String, Value> = install
        .manifest
        .resources
        .iter()
        .filter_map(|r| Some((r.key.clone(), Value::from(resource_url(site, install, &r.key)?))))
        .collect();
    Some(json!({
        "forge": true,
        "addonKey": install.app_id,
        "appId": install.app_id,
        "moduleKey": module.key,
        "moduleType": module.module_type,
        "title": title,
        "label": module.label,
        "presentation": presentation.as_str(),
        "deferred": deferred,
        "slot": format!("slot-forge-{label}-{}", module.key),
        "url": url,
        "resource": module.resource,
        "resources": resources,
        "origin": resource_origin(site, &install.app_id),
        "context": context_of(site, install, module, context, user),
        "compact": presentation == Presentation::Context,
    }))
}

/// What `view.getContext()` answers (`FullContext` of `@forge/bridge`
/// 7.2.0), but the `theme`, which the page adds from its current theme.
fn context_of(
    site: &Site,
    install: &ForgeInstallation,
    module: &UiModule,
    context: &ViewContext,
    user: Option<&User>,
) -> Value {
    let uuid = origin_label(&install.app_id).unwrap_or_default();
    let (license, cloud_id) = {
        let data = site.data();
        (license_of(&data, install), data.forge.cloud_id.clone())
    };
    let mut extension = json!({"type": module.module_type});
    if let Some((key, id)) = &context.issue {
        extension["issue"] = json!({"id": id, "key": key, "type": "Task"});
    }
    if let Some((key, id)) = &context.project {
        extension["project"] = json!({"id": id, "key": key, "type": "software"});
    }
    if let Some(page) = &context.confluence {
        extension["content"] = json!({"id": page.content_id, "type": page.content_type});
        extension["space"] = json!({"key": page.space_key});
        // A macro's config, as its config resource last submitted it.
        let config = config_of(site, &page.content_id, &install.app_id, &module.key);
        if let (Some(config), "macro") = (config, module.module_type.as_str()) {
            extension["config"] = config;
        }
    }
    let local_id = format!(
        "ari:cloud:ecosystem::extension/{uuid}/{}/static/{}",
        install.environment_id, module.key
    );
    // Verified against `FullContext` in `@forge/bridge` 7.2.0 `out/types.d.ts`:
    // the field names and that `license` is optional with `active`. The
    // values of `localId` (an extension ARI here), `extension.issue.type`,
    // `locale` and `timezone` are the emulator's choice (unverified).
    // `license.isActive` is not in the type; it repeats `active` under the
    // name the invocation token's `app.license` uses.
    let mut full = json!({
        "accountId": user.map(|u| u.account_id.clone()),
        "cloudId": cloud_id,
        "siteUrl": site.base_url,
        "moduleKey": module.key,
        "localId": local_id,
        "environmentId": install.environment_id,
        "environmentType": "DEVELOPMENT",
        "extension": extension,
        "locale": "en-US",
        "timezone": "UTC",
    });
    if let Some(active) = license {
        full["license"] = json!({"active": active, "isActive": active});
    }
    full
}

/// `/jira/settings/apps/{appUuid}/{environmentId}`: the path of an app's
/// `jira:adminPage`.
pub fn admin_page_path(install: &ForgeInstallation) -> String {
    let uuid = origin_label(&install.app_id).unwrap_or_default();
    format!("/jira/settings/apps/{uuid}/{}", install.environment_id)
}

/// `/jira/software/projects/{key}/settings/apps/{appUuid}/{environmentId}`:
/// the path of an app's `jira:projectSettingsPage` for project `key`.
pub fn project_settings_path(install: &ForgeInstallation, project_key: &str) -> String {
    let uuid = origin_label(&install.app_id).unwrap_or_default();
    format!("/jira/software/projects/{project_key}/settings/apps/{uuid}/{}", install.environment_id)
}

/// The Forge admin and project settings pages.
pub fn routes(site: Arc<Site>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let admin = warp::get()
        .and(warp::path!("jira" / "settings" / "apps" / String / String))
        .and(warp::cookie::optional::<String>(SESSION_COOKIE))
        .and(with_site(Arc::clone(&site)))
        .map(|app: String, env: String, session: Option<String>, site: Arc<Site>| {
            forge_page(&site, &app, &env, None, session)
        });
    let project = warp::get()
        .and(warp::path!(
            "jira" / "software" / "projects" / String / "settings" / "apps" / String / String
        ))
        .and(warp::cookie::optional::<String>(SESSION_COOKIE))
        .and(with_site(site))
        .map(|key: String, app: String, env: String, session: Option<String>, site: Arc<Site>| {
            forge_page(&site, &app, &env, Some(&key), session)
        });
    admin.or(project).unify()
}

/// A Forge full page: the app's `jira:adminPage`, or its
/// `jira:projectSettingsPage` when `project_key` is given.
fn forge_page(
    site: &Site,
    app_uuid: &str,
    environment_id: &str,
    project_key: Option<&str>,
    session: Option<String>,
) -> Response {
    let user = current_user(site, session.as_deref());
    let install = site
        .data()
        .forge
        .installs
        .values()
        .find(|i| {
            origin_label(&i.app_id).as_deref() == Some(app_uuid)
                && i.environment_id == environment_id
        })
        .cloned();
    let Some(install) = install else {
        return error(StatusCode::NOT_FOUND, "no such Forge app on this site");
    };
    let (module_type, needed) = match project_key {
        None => ("jira:adminPage", Role::SiteAdmin),
        Some(_) => ("jira:projectSettingsPage", Role::ProjectAdmin),
    };
    let project = match project_key {
        Some(key) => match site.project(key) {
            Some(project) => Some(project),
            None => return error(StatusCode::NOT_FOUND, "no such project"),
        },
        None => None,
    };
    let allowed = user.is_some_and(|u| {
        matches!((u.role, needed), (Role::SiteAdmin, _) | (Role::ProjectAdmin, Role::ProjectAdmin))
    });
    if !allowed {
        return error(StatusCode::FORBIDDEN, "you do not have permission to see this page");
    }
    let Some(module) = install.manifest.ui_modules_of(module_type).next().cloned() else {
        return error(StatusCode::NOT_FOUND, "the app has no page of that kind");
    };
    let context = ViewContext {
        issue: None,
        project: project.map(|p| (p.key.clone(), p.id.clone())),
        confluence: None,
    };
    let mut page = Page {
        product: Product::Jira,
        body_html: None,
        path: match project {
            Some(p) => project_settings_path(&install, &p.key),
            None => admin_page_path(&install),
        },
        breadcrumb: match project {
            Some(p) => format!("{} / Project settings / Apps", p.name),
            None => "Administration / Apps".to_owned(),
        },
        heading: module.title.clone().unwrap_or_else(|| module.key.clone()),
        context,
        user,
        modules: Vec::new(),
        full_page: true,
    };
    page.modules = entry(site, &install, &module, &page.context, user).into_iter().collect();
    respond(site, &page, session.is_none())
}
