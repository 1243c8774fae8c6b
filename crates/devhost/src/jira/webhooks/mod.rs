//! Jira webhooks (Atlassian: "Webhooks" for Jira Cloud, "Jira REST API v3:
//! Webhooks"), as an emulated site fires them.
//!
//! | file | what of a real site it emulates |
//! |---|---|
//! | [`registration`] | the dynamic webhook REST API: register, list, refresh, delete, failed |
//! | [`filter`] | a registration's `jqlFilter` and a descriptor webhook's `filter`: the JQL subset, matched per issue |
//! | [`delivery`] | who gets told about an issue, issue property or comment change, signing, retries |
//! | [`state`] | registrations, delivery policy, failed and recent deliveries |

pub mod delivery;
pub mod filter;
pub mod registration;
pub mod state;
