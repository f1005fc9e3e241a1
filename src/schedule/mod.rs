//! Scheduling: cron specs, the script header, the pure next-run logic, and
//! the job runner with its persisted state.
//!
//! Start at [`header::ScriptHeader`] (what a script asks for) and
//! [`cron::CronSpec::next_after`] (when it runs).

pub mod cron;
pub mod header;

pub use cron::{CronError, CronSpec};
pub use header::{HeaderError, Overlap, ScriptHeader};
