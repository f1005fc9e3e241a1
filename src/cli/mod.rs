//! The command line: clap definitions grouped per command, and dispatch.
//!
//! Each command's arguments live in their own file; `dispatch` hands the
//! parsed arguments to the library module that does the work.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

pub mod check;
pub mod completions;
pub mod dev_cluster;
pub mod fleet;
pub mod repl;
pub mod run;
pub mod token;
pub mod watch;

pub use crate::failure::Failure;

/// Kubernetes bootstrap tokens, managed: a drop-in for `kubeadm token`,
/// Rhai scripting, a scheduling daemon and an embedded dev cluster.
#[derive(Debug, Parser)]
#[command(
    name = "tokensmith",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command accepts, before or after the subcommand.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// The kubeconfig file to use when talking to the cluster. If unset, the first
    /// existing file among $KUBECONFIG's entries (or ~/.kube/config), then
    /// /etc/kubernetes/admin.conf, as kubeadm resolves it.
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,

    /// The kubeconfig context to use (default: its current-context).
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,

    /// Whether to enable dry-run mode or not: reads go to the cluster, writes are
    /// printed instead of sent.
    #[arg(long, global = true)]
    pub dry_run: bool,

    /// The path to the 'real' host root filesystem. tokensmith chroots into it
    /// before reading anything.
    #[arg(long, global = true, value_name = "PATH")]
    pub rootfs: Option<PathBuf>,

    /// Run against the embedded dev cluster, with state kept under
    /// $XDG_STATE_HOME/tokensmith/dev (else ~/.local/state/tokensmith/dev).
    #[arg(long, global = true)]
    pub dev: bool,

    /// More log output; repeat for more (-v info, -vv debug, -vvv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// kubeadm's klog verbosity (`--v=5`); accepted for compatibility and mapped
    /// onto the same levels as -v.
    #[arg(long = "v", global = true, value_name = "LEVEL", hide = true)]
    pub klog_v: Option<u8>,

    /// Log line format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Manage bootstrap tokens, as `kubeadm token` does.
    Token(token::TokenArgs),
    /// Run a Rhai script once.
    Run(run::RunArgs),
    /// Compile and lint scripts without running them.
    Check(check::CheckArgs),
    /// An interactive Rhai session against the cluster.
    Repl(repl::ReplArgs),
    /// Run scheduled scripts from a directory, reloading them as they change.
    #[command(alias = "daemon")]
    Watch(watch::WatchArgs),
    /// Serve the embedded, Kubernetes-API-compatible dev cluster.
    DevCluster(dev_cluster::DevClusterArgs),
    /// Print shell completions.
    Completions(completions::CompletionsArgs),
}

/// Runs the parsed command line and returns the process exit code.
pub fn dispatch(cli: Cli) -> Result<(), Failure> {
    let global = cli.global;
    if let Some(root) = &global.rootfs {
        chroot(root)?;
    }
    match cli.command {
        Command::Token(args) => token::run(&global, args),
        Command::Run(args) => run::run(&global, args),
        Command::Check(args) => check::run(&global, args),
        Command::Repl(args) => repl::run(&global, args),
        Command::Watch(args) => watch::run(&global, args),
        Command::DevCluster(args) => dev_cluster::run(&global, args),
        Command::Completions(args) => completions::run(args),
    }
}

/// Writes command output to stdout. A closed pipe (`| head`) ends the
/// output quietly instead of failing, as shell tools do.
pub fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::new(
            1,
            format!("failed to write to standard output: {e}"),
        )),
    }
}

/// True when an error (or any of its sources) is a closed pipe.
pub fn is_broken_pipe(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::BrokenPipe
        {
            return true;
        }
        cur = e.source();
    }
    false
}

/// `--rootfs`: everything after this reads the host's files (kubeadm `Chroot`).
fn chroot(root: &std::path::Path) -> Result<(), Failure> {
    std::os::unix::fs::chroot(root)
        .and_then(|()| std::env::set_current_dir("/"))
        .map_err(|e| Failure::new(1, format!("unable to chroot to {}: {e}", root.display())))
}
