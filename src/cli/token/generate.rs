//! `token generate`: print a fresh token; no API call, no kubeconfig.

use super::{Failure, GenerateArgs, no_args};
use crate::token::BootstrapTokenString;

pub fn run(args: GenerateArgs) -> Result<(), Failure> {
    no_args("tokensmith token generate", &args.extra)?;
    let line = format!("{}\n", BootstrapTokenString::generate().expose());
    super::super::write_stdout(line.as_bytes())
}
