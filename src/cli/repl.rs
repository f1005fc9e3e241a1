//! `tokensmith repl`.

use super::{Failure, GlobalArgs};

#[derive(Debug, clap::Args)]
pub struct ReplArgs {}

pub fn run(_global: &GlobalArgs, _args: ReplArgs) -> Result<(), Failure> {
    Err(Failure::new(2, "`tokensmith repl` is not built yet"))
}
