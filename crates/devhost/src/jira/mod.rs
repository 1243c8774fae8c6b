//! The site's Jira: its REST resources at the site root, with Atlassian's
//! paths, shapes and status codes ("The Jira Cloud platform REST API" v3,
//! whose paths also answer under `/rest/api/2/`).
//!
//! | file | what of a real site it emulates |
//! |---|---|
//! | [`issues`] | creating, reading, editing and deleting issues, and the webhooks that fires |
//! | [`comments`] | issue comments: list, add, read, edit, delete, by ids; their webhooks |
//! | [`issue_types`] | the issue types, the one status, issue id counters |
//! | [`entity_properties`] | issue, project and user entity properties |
//! | [`adf`] | Atlassian Document Format: a document's text, text as a document |
//! | [`bulk_properties`] | the bulk issue-property task: set or delete over many issues |
//! | [`property_index`] | which issue properties apps index for JQL |
//! | [`jql`] | the JQL grammar, shared by search and webhook filters |
//! | [`jql_run`] | running a parsed query over the issues and their indexed properties |
//! | [`search`] | `/search` and `/search/jql` |
//! | [`people`] | projects, users, `myself`, my permissions, bulk permission checks |
//! | [`tasks`] | long-running tasks as the site keeps them |
//! | [`task_resource`] | `GET /task/{taskId}`, starting a task |
//! | [`license`] | the app resource and its license |
//! | [`webhooks`] | descriptor and dynamic webhooks: registration, filters, delivery |

pub mod adf;
pub mod bulk_properties;
pub mod comments;
pub mod entity_properties;
pub mod issue_types;
pub mod issues;
pub mod jql;
pub mod jql_run;
pub mod license;
pub mod people;
pub mod property_index;
pub mod search;
pub mod task_resource;
pub mod tasks;
pub mod webhooks;
