//! `tokensmith dev-cluster`: serve the embedded, Kubernetes-API-compatible
//! dev cluster until SIGINT or SIGTERM.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use super::{Failure, GlobalArgs};
use crate::devcluster::kubeconfig::{FleetMember, admin_fleet};
use crate::devcluster::session::StateInUse;
use crate::devcluster::{
    DevCluster, DevClusterConfig, DevState, FaultConfig, default_dev_state_dir, persist,
};

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DevClusterArgs {
    #[command(subcommand)]
    pub action: Option<DevClusterAction>,

    /// Address to serve HTTPS on; port 0 picks a free port. Default
    /// 127.0.0.1:6443; with --dev, the port the --dev cluster had last, else
    /// a free one.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// Where to write the admin kubeconfig (mode 0600). Default: admin.kubeconfig
    /// beside --state, else $XDG_STATE_HOME/tokensmith/dev-cluster.kubeconfig.
    #[arg(long, value_name = "PATH")]
    pub kubeconfig_out: Option<PathBuf>,

    /// Persist every acknowledged write to FILE and reload it at start; the CA,
    /// serving certificate and admin token are kept in the same directory.
    /// Without it the cluster lives in memory only.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// Fraction (0 to 1) of requests answered 500 InternalError.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.0)]
    pub fault_error_rate: f64,

    /// Fraction (0 to 1) of requests answered 429 TooManyRequests.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.0)]
    pub fault_throttle_rate: f64,

    /// Seconds in the Retry-After header of injected 429s.
    #[arg(long, value_name = "SECONDS", default_value_t = 1)]
    pub fault_retry_after: u64,

    /// Fraction (0 to 1) of requests whose connection is closed without an answer.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.0)]
    pub fault_drop_rate: f64,

    /// Milliseconds of latency added to every request.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub fault_latency_ms: u64,

    /// Serve N independent dev clusters from this one process, each with its
    /// own CA, admin token, objects, controllers and port (from --listen's
    /// port upward, or a free one each for port 0), to rehearse a fleet run:
    /// the kubeconfig gets a context per cluster, dev-1 to dev-N, for `run
    /// --all-contexts`. In memory only (not with --state or --dev).
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=MAX_CLUSTERS as i64))]
    pub clusters: u16,
}

/// The most clusters `--clusters` serves from one process.
const MAX_CLUSTERS: u16 = 256;

#[derive(Debug, clap::Subcommand)]
// Each subcommand's arguments are built only when that subcommand is
// parsed (or help and completions walk the whole tree): start-up cost.
#[command(defer = true)]
pub enum DevClusterAction {
    /// Rehearse `kubeadm join`: discovery (cluster-info, JWS, CA pin), a
    /// kubelet client CSR as the bootstrap user, its approval and certificate,
    /// and the Node registered with that certificate; no kubeconfig is used.
    Join(JoinArgs),
}

#[derive(Debug, clap::Args)]
pub struct JoinArgs {
    /// The whole `kubeadm join …` line, quoted, as published.
    #[arg(value_name = "JOIN_COMMAND")]
    pub command: String,

    /// The joining node's name (default: --node-name in the line, else a generated one).
    #[arg(long, value_name = "NAME")]
    pub node_name: Option<String>,

    /// How long discovery and the CSR's approval and certificate may take.
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub timeout: String,
}

fn join(_global: &GlobalArgs, args: JoinArgs) -> Result<(), Failure> {
    let timeout = crate::token::parse_go_duration(&args.timeout)
        .ok()
        .and_then(|d| std::time::Duration::try_from(d).ok())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            Failure::new(
                1,
                format!(
                    "invalid --timeout {:?}: a positive duration such as 30s",
                    args.timeout
                ),
            )
        })?;
    let rt = runtime()?;
    rt.block_on(async move {
        // Like kubeadm join, the line is all it needs: no kubeconfig.
        let done = crate::cluster::bootstrap::rehearse(
            &args.command,
            args.node_name.as_deref(),
            timeout,
        )
        .await
        .map_err(|e| {
            let msg = e.to_string();
            if msg.starts_with("error execution phase") {
                Failure::new(1, msg)
            } else {
                Failure::new(1, format!("error execution phase preflight: {msg}"))
            }
        })?;
        super::write_stdout(
            format!(
                "This node has joined the cluster:\n* Certificate signing request {} was sent to apiserver and approved.\n* Node {} registered (token {}).\n",
                done.csr, done.node, done.token_id
            )
            .as_bytes(),
        )
    })
}

fn default_kubeconfig_out(state: Option<&PathBuf>) -> anyhow::Result<PathBuf> {
    match state {
        Some(s) => Ok(persist::parent_dir(s).join("admin.kubeconfig")),
        None => {
            let dev = default_dev_state_dir()?;
            let base = dev.parent().map(PathBuf::from).unwrap_or(dev);
            Ok(base.join("dev-cluster.kubeconfig"))
        }
    }
}

pub fn run(global: &GlobalArgs, args: DevClusterArgs) -> Result<(), Failure> {
    if let Some(DevClusterAction::Join(j)) = args.action {
        return join(global, j);
    }
    let faults = FaultConfig {
        error_rate: args.fault_error_rate,
        throttle_rate: args.fault_throttle_rate,
        retry_after_seconds: args.fault_retry_after,
        drop_rate: args.fault_drop_rate,
        latency_ms: args.fault_latency_ms,
    };
    faults
        .validate()
        .map_err(|e| Failure::new(2, format!("invalid fault flags: {e}")))?;
    if args.clusters > 1 && (global.dev || args.state.is_some()) {
        return Err(Failure::new(
            2,
            "--clusters serves clusters in memory only: not with --dev or --state",
        ));
    }
    if global.dev {
        if args.state.is_some() || args.kubeconfig_out.is_some() {
            return Err(Failure::new(
                2,
                "--dev serves the --dev state directory: give either --dev or --state/--kubeconfig-out",
            ));
        }
        return serve_dev_state(args.listen, faults, global.quiet);
    }
    let kubeconfig_out = match args.kubeconfig_out {
        Some(p) => p,
        None => default_kubeconfig_out(args.state.as_ref())?,
    };
    let listen = args
        .listen
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 6443)));
    if args.clusters > 1 {
        return serve_fleet(listen, args.clusters, &faults, &kubeconfig_out);
    }
    let cfg = DevClusterConfig {
        listen,
        state_file: args.state,
        kubeconfig_out: Some(kubeconfig_out),
        faults,
    };
    serve(vec![cfg], None, global.quiet)
}

/// `--clusters N`: N in-memory dev clusters on one runtime, one kubeconfig
/// with a context each, served until SIGINT or SIGTERM.
fn serve_fleet(
    listen: SocketAddr,
    n: u16,
    faults: &FaultConfig,
    kubeconfig_out: &std::path::Path,
) -> Result<(), Failure> {
    // Port P means P, P+1, …: every one must exist before anything starts.
    let addrs: Vec<SocketAddr> = (0..n)
        .map(|i| match listen.port() {
            0 => Some(listen),
            p => p.checked_add(i).map(|p| SocketAddr::new(listen.ip(), p)),
        })
        .collect::<Option<_>>()
        .ok_or_else(|| {
            Failure::new(
                2,
                format!(
                    "--clusters {n} from port {} runs past port 65535",
                    listen.port()
                ),
            )
        })?;
    let rt = runtime()?;
    rt.block_on(async move {
        let stop = StopSignals::install()?;
        let mut fleet = Vec::with_capacity(addrs.len());
        for listen in addrs {
            let cfg = DevClusterConfig {
                listen,
                state_file: None,
                kubeconfig_out: None,
                faults: faults.clone(),
            };
            match DevCluster::start(cfg).await {
                Ok(dc) => fleet.push(dc),
                Err(e) => {
                    shutdown_all(fleet).await;
                    return Err(e.context(format!("starting dev cluster on {listen}")));
                }
            }
        }
        let names: Vec<String> = (1..=fleet.len()).map(|i| format!("dev-{i}")).collect();
        let access: Vec<(String, String, String)> = fleet
            .iter()
            .map(|dc| (dc.url(), dc.ca_pem(), dc.admin_token()))
            .collect();
        let members: Vec<FleetMember<'_>> = names
            .iter()
            .zip(&access)
            .map(|(name, (server, ca_pem, token))| FleetMember {
                name,
                server,
                ca_pem,
                token,
            })
            .collect();
        let written = crate::devcluster::pki::write_private(kubeconfig_out, &admin_fleet(&members));
        if let Err(e) = written {
            shutdown_all(fleet).await;
            return Err(e);
        }
        let mut out = std::io::stdout();
        for (name, dc) in names.iter().zip(&fleet) {
            let _ = writeln!(out, "dev cluster {name} serving at {}", dc.url());
        }
        let _ = writeln!(
            out,
            "admin kubeconfig: {} (contexts {} to {})",
            kubeconfig_out.display(),
            names[0],
            names[names.len() - 1]
        );
        let _ = out.flush();
        stop.wait().await;
        shutdown_all(fleet).await;
        Ok::<(), anyhow::Error>(())
    })
    .map_err(Failure::from)
}

/// `tokensmith --dev dev-cluster`: the `--dev` state, served until stopped;
/// meanwhile other `--dev` commands connect to it.
fn serve_dev_state(
    listen: Option<SocketAddr>,
    faults: FaultConfig,
    quiet: bool,
) -> Result<(), Failure> {
    let state = DevState::locate()?;
    let with = |listen: SocketAddr| DevClusterConfig {
        faults: faults.clone(),
        ..state.config(listen)
    };
    let attempts = match listen {
        Some(l) => vec![with(l)],
        None => state
            .last_listen()
            .into_iter()
            .chain([SocketAddr::from(([127, 0, 0, 1], 0))])
            .map(with)
            .collect(),
    };
    serve(attempts, Some(&state), quiet)
}

/// Serves the first configuration that starts (a later one is the fallback
/// when an earlier one's port is taken) until SIGINT or SIGTERM.
fn serve(
    attempts: Vec<DevClusterConfig>,
    dev: Option<&DevState>,
    quiet: bool,
) -> Result<(), Failure> {
    let rt = runtime()?;
    rt.block_on(async move {
        // Handlers first: a signal right after the URL is printed must still
        // mean a clean shutdown.
        let stop = StopSignals::install()?;
        let mut last_err = None;
        let mut started = None;
        for cfg in attempts {
            match DevCluster::start(cfg).await {
                Ok(dc) => {
                    started = Some(dc);
                    break;
                }
                // The state is served already: another port will not help.
                Err(e) if e.downcast_ref::<StateInUse>().is_some() => return Err(e),
                Err(e) => last_err = Some(e),
            }
        }
        let dc = match (started, last_err) {
            (Some(dc), _) => dc,
            (None, Some(e)) => return Err(e),
            (None, None) => anyhow::bail!("no address to listen on"),
        };
        // A closed stdout (a parent that read the first line and left) must
        // not take the server down, so write errors are ignored.
        let mut out = std::io::stdout();
        let _ = writeln!(out, "dev cluster serving at {}", dc.url());
        if let Some(p) = dc.kubeconfig_path() {
            let _ = writeln!(out, "admin kubeconfig: {}", p.display());
        }
        let _ = out.flush();
        if let Some(state) = dev {
            state.remember(&dc.url());
            if !quiet {
                let _ = writeln!(
                    std::io::stderr(),
                    "note: serving the --dev state in {}; until this stops (Ctrl-C), `tokensmith --dev …` \
                     commands use this cluster, and so does `kubectl --kubeconfig {}`",
                    state.dir().display(),
                    state.kubeconfig().display()
                );
            }
        }
        stop.wait().await;
        dc.shutdown().await;
        Ok::<(), anyhow::Error>(())
    })
    .map_err(Failure::from)
}

async fn shutdown_all(fleet: Vec<DevCluster>) {
    for dc in fleet {
        dc.shutdown().await;
    }
}

/// The runtime every dev-cluster command serves (or joins) on.
fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(1, format!("starting the runtime: {e}")))
}

/// SIGINT and SIGTERM, registered before the server announces itself.
struct StopSignals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn install() -> anyhow::Result<StopSignals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(StopSignals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}
