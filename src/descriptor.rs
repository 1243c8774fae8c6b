//! lodger's descriptors: one template per product in `descriptor/`, rendered
//! with the base URL and the app key.
//!
//! A Connect descriptor is product-specific, so lodger is two Connect apps:
//! `lodger` for Jira, served at `/atlassian-connect.json`, and
//! `lodger.confluence` for Confluence, at `/confluence/atlassian-connect.json`
//! ([`AppKeys`]). Both opt in to the `signed-install` and `context-qsh` API
//! migrations and ask only for `READ` and `WRITE`: properties, webhooks and
//! permission checks need no more. The checks a host makes at install are the
//! kit's ([`crate::connect::descriptor::problems`]).
//!
//! ```
//! use lodger::descriptor::{AppKeys, Templates};
//! use lodger::connect::installation::Product;
//!
//! let keys = AppKeys::new("lodger")?;
//! let json = Templates::embedded()?.render(Product::Jira, "https://lodger.example", &keys)?;
//! let descriptor: serde_json::Value = serde_json::from_str(&json)?;
//! assert_eq!(descriptor["key"], "lodger");
//! assert!(lodger::connect::descriptor::problems(&descriptor).is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use include_dir::{Dir, include_dir};
use serde_json::Value;
use tera::{Context, Tera};

use crate::connect::installation::Product;

/// The descriptor templates, embedded at build time.
static EMBEDDED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/descriptor");

/// Why a descriptor could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum DescriptorError {
    /// A template is missing or does not parse.
    #[error("descriptor template {name}: {reason}")]
    Template {
        /// The template's file name.
        name: String,
        /// What the template engine said.
        reason: String,
    },
    /// The rendered text is not JSON.
    #[error("rendered {0} descriptor is not valid JSON")]
    NotJson(&'static str),
    /// The app key is not 1 to 64 letters, digits, `-`, `.` or `_` (64 leaves
    /// room for `.confluence` within Atlassian's limit of 80).
    #[error("app key must be 1 to 64 characters of letters, digits, '-', '.' and '_'")]
    BadAppKey,
}

/// The app keys, one per product (a descriptor belongs to one product).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppKeys {
    /// The Jira app's key, as configured.
    pub jira: String,
    /// The Confluence app's key: the Jira key with `.confluence` appended.
    pub confluence: String,
}

impl AppKeys {
    /// Keys derived from one configured base key.
    pub fn new(base: &str) -> Result<AppKeys, DescriptorError> {
        // 64 leaves room for ".confluence" under Atlassian's limit of 80.
        let ok = (1..=64).contains(&base.len())
            && base.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
        if !ok {
            return Err(DescriptorError::BadAppKey);
        }
        Ok(AppKeys { jira: base.to_owned(), confluence: format!("{base}.confluence") })
    }

    /// The key of the app for `product`.
    pub fn for_product(&self, product: Product) -> &str {
        match product {
            Product::Jira => &self.jira,
            Product::Confluence => &self.confluence,
        }
    }

    /// Both keys, Jira first.
    pub fn all(&self) -> [&str; 2] {
        [&self.jira, &self.confluence]
    }
}

/// Where each product's descriptor is served, relative to the base URL.
pub fn descriptor_path(product: Product) -> &'static str {
    match product {
        Product::Jira => "/atlassian-connect.json",
        Product::Confluence => "/confluence/atlassian-connect.json",
    }
}

/// The parsed descriptor templates.
#[derive(Debug)]
pub struct Templates {
    tera: Tera,
}

impl Templates {
    /// The templates embedded in the binary.
    pub fn embedded() -> Result<Templates, DescriptorError> {
        let source = |product: Product| {
            let name = template_name(product);
            EMBEDDED.get_file(name).and_then(|file| file.contents_utf8()).ok_or_else(|| {
                DescriptorError::Template { name: name.into(), reason: "not embedded".into() }
            })
        };
        Templates::from_sources(source(Product::Jira)?, source(Product::Confluence)?)
    }

    /// Templates from source text (the dev world reloads them from disk).
    pub fn from_sources(jira: &str, confluence: &str) -> Result<Templates, DescriptorError> {
        let mut tera = Tera::default();
        for (product, text) in [(Product::Jira, jira), (Product::Confluence, confluence)] {
            let name = template_name(product);
            tera.add_raw_template(name, text).map_err(|err| DescriptorError::Template {
                name: name.into(),
                reason: error_chain(&err),
            })?;
        }
        Ok(Templates { tera })
    }

    /// Renders the descriptor of `product` for an app served at `base_url`.
    pub fn render(
        &self,
        product: Product,
        base_url: &str,
        keys: &AppKeys,
    ) -> Result<String, DescriptorError> {
        let base_url = base_url.trim_end_matches('/');
        let mut context = Context::new();
        context.insert("base_url", base_url);
        context.insert("app_key", keys.for_product(product));
        context.insert("self_url", &format!("{base_url}{}", descriptor_path(product)));
        let name = template_name(product);
        let text = self.tera.render(name, &context).map_err(|err| DescriptorError::Template {
            name: name.into(),
            reason: error_chain(&err),
        })?;
        serde_json::from_str::<Value>(&text)
            .map_err(|_| DescriptorError::NotJson(product.as_str()))?;
        Ok(text)
    }
}

fn template_name(product: Product) -> &'static str {
    match product {
        Product::Jira => "jira.json.tera",
        Product::Confluence => "confluence.json.tera",
    }
}

/// An error and its causes on one line (tera puts the useful part in a cause).
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::descriptor::problems;

    fn render(product: Product, base: &str) -> Value {
        let keys = AppKeys::new("lodger").unwrap();
        serde_json::from_str(&Templates::embedded().unwrap().render(product, base, &keys).unwrap())
            .unwrap()
    }

    #[test]
    fn renders_both_products_with_their_own_keys() {
        let jira = render(Product::Jira, "https://lodger.example/");
        let confluence = render(Product::Confluence, "https://lodger.example");
        assert_eq!(
            (jira["key"].as_str(), confluence["key"].as_str()),
            (Some("lodger"), Some("lodger.confluence"))
        );
        assert_eq!(jira["baseUrl"], "https://lodger.example");
        assert_eq!(
            confluence["links"]["self"],
            "https://lodger.example/confluence/atlassian-connect.json"
        );
        assert!(problems(&jira).is_empty(), "{:?}", problems(&jira));
        assert!(problems(&confluence).is_empty(), "{:?}", problems(&confluence));
    }

    #[test]
    fn hostile_base_url_cannot_break_the_json() {
        let value = render(Product::Jira, "https://x\", \"key\": \"evil");
        assert_eq!(value["key"], "lodger");
        assert!(!problems(&value).is_empty());
    }

    #[test]
    fn refuses_bad_app_keys() {
        assert!(AppKeys::new("").is_err());
        assert!(AppKeys::new("a b").is_err());
        assert!(AppKeys::new(&"a".repeat(65)).is_err());
        assert_eq!(
            AppKeys::new("com.example.lodger").unwrap().confluence,
            "com.example.lodger.confluence"
        );
    }
}
