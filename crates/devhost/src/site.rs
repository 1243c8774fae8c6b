//! One emulated Atlassian site: its people, its Jira projects and issues,
//! its Confluence space and pages, the apps installed in it and everything
//! they store there.
//!
//! Like an Atlassian Cloud site, it hosts two products on one origin: Jira
//! at the root and Confluence under `/wiki`. To an app they are two tenants
//! (two `clientKey`s, two installations, two secrets). The data model keeps
//! that split with the least change to Jira's side: [`SiteData`]'s own
//! fields stay Jira's, Confluence's live in [`SiteData::confluence`], every
//! [`AppInstall`] records its [`Product`], and code that serves both picks
//! the map with [`SiteData::installs_in`] and friends.
//!
//! All state is in memory behind one mutex: the emulator serves a developer
//! and a test suite, not a crowd, and a single lock keeps every operation
//! atomic the way a real host's database would.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

use serde_json::Value;

use crate::confluence::data::ConfluenceData;
use crate::forge::state::ForgeState;
use crate::inspector::exchanges::Exchanges;
use crate::jira::issue_types::IssueExtras;
use crate::jira::tasks::Task;
use crate::jira::webhooks::state::WebhookState;
use crate::platform::faults::Faults;
use crate::platform::keys::random_id;
use lodger_connect::installation::Product;

pub use crate::platform::installation::AppInstall;

/// Confluence's context path on a cloud site: its pages and REST API live
/// under `<site>/wiki` (Atlassian: "Confluence Cloud REST API", URIs).
pub const CONFLUENCE_CONTEXT_PATH: &str = "/wiki";

/// What a user may do on the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Administers the site: installs apps, sees the admin pages.
    SiteAdmin,
    /// Administers the projects (project settings, project properties).
    ProjectAdmin,
    /// Browses and edits issues.
    User,
    /// Browses issues but may not edit them (a customer, a stakeholder).
    Viewer,
}

/// A person with an Atlassian account on the site.
#[derive(Debug, Clone)]
pub struct User {
    /// The Atlassian account id (the `sub` of tokens).
    pub account_id: String,
    /// The name shown in the UI.
    pub display_name: String,
    /// The email (the Basic-auth user name for UPM).
    pub email: String,
    /// The password or API token for Basic auth.
    pub api_token: String,
    /// What they may do.
    pub role: Role,
}

impl User {
    /// Whether they administer the site: install apps, open the admin pages.
    pub fn is_site_admin(&self) -> bool {
        self.role == Role::SiteAdmin
    }
}

/// A Jira project.
#[derive(Debug, Clone)]
pub struct Project {
    /// Numeric id, as a string (Jira's REST shape).
    pub id: String,
    /// The key, e.g. `LOD`.
    pub key: String,
    /// The name.
    pub name: String,
}

/// A Jira issue.
#[derive(Debug, Clone)]
pub struct Issue {
    /// Numeric id, as a string.
    pub id: String,
    /// The key, e.g. `LOD-1`.
    pub key: String,
    /// The project's id.
    pub project_id: String,
    /// The summary.
    pub summary: String,
}

/// The mutable part of a site.
#[derive(Debug, Default)]
pub struct SiteData {
    /// The issues, in creation order.
    pub issues: Vec<Issue>,
    /// Installed apps by key.
    pub installs: HashMap<String, AppInstall>,
    /// App properties by (app key, property key).
    pub app_properties: BTreeMap<(String, String), Value>,
    /// Issue entity properties by (issue id, property key).
    pub issue_properties: BTreeMap<(String, String), Value>,
    /// UPM tokens handed out and not yet used.
    pub upm_tokens: Vec<String>,
    /// Finished UPM install tasks by id: `Ok(app key)` or `Err(message)`.
    pub upm_tasks: HashMap<String, Result<String, String>>,
    /// Project entity properties by (project id, property key).
    pub project_properties: BTreeMap<(String, String), Value>,
    /// User entity properties by (account id, property key).
    pub user_properties: BTreeMap<(String, String), Value>,
    /// Jira's long-running tasks (`/rest/api/3/task/{id}`) by id.
    pub tasks: BTreeMap<String, Task>,
    /// How long a bulk task stays queued, and then running (`None`: 150 ms
    /// each). Tests that run thousands of tasks shorten it.
    pub task_pace: Option<std::time::Duration>,
    /// Whether a licensed app's license is active, by app key (absent:
    /// active). Tests flip it to see an app without a valid license.
    pub license_active: HashMap<String, bool>,
    /// Dynamic webhooks, delivery policy, failed and recent deliveries
    /// ([`crate::jira::webhooks`]).
    pub webhooks: WebhookState,
    /// Injected faults ([`crate::platform::faults`]).
    pub faults: Faults,
    /// Issue types and id counters ([`crate::jira::issues`]).
    pub issue_extras: IssueExtras,
    /// Issue comments ([`crate::jira::comments`]).
    pub comments: crate::jira::comments::Comments,
    /// The site's Confluence: its installations, app properties, pages and
    /// content properties ([`crate::confluence`]). Everything above is Jira's.
    pub confluence: ConfluenceData,
    /// The site's Forge side: its `cloudId`, Forge apps, product tokens,
    /// Forge app properties and event deliveries ([`crate::forge`]).
    pub forge: ForgeState,
    /// Content panels added to issues with their quick-add buttons, as
    /// (issue id, app key or Forge app id, module key)
    /// ([`crate::pages::issue_view`]).
    pub added_content: BTreeSet<(String, String, String)>,
    /// The last lifecycle callback sent to each app and how it was
    /// answered, by (product name, app key), e.g. `enabled: the app answered
    /// 204` (the Manage apps page shows it).
    pub lifecycle_states: BTreeMap<(String, String), String>,
}

impl SiteData {
    /// The apps installed in `product`, by key.
    pub fn installs_in(&self, product: Product) -> &HashMap<String, AppInstall> {
        match product {
            Product::Jira => &self.installs,
            Product::Confluence => &self.confluence.installs,
        }
    }

    /// The apps installed in `product`, by key, to change.
    pub fn installs_in_mut(&mut self, product: Product) -> &mut HashMap<String, AppInstall> {
        match product {
            Product::Jira => &mut self.installs,
            Product::Confluence => &mut self.confluence.installs,
        }
    }

    /// The app properties `product` keeps, by (app key, property key).
    pub fn app_properties_in_mut(
        &mut self,
        product: Product,
    ) -> &mut BTreeMap<(String, String), Value> {
        match product {
            Product::Jira => &mut self.app_properties,
            Product::Confluence => &mut self.confluence.app_properties,
        }
    }

    /// The UPM tokens `product`'s plugin manager handed out.
    pub fn upm_tokens_in_mut(&mut self, product: Product) -> &mut Vec<String> {
        match product {
            Product::Jira => &mut self.upm_tokens,
            Product::Confluence => &mut self.confluence.upm_tokens,
        }
    }
}

/// One emulated site.
#[derive(Debug)]
pub struct Site {
    /// A short name (`acme`).
    pub name: String,
    /// The site's base URL (Jira's REST lives right under it).
    pub base_url: String,
    /// The Jira instance's `clientKey`.
    pub client_key: String,
    /// The Confluence instance's `clientKey` (`confluence:<name>-…`): each
    /// product of a site is its own tenant to an app.
    pub confluence_client_key: String,
    /// The people.
    pub users: Vec<User>,
    /// The projects.
    pub projects: Vec<Project>,
    data: Mutex<SiteData>,
    exchanges: Mutex<Exchanges>,
}

/// The development instance's site admin login, accepted beside the
/// per-site accounts (see [`Site::basic_auth`]).
pub const DEV_ADMIN_USER: &str = "admin";
/// Its password.
pub const DEV_ADMIN_PASSWORD: &str = "admin";

impl Site {
    /// A site seeded with one project (`LOD`), three issues and four people:
    /// a site admin (`admin@<name>.test`, token `admin`), a project admin, a
    /// plain user and a viewer who may browse but not edit. Anonymous visitors
    /// are the fifth kind of caller.
    pub fn seeded(name: &str, base_url: &str) -> Site {
        let user = |id: &str, display: &str, role| User {
            account_id: format!("557058:{name}-{id}"),
            display_name: display.to_owned(),
            email: format!("{id}@{name}.test"),
            api_token: id.to_owned(),
            role,
        };
        let project = Project { id: "10000".into(), key: "LOD".into(), name: "Lodger demo".into() };
        let issues: Vec<Issue> =
            ["Try the checklist", "Write the release notes", "Plan the offsite"]
                .iter()
                .enumerate()
                .map(|(i, summary)| Issue {
                    id: (10001 + i).to_string(),
                    key: format!("LOD-{}", i + 1),
                    project_id: project.id.clone(),
                    summary: (*summary).to_owned(),
                })
                .collect();
        Site {
            name: name.to_owned(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            client_key: format!("jira:{name}-{}", random_id(6)),
            confluence_client_key: format!("confluence:{name}-{}", random_id(6)),
            users: vec![
                user("admin", "Ada Admin", Role::SiteAdmin),
                user("lead", "Pat Project-Lead", Role::ProjectAdmin),
                user("dev", "Dev Eloper", Role::User),
                user("viewer", "Val Viewer", Role::Viewer),
            ],
            projects: vec![project],
            data: Mutex::new(SiteData {
                issues,
                confluence: ConfluenceData::seeded(),
                ..SiteData::default()
            }),
            exchanges: Mutex::new(Exchanges::default()),
        }
    }

    /// The `clientKey` of the site's `product`.
    pub fn client_key_of(&self, product: Product) -> &str {
        match product {
            Product::Jira => &self.client_key,
            Product::Confluence => &self.confluence_client_key,
        }
    }

    /// The base URL of the site's `product`: Jira's is the site's own,
    /// Confluence's is `<site>/wiki`, as on Atlassian Cloud.
    pub fn base_url_of(&self, product: Product) -> String {
        match product {
            Product::Jira => self.base_url.clone(),
            Product::Confluence => format!("{}{}", self.base_url, CONFLUENCE_CONTEXT_PATH),
        }
    }

    /// The mutable state, locked.
    pub fn data(&self) -> MutexGuard<'_, SiteData> {
        self.data.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The exchanges with apps the inspector shows ([`crate::inspector`]),
    /// locked. A lock of its own: recording never waits for, nor blocks,
    /// the site's data.
    pub fn exchanges(&self) -> MutexGuard<'_, Exchanges> {
        self.exchanges.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The user with this account id.
    pub fn user(&self, account_id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.account_id == account_id)
    }

    /// The issue with this key or id (a copy: issues change).
    pub fn issue(&self, key_or_id: &str) -> Option<Issue> {
        self.data().issues.iter().find(|i| i.key == key_or_id || i.id == key_or_id).cloned()
    }

    /// The key of the first issue, whose page `lodger dev` prints.
    pub fn first_issue_key(&self) -> String {
        self.data().issues.first().map_or_else(|| "LOD-1".to_owned(), |i| i.key.clone())
    }

    /// The project with this key or id.
    pub fn project(&self, key_or_id: &str) -> Option<&Project> {
        self.projects.iter().find(|p| p.key == key_or_id || p.id == key_or_id)
    }

    /// Checks Basic-auth credentials of a user: `email:token` as on a cloud
    /// site (Atlassian: "Basic auth for REST APIs"), or `admin:admin`, the
    /// site admin of a development instance (Atlassian: "Atlassian Plugin
    /// SDK", the local product's default login), which tools such as
    /// atlassian-connect-express's auto-registration are set up with.
    pub fn basic_auth(&self, header: Option<&str>) -> Option<&User> {
        use base64::Engine;
        let encoded = header?.strip_prefix("Basic ")?;
        let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (email, token) = decoded.split_once(':')?;
        if (email, token) == (DEV_ADMIN_USER, DEV_ADMIN_PASSWORD) {
            return self.users.iter().find(|u| u.is_site_admin());
        }
        self.users.iter().find(|u| u.email == email && u.api_token == token)
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;

    use super::*;

    fn basic(credentials: &str) -> String {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(credentials))
    }

    #[test]
    fn accepts_site_accounts_and_the_development_admin_login_only() {
        let site = Site::seeded("acme", "http://127.0.0.1:2990");
        let as_admin = site.basic_auth(Some(&basic("admin:admin"))).map(|u| u.role);
        assert_eq!(as_admin, Some(Role::SiteAdmin));
        let dev = site.basic_auth(Some(&basic("dev@acme.test:dev"))).map(|u| u.role);
        assert_eq!(dev, Some(Role::User));
        for wrong in ["admin:wrong", "dev:dev", "admin@acme.test:nope", "nocolon", ""] {
            assert!(site.basic_auth(Some(&basic(wrong))).is_none(), "{wrong}");
        }
        assert!(site.basic_auth(Some("Bearer admin:admin")).is_none());
        assert!(site.basic_auth(None).is_none());
    }
}
