//! Which app modules a Jira page frames, as Jira decides it server-side
//! (Atlassian: "Issue Glance", "Web Panel", "General Page" and the other
//! page modules; "Conditions"): enabled apps' modules of the page's kinds
//! whose conditions hold, each with its signed iframe URL.
//!
//! Also who may open each kind of app page.
//!
//! What it is not: the page around them ([`super::shell`]).

use serde_json::{Value, json};

use super::issue_view::{self, Presentation};
use crate::inspector::exchanges::{Check, Exchange, Kind, Reason};
use crate::platform::conditions::{self, Facts};
use crate::platform::iframe::{ViewContext, module_url};
use crate::site::{AppInstall, Role, Site, User};

/// The modules of `kinds` from enabled apps that `pick` selects and whose
/// conditions hold for `user` on a page about `context`, as the page's view
/// entries; `full_page` when they fill the main column.
pub(crate) fn modules_for(
    site: &Site,
    context: &ViewContext,
    user: Option<&User>,
    full_page: bool,
    kinds: &[&str],
    pick: &dyn Fn(&Value) -> bool,
) -> Vec<Value> {
    let installs: Vec<AppInstall> =
        site.data().installs.values().filter(|i| i.enabled).cloned().collect();
    let mut entries = Vec::new();
    for install in &installs {
        for kind in kinds {
            let modules = install.modules(kind);
            for module in
                modules.iter().filter(|m| pick(m) && shows_for(site, install, context, user, m))
            {
                entries.push(entry(site, install, kind, module, context, user, full_page));
            }
        }
    }
    entries
}

/// One module's view entry: its signed URL and how the page presents it
/// ([`Presentation`]). A glance, context or content module frames its
/// `target`; its status badge comes from an issue property the app writes.
fn entry(
    site: &Site,
    install: &AppInstall,
    kind: &str,
    module: &Value,
    context: &ViewContext,
    user: Option<&User>,
    full_page: bool,
) -> Value {
    let module_key = module["key"].as_str().unwrap_or("module");
    let presentation = Presentation::of(kind);
    let mut framed = module.clone();
    if presentation != Presentation::Panel {
        framed["url"] = module["target"]["url"].clone();
    }
    let status = match presentation {
        Presentation::Glance | Presentation::Context => {
            issue_view::status(site, &install.app_key, module_key, context)
        }
        Presentation::Panel | Presentation::Content => None,
    };
    // Content is on the issue once added, or when its
    // `contentPresentConditions` hold.
    let deferred = match presentation {
        Presentation::Panel => false,
        Presentation::Glance | Presentation::Context => true,
        Presentation::Content => {
            let present = module.get("contentPresentConditions").is_some_and(|conditions| {
                let facts_module = json!({"key": module_key, "conditions": conditions});
                evaluate(site, install, context, user, &facts_module, false)
            });
            !present && !issue_view::is_added(site, &install.app_key, module_key, context)
        }
    };
    let icon = module["icon"]["url"].as_str().map(|url| {
        if url.starts_with("http") {
            url.to_owned()
        } else {
            format!("{}{url}", install.app_base_url)
        }
    });
    let height = if full_page { "400px" } else { "60px" };
    json!({
        "addonKey": install.app_key,
        "moduleKey": module_key,
        "title": module["name"]["value"],
        "presentation": presentation.as_str(),
        "deferred": deferred,
        "status": status,
        "icon": icon,
        "tooltip": module["tooltip"]["value"],
        "url": module_url(site, install, &framed, context, user.map(|u| u.account_id.as_str())),
        "slot": format!("slot-{}-{module_key}", install.app_key.replace('.', "-")),
        "options": {"autoresize": true, "width": "100%", "height": height, "isFullPage": full_page},
    })
}

/// Evaluates a module's conditions for this page; a module they hide is
/// recorded in the inspector.
pub(crate) fn shows_for(
    site: &Site,
    install: &AppInstall,
    context: &ViewContext,
    user: Option<&User>,
    module: &Value,
) -> bool {
    evaluate(site, install, context, user, module, true)
}

/// Evaluates `module`'s conditions; `record`: a module they hide goes to
/// the inspector (not for conditions that decide how a shown module looks).
fn evaluate(
    site: &Site,
    install: &AppInstall,
    context: &ViewContext,
    user: Option<&User>,
    module: &Value,
    record: bool,
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
    let facts = Facts {
        logged_in: user.is_some(),
        property: &property,
        product: &conditions::no_product_conditions,
    };
    let shown = conditions::shows(module.get("conditions"), &facts);
    if !shown && record {
        site.record(hidden(
            install,
            module,
            conditions::first_false(module.get("conditions"), &facts),
        ));
    }
    shown
}

/// The inspector's record of a module its conditions hide: no iframe URL
/// is signed, no request is made.
pub(crate) fn hidden(install: &AppInstall, module: &Value, condition: Option<Value>) -> Exchange {
    let key = module["key"].as_str().unwrap_or("module");
    let url = module["url"].as_str().unwrap_or_default();
    let reason = Reason { condition, ..Reason::new(Check::ConditionFalse, "a condition is false") };
    Exchange::to_app(Kind::Iframe, &install.app_key, "GET", url)
        .about(format!("module {key} hidden by its conditions"))
        .refused(reason)
}

/// The module kinds served at `/plugins/servlet/ac/{app}/{module}`, and who may open them.
pub(crate) const PAGE_MODULES: &[(&str, Role)] = &[
    ("generalPages", Role::Viewer),
    ("jiraProjectPages", Role::Viewer),
    ("jiraProjectAdminTabPanels", Role::ProjectAdmin),
    ("adminPages", Role::SiteAdmin),
    ("configurePage", Role::SiteAdmin),
];

/// General pages are open to anyone; other pages need a user of the role.
pub(crate) fn may_open(kind: &str, role: Role, user: Option<&User>) -> bool {
    kind == "generalPages" || user.is_some_and(|u| rank(u.role) >= rank(role))
}

fn rank(role: Role) -> u8 {
    match role {
        Role::Viewer | Role::User => 0,
        Role::ProjectAdmin => 1,
        Role::SiteAdmin => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspector::exchanges::Selection;
    use lodger_connect::installation::Product;
    use lodger_connect::secret::Secret;

    #[test]
    fn a_module_hidden_by_a_condition_is_recorded_with_the_condition() {
        let site = Site::seeded("acme", "http://127.0.0.1:2990");
        let condition = json!({"condition": "user_is_logged_in"});
        let module = json!({"key": "panel", "url": "/panel", "conditions": [condition]});
        let install = AppInstall {
            product: Product::Jira,
            app_key: "app".into(),
            app_base_url: "http://app.test".into(),
            shared_secret: Secret::new("s"),
            descriptor: json!({}),
            scopes: Vec::new(),
            enabled: true,
        };
        assert!(!shows_for(&site, &install, &ViewContext::default(), None, &module));
        let recorded = site.exchanges().newest_first(&Selection::default());
        let refusal = recorded[0].refusal.as_ref().unwrap();
        assert_eq!(refusal.check, Check::ConditionFalse);
        assert_eq!(refusal.condition, Some(condition));
        assert_eq!((recorded[0].kind, recorded[0].app.as_str()), (Kind::Iframe, "app"));
    }
}
