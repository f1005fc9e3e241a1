//! One run of a job: started by the scheduler, supervised here. The run's
//! future is a task of its own, so its panic is caught as that task's
//! result; its timeout sets the cancel flag the script checks.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::Duration;

use futures::future::BoxFuture;
use jiff::Timestamp;

use super::clock::Clock;
use super::metrics::Metrics;

/// Why a run was asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum StopReason {
    Timeout = 1,
    /// A new tick of an `overlap: replace` job.
    Replaced = 2,
    /// The daemon's grace period ran out.
    Shutdown = 3,
}

/// A run's cancel flag and the reason it was set, shared by the scheduler,
/// the supervisor and the executor.
#[derive(Debug, Clone, Default)]
pub struct Stopper {
    cancel: Arc<AtomicBool>,
    reason: Arc<AtomicU8>,
}

impl Stopper {
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.cancel.clone()
    }

    /// Asks the run to stop at its next check; the first reason wins.
    pub fn stop(&self, why: StopReason) {
        let _ = self
            .reason
            .compare_exchange(0, why as u8, Ordering::Relaxed, Ordering::Relaxed);
        self.cancel.store(true, Ordering::Relaxed);
    }

    fn reason(&self) -> Option<StopReason> {
        match self.reason.load(Ordering::Relaxed) {
            1 => Some(StopReason::Timeout),
            2 => Some(StopReason::Replaced),
            3 => Some(StopReason::Shutdown),
            _ => None,
        }
    }
}

/// Runs `run` to its end, enforcing `timeout`; logs the finish line and
/// records metrics. Returns when it succeeded, if it did.
pub async fn supervise(
    job: &str,
    run: BoxFuture<'static, Result<(), String>>,
    timeout: Option<Duration>,
    stop: &Stopper,
    clock: &dyn Clock,
    metrics: &Metrics,
) -> Option<Timestamp> {
    let started = tokio::time::Instant::now();
    let mut handle = tokio::spawn(tracing::Instrument::in_current_span(run));
    let outcome = match timeout {
        Some(limit) => tokio::select! {
            r = &mut handle => r,
            () = tokio::time::sleep(limit) => {
                stop.stop(StopReason::Timeout);
                tracing::warn!(job = %job, timeout = ?limit, "job timed out; cancelling it");
                handle.await
            }
        },
        None => handle.await,
    };
    let elapsed = started.elapsed();
    // The script host enforces the same deadline and may stop the run a
    // moment before the timer above fires: that is a timeout too.
    let why = stop.reason().or_else(|| {
        timeout
            .filter(|limit| elapsed >= *limit)
            .map(|_| StopReason::Timeout)
    });
    let (result, error) = classify(outcome, why);
    let duration = format!("{elapsed:.1?}");
    match &error {
        None => tracing::info!(job = %job, result, duration, "job finished"),
        Some(error) => tracing::warn!(job = %job, result, duration, error = %error, "job finished"),
    }
    let now = clock.now();
    metrics.run_finished(job, result, elapsed.as_secs_f64(), now);
    (result == "ok").then_some(now)
}

/// The result label of a finished run, and its error text.
fn classify(
    outcome: Result<Result<(), String>, tokio::task::JoinError>,
    why: Option<StopReason>,
) -> (&'static str, Option<String>) {
    match outcome {
        Ok(Ok(())) => ("ok", None),
        Ok(Err(e)) => {
            let result = match why {
                Some(StopReason::Timeout) => "timeout",
                Some(StopReason::Replaced | StopReason::Shutdown) => "cancelled",
                None => "error",
            };
            (result, Some(e))
        }
        Err(join) if join.is_panic() => {
            let payload = join.into_panic();
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_owned());
            ("panic", Some(format!("panicked: {msg}")))
        }
        Err(_) => ("cancelled", Some("the run was aborted".to_owned())),
    }
}
