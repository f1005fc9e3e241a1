//! `tokensmith watch`.

use super::{Failure, GlobalArgs};

#[derive(Debug, clap::Args)]
pub struct WatchArgs {}

pub fn run(_global: &GlobalArgs, _args: WatchArgs) -> Result<(), Failure> {
    Err(Failure::new(2, "`tokensmith watch` is not built yet"))
}
