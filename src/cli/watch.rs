//! `tokensmith watch DIR`: run scheduled scripts, reloading them as they change.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;

use super::{Failure, GlobalArgs};
use crate::cluster::{Cluster, ConnectOptions};
use crate::script::{Limits, ScriptHost, ScriptOptions};
use crate::token::parse_go_duration;
use crate::watch::rhai_executor::RhaiExecutor;
use crate::watch::{DaemonOptions, TokenExpiries, TokenExpiry};

#[derive(Debug, clap::Args)]
#[command(after_long_help = HEADER_HELP)]
pub struct WatchArgs {
    /// The directory of `*.rhai` scripts. Each script whose header declares a
    /// `schedule` runs on it; the others are loaded for `import` only. Changes
    /// (including a ConfigMap volume's symlink swap) are picked up without a
    /// restart; SIGHUP forces a reload.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,

    /// Where each job's last handled tick is kept, so that a restart knows what
    /// it missed. Default: $XDG_STATE_HOME/tokensmith/watch (else
    /// ~/.local/state/tokensmith/watch); without either, memory only.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// Serve /healthz, /readyz and Prometheus /metrics on this address, e.g.
    /// 127.0.0.1:9464. Off by default.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// On SIGTERM or SIGINT, how long running jobs may take to finish before
    /// they are cancelled (Go duration).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = go_duration)]
    pub grace: Duration,

    /// Quiet time after a change in DIR before it is rescanned.
    #[arg(long, value_name = "DURATION", default_value = "100ms", value_parser = go_duration, hide = true)]
    pub debounce: Duration,

    /// Let scripts read environment variable NAME with `env("NAME")`. Repeat
    /// for more; no variable is readable otherwise.
    #[arg(long = "allow-env", value_name = "NAME")]
    pub allow_env: Vec<String>,

    /// Run scripts with the daemon's line-command test executor instead of
    /// the Rhai engine (for tokensmith's own tests).
    #[arg(long, hide = true)]
    pub test_executor: bool,
}

const HEADER_HELP: &str = "\
A job's schedule is in its script's leading `//!` lines:

    //! schedule: 0 3 * * *       5 fields; 6-7 with seconds first; @hourly @daily ...
    //! timezone: Europe/Berlin   IANA name, default UTC; DST-safe (runs once per day)
    //! overlap: skip             skip | queue | replace, if the last run is still going
    //! timeout: 10m              cancel a run after this long
    //! starting-deadline: 1h     run a tick missed while down, if no older than this
    //! jitter: 30s               delay each run by up to this much, at random

SIGHUP reloads now; SIGTERM or SIGINT stops scheduling and lets running jobs finish
within --grace.";

fn go_duration(s: &str) -> Result<Duration, String> {
    let d = parse_go_duration(s).map_err(|e| e.to_string())?;
    Duration::try_from(d).map_err(|_| format!("{s:?} must not be negative"))
}

fn default_state_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    Some(base.join("tokensmith").join("watch"))
}

pub fn run(global: &GlobalArgs, args: WatchArgs) -> Result<(), Failure> {
    let opts = DaemonOptions {
        state_dir: args.state_dir.clone().or_else(default_state_dir),
        dir: args.dir.clone(),
        listen: args.listen,
        grace: args.grace,
        debounce: args.debounce,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::new(1, format!("cannot start the async runtime: {e}")))?;
    let result = if args.test_executor {
        let exec = Arc::new(crate::watch::test_executor::TestExecutor);
        runtime.block_on(crate::watch::run(opts, exec, None))
    } else {
        runtime.block_on(run_rhai(global, &args, opts))
    };
    // Runs past the grace period were cancelled; do not wait for their threads.
    runtime.shutdown_timeout(Duration::from_millis(500));
    result.map_err(|e| Failure::new(1, e.to_string()))
}

/// The shipped path: the Rhai engine, with the cluster when one is reachable.
/// A cluster that cannot be configured is not fatal: scripts that never touch
/// it still run, and token functions fail with the reason.
async fn run_rhai(
    global: &GlobalArgs,
    args: &WatchArgs,
    opts: DaemonOptions,
) -> Result<(), crate::watch::DaemonError> {
    let (cluster, cluster_error) =
        match Cluster::connect(&ConnectOptions::from_global(global)).await {
            Ok(c) => (Some(c), None),
            Err(e) => {
                tracing::warn!(error = %e, "no cluster: token functions in scripts will fail");
                (None, Some(e.to_string()))
            }
        };
    let script_opts = ScriptOptions {
        // A job's wall time is its header's `timeout`, and nothing else.
        limits: Limits {
            timeout: None,
            ..Limits::default()
        },
        allow_env: args.allow_env.iter().cloned().collect(),
        dry_run: global.dry_run,
        echo_print: false,
        cluster_error,
    };
    let host = ScriptHost::new(cluster.clone(), script_opts);
    let tokens = cluster.map(token_expiries);
    crate::watch::run(opts, Arc::new(RhaiExecutor::new(host)), tokens).await
}

/// The bootstrap tokens' expiries for /metrics, listed at scrape time.
fn token_expiries(cluster: Cluster) -> TokenExpiries {
    Arc::new(move || {
        let store = cluster.tokens();
        async move {
            let listed = store.list().await.map_err(|e| e.to_string())?;
            Ok(listed
                .into_iter()
                .filter_map(Result::ok)
                .map(|st| TokenExpiry {
                    id: st.token.token.id().clone(),
                    expires: st.token.expires.as_ref().map(|e| e.timestamp()),
                })
                .collect())
        }
        .boxed()
    })
}
