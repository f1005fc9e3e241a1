//! `tokensmith completions SHELL`.

use clap::CommandFactory;

use super::{Cli, Failure};

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to print completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

pub fn run(args: CompletionsArgs) -> Result<(), Failure> {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "tokensmith", &mut std::io::stdout());
    Ok(())
}
