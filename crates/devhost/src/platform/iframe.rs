//! Iframe URLs, the way a product builds them for an app's module.
//!
//! The module's `url` from the descriptor has its context variables
//! substituted (`{issue.key}`, `{project.id}`, …), is made absolute under
//! the app's base URL, gets the standard parameters Atlassian adds (`xdm_e`
//! the host origin, `xdm_c` a channel name, `cp` the context path, `lic`,
//! `loc`, `tz`, `cv`) and finally a `jwt`: HS256 with the installation's
//! shared secret, `sub` the user's account id, `context` claims, and the
//! `qsh` of that URL relative to the app's base URL.
//!
//! In Confluence the variables are the page's (`{content.id}`,
//! `{content.version}`, `{content.type}`, `{space.key}`, `{macro.id}`), the
//! claims are `{"confluence": {"content": …, "space": …, "macro": …}}`, the
//! token is signed with the *Confluence* installation's secret and `iss` is
//! Confluence's clientKey, and `cp` is `/wiki` (Atlassian: "Context
//! parameters" and "Dynamic content macro"). A macro's own parameters are
//! variables too: `{title}` in a macro URL becomes the instance's `title`,
//! URL-encoded, or nothing when it has none.

use serde_json::{Value, json};

use crate::inspector::exchanges::{Exchange, Kind};
use crate::site::{AppInstall, Site};
use lodger_connect::installation::Product;
use lodger_connect::jwt::{self, Claims};
use lodger_connect::qsh::{query_string_hash, relative_path};

/// What the user is looking at, for variable substitution and claims.
#[derive(Debug, Clone, Default)]
pub struct ViewContext {
    /// `{issue.key}`, `{issue.id}`.
    pub issue: Option<(String, String)>,
    /// `{project.key}`, `{project.id}`.
    pub project: Option<(String, String)>,
    /// A Confluence page and the macro on it; when set, the context is
    /// Confluence's and the Jira fields are ignored.
    pub confluence: Option<ConfluenceContext>,
}

/// What a Confluence macro sees: the page it is on and its own id.
#[derive(Debug, Clone, Default)]
pub struct ConfluenceContext {
    /// `{content.id}`.
    pub content_id: String,
    /// `{content.version}`.
    pub content_version: u64,
    /// `{content.type}`: `page`.
    pub content_type: String,
    /// `{space.key}`.
    pub space_key: String,
    /// `{macro.id}`, when a macro is framed.
    pub macro_id: Option<String>,
    /// The macro's parameters, `{identifier}` in its URL; identifiers the
    /// descriptor declares but the instance lacks are substituted empty.
    pub macro_parameters: Vec<(String, String)>,
}

impl ViewContext {
    /// The `context` claim and `AP.context.getContext()` answer.
    pub fn claims(&self) -> Value {
        if let Some(c) = &self.confluence {
            let mut confluence = json!({
                "content": {"id": c.content_id, "version": c.content_version.to_string(), "type": c.content_type},
                "space": {"key": c.space_key},
            });
            if let Some(id) = &c.macro_id {
                confluence["macro"] = json!({ "id": id });
            }
            return json!({ "confluence": confluence });
        }
        let mut jira = json!({});
        if let Some((key, id)) = &self.issue {
            jira["issue"] = json!({"key": key, "id": id});
        }
        if let Some((key, id)) = &self.project {
            jira["project"] = json!({"key": key, "id": id});
        }
        json!({ "jira": jira })
    }

    fn substitute(&self, template: &str) -> String {
        let mut url = template.to_owned();
        let values = [
            ("{issue.key}", self.issue.as_ref().map(|i| i.0.as_str())),
            ("{issue.id}", self.issue.as_ref().map(|i| i.1.as_str())),
            ("{project.key}", self.project.as_ref().map(|p| p.0.as_str())),
            ("{project.id}", self.project.as_ref().map(|p| p.1.as_str())),
        ];
        for (variable, value) in values {
            url = url.replace(variable, value.unwrap_or(""));
        }
        if let Some(c) = &self.confluence {
            let version = c.content_version.to_string();
            let values = [
                ("{content.id}", c.content_id.as_str()),
                ("{content.version}", version.as_str()),
                ("{content.type}", c.content_type.as_str()),
                ("{space.key}", c.space_key.as_str()),
                ("{macro.id}", c.macro_id.as_deref().unwrap_or("")),
            ];
            for (variable, value) in values {
                url = url.replace(variable, &encode(value));
            }
            // After the context variables, so a parameter cannot be named
            // `content.id` to replace them; values are encoded, so no value
            // can add a query parameter or a variable of its own.
            for (name, value) in &c.macro_parameters {
                url = url.replace(&format!("{{{name}}}"), &encode(value));
            }
        }
        url
    }
}

/// The signed, absolute iframe URL of a module for `account_id`.
pub fn module_url(
    site: &Site,
    install: &AppInstall,
    module: &Value,
    context: &ViewContext,
    account_id: Option<&str>,
) -> String {
    let template = module["url"].as_str().unwrap_or("/");
    let substituted = context.substitute(template);
    let mut url = if substituted.starts_with("http") {
        substituted
    } else {
        format!("{}{substituted}", install.app_base_url)
    };
    let module_key = module["key"].as_str().unwrap_or("module");
    // `lic` only for apps that enable licensing, as Atlassian's hosts do.
    let licensing = install.descriptor["enableLicensing"] == true;
    let active = site.data().license_active.get(&install.app_key).copied().unwrap_or(true);
    let lic = match (licensing, active) {
        (false, _) => None,
        (true, true) => Some("active"),
        (true, false) => Some("none"),
    };
    let channel = format!("channel-{}__{module_key}", install.app_key);
    // `xdm_e` is the site's origin for both products; Confluence's context
    // path `/wiki` travels in `cp`.
    let context_path = match install.product {
        Product::Jira => "",
        Product::Confluence => crate::site::CONFLUENCE_CONTEXT_PATH,
    };
    let params = [
        ("xdm_e", Some(site.base_url.as_str())),
        ("xdm_c", Some(channel.as_str())),
        ("cp", Some(context_path)),
        ("lic", lic),
        ("loc", Some("en-US")),
        ("tz", Some("UTC")),
        ("cv", Some("1001.0.0-dev")),
    ];
    for (name, value) in params.into_iter().filter_map(|(n, v)| v.map(|v| (n, v))) {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(name);
        url.push('=');
        url.push_str(&encode(value));
    }
    let (path, query) = relative_path(&url, &install.app_base_url);
    let qsh = query_string_hash("GET", path, query);
    let claims = Claims {
        sub: account_id.map(str::to_owned),
        context: Some(context.claims()),
        ..Claims::new(site.client_key_of(install.product), lodger_connect::now(), 180, &qsh)
    };
    let token = jwt::sign(&claims, &install.shared_secret);
    site.record(iframe_exchange(install, module_key, &url, &token));
    format!("{url}&jwt={token}")
}

/// The inspector's record of a signed iframe URL handed to the page (the
/// browser loads it; the site sees no answer).
fn iframe_exchange(install: &AppInstall, module_key: &str, url: &str, token: &str) -> Exchange {
    Exchange::to_app(Kind::Iframe, &install.app_key, "GET", url)
        .about(format!("module {module_key} ({})", install.product.as_str()))
        .token("JWT", token)
}

/// Percent-encodes a query value (everything but unreserved characters).
pub(crate) fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
