//! Which files are test files, and which functions in them are tests.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::script::ScriptHost;

use super::case::{Case, CaseFailure, FailureKind, TestFile};

/// A test file's name ends in this.
pub const SUFFIX: &str = "_test.rhai";

/// The files to run: each path that is a file, and the `*_test.rhai` files
/// directly inside each path that is a directory, sorted, without
/// duplicates. With no paths: `.` and `tests/` (when it exists).
pub fn files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut defaults = vec![PathBuf::from(".")];
    if Path::new("tests").is_dir() {
        defaults.push(PathBuf::from("tests"));
    }
    let paths = if paths.is_empty() {
        &defaults[..]
    } else {
        paths
    };
    let mut out = Vec::new();
    for p in paths {
        let meta =
            std::fs::metadata(p).map_err(|e| format!("{}: {}", p.display(), io_reason(&e)))?;
        if meta.is_file() {
            out.push(clean(p));
            continue;
        }
        let entries = std::fs::read_dir(p).map_err(|e| format!("{}: {e}", p.display()))?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|f| {
                f.is_file()
                    && f.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.ends_with(SUFFIX))
            })
            .map(|f| clean(&f))
            .collect();
        found.sort();
        out.extend(found);
    }
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|p| seen.insert(p.clone()));
    Ok(out)
}

/// `No such file or directory`, without Rust's `(os error 2)`.
fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    s.find(" (os error")
        .map_or(s.clone(), |i| s[..i].to_owned())
}

/// `./x_test.rhai` is shown as `x_test.rhai`.
fn clean(p: &Path) -> PathBuf {
    p.strip_prefix(".")
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| p.to_path_buf())
}

/// Compiles `path` and lists its cases: one per `fn test_*()`, in the order
/// they appear, or one failing case for a file that does not compile.
pub fn cases(host: &ScriptHost, path: &Path) -> Vec<Case> {
    let display = path.display().to_string();
    match host.compile_file(path) {
        Err(e) => {
            let file = Arc::new(TestFile {
                path: path.to_path_buf(),
                display,
                script: None,
                has_setup: false,
            });
            vec![Case {
                file,
                name: String::new(),
                known_failure: Some(CaseFailure::plain(FailureKind::Compile, e.to_string())),
            }]
        }
        Ok(script) => {
            let mut tests: Vec<(usize, String, usize)> = Vec::new();
            let mut has_setup = false;
            for f in script.ast().iter_functions() {
                if f.name == "setup" && f.params.is_empty() {
                    has_setup = true;
                }
                if f.name.starts_with("test_") {
                    let at = definition_line(script.source(), f.name);
                    tests.push((at, f.name.to_owned(), f.params.len()));
                }
            }
            tests.sort();
            tests.dedup_by(|a, b| a.1 == b.1);
            let file = Arc::new(TestFile {
                path: path.to_path_buf(),
                display: display.clone(),
                script: Some(script),
                has_setup,
            });
            if tests.is_empty() {
                return vec![Case {
                    file,
                    name: String::new(),
                    known_failure: Some(CaseFailure::plain(
                        FailureKind::Compile,
                        format!(
                            "{display}: no test functions (a test is `fn test_name() {{ … }}`)"
                        ),
                    )),
                }];
            }
            tests
                .into_iter()
                .map(|(line, name, params)| Case {
                    file: file.clone(),
                    known_failure: (params > 0).then(|| {
                        CaseFailure::plain(
                            FailureKind::Compile,
                            format!(
                                "{display}:{line}:1: test function {name} takes {params} parameter(s); tests take none"
                            ),
                        )
                    }),
                    name,
                })
                .collect()
        }
    }
}

/// The 1-based line of `fn name(` in `source` (for ordering and messages).
fn definition_line(source: &str, name: &str) -> usize {
    source
        .lines()
        .position(|l| {
            let t = l.trim_start();
            let t = t.strip_prefix("private ").unwrap_or(t);
            t.strip_prefix("fn ")
                .map(str::trim_start)
                .and_then(|r| r.strip_prefix(name))
                .is_some_and(|r| r.trim_start().starts_with('('))
        })
        .map_or(usize::MAX, |i| i + 1)
}
