//! `tokensmith check SCRIPT…`: compile and lint scripts without running
//! them, for pre-commit hooks and CI.

use std::path::PathBuf;

use super::{Failure, GlobalArgs};
use rhai::Position;

use crate::schedule::ScriptHeader;
use crate::script::{ErrorKind, ScriptError, ScriptHost, ScriptOptions, lint};

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Scripts to check, or directories: every `*.rhai` file in one, as
    /// `tokensmith watch` loads them. Each syntax error, each call to a
    /// function that does not exist and each invalid header line is reported,
    /// and each script's schedule header is printed; the exit status is 1 if
    /// any script fails.
    #[arg(value_name = "SCRIPT|DIR", required = true)]
    pub scripts: Vec<PathBuf>,
}

/// What checking one script found, as printed.
pub struct Report {
    pub ok: bool,
    pub text: String,
}

/// Checks one script: compile, lint, and read its job header the way
/// `tokensmith watch` will.
pub fn check_one(host: &ScriptHost, path: &std::path::Path) -> Report {
    let script = match host.compile_file(path) {
        Ok(s) => s,
        Err(e) if e.kind == ErrorKind::Io => {
            return Report {
                ok: false,
                text: format!("{e}\n"),
            };
        }
        // Read fine but does not compile: look for every syntax error.
        Err(_) => match read_text(path) {
            Some(source) => {
                let name = path.display().to_string();
                let problems = lint::problems(host, &name, &source);
                return finish(&name, &source, problems);
            }
            None => {
                return Report {
                    ok: false,
                    text: format!("{}: cannot read the script\n", path.display()),
                };
            }
        },
    };
    let mut problems = lint::unknown_calls(&host.engine(), &script);
    // An `on:` job's handler, as `watch` requires it to load the script.
    if let Some(f) = crate::schedule::header_lint::missing_handler_in(script.source(), script.ast())
    {
        let at = Position::new(u16::try_from(f.line).unwrap_or(u16::MAX), 1);
        let message = format!("invalid header: {}", f.message);
        problems.push(ScriptError::at(
            ErrorKind::Syntax,
            script.name(),
            script.source(),
            at,
            message,
        ));
    }
    finish(script.name(), script.source(), problems)
}

fn read_text(path: &std::path::Path) -> Option<String> {
    let text = String::from_utf8(std::fs::read(path).ok()?).ok()?;
    Some(
        text.strip_prefix('\u{feff}')
            .map(str::to_owned)
            .unwrap_or(text),
    )
}

/// Adds the header check and renders the report.
fn finish(name: &str, source: &str, problems: Vec<ScriptError>) -> Report {
    let header = ScriptHeader::parse(source).ok();
    let (mut warnings, mut problems): (Vec<_>, Vec<_>) = problems
        .into_iter()
        .partition(|p| p.message.starts_with(lint::WARNING));
    for f in crate::schedule::header_lint::findings(source) {
        let at = Position::new(u16::try_from(f.line).unwrap_or(u16::MAX), 1);
        let e = ScriptError::at(
            ErrorKind::Syntax,
            name,
            source,
            at,
            format!("invalid header: {}", f.message),
        );
        if f.error {
            problems.push(e);
        } else {
            warnings.push(ScriptError {
                message: format!("warning: {}", f.message),
                ..e
            });
        }
    }
    let mut shown: Vec<&ScriptError> = problems.iter().chain(&warnings).collect();
    // In line order, errors and warnings together, as an editor lists them.
    shown.sort_by_key(|p| (p.line, p.col));
    let mut text = String::new();
    for p in shown {
        text.push_str(&format!("{p}\n"));
    }
    if problems.is_empty() {
        text.push_str(&format!("{name}: ok\n"));
    }
    // A failed script's header is not what `watch` would run: do not show one.
    if let Some(h) = header.filter(|_| problems.is_empty()) {
        for line in h.to_string().lines() {
            text.push_str(&format!("  {line}\n"));
        }
    }
    Report {
        ok: problems.is_empty(),
        text,
    }
}

pub fn run(_global: &GlobalArgs, args: CheckArgs) -> Result<(), Failure> {
    let host = ScriptHost::new(None, ScriptOptions::default());
    // Test files may call the test-only functions `tokensmith test` gives them.
    let tests = ScriptHost::for_tests(None, ScriptOptions::default(), None);
    let mut failed = 0usize;
    let mut out = String::new();
    let mut scripts = Vec::new();
    for path in &args.scripts {
        if !path.is_dir() {
            scripts.push(path.clone());
            continue;
        }
        match crate::watch::loader::list_scripts(path) {
            Ok(found) if !found.is_empty() => scripts.extend(found.into_iter().map(|(_, p)| p)),
            Ok(_) => {
                failed += 1;
                out.push_str(&format!("{}: no *.rhai scripts in it\n", path.display()));
            }
            Err(e) => {
                failed += 1;
                out.push_str(&format!(
                    "{}: cannot read the directory: {e}\n",
                    path.display()
                ));
            }
        }
    }
    let total = scripts.len() + failed;
    for path in &scripts {
        let is_test = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(crate::testing::discover::SUFFIX));
        let report = check_one(if is_test { &tests } else { &host }, path);
        if !report.ok {
            failed += 1;
        }
        out.push_str(&report.text);
    }
    super::write_stdout(out.as_bytes())?;
    if failed > 0 {
        return Err(Failure::new(
            1,
            format!("{failed} of {total} scripts failed the check"),
        ));
    }
    Ok(())
}
