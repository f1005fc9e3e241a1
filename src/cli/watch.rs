//! `tokensmith watch DIR`: run scheduled scripts, reloading them as they change.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;

use super::{Failure, GlobalArgs};
use crate::cluster::leader::{self, Leadership, LeaseConfig};
use crate::cluster::{Cluster, ConnectOptions};
use crate::script::{Limits, ScriptHost, ScriptOptions};
use crate::token::parse_go_duration;
use crate::watch::contexts::{Fleet, Member, StartMember, Targets};
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

    /// An argument for every job, read in scripts as `args.KEY` (a string),
    /// e.g. `--arg out=/run/join.sh`. A job's own `//! arg: KEY=VALUE` header
    /// line sets the same key for that job alone and wins. Repeat for more.
    #[arg(long = "arg", value_name = "KEY=VALUE", value_parser = super::run::parse_arg)]
    pub args: Vec<(String, String)>,

    /// Run jobs only while this replica holds a coordination.k8s.io Lease, so
    /// that several replicas (e.g. a Deployment) run each tick once. Needs the
    /// cluster; RBAC: get, create and update on leases.
    #[arg(long)]
    pub leader_elect: bool,

    /// The Lease's name (with --leader-elect).
    #[arg(long, value_name = "NAME", default_value = "tokensmith-watch")]
    pub lease_name: String,

    /// The Lease's namespace (with --leader-elect). Default: the pod's own
    /// namespace in a cluster, else kube-system.
    #[arg(long, value_name = "NAMESPACE")]
    pub lease_namespace: Option<String>,

    /// How long a Lease stays held without renewal; a new leader takes over
    /// at most this long after the old one stops renewing.
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = go_duration)]
    pub lease_duration: Duration,

    /// This replica's name in the Lease. Default: $POD_NAME or the host
    /// name, with a random suffix.
    #[arg(long, value_name = "NAME")]
    pub identity: Option<String>,

    /// Run every job once per kubeconfig context named here (comma-separated
    /// or repeated), each with its own client, overlap and timeout, leader
    /// election and `context`-labelled metrics. A job's own `//! contexts:`
    /// line wins over this.
    #[arg(
        long,
        value_name = "NAMES",
        value_delimiter = ',',
        conflicts_with = "all_contexts"
    )]
    pub contexts: Vec<String>,

    /// Like --contexts with every context of the kubeconfig (as it is when
    /// the daemon starts).
    #[arg(long)]
    pub all_contexts: bool,

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
    //! contexts: east, west      run once per kubeconfig context; * for all of them

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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::new(1, format!("cannot start the async runtime: {e}")))?;
    let targets = targets(global, &args)?;
    let lease = args.leader_elect.then(|| LeaseSettings::from(&args));
    let election = match &lease {
        Some(lease) => Some(runtime.block_on(start_election(global, lease))?),
        None => None,
    };
    let opts = DaemonOptions {
        state_dir: args.state_dir.clone().or_else(default_state_dir),
        dir: args.dir.clone(),
        listen: args.listen,
        grace: args.grace,
        debounce: args.debounce,
        leadership: election.as_ref().map(|e| e.leadership.clone()),
        events: None,
    };
    let result = if args.test_executor {
        let exec = Arc::new(crate::watch::test_executor::TestExecutor);
        runtime.block_on(crate::watch::run(opts, exec, None, None))
    } else {
        runtime.block_on(run_rhai(global, &args, opts, targets, lease))
    };
    if let Some(e) = election {
        // Release the Lease so that another replica takes over at once.
        runtime.block_on(e.release());
    }
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
    targets: Targets,
    lease: Option<LeaseSettings>,
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
        daemon: true,
        cluster_error,
    };
    let host = ScriptHost::new(cluster.clone(), script_opts);
    let opts = DaemonOptions {
        events: cluster.clone(),
        ..opts
    };
    let tokens = cluster.map(token_expiries);
    let executor = Arc::new(RhaiExecutor::new(host, args.args.iter().cloned().collect()));
    let fleet = Fleet {
        targets,
        start: start_member(global, executor.clone(), lease),
    };
    crate::watch::run(opts, executor, tokens, Some(fleet)).await
}

/// Where jobs run: the kubeconfig's contexts (for `contexts:` headers) and
/// `--contexts/--all-contexts`. A bad flag stops the daemon before it starts;
/// a kubeconfig without contexts only refuses the scripts that ask for one.
fn targets(global: &GlobalArgs, args: &WatchArgs) -> Result<Targets, Failure> {
    let default = if args.contexts.is_empty() && !args.all_contexts {
        None
    } else {
        Some(super::fleet::select_contexts(
            global,
            &args.contexts,
            args.all_contexts,
        )?)
    };
    let known = super::fleet::kubeconfig_contexts(global)
        .map(|(_, known)| known)
        .map_err(|f| f.message);
    Ok(Targets { known, default })
}

/// Starts a context's member: its own client (a context that cannot be
/// configured fails each run of its jobs with the reason, as the daemon's own
/// cluster does), and with --leader-elect its own Lease in that cluster.
fn start_member(
    global: &GlobalArgs,
    base: Arc<RhaiExecutor>,
    lease: Option<LeaseSettings>,
) -> StartMember<RhaiExecutor> {
    let global = global.clone();
    Arc::new(move |context: String| {
        let (base, lease) = (base.clone(), lease.clone());
        let mut g = global.clone();
        g.context = Some(context.clone());
        async move {
            let (cluster, error) = match Cluster::connect(&ConnectOptions::from_global(&g)).await {
                Ok(c) => (Some(c), None),
                Err(e) => {
                    tracing::warn!(context = %context, error = %e, "no cluster for this context: its jobs' token functions will fail");
                    (None, Some(e.to_string()))
                }
            };
            let (leadership, release) = match lease {
                Some(lease) => {
                    let lease = LeaseSettings {
                        name: crate::watch::contexts::lease_name(&lease.name, &context),
                        ..lease
                    };
                    let e = start_election(&g, &lease)
                        .await
                        .map_err(|f| f.message)?;
                    (Some(e.leadership.clone()), Some(e.release().boxed()))
                }
                None => (None, None),
            };
            Ok(Member {
                executor: Arc::new(base.for_cluster(cluster.clone(), error)),
                leadership,
                cluster,
                release,
            })
        }
        .boxed()
    })
}

/// The bootstrap tokens' expiries for /metrics, listed at scrape time.
fn token_expiries(cluster: Cluster) -> TokenExpiries {
    Arc::new(move || {
        let store = cluster.tokens();
        async move {
            let listed = store.list().await.map_err(|e| e.to_string())?;
            Ok(listed
                .into_iter()
                .filter_map(|t| {
                    t.map_err(|e| {
                        tracing::warn!("metrics: skipping a Secret that is not a valid token: {e}")
                    })
                    .ok()
                })
                .map(|st| TokenExpiry {
                    id: st.token.token.id().clone(),
                    expires: st.token.expires.as_ref().map(|e| e.timestamp()),
                })
                .collect())
        }
        .boxed()
    })
}

/// A running leader election.
struct Election {
    leadership: Leadership,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Election {
    /// Stops competing and releases the Lease (waiting at most 5s for it).
    async fn release(self) {
        let _ = self.stop.send(());
        let _ = tokio::time::timeout(Duration::from_secs(5), self.task).await;
    }
}

/// The Lease flags; one identity for the whole replica, so that its
/// contexts' elections name the same holder.
#[derive(Debug, Clone)]
struct LeaseSettings {
    name: String,
    namespace: Option<String>,
    identity: String,
    duration: Duration,
}

impl From<&WatchArgs> for LeaseSettings {
    fn from(args: &WatchArgs) -> Self {
        Self {
            name: args.lease_name.clone(),
            namespace: args.lease_namespace.clone(),
            identity: args
                .identity
                .clone()
                .unwrap_or_else(leader::default_identity),
            duration: args.lease_duration,
        }
    }
}

/// Connects to the cluster and starts competing for the Lease.
async fn start_election(global: &GlobalArgs, lease: &LeaseSettings) -> Result<Election, Failure> {
    let cluster = Cluster::connect(&ConnectOptions::from_global(global))
        .await
        .map_err(|e| Failure::new(1, format!("--leader-elect needs the cluster: {e}")))?;
    let namespace = lease
        .namespace
        .clone()
        .or_else(leader::pod_namespace)
        .unwrap_or_else(|| "kube-system".to_owned());
    let mut cfg = LeaseConfig::new(namespace, lease.name.clone(), lease.identity.clone());
    cfg.lease_duration = lease.duration.max(Duration::from_secs(1));
    cfg.retry_period =
        (cfg.lease_duration / 5).clamp(Duration::from_millis(200), Duration::from_secs(2));
    tracing::info!(lease = %format!("{}/{}", cfg.namespace, cfg.name), identity = %cfg.identity, "leader election on");
    let leadership = Leadership::default();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(leader::run(
        cluster.client(),
        cfg,
        leadership.clone(),
        async move {
            let _ = stopped.await;
        },
    ));
    Ok(Election {
        leadership,
        stop,
        task,
    })
}
