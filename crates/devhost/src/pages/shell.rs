//! The shell of every product page the emulated site serves (the issue
//! view, app pages, the Confluence page view): top bar with the user
//! switcher and theme toggle, the site's navigation, the heading, and a
//! slot per app module, from the templates in `pages/templates/` (Tera,
//! HTML autoescaping). The page's script (`page/host.js`) reads the view
//! JSON in `#lodger-dev-view`, creates the iframes with the real
//! connect-js host bundle and answers the iframes' `AP` calls (Atlassian:
//! "Connect JavaScript API").
//!
//! Every page has a light/dark toggle in its top bar (`page/theme.js`): it
//! sets `data-color-mode` and `data-theme` on the page's `<html>`, as
//! Atlassian's products do, which is what connect-js's theme observer reads
//! to theme iframes that called `AP.theming.initializeTheming()`. The choice
//! is kept in the browser's localStorage.
//!
//! Forge UI modules (entries with `forge: true`) are framed by
//! `page/forge-host.js`, the host half of `@forge/bridge`, loaded last;
//! `host.js` leaves them alone.
//!
//! What it is not: which modules a page shows; the pages decide that.

use std::sync::OnceLock;

use serde::Serialize;
use serde_json::{Value, json};
use tera::{Context, Tera};
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;

use super::forge_modules::{admin_page_path, project_settings_path};
use super::manage_apps;
use super::modules::{PAGE_MODULES, may_open};
use crate::confluence::page_view;
use crate::forge::install::ForgeInstallation;
use crate::platform::auth::{ANONYMOUS, SESSION_COOKIE};
use crate::platform::errors::error;
use crate::platform::iframe::ViewContext;
use crate::site::{AppInstall, Role, Site, User};
use lodger_connect::installation::Product;

/// The shell templates, by name.
const TEMPLATES: [(&str, &str); 4] = [
    ("shell.html", include_str!("templates/shell.html")),
    ("slots.html", include_str!("templates/slots.html")),
    ("content.html", include_str!("templates/content.html")),
    ("manage_apps.html", include_str!("templates/manage_apps.html")),
];

/// A page of the emulated product and the app modules it frames.
pub(crate) struct Page<'a> {
    /// Which product shows the page (its REST base, its label).
    pub(crate) product: Product,
    /// The path, to come back to after switching user.
    pub(crate) path: String,
    /// Above the heading: where the page sits.
    pub(crate) breadcrumb: String,
    /// The heading.
    pub(crate) heading: String,
    /// Trusted HTML shown under the heading (a Confluence page's body).
    pub(crate) body_html: Option<String>,
    /// What the page is about (issue, project), for URLs, claims and conditions.
    pub(crate) context: ViewContext,
    /// The signed-in user.
    pub(crate) user: Option<&'a User>,
    /// The modules, in the page's view JSON shape.
    pub(crate) modules: Vec<Value>,
    /// Whether the modules fill the main column (full-page modules) rather
    /// than the right-hand context column (panels).
    pub(crate) full_page: bool,
}

/// Renders a page; a first visit also gets the session cookie of the site
/// admin, so that the iframes' `AP.request` calls run as that user.
pub(crate) fn respond(site: &Site, page: &Page<'_>, first_visit: bool) -> Response {
    let html = match render(site, page) {
        Ok(html) => html,
        Err(problem) => {
            tracing::error!(%problem, "a page template failed to render");
            return error(StatusCode::INTERNAL_SERVER_ERROR, "the page template failed to render");
        }
    };
    let mut response = Response::new(html.into());
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

/// A link in the site's navigation.
#[derive(Debug, Serialize)]
struct Link {
    href: String,
    text: String,
}

/// Links to every page of the site the current user may open.
fn navigation(site: &Site, user: Option<&User>) -> Vec<Link> {
    let mut links: Vec<(String, String)> = site
        .data()
        .issues
        .iter()
        .map(|i| (format!("/browse/{}", i.key), format!("{} {}", i.key, i.summary)))
        .collect();
    links.extend(page_view::navigation(site));
    let installs: Vec<AppInstall> =
        site.data().installs.values().filter(|i| i.enabled).cloned().collect();
    let project = site.projects.first();
    for install in &installs {
        for (kind, role) in PAGE_MODULES {
            if !may_open(kind, *role, user) {
                continue;
            }
            let modules = install.modules(kind);
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
    links.extend(forge_navigation(site, user));
    if user.is_some_and(User::is_site_admin) {
        links.push((manage_apps::page_path(Product::Jira), "Manage apps (Jira)".into()));
        links
            .push((manage_apps::page_path(Product::Confluence), "Manage apps (Confluence)".into()));
    }
    links.push(("/dev/inspector".into(), "Inspector: exchanges with apps".into()));
    links.into_iter().map(|(href, text)| Link { href, text }).collect()
}

/// Links to the Forge apps' admin and project settings pages the user may open.
fn forge_navigation(site: &Site, user: Option<&User>) -> Vec<(String, String)> {
    let Some(user) = user else { return Vec::new() };
    let installs: Vec<ForgeInstallation> = site.data().forge.installs.values().cloned().collect();
    let project = site.projects.first();
    let mut links = Vec::new();
    for install in &installs {
        let manifest = &install.manifest;
        let title = |m: &crate::forge::manifest::UiModule| m.title.clone().unwrap_or(m.key.clone());
        if user.is_site_admin() {
            if let Some(module) = manifest.ui_modules_of("jira:adminPage").next() {
                links.push((admin_page_path(install), format!("{} (Forge)", title(module))));
            }
        }
        if matches!(user.role, Role::SiteAdmin | Role::ProjectAdmin) {
            if let (Some(module), Some(project)) =
                (manifest.ui_modules_of("jira:projectSettingsPage").next(), project)
            {
                links.push((
                    project_settings_path(install, &project.key),
                    format!("{} (Forge)", title(module)),
                ));
            }
        }
    }
    links
}

/// The site's templates, parsed once.
fn templates() -> Result<&'static Tera, tera::Error> {
    static TERA: OnceLock<Result<Tera, String>> = OnceLock::new();
    let parsed = TERA.get_or_init(|| {
        let mut tera = Tera::default();
        tera.autoescape_on(vec![".html"]);
        tera.set_escape_fn(escape);
        tera.add_raw_templates(TEMPLATES).map(|()| tera).map_err(|e| e.to_string())
    });
    parsed.as_ref().map_err(|message| tera::Error::msg(message.clone()))
}

/// Renders one of the pages' templates (HTML escaped as the shell is), for
/// a page's body.
pub(crate) fn render_template(name: &str, context: &Context) -> Result<String, tera::Error> {
    templates()?.render(name, context)
}

fn render(site: &Site, page: &Page<'_>) -> Result<String, tera::Error> {
    let people: Vec<Value> = site
        .users
        .iter()
        .map(|u| (u.account_id.as_str(), u.display_name.as_str()))
        .chain([(ANONYMOUS, "Anonymous (logged out)")])
        .map(|(account, name)| {
            let selected = page.user.map_or(ANONYMOUS, |u| u.account_id.as_str()) == account;
            json!({"account": account, "name": name, "selected": selected})
        })
        .collect();
    let slot = |m: &Value| {
        json!({
            "title": m["title"].as_str().unwrap_or(""),
            "label": m["label"].as_str().or(m["title"].as_str()).unwrap_or("macro"),
            "badge": m["status"]["label"].as_str().or(m["status"].as_str()),
            "badge_type": if m["status"]["type"] == "lozenge" { "lozenge" } else { "badge" },
            "presentation": m["presentation"].as_str().unwrap_or("panel"),
            "deferred": m["deferred"] == true,
            "icon": m["icon"].as_str(),
            "tooltip": m["tooltip"].as_str(),
            "app": m["addonKey"].as_str().unwrap_or(""),
            "module": m["moduleKey"].as_str().unwrap_or(""),
            // A macro with a custom editor: host.js opens it from its button.
            "editable": m["editor"].is_object(),
            "id": m["slot"].as_str().unwrap_or(""),
        })
    };
    // The issue view puts content panels (and their quick-add buttons)
    // under the summary, everything else beside the fields.
    let (content, slots): (Vec<Value>, Vec<Value>) =
        page.modules.iter().map(slot).partition(|s| s["presentation"] == "content");
    let view = json!({
        "site": {"name": site.name, "baseUrl": site.base_url_of(page.product), "product": page.product.as_str()},
        "user": page.user.map_or(json!({"loggedIn": false}), |u| json!({"accountId": u.account_id, "displayName": u.display_name, "loggedIn": true})),
        "context": page.context.claims(),
        "modules": page.modules,
    });
    let view_json = view.to_string().replace("</", "<\\/");
    let context = Context::from_serialize(json!({
        "heading": page.heading,
        "site": site.name,
        "product": match page.product {
            Product::Jira => "Jira",
            Product::Confluence => "Confluence",
        },
        "path": page.path,
        "breadcrumb": page.breadcrumb,
        "people": people,
        "navigation": navigation(site, page.user),
        "full_page": page.full_page,
        "body_html": page.body_html,
        "slots": slots,
        "content_slots": content,
        "view_json": view_json,
    }))?;
    templates()?.render("shell.html", &context)
}

/// Minimal HTML escaping for text and attribute values.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page<'a>(site: &'a Site, modules: Vec<Value>, full_page: bool) -> Page<'a> {
        Page {
            product: Product::Jira,
            path: "/browse/LOD-1?x=\"y\"".into(),
            breadcrumb: "Lodger demo / LOD-1".into(),
            heading: "It's <b>bold</b> & \"quoted\"".into(),
            body_html: None,
            context: ViewContext::default(),
            user: site.users.first(),
            modules,
            full_page,
        }
    }

    #[test]
    fn the_shell_keeps_the_ids_and_script_order_host_js_depends_on() {
        let site = Site::seeded("acme", "http://127.0.0.1:2990");
        let html = render(&site, &page(&site, Vec::new(), false)).unwrap();
        let order: Vec<usize> = [
            "<script src=\"/dev/static/theme.js\"></script>",
            "<script id=\"lodger-dev-view\" type=\"application/json\">{",
            "id=\"theme-toggle\"",
            "<div id=\"flags\" aria-live=\"polite\"></div>",
            "<script src=\"/dev/static/jquery.js\"></script>\n<script src=\"/dev/static/globals.js\"></script>\n<script src=\"/dev/static/connect-host.js\"></script>\n<script src=\"/dev/static/host.js\"></script>",
            // issue-view.js dispatches the events the two host halves listen for.
            "<script src=\"/dev/static/forge-host.js\"></script>\n<script src=\"/dev/static/issue-view.js\"></script>",
        ]
        .iter()
        .map(|needle| html.find(needle).unwrap_or_else(|| panic!("{needle} missing")))
        .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
        assert!(
            html.contains("<h1>It&#39;s &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;</h1>")
        );
        assert!(html.contains("name=\"next\" value=\"/browse/LOD-1?x=&quot;y&quot;\""));
        assert!(html.contains("<option value=\"557058:acme-admin\" selected>Ada Admin</option>"));
        assert!(html.contains(
            "<aside class=\"issue-context\"><p class=\"subtle\">No app adds anything here.</p></aside>"
        ));
    }

    #[test]
    fn module_slots_carry_their_badge_and_editor_button() {
        let site = Site::seeded("acme", "http://127.0.0.1:2990");
        let modules = vec![
            json!({"title": "Checklist", "status": "2/3", "slot": "slot-app-glance"}),
            json!({"title": null, "editor": {}, "slot": "slot-app-macro"}),
        ];
        let html = render(&site, &page(&site, modules, true)).unwrap();
        assert!(html.contains(
            "<section class=\"panel\"><h2>Checklist <span class=\"badge\">2/3</span></h2><div class=\"slot\" id=\"slot-app-glance\"></div></section><section class=\"panel\"><h2> <button type=\"button\" class=\"macro-edit\" data-slot=\"slot-app-macro\" aria-label=\"Edit macro\">Edit</button></h2><div class=\"slot\" id=\"slot-app-macro\"></div></section>\n  </div>"
        ));
        assert!(html.contains("<aside class=\"issue-context\"></aside>"));
        assert!(!html.contains("No app adds anything here."));
    }

    #[test]
    fn the_issue_view_draws_glances_compact_contexts_collapsed_and_content_behind_quick_add() {
        let site = Site::seeded("acme", "http://127.0.0.1:2990");
        let modules = vec![
            json!({"title": "Checklist", "presentation": "glance", "deferred": true,
                   "status": {"type": "lozenge", "label": "<done>"}, "icon": "http://app.test/i.svg",
                   "slot": "slot-g"}),
            json!({"title": "Progress", "label": "Open it", "presentation": "context", "deferred": true, "slot": "slot-c"}),
            json!({"title": "Notes", "presentation": "content", "deferred": true, "tooltip": "Add \"notes\"",
                   "addonKey": "app", "moduleKey": "notes", "slot": "slot-n"}),
            json!({"title": "Added", "presentation": "content", "deferred": false,
                   "addonKey": "app", "moduleKey": "added", "slot": "slot-a"}),
        ];
        let html = render(&site, &page(&site, modules, false)).unwrap();
        // The glance: one line with icon, name and escaped status; its panel
        // hidden and its slot deferred until opened.
        assert!(html.contains("<section class=\"glance\"><button type=\"button\" class=\"glance-open\" data-opens=\"slot-g\" aria-expanded=\"false\"><img class=\"module-icon\" src=\"http://app.test/i.svg\" alt=\"\" width=\"16\" height=\"16\"><span class=\"glance-name\">Checklist</span> <span class=\"lozenge\">&lt;done&gt;</span></button><div class=\"glance-panel\" hidden>"), "{html}");
        assert!(html.contains("<div class=\"slot\" id=\"slot-g\" data-deferred=\"true\"></div>"));
        // The issue context: a collapsed header with its label.
        assert!(html.contains("class=\"context-toggle\" data-opens=\"slot-c\" aria-expanded=\"false\">Progress <span class=\"subtle\">Open it</span></button></h2><div class=\"context-body\" hidden>"));
        // Content: quick-add buttons in the main column; the panel not yet
        // added is hidden, the added one is framed at once.
        let main = &html[..html.find("<aside").unwrap()];
        assert!(main.contains("data-adds=\"slot-n\" data-app=\"app\" data-module=\"notes\" title=\"Add &quot;notes&quot;\">Notes</button>"));
        assert!(main.contains("<section class=\"panel content-panel\" hidden><h2>Notes</h2><div class=\"slot\" id=\"slot-n\" data-deferred=\"true\"></div></section>"));
        assert!(main.contains("<section class=\"panel content-panel\"><h2>Added</h2><div class=\"slot\" id=\"slot-a\"></div></section>"));
    }

    #[test]
    fn the_view_json_cannot_close_its_script_element() {
        let site = Site::seeded("acme", "http://127.0.0.1:2990");
        let modules = vec![json!({"title": "</script><script>alert(1)</script>", "slot": "s"})];
        let html = render(&site, &page(&site, modules, false)).unwrap();
        assert_eq!(html.matches("</script>").count(), 8, "{html}");
        assert!(html.contains("<\\/script><script>alert(1)<\\/script>"));
    }
}
