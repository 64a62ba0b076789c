//! What the benchmarks share: how they run on both backends, the network
//! they seed, and how they time and report. In one place so that every
//! bench sets up and measures the same way, and their numbers stay
//! comparable with each other and with those BENCHMARKS.md records.

mod network;
mod run;
mod timing;

pub use network::{activity, numbered_organization, organization, schedule, seeded_kinds};
pub use run::{on_each_backend, open_store, runtime, scale};
pub use timing::{Steal, millis, percentile, timed};
