//! What a host function can see of the run it is called from: the cluster,
//! the options, and the run's deadline and cancel flag. Stored in the
//! engine's tag so that plugin functions (which cannot capture state) reach it
//! through their `NativeCallContext`.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rhai::{Dynamic, EvalAltResult, NativeCallContext, Position};

use super::api::errors::host_error;
use super::cluster::Cluster;
use super::host::Stop;

/// The per-run (or per-REPL-session) state shared by every host function.
pub struct RunContext {
    /// The script's display name, used as the log target field.
    pub script: String,
    pub cluster: Option<Cluster>,
    /// The runtime that owns the cluster client's connections.
    pub runtime: Option<tokio::runtime::Handle>,
    pub dry_run: bool,
    pub allow_env: BTreeSet<String>,
    pub cluster_error: Option<String>,
    /// See [`super::host::ScriptOptions::daemon`].
    pub daemon: bool,
    pub cancel: Arc<AtomicBool>,
    /// Behind a lock because the REPL gives each line its own deadline.
    pub clock: Mutex<Option<Clock>>,
    /// Calls through [`RunContext::block_on`] in this evaluation, and the
    /// most allowed (0 = no limit): the budget a polling loop runs into.
    pub api_calls: std::sync::atomic::AtomicU64,
    pub max_api_calls: u64,
    /// The test's world under `tokensmith test` (its dev cluster, clock and
    /// receivers); `None` everywhere else.
    pub test: Option<Arc<crate::testing::World>>,
}

/// When the current evaluation must end, and the limit that set it (for messages).
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub deadline: Instant,
    pub limit: Duration,
}

impl RunContext {
    /// The context of the run that `ctx` belongs to.
    pub fn of(ctx: &NativeCallContext) -> Result<Arc<RunContext>, Box<EvalAltResult>> {
        ctx.tag()
            .and_then(|t| t.read_lock::<Arc<RunContext>>().map(|g| Arc::clone(&g)))
            .ok_or_else(|| {
                host_error(
                    ctx.fn_name(),
                    "this function can only be called while a script runs",
                    ctx.call_position(),
                )
            })
    }

    pub fn into_tag(self: &Arc<Self>) -> Dynamic {
        Dynamic::from(Arc::clone(self))
    }

    pub fn clock(&self) -> Option<Clock> {
        self.clock.lock().map(|d| *d).unwrap_or(None)
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.clock().map(|c| c.deadline)
    }

    /// Starts the clock for one evaluation: the earlier of `deadline` and
    /// `limit` from now.
    pub fn start_clock(&self, deadline: Option<Instant>, limit: Option<Duration>) {
        let now = Instant::now();
        // A limit too far out to represent is no limit.
        let from_limit = limit.and_then(|l| {
            now.checked_add(l)
                .map(|deadline| Clock { deadline, limit: l })
        });
        let from_caller = deadline.map(|d| Clock {
            deadline: d,
            limit: d.saturating_duration_since(now),
        });
        let clock = match (from_limit, from_caller) {
            (Some(a), Some(b)) => Some(if a.deadline <= b.deadline { a } else { b }),
            (a, b) => a.or(b),
        };
        if let Ok(mut c) = self.clock.lock() {
            *c = clock;
        }
        self.api_calls.store(0, Ordering::Relaxed);
    }

    /// The time as the script sees it: its cluster's clock (a test's dev
    /// cluster moves with `clock::advance`), else the system's.
    pub fn now(&self) -> jiff::Timestamp {
        self.cluster
            .as_ref()
            .map_or_else(jiff::Timestamp::now, |c| c.clock().now())
    }

    /// [`RunContext::now`] of the run `ctx` belongs to, or the system time
    /// outside a run (constant folding, documentation examples).
    pub fn now_of(ctx: &NativeCallContext) -> jiff::Timestamp {
        Self::of(ctx).map_or_else(|_| jiff::Timestamp::now(), |r| r.now())
    }

    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Why the run must stop now, if it must: cancelled, or past its deadline.
    pub fn stop_reason(&self, now: Instant) -> Option<Stop> {
        if self.cancelled() {
            return Some(Stop::Cancelled);
        }
        let clock = self.clock()?;
        (now >= clock.deadline)
            .then(|| Stop::Timeout(jiff::SignedDuration::try_from(clock.limit).unwrap_or_default()))
    }

    /// The cluster, or a catchable error saying there is none.
    pub fn cluster(&self, name: &str, pos: Position) -> Result<&Cluster, Box<EvalAltResult>> {
        self.cluster.as_ref().ok_or_else(|| {
            let why = match &self.cluster_error {
                Some(e) => format!("no cluster: {e}"),
                None => "no cluster is connected to this script host".to_owned(),
            };
            host_error(name, &why, pos)
        })
    }

    /// Runs async cluster code from a synchronous Rhai function.
    ///
    /// The future is spawned onto the runtime and this thread waits for it
    /// with a plain executor, so this never calls `Handle::block_on` and
    /// cannot panic even if a caller runs the script on a runtime worker.
    /// The run's deadline bounds the wait.
    pub fn block_on<F, T, E>(
        &self,
        name: &str,
        pos: Position,
        fut: F,
    ) -> Result<T, Box<EvalAltResult>>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        let calls = self.api_calls.fetch_add(1, Ordering::Relaxed) + 1;
        if self.max_api_calls > 0 && calls > self.max_api_calls {
            // Not catchable: a `try` around a polling call must not turn the
            // budget into another loop.
            return Err(EvalAltResult::ErrorTerminated(
                Dynamic::from(Stop::ApiCalls(self.max_api_calls)),
                pos,
            )
            .into());
        }
        let Some(rt) = self.runtime.clone() else {
            return Err(host_error(
                name,
                "no async runtime is available to reach the cluster",
                pos,
            ));
        };
        let deadline = self.deadline();
        let task = rt.spawn(async move {
            match deadline {
                Some(at) => tokio::time::timeout_at(at.into(), fut).await.ok(),
                None => Some(fut.await),
            }
        });
        match futures::executor::block_on(task) {
            Ok(Some(Ok(v))) => Ok(v),
            Ok(Some(Err(e))) => Err(host_error(name, &e.to_string(), pos)),
            // Past the deadline: stop the run as the progress check would.
            Ok(None) => Err(EvalAltResult::ErrorTerminated(
                Dynamic::from(
                    self.stop_reason(Instant::now())
                        .unwrap_or(Stop::Timeout(jiff::SignedDuration::ZERO)),
                ),
                pos,
            )
            .into()),
            Err(e) => Err(host_error(name, &format!("the call was aborted: {e}"), pos)),
        }
    }
}
