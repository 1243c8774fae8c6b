//! The site's Confluence, under `/wiki` (Atlassian: "Confluence Cloud REST
//! API v1"): a separate tenant on the same origin as Jira.
//!
//! | file | what of a real site it emulates |
//! |---|---|
//! | [`data`] | Confluence's state: installations, pages, content properties, macro parameters |
//! | [`conditions`] | Confluence's named conditions, evaluated for the modules a page frames |
//! | [`cql`] | the CQL subset content search reads |
//! | [`search`] | content search by CQL, over the seeded pages and indexed content properties |
//! | [`content`] | content, users and versioned content properties over REST |
//! | [`page_view`] | what a page view holds: its path, context and framed macros |
//! | [`macro_parameters`] | a macro instance's parameters and the URL variables they make |
//! | [`forge_macro_config`] | a Forge macro's config, saved by `view.submit` from its config resource |
//! | [`macro_body`] | a macro instance's body and the URL variables it makes |
//! | [`macro_editor`] | the macro editor dialog's endpoints |

pub mod conditions;
pub mod content;
pub mod cql;
pub mod data;
pub mod forge_macro_config;
pub mod macro_body;
pub mod macro_editor;
pub mod macro_parameters;
pub mod page_view;
pub mod search;
