//! Storage for an edufed node: one set of queries over SQLite or PostgreSQL
//! through sqlx's `Any` driver, chosen by the database URL at start-up.
//!
//! Both backends keep instants as UTC microseconds and JSON as text, so the
//! queries are the same and one behaviour suite tests both. Where the
//! backends differ (locking, DDL), the difference is written once here.

pub mod agreement;
pub mod audit;
pub mod backup;
pub mod booking;
pub mod calendar;
pub mod changes;
mod db;
pub mod directory;
mod error;
pub mod federation;
pub mod lease;
pub mod mentoring;
mod meta;
pub mod notify;
pub mod privacy;
pub mod report;
pub mod routes;
mod sql;
pub mod trials;
mod tx;

pub use db::{
    Backend, ConnectOptions, Connections, FEED_READS, OpenError, Probe, Store, redact as redact_url,
};
pub use error::{Constraint, DbFailure};
