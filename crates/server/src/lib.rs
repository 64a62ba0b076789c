//! A running edufed node: configuration, first start, the HTTP side next to
//! gRPC on one port, TLS, background jobs and graceful shutdown.
//!
//! Teardown order, on the first SIGINT/SIGTERM: stop accepting connections,
//! end Watch streams, drain in-flight RPCs for at most the grace period,
//! stop background jobs, close the database pool.

pub mod backup;
pub mod config;
mod database;
mod datadir;
mod http;
mod ics;
mod leader;
mod limits;
mod metrics;
mod node;
mod reports;
mod serve;
mod startup;
mod tls;
mod workers;

pub use config::{OidcIssuer, Overrides, Settings};
pub use datadir::{KEY_FILE, OPERATOR_TOKEN_FILE};
pub use leader::LEASE;
pub use node::Node;
pub use startup::{
    InitReport, SELF_SIGNED_CERT_FILE, SELF_SIGNED_KEY_FILE, initialize, self_signed_certificate,
};
