//! The job header of a script: its leading `//!` lines, read without running
//! the script.
//!
//! ```rhai
//! //! schedule: 0 3 * * *
//! //! timezone: Europe/Berlin
//! //! overlap: skip
//! //! timeout: 10m
//! //! starting-deadline: 1h
//! //! jitter: 30s
//! //! contexts: east, west
//! ```
//!
//! A `//!` line shaped `key: value` (key in lower case, no spaces) sets a
//! field; any other `//!` line is free text (Rhai's module docs). The header
//! ends at the first line that is not a `//!` line; a leading `#!` line and
//! blank lines before the header are skipped.

use std::fmt;
use std::time::Duration;

use chrono_tz::Tz;

use super::cron::CronSpec;
use crate::token::{format_go_duration, parse_go_duration};

/// What to do when a tick comes while the previous run is still going.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overlap {
    /// Drop the new tick (counted as `skipped`).
    #[default]
    Skip,
    /// Run the new tick after the running one finishes.
    Queue,
    /// Cancel the running one (at its next sandbox check) and start the new tick.
    Replace,
}

impl Overlap {
    pub const ACCEPTED: &'static str = "skip, queue, replace";

    pub fn as_str(self) -> &'static str {
        match self {
            Overlap::Skip => "skip",
            Overlap::Queue => "queue",
            Overlap::Replace => "replace",
        }
    }
}

/// `on:` — what event runs the script's handler instead of a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventTrigger {
    /// `on: csr`: a new CertificateSigningRequest; handler `on_csr(csr)`.
    Csr,
    /// `on: token-expiring 1h`: a token now within this long of its
    /// expiration; handler `on_token_expiring(token)`.
    TokenExpiring(Duration),
    /// `on: token-deleted`: a token Secret gone; handler `on_token_deleted(token)`.
    TokenDeleted,
}

impl EventTrigger {
    pub const ACCEPTED: &'static str = "csr, token-expiring <duration>, token-deleted";

    /// The function the event calls.
    pub fn handler(self) -> &'static str {
        match self {
            EventTrigger::Csr => "on_csr",
            EventTrigger::TokenExpiring(_) => "on_token_expiring",
            EventTrigger::TokenDeleted => "on_token_deleted",
        }
    }

    /// The event's name in logs and metrics.
    pub fn kind(self) -> &'static str {
        match self {
            EventTrigger::Csr => "csr",
            EventTrigger::TokenExpiring(_) => "token-expiring",
            EventTrigger::TokenDeleted => "token-deleted",
        }
    }
}

impl fmt::Display for EventTrigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventTrigger::TokenExpiring(d) => write!(f, "token-expiring {}", go(*d)),
            other => f.write_str(other.kind()),
        }
    }
}

/// `contexts:` — the kubeconfig contexts a job runs in, once per context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contexts {
    /// `contexts: *`: every context of the kubeconfig.
    All,
    /// `contexts: a, b`: these, in this order (no name twice).
    Named(Vec<String>),
}

impl Contexts {
    /// The contexts this selects among `known` (a kubeconfig's, in its
    /// order); the first name `known` lacks is the error.
    pub fn resolve(&self, known: &[String]) -> Result<Vec<String>, String> {
        match self {
            Contexts::All => Ok(known.to_vec()),
            Contexts::Named(names) => match names.iter().find(|n| !known.contains(n)) {
                Some(bad) => Err(format!(
                    "context {bad:?} is not in the kubeconfig (it has: {})",
                    known.join(", ")
                )),
                None => Ok(names.clone()),
            },
        }
    }
}

impl fmt::Display for Contexts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Contexts::All => f.write_str("*"),
            Contexts::Named(names) => f.write_str(&names.join(", ")),
        }
    }
}

/// A script's scheduling header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptHeader {
    /// `None`: the script is loaded for `import` only and never runs on its own.
    pub schedule: Option<CronSpec>,
    pub timezone: Tz,
    pub overlap: Overlap,
    pub timeout: Option<Duration>,
    pub starting_deadline: Option<Duration>,
    pub jitter: Option<Duration>,
    /// `//! arg: KEY=VALUE` lines (repeatable): the job's `args` under `watch`.
    pub args: std::collections::BTreeMap<String, String>,
    /// `on:`: run the handler on an event (under the same rules as a tick).
    pub on: Option<EventTrigger>,
    /// `contexts:`: run once per kubeconfig context (`None`: the daemon's
    /// own cluster, or `watch --contexts`).
    pub contexts: Option<Contexts>,
}

impl Default for ScriptHeader {
    fn default() -> Self {
        Self {
            schedule: None,
            timezone: Tz::UTC,
            overlap: Overlap::Skip,
            timeout: None,
            starting_deadline: None,
            jitter: None,
            args: std::collections::BTreeMap::new(),
            on: None,
            contexts: None,
        }
    }
}

/// The header keys, in the order `Display` prints them.
pub const KEYS: [&str; 8] = [
    "schedule",
    "timezone",
    "overlap",
    "timeout",
    "starting-deadline",
    "jitter",
    "on",
    "contexts",
];

/// The repeatable header key naming one job argument.
pub const ARG_KEY: &str = "arg";

/// A header line that could not be read. `line` is 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("line {line}: unknown header key {key:?} (accepted: {}, {ARG_KEY})", KEYS.join(", "))]
    UnknownKey { line: usize, key: String },
    #[error("line {line}: invalid arg {value:?}: {reason}")]
    Arg {
        line: usize,
        value: String,
        reason: String,
    },
    #[error("line {line}: header key {key:?} is set twice")]
    Duplicate { line: usize, key: String },
    #[error("line {line}: {source}")]
    Schedule {
        line: usize,
        #[source]
        source: super::cron::CronError,
    },
    #[error(
        "line {line}: unknown time zone {value:?} (an IANA name such as UTC, Europe/Berlin or America/New_York)"
    )]
    TimeZone { line: usize, value: String },
    #[error(
        "line {line}: invalid overlap {value:?} (accepted: {})",
        Overlap::ACCEPTED
    )]
    Overlap { line: usize, value: String },
    #[error(
        "line {line}: invalid {key} {value:?}: {reason} (a positive Go duration such as 90s, 10m or 1h30m)"
    )]
    Duration {
        line: usize,
        key: String,
        value: String,
        reason: String,
    },
    #[error(
        "line {line}: invalid on {value:?}: {reason} (accepted: {})",
        EventTrigger::ACCEPTED
    )]
    Event {
        line: usize,
        value: String,
        reason: String,
    },
    #[error(
        "line {line}: invalid contexts {value:?}: {reason} (a comma-separated list of kubeconfig context names, or *)"
    )]
    Contexts {
        line: usize,
        value: String,
        reason: String,
    },
}

impl HeaderError {
    /// The 1-based line of the script the error is on.
    pub fn line(&self) -> usize {
        match self {
            HeaderError::UnknownKey { line, .. }
            | HeaderError::Duplicate { line, .. }
            | HeaderError::Arg { line, .. }
            | HeaderError::Schedule { line, .. }
            | HeaderError::TimeZone { line, .. }
            | HeaderError::Overlap { line, .. }
            | HeaderError::Duration { line, .. }
            | HeaderError::Event { line, .. }
            | HeaderError::Contexts { line, .. } => *line,
        }
    }
}

impl ScriptHeader {
    /// Reads the header of a script's source.
    pub fn parse(source: &str) -> Result<ScriptHeader, HeaderError> {
        let mut header = ScriptHeader::default();
        let mut seen: Vec<&str> = Vec::new();
        let mut in_header = false;
        for (index, raw) in source.lines().enumerate() {
            let line = index + 1;
            let text = raw.trim();
            let Some(doc) = text.strip_prefix("//!") else {
                let preamble =
                    !in_header && (text.is_empty() || (index == 0 && text.starts_with("#!")));
                if preamble {
                    continue;
                }
                break;
            };
            in_header = true;
            let Some((key, value)) = key_value(doc) else {
                continue;
            };
            if key == ARG_KEY {
                header.set_arg(value, line)?;
                continue;
            }
            let Some(&known) = KEYS.iter().find(|k| **k == key) else {
                return Err(HeaderError::UnknownKey {
                    line,
                    key: key.to_owned(),
                });
            };
            if seen.contains(&known) {
                return Err(HeaderError::Duplicate {
                    line,
                    key: known.to_owned(),
                });
            }
            seen.push(known);
            header.set(known, value, line)?;
        }
        Ok(header)
    }

    /// One `arg: KEY=VALUE` line; a key given twice is a mistake, as for the other keys.
    fn set_arg(&mut self, value: &str, line: usize) -> Result<(), HeaderError> {
        let bad = |reason: &str| HeaderError::Arg {
            line,
            value: value.to_owned(),
            reason: reason.to_owned(),
        };
        let (k, v) = value
            .split_once('=')
            .ok_or_else(|| bad("expected KEY=VALUE"))?;
        let k = k.trim();
        if k.is_empty() {
            return Err(bad("expected KEY=VALUE"));
        }
        if self
            .args
            .insert(k.to_owned(), v.trim().to_owned())
            .is_some()
        {
            return Err(bad("this key is set twice"));
        }
        Ok(())
    }

    fn set(&mut self, key: &str, value: &str, line: usize) -> Result<(), HeaderError> {
        match key {
            "schedule" => {
                let spec = CronSpec::parse(value)
                    .map_err(|source| HeaderError::Schedule { line, source })?;
                self.schedule = Some(spec);
            }
            "timezone" => {
                self.timezone = value.parse::<Tz>().map_err(|_| HeaderError::TimeZone {
                    line,
                    value: value.to_owned(),
                })?;
            }
            "overlap" => {
                self.overlap = match value.to_ascii_lowercase().as_str() {
                    "skip" => Overlap::Skip,
                    "queue" => Overlap::Queue,
                    "replace" => Overlap::Replace,
                    _ => {
                        return Err(HeaderError::Overlap {
                            line,
                            value: value.to_owned(),
                        });
                    }
                };
            }
            "timeout" => self.timeout = Some(positive_duration(key, value, line)?),
            "starting-deadline" => {
                self.starting_deadline = Some(positive_duration(key, value, line)?)
            }
            "jitter" => self.jitter = Some(positive_duration(key, value, line)?),
            "on" => self.on = Some(event_trigger(value, line)?),
            "contexts" => self.contexts = Some(contexts(value, line)?),
            _ => unreachable!("KEYS and set() list the same keys"),
        }
        Ok(())
    }
}

/// `on: csr`, `on: token-expiring 1h`, `on: token-deleted`.
fn event_trigger(value: &str, line: usize) -> Result<EventTrigger, HeaderError> {
    let fail = |reason: &str| HeaderError::Event {
        line,
        value: value.to_owned(),
        reason: reason.to_owned(),
    };
    let mut words = value.split_whitespace();
    let trigger = match (words.next(), words.next()) {
        (Some("csr"), None) => EventTrigger::Csr,
        (Some("token-deleted"), None) => EventTrigger::TokenDeleted,
        (Some("token-expiring"), Some(d)) => EventTrigger::TokenExpiring(
            positive_duration("on", d, line).map_err(|e| fail(&e.to_string()))?,
        ),
        (Some("token-expiring"), None) => {
            return Err(fail(
                "token-expiring needs a window, such as token-expiring 1h",
            ));
        }
        (Some(_), _) => return Err(fail("unknown event")),
        (None, _) => return Err(fail("no event given")),
    };
    if words.next().is_some() {
        return Err(fail("unexpected words after the event"));
    }
    Ok(trigger)
}

/// `contexts: *` or `contexts: a, b`.
fn contexts(value: &str, line: usize) -> Result<Contexts, HeaderError> {
    let fail = |reason: String| HeaderError::Contexts {
        line,
        value: value.to_owned(),
        reason,
    };
    if value == "*" {
        return Ok(Contexts::All);
    }
    let mut names: Vec<String> = Vec::new();
    for name in value.split(',').map(str::trim) {
        if name.is_empty() {
            return Err(fail("an empty name".to_owned()));
        }
        if name == "*" {
            return Err(fail("* stands alone, for every context".to_owned()));
        }
        // A header line has no comments: `prod-us   (every region)` is one
        // name, which no kubeconfig is likely to hold.
        if name.contains(char::is_whitespace) {
            return Err(fail(format!(
                "{:?} has a space in it (a header line has no comments)",
                crate::failure::safe_echo(name)
            )));
        }
        if names.iter().any(|n| n == name) {
            return Err(fail(format!("{name:?} is named twice")));
        }
        names.push(name.to_owned());
    }
    Ok(Contexts::Named(names))
}

/// `key: value` with a lower-case, space-free key; anything else is free text.
fn key_value(doc: &str) -> Option<(&str, &str)> {
    let (key, value) = doc.split_once(':')?;
    let key = key.trim();
    let shaped = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    shaped.then_some((key, value.trim()))
}

fn positive_duration(key: &str, value: &str, line: usize) -> Result<Duration, HeaderError> {
    let fail = |reason: String| HeaderError::Duration {
        line,
        key: key.to_owned(),
        value: value.to_owned(),
        reason,
    };
    let parsed = parse_go_duration(value).map_err(|e| fail(e.to_string()))?;
    if parsed.is_negative() || parsed.is_zero() {
        return Err(fail("must be positive".to_owned()));
    }
    Duration::try_from(parsed).map_err(|e| fail(e.to_string()))
}

fn go(d: Duration) -> String {
    jiff::SignedDuration::try_from(d).map_or_else(|_| format!("{d:?}"), format_go_duration)
}

/// One `key: value` line per field, in header syntax, so `check` can print it.
impl fmt::Display for ScriptHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.schedule {
            Some(spec) => writeln!(f, "schedule: {spec}")?,
            None => writeln!(
                f,
                "schedule: none (a plain script: run it with `tokensmith run`; `watch` does not schedule it)"
            )?,
        }
        writeln!(f, "timezone: {}", self.timezone.name())?;
        writeln!(f, "overlap: {}", self.overlap.as_str())?;
        let opt = |d: Option<Duration>| d.map_or_else(|| "none".to_owned(), go);
        writeln!(f, "timeout: {}", opt(self.timeout))?;
        writeln!(f, "starting-deadline: {}", opt(self.starting_deadline))?;
        write!(f, "jitter: {}", opt(self.jitter))?;
        for (k, v) in &self.args {
            write!(f, "\narg: {k}={v}")?;
        }
        if let Some(on) = self.on {
            write!(f, "\non: {on}")?;
        }
        if let Some(c) = &self.contexts {
            write!(f, "\ncontexts: {c}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "header_tests.rs"]
mod tests;

/// Reads the header of a script's source (the same as [`ScriptHeader::parse`]).
pub fn parse(source: &str) -> Result<ScriptHeader, HeaderError> {
    ScriptHeader::parse(source)
}
