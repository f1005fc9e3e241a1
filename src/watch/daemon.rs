//! The daemon loop: initial load, debounced reloads on directory events and
//! SIGHUP, the optional HTTP endpoint, and a graceful stop on SIGTERM/SIGINT.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::contexts::{Fleet, Members};
use super::http::{self, TokenExpiries};
use super::loader::Loader;
use super::watcher::DirWatcher;
use crate::schedule::JobExecutor;
use crate::schedule::clock::SystemClock;
use crate::schedule::metrics::Metrics;
use crate::schedule::runner::{Command, Scheduler};
use crate::schedule::state::StateStore;

/// How `tokensmith watch` was asked to run.
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    pub dir: PathBuf,
    /// `None`: job state is kept in memory only.
    pub state_dir: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub grace: Duration,
    /// Quiet time after a directory event before rescanning.
    pub debounce: Duration,
    /// With leader election on: jobs run only while this replica leads.
    pub leadership: Option<crate::cluster::leader::Leadership>,
    /// The cluster `on:` jobs' events come from (none: no events).
    pub events: Option<crate::cluster::Cluster>,
}

/// Events keep postponing a rescan by `debounce`, but never past this.
const MAX_DEBOUNCE: Duration = Duration::from_millis(500);

/// While the directory is missing, how often to look for it again.
const RETRY_MISSING: Duration = Duration::from_secs(2);

/// Errors that stop the daemon before it starts; everything after start is
/// logged and survived.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot install the {signal} handler: {source}")]
    Signal {
        signal: &'static str,
        #[source]
        source: std::io::Error,
    },
}

/// Runs until SIGTERM or SIGINT; returns once running jobs have finished or
/// the grace period is over. `fleet`: jobs that run once per kubeconfig
/// context, each context with a scheduler of its own.
pub async fn run<E: JobExecutor>(
    opts: DaemonOptions,
    executor: Arc<E>,
    tokens: Option<TokenExpiries>,
    fleet: Option<Fleet<E>>,
) -> Result<(), DaemonError> {
    let sig = |kind: SignalKind, name: &'static str| {
        signal(kind).map_err(|source| DaemonError::Signal {
            signal: name,
            source,
        })
    };
    let mut hup = sig(SignalKind::hangup(), "SIGHUP")?;
    let mut term = sig(SignalKind::terminate(), "SIGTERM")?;
    let mut int = sig(SignalKind::interrupt(), "SIGINT")?;

    let metrics = Metrics::default();
    let ready = Arc::new(AtomicBool::new(false));
    if let Some(addr) = opts.listen {
        http::serve(addr, metrics.clone(), ready.clone(), tokens)
            .await
            .map_err(|source| DaemonError::Listen { addr, source })?;
    }

    let state = match &opts.state_dir {
        Some(dir) => {
            let (store, problem) = StateStore::open(dir);
            if let Some(e) = problem {
                tracing::warn!(error = %e, "job state");
            }
            store
        }
        None => StateStore::in_memory(),
    };
    let mut members = Members::new(fleet, opts.state_dir.clone(), metrics.clone(), opts.grace);
    let targets = members.targets();
    let mut scheduler = Scheduler::new(
        executor.clone(),
        Arc::new(SystemClock),
        state,
        metrics.clone(),
        opts.grace,
    );
    if let Some(l) = opts.leadership.clone() {
        scheduler = scheduler.with_leadership(l);
    }
    let (commands, rx) = mpsc::channel(4);
    let scheduler = tokio::spawn(scheduler.run(rx));
    // The cluster's event source starts after the first scan has loaded the
    // scripts (the scheduler reads its commands in order), so what its first
    // listing finds (a CSR made while no daemon ran) reaches their `on:` jobs.
    let mut pending_events = opts.events.clone();
    let mut event_source = None;
    let event_metrics = metrics.clone();

    let (event_tx, mut events) = mpsc::unbounded_channel();
    let mut watcher = DirWatcher::new(opts.dir.clone(), event_tx);
    let mut loader = Some(
        Loader::new(opts.dir.clone(), executor, metrics)
            .with_header_check(Box::new(move |h| targets.of(h).map(|_| ()))),
    );
    tracing::info!(dir = %opts.dir.display(), "watching for scripts");

    let mut first = true;
    // Rescan now, then whenever `rescan_at` comes.
    let mut rescan_at: Option<Instant> = Some(Instant::now());
    let mut burst_started: Option<Instant> = None;
    loop {
        let wake = rescan_at;
        let timer = async move {
            match wake {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = timer => {
                rescan_at = None;
                burst_started = None;
                let armed = watcher.ensure();
                let started = Instant::now();
                let Some(l) = loader.take() else { break };
                let (l, scan) = match tokio::task::spawn_blocking(move || { let mut l = l; let s = l.rescan(); (l, s) }).await {
                    Ok(done) => done,
                    Err(e) => {
                        tracing::error!(error = %e, "the directory rescan panicked; stopping");
                        break;
                    }
                };
                if scan.directory_ok && (scan.changed || first) {
                    let defs = l.definitions();
                    tracing::info!(scripts = defs.len(), took = ?started.elapsed(), "scripts reloaded");
                    let plain = members.load(defs).await;
                    if commands.send(Command::Load(plain)).await.is_err() {
                        break;
                    }
                    first = false;
                }
                loader = Some(l);
                if let Some(c) = pending_events.take() {
                    event_source = Some(tokio::spawn(super::events::run(c, commands.clone(), event_metrics.clone())));
                }
                ready.store(scan.directory_ok, Ordering::Relaxed);
                // Re-arm after the scan too: the directory may have come back.
                // A watch made only now saw nothing of what was written
                // before it (a script saved into the directory between the
                // scan and this): scan once more at once, else retry later.
                if !armed {
                    let wait = if watcher.ensure() { Duration::ZERO } else { RETRY_MISSING };
                    rescan_at = Some(Instant::now() + wait);
                }
            }
            Some(()) = events.recv() => {
                let now = Instant::now();
                let burst = *burst_started.get_or_insert(now);
                rescan_at = Some((now + opts.debounce).min(burst + MAX_DEBOUNCE));
            }
            Some(()) = hup.recv() => {
                tracing::info!("SIGHUP: reloading the script directory");
                rescan_at = Some(Instant::now());
            }
            Some(()) = term.recv() => {
                tracing::info!("SIGTERM: stopping");
                break;
            }
            Some(()) = int.recv() => {
                tracing::info!("SIGINT: stopping");
                break;
            }
        }
    }
    ready.store(false, Ordering::Relaxed);
    drop(watcher);
    if let Some(source) = event_source {
        source.abort();
    }
    let _ = commands.send(Command::Shutdown).await;
    // The contexts' runs finish within the same grace period as these.
    let (plain, ()) = tokio::join!(scheduler, members.shutdown());
    if let Err(e) = plain {
        tracing::error!(error = %e, "the scheduler task failed");
    }
    Ok(())
}
