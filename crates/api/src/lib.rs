//! The gRPC face of a node: tonic services of `edufed.v1`, the conversions
//! between protobuf and domain types, and the one mapping from domain errors
//! to `tonic::Status`.

mod agreement;
pub mod auth;
mod booking;
mod calendar;
mod calendar_convert;
mod change_feed;
mod convert;
mod directory;
pub mod export;
mod federation;
pub mod forward;
mod report;
pub mod status;

pub use agreement::AgreementsService;
pub use booking::BookingService;
pub use calendar::CalendarService;
pub use change_feed::{ChangeFeedService, FeedSettings};
pub use directory::DirectoryService;
pub use federation::FederationService;
pub use report::ReportsService;
