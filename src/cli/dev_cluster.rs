//! `tokensmith dev-cluster`.

use super::{Failure, GlobalArgs};

#[derive(Debug, clap::Args)]
pub struct DevClusterArgs {}

pub fn run(_global: &GlobalArgs, _args: DevClusterArgs) -> Result<(), Failure> {
    Err(Failure::new(2, "`tokensmith dev-cluster` is not built yet"))
}
