//! `tokensmith run SCRIPT`: run a Rhai script once and print its result.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use super::{Failure, GlobalArgs};
use crate::cluster::{Cluster, ConnectOptions};
use crate::script::{ErrorKind, Limits, RunControl, ScriptHost, ScriptOptions};

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The script to run (a `.rhai` file). Exit status: 1 when the script
    /// fails, 2 on a usage error, a script that cannot be read included (a
    /// missing file, a directory, FIFO or device, over 16 MiB, not UTF-8).
    #[arg(value_name = "SCRIPT")]
    pub script: PathBuf,

    /// A script argument, read in the script as `args.KEY` (a string).
    /// Repeat for more.
    #[arg(long = "arg", value_name = "KEY=VALUE", value_parser = parse_arg)]
    pub args: Vec<(String, String)>,

    /// Run the script once per kubeconfig context for a fleet of clusters
    /// (comma-separated or repeated), up to --parallel at once. Each run's
    /// result is printed in the given order under a `# context: NAME` line,
    /// then a summary table on stderr; a failing context does not stop the
    /// others, but makes the exit status 1.
    #[arg(
        long,
        value_name = "NAMES",
        value_delimiter = ',',
        conflicts_with = "all_contexts"
    )]
    pub contexts: Vec<String>,

    /// Like --contexts with every context of the kubeconfig.
    #[arg(long)]
    pub all_contexts: bool,

    /// How many contexts of a fleet run at once (1 runs them one by one).
    #[arg(long, value_name = "N", default_value_t = super::fleet::DEFAULT_PARALLEL,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub parallel: u16,

    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

/// Sandbox limits and allowances, shared by `run` and `repl`.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Sandbox")]
pub struct SandboxArgs {
    /// Wall-time limit for the run, in Go duration syntax (`30s`, `10m`);
    /// `0` for none. Time waiting on the API server counts.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_timeout, allow_hyphen_values = true)]
    pub timeout: Timeout,

    /// Let the script read environment variable NAME with `env("NAME")`.
    /// Repeat for more; no variable is readable otherwise.
    #[arg(long = "allow-env", value_name = "NAME")]
    pub allow_env: Vec<String>,

    /// Maximum Rhai operations per run (0 = unlimited). The default stops a
    /// runaway loop within a few seconds.
    #[arg(long, value_name = "N", default_value_t = crate::script::limits::DEFAULT_MAX_OPERATIONS)]
    pub max_operations: u64,

    /// Maximum depth of nested function calls (at most 256: deeper would
    /// overflow the script thread's stack).
    #[arg(
        long,
        value_name = "N",
        default_value_t = crate::script::limits::DEFAULT_MAX_CALL_DEPTH,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new()
            .range(1..=crate::script::limits::MAX_CALL_DEPTH_CAP)
    )]
    pub max_call_depth: usize,

    /// Maximum length of one string, in bytes. At least 1: Rhai reads 0 as "no limit", which lets a
    /// doubling loop exhaust memory.
    #[arg(
        long,
        value_name = "BYTES",
        default_value_t = crate::script::limits::DEFAULT_MAX_STRING_SIZE,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
    )]
    pub max_string_size: usize,

    /// Maximum number of elements in one array. At least 1: Rhai reads 0 as "no limit", which lets a
    /// doubling loop exhaust memory.
    #[arg(
        long,
        value_name = "N",
        default_value_t = crate::script::limits::DEFAULT_MAX_ARRAY_SIZE,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
    )]
    pub max_array_size: usize,

    /// Maximum number of entries in one object map. At least 1: Rhai reads 0 as "no limit", which lets a
    /// doubling loop exhaust memory.
    #[arg(
        long,
        value_name = "N",
        default_value_t = crate::script::limits::DEFAULT_MAX_MAP_SIZE,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
    )]
    pub max_map_size: usize,

    /// Maximum calls to the API server per run (0 = unlimited). The default
    /// stops a polling loop that the operation limit would let run for hours.
    #[arg(long, value_name = "N", default_value_t = crate::script::limits::DEFAULT_MAX_API_CALLS)]
    pub max_api_calls: u64,
}

impl SandboxArgs {
    pub fn options(&self, global: &GlobalArgs) -> ScriptOptions {
        ScriptOptions {
            limits: Limits {
                max_operations: self.max_operations,
                max_call_depth: self.max_call_depth,
                max_string_size: self.max_string_size,
                max_array_size: self.max_array_size,
                max_map_size: self.max_map_size,
                max_api_calls: self.max_api_calls,
                timeout: self.timeout.0,
                ..Limits::default()
            },
            allow_env: self.allow_env.iter().cloned().collect::<BTreeSet<_>>(),
            dry_run: global.dry_run,
            echo_print: true,
            cluster_error: None,
            daemon: false,
        }
    }
}

pub(crate) fn parse_arg(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got {s:?}")),
    }
}

/// `--timeout`: `None` for no limit.
#[derive(Debug, Clone, Copy)]
pub struct Timeout(pub Option<Duration>);

fn parse_timeout(s: &str) -> Result<Timeout, String> {
    let d = crate::token::parse_go_duration(s).map_err(|e| e.to_string())?;
    if d.is_negative() {
        return Err(format!("the timeout must not be negative, got {s:?}"));
    }
    Ok(Timeout(if d.is_zero() {
        None
    } else {
        Duration::try_from(d).ok()
    }))
}

/// A multi-threaded runtime; scripts run on the calling thread, which is not
/// one of its workers, so host functions may wait on it.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::new(1, format!("failed to start the async runtime: {e}")))
}

/// Connects to the cluster if it can. A script that never touches the
/// cluster must not need one, so a failure only becomes the message that
/// token and join functions give.
pub(crate) fn connect(
    rt: &tokio::runtime::Runtime,
    global: &GlobalArgs,
    opts: &mut ScriptOptions,
) -> Option<Cluster> {
    match rt.block_on(Cluster::connect(&ConnectOptions::from_global(global))) {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::info!("no cluster for the script: {e}");
            opts.cluster_error = Some(e.to_string());
            None
        }
    }
}

pub fn run(global: &GlobalArgs, args: RunArgs) -> Result<(), Failure> {
    let opts = args.sandbox.options(global);
    let rt = runtime()?;
    // Compile first: a missing or broken script needs no cluster.
    let compiler = ScriptHost::new(None, opts.clone());
    let script = compiler.compile_file(&args.script).map_err(|e| {
        let code = if e.kind == ErrorKind::Io { 2 } else { 1 };
        Failure::new(code, e.to_string())
    })?;
    let script_args = args.args.iter().cloned().collect::<BTreeMap<_, _>>();
    if !global.quiet {
        warn_unread_args(&script, &script_args);
    }
    let fleet = fleet_contexts(global, &args)?;
    if fleet.is_empty() {
        let value = run_once(&rt, global, opts, &script, &script_args)?;
        return print_result(&value);
    }
    super::fleet::Fleet {
        rt: &rt,
        global,
        opts: &opts,
        script: &script,
        args: &script_args,
        contexts: &fleet,
        parallel: usize::from(args.parallel),
    }
    .run()
}

/// One run against the cluster that `global` selects.
pub(super) fn run_once(
    rt: &tokio::runtime::Runtime,
    global: &GlobalArgs,
    opts: ScriptOptions,
    script: &crate::script::CompiledScript,
    script_args: &BTreeMap<String, String>,
) -> Result<rhai::Dynamic, Failure> {
    run_member(rt, global, opts, script, script_args, false)
}

/// [`run_once`]; `here`: on the calling thread, which has a script stack
/// ([`ScriptHost::run_on_this_thread`]).
pub(super) fn run_member(
    rt: &tokio::runtime::Runtime,
    global: &GlobalArgs,
    mut opts: ScriptOptions,
    script: &crate::script::CompiledScript,
    script_args: &BTreeMap<String, String>,
    here: bool,
) -> Result<rhai::Dynamic, Failure> {
    let cluster = connect(rt, global, &mut opts);
    let note = cluster
        .as_ref()
        .filter(|_| !global.quiet)
        .and_then(super::dev_note);
    // The host captures the runtime's handle so host functions can reach the cluster.
    let _guard = rt.enter();
    let host = ScriptHost::new(cluster, opts);
    let ctl = RunControl {
        args: script_args.clone(),
        ..RunControl::default()
    };
    let result = if here {
        host.run_on_this_thread(script, &ctl)
    } else {
        host.run(script, &ctl)
    };
    if let Some(note) = note {
        let _ = std::io::Write::write_all(&mut std::io::stderr(), note.as_bytes());
    }
    result.map_err(|e| Failure::new(1, e.to_string()))
}

/// A `--arg` the script never reads is most likely a typo: say so (on
/// stderr) before running. The value is left out: it may be a credential.
fn warn_unread_args(script: &crate::script::CompiledScript, given: &BTreeMap<String, String>) {
    let Some(read) = crate::script::arg_keys::keys_read(script.ast()) else {
        return;
    };
    for key in given.keys().filter(|k| !read.contains(*k)) {
        let reads = if read.is_empty() {
            "it reads no args".to_owned()
        } else {
            let list: Vec<&str> = read.iter().map(String::as_str).collect();
            format!("it reads: {}", list.join(", "))
        };
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            format!("warning: --arg {key}=…: the script did not read {key:?} ({reads})\n")
                .as_bytes(),
        );
    }
}

pub(super) fn print_result(value: &rhai::Dynamic) -> Result<(), Failure> {
    match crate::script::render::render(value) {
        Some(text) => super::write_stdout(format!("{text}\n").as_bytes()),
        None => Ok(()),
    }
}

/// The contexts of a fleet run (`--contexts`, `--all-contexts`); empty for a
/// single run. Names are checked against the kubeconfig before anything runs.
fn fleet_contexts(global: &GlobalArgs, args: &RunArgs) -> Result<Vec<String>, Failure> {
    if args.contexts.is_empty() && !args.all_contexts {
        return Ok(Vec::new());
    }
    super::fleet::select_contexts(global, &args.contexts, args.all_contexts)
}
