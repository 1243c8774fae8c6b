//! lodger: a storage-free Atlassian Connect app, and the kit it is built with.
#![deny(missing_docs)]

pub mod cache;
pub mod connect;
