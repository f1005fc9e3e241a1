//! `tokensmith run`.

use super::{Failure, GlobalArgs};

#[derive(Debug, clap::Args)]
pub struct RunArgs {}

pub fn run(_global: &GlobalArgs, _args: RunArgs) -> Result<(), Failure> {
    Err(Failure::new(2, "`tokensmith run` is not built yet"))
}
