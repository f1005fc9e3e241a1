//! Process entry: argument parsing, logging set-up, one call into the
//! library, and the single place where failures become exit codes.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, dispatch};

pub fn main() -> ExitCode {
    // One TLS provider for the whole process (kube, the dev cluster, webhooks).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    crate::logging::init(&cli.global);
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            let _ = std::io::stderr().write_all(f.render().as_bytes());
            ExitCode::from(f.code)
        }
    }
}
