//! Page templates: the app's HTML pages are tera templates, rendered once
//! with values fixed by the configuration.
//!
//! A page needs a few facts that only the operator knows, above all its app
//! key (to read its app properties through `AP.request`). Rather than put
//! them in every iframe URL, or render per request, lodger renders each
//! HTML page once: at start for the embedded site (see
//! [`super::assets::Assets::embedded`]), and at export for a CDN. The dev
//! world, which serves `site/` from disk so edits show on reload, renders a
//! page when it is requested.
//!
//! | variable | value |
//! |---|---|
//! | `app_key` | the Jira app key |
//! | `confluence_app_key` | the Confluence app key |
//! | `base_url` | the app's base URL |
//!
//! Values are HTML-escaped (tera's autoescape), and the app keys can only
//! hold `[A-Za-z0-9._-]` anyway (see [`crate::descriptor::AppKeys`]).

use tera::{Context, Tera};

use crate::descriptor::{AppKeys, error_chain};

/// A page template that does not render: a defect of `site/`, found at
/// start (embedded) or on the request (dev world).
#[derive(Debug, thiserror::Error)]
#[error("the page {page} does not render: {reason}")]
pub struct PageError {
    /// The page's path below `site/`.
    pub page: String,
    /// What tera said, with its causes.
    pub reason: String,
}

/// The values every page template may use.
#[derive(Debug, Clone)]
pub struct PageValues {
    context: Context,
}

impl PageValues {
    /// The values for an app served at `base_url` under `keys`.
    pub fn new(base_url: &str, keys: &AppKeys) -> PageValues {
        let mut context = Context::new();
        context.insert("app_key", &keys.jira);
        context.insert("confluence_app_key", &keys.confluence);
        context.insert("base_url", base_url.trim_end_matches('/'));
        PageValues { context }
    }

    /// Renders the page template `source` (named `page` in errors).
    ///
    /// ```
    /// use lodger::descriptor::AppKeys;
    /// use lodger::web::pages::PageValues;
    ///
    /// let values = PageValues::new("https://lodger.example", &AppKeys::new("lodger")?);
    /// let page = values.render("a.html", r#"<meta name="lodger-app-key" content="{{ app_key }}">"#)?;
    /// assert_eq!(page, r#"<meta name="lodger-app-key" content="lodger">"#);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn render(&self, page: &str, source: &str) -> Result<String, PageError> {
        Tera::one_off(source, &self.context, true)
            .map_err(|err| PageError { page: page.to_owned(), reason: error_chain(&err) })
    }
}
