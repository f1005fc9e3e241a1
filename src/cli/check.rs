//! `tokensmith check SCRIPT…`: compile and lint scripts without running
//! them, for pre-commit hooks and CI.

use std::path::PathBuf;

use super::{Failure, GlobalArgs};
use crate::script::{ScriptHost, ScriptOptions, lint};

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Scripts to check. Each syntax error and each call to a function that
    /// does not exist is reported; the exit status is 1 if any script fails.
    #[arg(value_name = "SCRIPT", required = true)]
    pub scripts: Vec<PathBuf>,
}

/// What checking one script found, as printed.
pub struct Report {
    pub ok: bool,
    pub text: String,
}

/// Checks one script: compile, lint, and describe its header.
pub fn check_one(host: &ScriptHost, path: &std::path::Path) -> Report {
    let script = match host.compile_file(path) {
        Ok(s) => s,
        Err(e) => {
            return Report {
                ok: false,
                text: format!("{e}\n"),
            };
        }
    };
    let problems = lint::unknown_calls(&host.engine(), &script);
    let mut text = String::new();
    for p in &problems {
        text.push_str(&format!("{p}\n"));
    }
    if problems.is_empty() {
        text.push_str(&format!("{}: ok\n", script.name()));
    }
    Report {
        ok: problems.is_empty(),
        text,
    }
}

pub fn run(_global: &GlobalArgs, args: CheckArgs) -> Result<(), Failure> {
    let host = ScriptHost::new(None, ScriptOptions::default());
    let mut failed = 0usize;
    let mut out = String::new();
    for path in &args.scripts {
        let report = check_one(&host, path);
        if !report.ok {
            failed += 1;
        }
        out.push_str(&report.text);
    }
    super::write_stdout(out.as_bytes())?;
    if failed > 0 {
        return Err(Failure::new(
            1,
            format!(
                "{failed} of {} scripts failed the check",
                args.scripts.len()
            ),
        ));
    }
    Ok(())
}
