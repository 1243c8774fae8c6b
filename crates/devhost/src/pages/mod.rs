//! The product pages that frame apps with the real connect-js host bundle,
//! rendered from the templates in `pages/templates/`.
//!
//! | file | what of a real site it emulates |
//! |---|---|
//! | [`shell`] | every page's HTML shell: top bar, navigation, module slots |
//! | [`modules`] | which Jira modules a page frames, conditions evaluated server-side |
//! | [`issue`] | the issue view, `/browse/{key}`, and the site's root |
//! | [`issue_view`] | how the issue view presents glances, issue contexts and issue contents, and its quick-add buttons |
//! | [`app_pages`] | an app's full pages, `/plugins/servlet/ac/{app}/{module}` |
//! | [`confluence_page`] | the Confluence page view with its macros |
//! | [`forge_modules`] | Forge UI modules on those pages (issue panel, issue context) and the Forge admin and project settings pages |
//! | [`manage_apps`] | "Manage apps" (UPM's admin page), `/plugins/servlet/upm` and `/wiki/plugins/servlet/upm`: installed apps, Uninstall, Upload app |
//! | [`session`] | switching user, and `AP.context.getToken()` |

pub mod app_pages;
pub mod confluence_page;
pub mod forge_modules;
pub mod issue;
pub mod issue_view;
pub mod manage_apps;
pub mod modules;
pub mod session;
pub mod shell;
