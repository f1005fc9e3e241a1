//! `tokensmith repl`.

use std::path::PathBuf;

use super::run::{SandboxArgs, connect, runtime};
use super::{Failure, GlobalArgs};
use crate::script::ScriptHost;

#[derive(Debug, clap::Args)]
pub struct ReplArgs {
    /// History file (default: $XDG_STATE_HOME/tokensmith/repl_history, else
    /// ~/.local/state/tokensmith/repl_history). Lines holding a token are never saved.
    #[arg(long, value_name = "PATH")]
    pub history: Option<PathBuf>,

    /// Keep no history file.
    #[arg(long, conflicts_with = "history")]
    pub no_history: bool,

    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

pub fn run(global: &GlobalArgs, args: ReplArgs) -> Result<(), Failure> {
    let mut opts = args.sandbox.options(global);
    let rt = runtime()?;
    let cluster = connect(&rt, global, &mut opts);
    let _guard = rt.enter();
    let host = ScriptHost::new(cluster, opts);
    let history = if args.no_history {
        None
    } else {
        args.history.or_else(crate::repl::history::default_path)
    };
    crate::repl::run(&host, history).map_err(|e| Failure::new(1, e))
}
