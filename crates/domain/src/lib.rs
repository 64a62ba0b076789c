//! edufed's domain: the types of the network's records, the rules that make a
//! value valid, the state machines, and the authorization policy.
//!
//! Nothing here knows of protobuf, SQL or sockets: values arrive already
//! parsed from the API crate and leave as plain Rust to the store.

pub mod agreement;
pub mod audit;
pub mod booking;
pub mod calendar;
pub mod changes;
pub mod designations;
pub mod directory;
pub mod error;
pub mod federation;
pub mod identity;
pub mod ids;
pub mod mentoring;
pub mod notify;
pub mod page;
pub mod policy;
pub mod privacy;
pub mod report;
pub mod routes;
pub mod session;
pub mod stable;
pub mod text;
pub mod time;
pub mod trials;

pub use error::{ErrorCode, FieldError, Reason, ServiceError, StorageError};
