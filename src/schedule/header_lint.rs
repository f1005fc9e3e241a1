//! What `check` finds in a header beyond what [`ScriptHeader::parse`]
//! refuses: every invalid line (not only the first), and the near misses the
//! parser reads as free text, which would silently leave a job unscheduled:
//! `//! Schedule: …` (the key is lower case), `//! schedule 0 3 * * *` (no
//! colon), a `//!` line after a `//` comment has ended the header, a header
//! written with `//`; schedules that never fire (`0 0 31 2 *`); an `on:`
//! header whose handler function is missing ([`missing_handler`]); and
//! `contexts:` on a script that never runs on its own (no `schedule`, no `on`).

use super::header::{KEYS, ScriptHeader};

/// One finding, on a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderFinding {
    pub line: usize,
    /// An error fails the check (the daemon refuses the script, or would run
    /// it unscheduled against what the author meant); a warning does not.
    pub error: bool,
    pub message: String,
}

/// Every finding in `source`'s header, in line order.
pub fn findings(source: &str) -> Vec<HeaderFinding> {
    let mut out = Vec::new();
    let mut seen: Vec<(String, usize)> = Vec::new();
    // Where the header is: the `//!` run after a `#!` line and blank lines.
    let mut in_header = false;
    let mut header_ended_at: Option<usize> = None;
    for (index, raw) in source.lines().enumerate() {
        let line = index + 1;
        let text = raw.trim();
        let doc = text.strip_prefix("//!");
        match (doc, header_ended_at) {
            (Some(doc), None) => {
                in_header = true;
                check_line(doc, line, &mut seen, &mut out);
            }
            (Some(doc), Some(ended)) => {
                if looks_like_key(doc).is_some() {
                    let why = if in_header {
                        format!("the header ended at line {ended}")
                    } else {
                        format!("there is no header: line {ended} comes before it")
                    };
                    out.push(HeaderFinding {
                        line,
                        error: true,
                        message: format!(
                            "this header line is ignored: {why} (a header is the `//!` lines at the top; a `//` comment, a blank line after it, or code ends it)"
                        ),
                    });
                }
            }
            (None, _) => {
                let preamble =
                    !in_header && (text.is_empty() || (index == 0 && text.starts_with("#!")));
                if !preamble && header_ended_at.is_none() {
                    header_ended_at = Some(line);
                }
                // `// schedule: …` where `//! schedule: …` was meant.
                if let Some(rest) = text.strip_prefix("//")
                    && !rest.starts_with('/')
                    && let Some(key) = looks_like_key(rest)
                    && rest.trim_start().starts_with(&format!("{key}:"))
                {
                    out.push(HeaderFinding {
                        line,
                        error: false,
                        message: format!(
                            "`//` comment reads like a header line; the daemon only reads `//! {key}: …`"
                        ),
                    });
                }
            }
        }
    }
    if let Some((_, line)) = seen.iter().find(|(k, _)| k == "contexts")
        && let Ok(h) = ScriptHeader::parse(source)
        && h.schedule.is_none()
        && h.on.is_none()
    {
        out.push(HeaderFinding {
            line: *line,
            error: false,
            message: "`contexts:` has no effect: the script has no `schedule` or `on`, so `watch` never runs it".to_owned(),
        });
        out.sort_by_key(|f| f.line);
    }
    out
}

/// The known key a line starts with, compared without case: `Schedule`,
/// `schedule`, `TIMEZONE`.
fn looks_like_key(doc: &str) -> Option<&'static str> {
    let first = doc
        .trim_start()
        .split(|c: char| c == ':' || c.is_whitespace())
        .next()?;
    KEYS.iter().copied().find(|k| k.eq_ignore_ascii_case(first))
}

fn check_line(
    doc: &str,
    line: usize,
    seen: &mut Vec<(String, usize)>,
    out: &mut Vec<HeaderFinding>,
) {
    let trimmed = doc.trim_start();
    let Some(key) = looks_like_key(doc) else {
        // An unknown `key: value` line: the parser's own message.
        if let Err(e) = ScriptHeader::parse(&format!("//!{doc}")) {
            out.push(error(line, strip_line(&e.to_string())));
        }
        return;
    };
    let written = &trimmed[..key.len()];
    let after = &trimmed[key.len()..];
    if !after.starts_with(':') {
        // `//! schedule 0 3 * * *`: free text to the parser.
        // Lower case it is surely a key; capitalised it may be prose.
        if !after.trim().is_empty() {
            out.push(HeaderFinding {
                line,
                error: written == key,
                message: format!(
                    "missing `:` after `{written}`: write `//! {key}: {}`",
                    after.trim()
                ),
            });
        }
        return;
    }
    if written != key {
        out.push(error(
            line,
            format!(
                "header keys are lower case: write `//! {key}:` (`{written}:` is read as free text)"
            ),
        ));
        return;
    }
    if let Some((_, first)) = seen.iter().find(|(k, _)| k == key) {
        out.push(error(
            line,
            format!("header key {key:?} is set twice (first on line {first})"),
        ));
        return;
    }
    seen.push((key.to_owned(), line));
    match ScriptHeader::parse(&format!("//!{doc}")) {
        Err(e) => out.push(error(line, strip_line(&e.to_string()))),
        Ok(h) => {
            if let Some(spec) = &h.schedule
                && never_fires(spec)
            {
                out.push(HeaderFinding {
                    line,
                    error: false,
                    message: format!(
                        "schedule {spec:?} never fires (no date matches it in the next 5 years)",
                        spec = spec.source()
                    ),
                });
            }
        }
    }
}

/// An `on:` header whose handler the script does not define, or defines
/// with other than the one parameter (the event) it is called with: the
/// daemon would only fail at the first event. `functions` are the script's
/// own `(name, parameter count)`s; the finding is on the `on:` line.
pub fn missing_handler(source: &str, functions: &[(&str, usize)]) -> Option<HeaderFinding> {
    let on = ScriptHeader::parse(source).ok()?.on?;
    let handler = on.handler();
    let line = source
        .lines()
        .position(|l| {
            l.trim()
                .strip_prefix("//!")
                .is_some_and(|d| d.trim_start().starts_with("on:"))
        })
        .map_or(1, |i| i + 1);
    let arities: Vec<usize> = functions
        .iter()
        .filter(|(name, _)| *name == handler)
        .map(|(_, n)| *n)
        .collect();
    if arities.contains(&1) {
        return None;
    }
    let message = match arities.as_slice() {
        [] => format!("`on: {on}` calls fn {handler}(event), which this script does not define"),
        [n, ..] => format!(
            "`on: {on}` calls fn {handler} with one argument (the event), but this script's {handler} takes {n}"
        ),
    };
    Some(error(line, message))
}

/// [`missing_handler`] over a compiled script's own functions.
pub fn missing_handler_in(source: &str, ast: &rhai::AST) -> Option<HeaderFinding> {
    let functions: Vec<(&str, usize)> = ast
        .iter_functions()
        .map(|f| (f.name, f.params.len()))
        .collect();
    missing_handler(source, &functions)
}

/// True when no tick comes within five years (leap days recur within four).
fn never_fires(spec: &super::cron::CronSpec) -> bool {
    let now = jiff::Timestamp::now();
    let horizon = jiff::SignedDuration::from_hours(24 * (366 * 5));
    match spec.next_after(now, chrono_tz::Tz::UTC) {
        None => true,
        Some(next) => next.duration_since(now) > horizon,
    }
}

fn error(line: usize, message: String) -> HeaderFinding {
    HeaderFinding {
        line,
        error: true,
        message,
    }
}

/// The parser's messages start `line 1: ` (it saw one line); the finding
/// carries the real line.
fn strip_line(message: &str) -> String {
    message
        .strip_prefix("line 1: ")
        .unwrap_or(message)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(src: &str) -> Vec<(usize, bool, String)> {
        findings(src)
            .into_iter()
            .map(|f| (f.line, f.error, f.message))
            .collect()
    }

    #[test]
    fn near_miss_keys_are_errors_not_free_text() {
        let f = messages("//! Schedule: 0 3 * * *\n//! timezone Europe/Berlin\n1");
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(f[0].1 && f[0].2.contains("lower case"), "{f:?}");
        assert_eq!(f[1].0, 2);
        assert!(f[1].2.contains("missing `:` after `timezone`"), "{f:?}");
    }

    #[test]
    fn every_invalid_line_is_reported() {
        let f = messages(
            "//! schedule: 61 * * * *\n//! overlap: sometimes\n//! timeout: -1s\n//! colour: red\n",
        );
        let lines: Vec<usize> = f.iter().map(|x| x.0).collect();
        assert_eq!(lines, [1, 2, 3, 4], "{f:?}");
        assert!(f.iter().all(|x| x.1));
    }

    #[test]
    fn a_header_line_after_a_comment_is_flagged() {
        let f = messages("// rotation job\n//! schedule: 0 3 * * *\n1");
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].0, 2);
        assert!(
            f[0].2
                .contains("there is no header: line 1 comes before it"),
            "{f:?}"
        );
        let f = messages("//! timezone: UTC\n// note\n//! schedule: 0 3 * * *\n1");
        assert!(f[0].2.contains("the header ended at line 2"), "{f:?}");
        let f = messages("// schedule: 0 3 * * *\n1");
        assert!(!f[0].1 && f[0].2.contains("`//! schedule: …`"), "{f:?}");
    }

    #[test]
    fn a_schedule_that_never_fires_is_a_warning() {
        let f = messages("//! schedule: 0 0 31 2 *\n");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(!f[0].1 && f[0].2.contains("never fires"), "{f:?}");
        assert!(messages("//! schedule: 0 0 29 2 *\n").is_empty());
    }

    #[test]
    fn an_on_header_needs_its_one_parameter_handler() {
        let src = "//! on: csr\n//! overlap: queue\nfn on_csr(c) {}\n";
        assert_eq!(missing_handler(src, &[("on_csr", 1)]), None);
        let f = missing_handler(
            "#!/x\n//! overlap: queue\n//! on: token-deleted\n",
            &[("helper", 1)],
        )
        .expect("a finding");
        assert_eq!((f.line, f.error), (3, true));
        assert!(f.message.contains("fn on_token_deleted(event)"), "{f:?}");
        let f = missing_handler("//! on: token-expiring 1h\n", &[("on_token_expiring", 0)])
            .expect("a finding");
        assert!(f.message.contains("takes 0"), "{f:?}");
        // Scheduled scripts and plain modules have no handler to find.
        assert_eq!(missing_handler("//! schedule: @daily\n", &[]), None);
        assert_eq!(missing_handler("let x = 1;", &[]), None);
    }

    #[test]
    fn contexts_without_a_schedule_is_a_warning_and_a_bad_list_an_error() {
        let f = messages("//! contexts: east, west\nfn helper() { 1 }\n");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(!f[0].1 && f[0].2.contains("no effect"), "{f:?}");
        assert!(messages("//! schedule: @daily\n//! contexts: *\n").is_empty());
        let f = messages("//! schedule: @daily\n//! Contexts: a\n//! contexts: a,,b\n");
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(f[0].1 && f[0].2.contains("lower case"), "{f:?}");
        assert!(f[1].1 && f[1].2.contains("an empty name"), "{f:?}");
    }

    #[test]
    fn a_good_header_and_free_text_have_no_findings() {
        let src = "#!/usr/bin/env tokensmith\n//! Rotates the join token.\n//! schedule: @daily\n//! overlap: queue\n\nlet x = 1; // schedule nothing\n";
        assert!(messages(src).is_empty(), "{:?}", messages(src));
    }
}
