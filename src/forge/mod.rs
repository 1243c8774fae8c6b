//! lodger as a native Forge app: what the Forge flavour shares between its
//! parts (the exported manifest, `lodger export --forge`, and the remote,
//! `lodger serve`).
//!
//! Not for the protocol itself (the Forge invocation token check is in the
//! core, `lodger_connect::invocation_token`) nor for writing the app folder
//! (that is [`crate::export::forge`]).

pub mod paths;
