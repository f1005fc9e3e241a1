//! What the scheduler runs: a small seam between the daemon and the script
//! engine, so the daemon is tested with executors of its own.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::future::BoxFuture;

/// Compiles scripts and runs compiled jobs.
///
/// `compile` is called on a blocking thread. `run` returns a future the
/// scheduler spawns on tokio; an executor whose work blocks (the Rhai engine)
/// moves it onto `spawn_blocking` inside that future. A run should return soon
/// after `ctx.cancel` is set; a panic inside it is caught by the scheduler.
pub trait JobExecutor: Send + Sync + 'static {
    /// A compiled script, shared between runs and kept across reloads.
    type Job: Clone + Send + Sync + 'static;

    fn compile(&self, path: &Path, source: &str) -> Result<Self::Job, String>;

    fn run(&self, job: Self::Job, ctx: RunContext) -> BoxFuture<'static, Result<(), String>>;
}

/// A cluster event for an `on:` job (see `header::EventTrigger`).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// `csr`, `token-expiring` or `token-deleted` (`EventTrigger::kind`).
    pub kind: &'static str,
    /// What makes two events the same one (a CSR's uid, a token id), for coalescing.
    pub key: String,
    /// The handler's argument.
    pub payload: serde_json::Value,
    /// For `token-expiring`: how long the token has left.
    pub remaining: Option<std::time::Duration>,
}

/// An event a run handles: the handler to call and its argument.
#[derive(Debug, Clone)]
pub struct EventCall {
    pub handler: &'static str,
    pub payload: serde_json::Value,
}

/// What one run may look at: its job name, its cancel flag and its deadline.
#[derive(Debug, Clone)]
pub struct RunContext {
    pub job: String,
    /// Set when the run is replaced, timed out, or the daemon stops.
    pub cancel: Arc<AtomicBool>,
    /// When the job's timeout expires (the scheduler also sets `cancel` then).
    pub deadline: Option<std::time::Instant>,
    /// For an `on:` job: the handler to call instead of running the script.
    pub event: Option<EventCall>,
}

impl RunContext {
    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}
