//! lodger as a native Forge app: the remote (`lodger serve` answering
//! Forge), and what it shares with the exported manifest (`lodger export
//! --forge`).
//!
//! | file | what |
//! |---|---|
//! | [`paths`] | the routes Forge calls, and the manifest's endpoint keys for them |
//! | [`invocation`] | one call from Forge, verified: invocation token, product token, the site to call |
//! | [`remote`] | the routes: UI calls, the issue-created trigger, the installed event |
//! | [`events`] | the product event the trigger receives |
//!
//! Not for the protocol itself (the Forge invocation token check is in the
//! core, `lodger_connect::invocation_token`) nor for writing the app folder
//! (that is [`crate::export::forge`]).

pub mod events;
pub mod invocation;
pub mod paths;
pub mod remote;
