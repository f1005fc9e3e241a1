//! The command line: clap definitions grouped per command, and dispatch.
//!
//! Each command's arguments live in their own file; `dispatch` hands the
//! parsed arguments to the library module that does the work.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

pub mod check;
pub mod completions;
pub mod definitions;
pub mod dev_cluster;
pub mod fleet;
pub mod repl;
pub mod run;
pub mod test;
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

/// Flags every command accepts, before or after the subcommand. Listed
/// under their own heading so a command's help shows its own options first.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Global options")]
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
    /// It is up while the command runs; `tokensmith --dev dev-cluster` keeps
    /// it up, and --dev commands use that one meanwhile.
    #[arg(long, global = true)]
    pub dev: bool,

    /// More log output on stderr. By default only warnings, errors, the
    /// daemon's job lines and a script's own log:: lines are shown; -v adds
    /// tokensmith's info lines, -vv debug, -vvv trace. Other crates' logs stay
    /// at warnings unless RUST_LOG asks for them.
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Errors only on stderr: no warnings, no notes, no log:: lines.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// kubeadm's klog verbosity (`--v=5`); accepted for compatibility and mapped
    /// onto the same levels as -v (1 info, 2 debug, 3 and above trace). From 5
    /// up, a failure also prints the chain of errors that caused it.
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
// Each subcommand's arguments are built only when that subcommand is
// parsed (or help and completions walk the whole tree): start-up cost.
#[command(defer = true)]
pub enum Command {
    /// Manage bootstrap tokens, as `kubeadm token` does.
    Token(token::TokenArgs),
    /// Run a Rhai script once.
    Run(run::RunArgs),
    /// Compile and lint scripts without running them.
    Check(check::CheckArgs),
    /// Run the tests of `*_test.rhai` files, each against a fresh dev cluster.
    Test(test::TestArgs),
    /// An interactive Rhai session against the cluster.
    Repl(repl::ReplArgs),
    /// Run scheduled scripts from a directory, reloading them as they change.
    #[command(alias = "daemon")]
    Watch(watch::WatchArgs),
    /// Serve the embedded, Kubernetes-API-compatible dev cluster.
    DevCluster(dev_cluster::DevClusterArgs),
    /// Print shell completions.
    Completions(completions::CompletionsArgs),
    /// Write Rhai language-server definition files for the script API.
    Definitions(definitions::DefinitionsArgs),
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
        Command::Test(args) => test::run(&global, args),
        Command::Repl(args) => repl::run(&global, args),
        Command::Watch(args) => watch::run(&global, args),
        Command::DevCluster(args) => dev_cluster::run(&global, args),
        Command::Completions(args) => completions::run(args),
        Command::Definitions(args) => definitions::run(args),
    }
}

/// What a newcomer needs to hear after a `--dev` command that started its own
/// dev cluster: what ran, where its state stays, that its endpoint is gone
/// now, and how to keep one up. Nothing when the cluster is shared or real.
pub fn dev_note(cluster: &crate::cluster::Cluster) -> Option<String> {
    let crate::devcluster::DevSession::Started(dc, state) = cluster.dev_session()? else {
        return None;
    };
    Some(format!(
        "note: this ran against a rehearsal dev cluster (--dev), not a real one; its state \
         (tokens, CA, admin kubeconfig) stays in {} for the next --dev command.\n\
         note: its endpoint {} was up only while the command ran. To keep it up \
         (for kubectl, or for a node to join), run `tokensmith --dev dev-cluster` in \
         another terminal; --dev commands then use it.\n",
        state.dir().display(),
        dc.url()
    ))
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
