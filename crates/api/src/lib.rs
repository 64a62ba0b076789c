//! The gRPC face of a node: tonic services of `edufed.v1`, the conversions
//! between protobuf and domain types, forwarded calls, and the one mapping
//! from domain errors to `tonic::Status`.
//!
//! Every handler has one shape: convert the request into a typed command
//! (naming the field at fault), authorize what the request alone decides,
//! call the store (which decides the rest inside its write transaction),
//! convert the answer.

mod agreement;
mod audit;
pub mod auth;
mod booking;
mod calendar;
mod change_feed;
mod context;
mod convert;
mod designations;
mod directory;
pub mod export;
mod federation;
pub mod feeds;
pub mod forward;
mod mentoring;
mod notifications;
mod privacy;
mod report;
mod routes;
mod sign_in;
pub mod status;
mod trials;

pub use agreement::AgreementsService;
pub use audit::AuditService;
pub use booking::BookingService;
pub use calendar::CalendarService;
pub use change_feed::{ChangeFeedService, FeedSettings};
pub use context::Context;
pub use designations::DesignationsService;
pub use directory::DirectoryService;
pub use federation::FederationService;
pub use mentoring::MentoringService;
pub use notifications::NotificationsService;
pub use privacy::PrivacyService;
pub use report::ReportsService;
pub use routes::RoutesService;
pub use trials::TrialsService;
