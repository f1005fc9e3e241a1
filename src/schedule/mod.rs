//! Scheduling: cron specs, the script header, the pure next-run logic, and
//! the job runner with its persisted state and metrics.
//!
//! Start at [`header::ScriptHeader`] (what a script asks for),
//! [`cron::CronSpec::next_after`] (when it runs) and [`runner::Scheduler`]
//! (how runs start, overlap, time out and finish).

pub mod clock;
pub mod cron;
pub mod executor;
pub mod header;
pub mod header_lint;
pub mod metrics;
pub mod missed;
pub mod run;
pub mod runner;
pub mod state;

pub use cron::{CronError, CronSpec};
pub use executor::{Event, EventCall, JobExecutor, RunContext};
pub use header::{HeaderError, Overlap, ScriptHeader};
