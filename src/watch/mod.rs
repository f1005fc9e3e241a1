//! `tokensmith watch`: the daemon around the scheduler.
//!
//! [`daemon::run`] is the loop; [`loader`] reads the script directory,
//! [`watcher`] notices changes to it, [`http`] serves health and metrics,
//! [`events`] (over [`reflector`]) watches the cluster for `on:` jobs,
//! [`contexts`] runs jobs once per kubeconfig context.
//! What a job does is behind [`crate::schedule::JobExecutor`]: the Rhai
//! engine in production, [`test_executor`] in the daemon's own tests.

pub mod contexts;
pub mod daemon;
pub mod events;
pub mod http;
pub mod loader;
pub mod reflector;
pub mod rhai_executor;
pub mod test_executor;
pub mod watcher;

pub use daemon::{DaemonError, DaemonOptions, run};
pub use http::{TokenExpiries, TokenExpiry};
