//! The state of a site's Confluence (Atlassian: "Confluence Cloud REST API
//! v1", "Content", "Content properties"): its installations, app
//! properties, the pages of space `LOD` and their content properties and
//! macro parameters. The model only, so that the site can hold it without
//! knowing the resources ([`super::content`], [`super::macro_editor`]).

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::platform::installation::AppInstall;

/// The seeded space.
pub const SPACE_KEY: &str = "LOD";
/// The seeded space's name.
pub const SPACE_NAME: &str = "Lodger demo";

/// A Confluence page.
#[derive(Debug, Clone)]
pub struct ContentPage {
    /// Numeric id, as a string.
    pub id: String,
    /// The title.
    pub title: String,
    /// The space key.
    pub space_key: String,
    /// The page's version number.
    pub version: u64,
    /// The body as HTML (the "view" representation).
    pub body_html: String,
}

/// A content property and its version.
#[derive(Debug, Clone)]
pub struct ContentProperty {
    /// The property's own id.
    pub id: String,
    /// The value (any JSON).
    pub value: Value,
    /// The version number, 1 when created.
    pub version: u64,
}

/// The mutable state of a site's Confluence.
#[derive(Debug, Default)]
pub struct ConfluenceData {
    /// Apps installed in Confluence, by key.
    pub installs: HashMap<String, AppInstall>,
    /// App properties by (app key, property key).
    pub app_properties: BTreeMap<(String, String), Value>,
    /// UPM tokens Confluence's plugin manager handed out.
    pub upm_tokens: Vec<String>,
    /// The pages, in creation order.
    pub pages: Vec<ContentPage>,
    /// Content properties by (content id, key).
    pub content_properties: BTreeMap<(String, String), ContentProperty>,
    /// The last content property id handed out.
    pub last_property_id: u64,
    /// Each macro instance's parameters, by (content id, macro id), once an
    /// editor saved them; before that, the descriptor's `defaultValue`s
    /// apply (see [`super::macro_editor`]).
    pub macro_parameters: BTreeMap<(String, String), BTreeMap<String, String>>,
    /// Each macro instance's body, by (content id, macro id), once set;
    /// before that, a seeded one (see [`super::macro_body`]).
    pub macro_bodies: BTreeMap<(String, String), String>,
    /// Forge macros' configs by (content id, app id, module key), saved by
    /// `view.submit` (see [`super::forge_macro_config`]).
    pub forge_macro_configs: BTreeMap<(String, String, String), Value>,
}

impl ConfluenceData {
    /// Three pages in space `LOD`. Each body holds one instance of every
    /// installed app's dynamic content macro (the page view frames them).
    pub fn seeded() -> ConfluenceData {
        let pages = [
            ("Team checklist", "<p>What we do before every release.</p>"),
            ("Meeting notes", "<p>Notes from the weekly sync.</p>"),
            ("Onboarding", "<p>Everything a newcomer needs in week one.</p>"),
        ]
        .iter()
        .enumerate()
        .map(|(i, (title, body))| ContentPage {
            id: (65537 + i).to_string(),
            title: (*title).to_owned(),
            space_key: SPACE_KEY.to_owned(),
            version: 1,
            body_html: (*body).to_owned(),
        })
        .collect();
        ConfluenceData { pages, ..ConfluenceData::default() }
    }

    /// The page with this id (a copy).
    pub fn page(&self, id: &str) -> Option<ContentPage> {
        self.pages.iter().find(|p| p.id == id).cloned()
    }
}
