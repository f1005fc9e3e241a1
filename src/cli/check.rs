//! `tokensmith check`.

use super::{Failure, GlobalArgs};

#[derive(Debug, clap::Args)]
pub struct CheckArgs {}

pub fn run(_global: &GlobalArgs, _args: CheckArgs) -> Result<(), Failure> {
    Err(Failure::new(2, "`tokensmith check` is not built yet"))
}
