//! How results are shown: cargo-test-style lines, TAP 14, and JUnit XML for
//! CI systems. Results arrive in discovery order whatever order the tests
//! finish in, so the output of a run is stable.

use std::fmt::Write as _;
use std::time::Duration;

use super::case::Outcome;

/// One finished test, as the reports see it.
pub struct Finished {
    pub name: String,
    /// The file, for grouping JUnit suites.
    pub file: String,
    /// The test function (empty for a file-level failure).
    pub test: String,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `test NAME ... ok`, failures with their lines, a summary.
    Human,
    /// TAP version 14.
    Tap,
}

/// The first lines, before any result.
pub fn start(format: Format, total: usize) -> String {
    match format {
        Format::Human => format!(
            "\nrunning {total} test{}\n",
            if total == 1 { "" } else { "s" }
        ),
        Format::Tap => format!("TAP version 14\n1..{total}\n"),
    }
}

/// The line(s) for the `index`th (0-based) result.
pub fn result(format: Format, index: usize, f: &Finished) -> String {
    match (format, &f.outcome.failure) {
        (Format::Human, None) => format!("test {} ... ok\n", f.name),
        (Format::Human, Some(_)) => format!("test {} ... FAILED\n", f.name),
        (Format::Tap, None) => format!("ok {} - {}\n", index + 1, f.name),
        (Format::Tap, Some(failure)) => {
            let mut out = format!("not ok {} - {}\n  ---\n", index + 1, f.name);
            let _ = writeln!(out, "  message: {}", yaml_quote(&failure.headline));
            let _ = writeln!(out, "  severity: fail");
            let _ = writeln!(out, "  kind: {}", failure.kind.as_str());
            out.push_str("  diagnostic: |\n");
            for line in failure.text.lines() {
                let _ = writeln!(out, "    {line}");
            }
            if !f.outcome.output.is_empty() {
                out.push_str("  output: |\n");
                for line in &f.outcome.output {
                    let _ = writeln!(out, "    {line}");
                }
            }
            out.push_str("  ...\n");
            out
        }
    }
}

/// Counts for the summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub filtered_out: usize,
}

impl Summary {
    pub fn of(results: &[Finished], filtered_out: usize) -> Self {
        let failed = results
            .iter()
            .filter(|r| r.outcome.failure.is_some())
            .count();
        Summary {
            passed: results.len() - failed,
            failed,
            filtered_out,
        }
    }
}

/// What follows the results: the failures in full and the summary line.
pub fn finish(format: Format, results: &[Finished], summary: Summary, took: Duration) -> String {
    let counts = format!(
        "{} passed, {} failed; {} filtered out; finished in {:.2}s",
        summary.passed,
        summary.failed,
        summary.filtered_out,
        took.as_secs_f64()
    );
    if format == Format::Tap {
        return format!("# {counts}\n");
    }
    let mut out = String::new();
    let failed: Vec<&Finished> = results
        .iter()
        .filter(|r| r.outcome.failure.is_some())
        .collect();
    if !failed.is_empty() {
        out.push_str("\nfailures:\n");
        for f in &failed {
            let Some(failure) = &f.outcome.failure else {
                continue;
            };
            let _ = write!(out, "\n---- {} ----\n{}\n", f.name, failure.text);
            if !f.outcome.output.is_empty() {
                out.push_str("output:\n");
                for line in &f.outcome.output {
                    let _ = writeln!(out, "    {line}");
                }
            }
        }
        out.push_str("\nfailures:\n");
        for f in &failed {
            let _ = writeln!(out, "    {}", f.name);
        }
    }
    let verdict = if summary.failed == 0 { "ok" } else { "FAILED" };
    let _ = write!(out, "\ntest result: {verdict}. {counts}\n");
    out
}

/// The run as JUnit XML (the Ant/Surefire dialect CI systems read): one
/// `<testsuite>` per file, one `<testcase>` per test.
pub fn junit(results: &[Finished], took: Duration) -> String {
    let mut files: Vec<&str> = Vec::new();
    for r in results {
        if !files.contains(&r.file.as_str()) {
            files.push(&r.file);
        }
    }
    let failures = results
        .iter()
        .filter(|r| r.outcome.failure.is_some())
        .count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"tokensmith test\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" time=\"{:.3}\">",
        results.len(),
        took.as_secs_f64()
    );
    for file in files {
        let mine: Vec<&Finished> = results.iter().filter(|r| r.file == file).collect();
        let failed = mine.iter().filter(|r| r.outcome.failure.is_some()).count();
        let time: f64 = mine.iter().map(|r| r.outcome.elapsed.as_secs_f64()).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" skipped=\"0\" time=\"{time:.3}\">",
            xml(file),
            mine.len()
        );
        for r in mine {
            let name = if r.test.is_empty() { "(file)" } else { &r.test };
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" time=\"{:.3}\"",
                xml(name),
                xml(file),
                xml(file),
                r.outcome.elapsed.as_secs_f64()
            );
            if r.outcome.failure.is_none() && r.outcome.output.is_empty() {
                out.push_str("/>\n");
                continue;
            }
            out.push_str(">\n");
            if let Some(f) = &r.outcome.failure {
                let _ = writeln!(
                    out,
                    "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                    xml(&f.headline),
                    f.kind.as_str(),
                    xml(&f.text)
                );
            }
            if !r.outcome.output.is_empty() {
                let _ = writeln!(
                    out,
                    "      <system-out>{}</system-out>",
                    xml(&r.outcome.output.join("\n"))
                );
            }
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Text escaped for XML attributes and content; characters XML 1.0 cannot
/// hold at all are dropped.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// A YAML double-quoted scalar.
fn yaml_quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::case::{CaseFailure, FailureKind};

    fn finished(test: &str, failure: Option<&str>) -> Finished {
        Finished {
            name: format!("a_test.rhai::{test}"),
            file: "a_test.rhai".into(),
            test: test.into(),
            outcome: Outcome {
                failure: failure.map(|t| CaseFailure::plain(FailureKind::Assertion, t.to_owned())),
                output: vec!["printed <x>".into()],
                elapsed: Duration::from_millis(12),
            },
        }
    }

    #[test]
    fn junit_escapes_and_counts() {
        let xml = junit(
            &[
                finished("test_ok", None),
                finished("test_bad", Some("a_test.rhai:3:5: left < right & \"q\"")),
            ],
            Duration::from_millis(30),
        );
        assert!(xml.contains("tests=\"2\" failures=\"1\""), "{xml}");
        assert!(
            xml.contains("message=\"a_test.rhai:3:5: left &lt; right &amp; &quot;q&quot;\""),
            "{xml}"
        );
        assert!(
            xml.contains("<system-out>printed &lt;x&gt;</system-out>"),
            "{xml}"
        );
    }

    #[test]
    fn tap_numbers_results_and_puts_failures_in_yaml() {
        let ok = result(Format::Tap, 0, &finished("test_ok", None));
        assert_eq!(ok, "ok 1 - a_test.rhai::test_ok\n");
        let bad = result(
            Format::Tap,
            1,
            &finished("test_bad", Some("x:1:1: boom\n 1 | y")),
        );
        assert!(
            bad.starts_with(
                "not ok 2 - a_test.rhai::test_bad\n  ---\n  message: \"x:1:1: boom\"\n"
            ),
            "{bad}"
        );
        assert!(bad.ends_with("  ...\n"), "{bad}");
    }
}
