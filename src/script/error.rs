//! Script diagnostics: every failure a script can have, rendered as
//! `file:line:col: message`, the offending line and a caret under the column,
//! the way rustc and the Rhai REPL point at source.

use std::fmt;

use rhai::{EvalAltResult, ParseError, Position};

use super::api::errors::HostError;
use super::redact::redact_tokens;

/// What kind of failure a [`ScriptError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The script does not parse, or calls a function that does not exist (check).
    Syntax,
    /// The script failed while running: a host call, a `throw`, a type error, a limit.
    Runtime,
    /// The run went past its wall-time limit.
    Timeout,
    /// The run was cancelled from outside (daemon shutdown, Ctrl-C).
    Cancelled,
    /// The script file could not be read.
    Io,
}

/// A script failure with its location. `Display` is the full diagnostic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    pub kind: ErrorKind,
    /// The script's name as the user gave it (a path, or `<repl>`).
    pub file: String,
    /// 1-based line and column, when the failure has a position.
    pub line: Option<usize>,
    pub col: Option<usize>,
    pub message: String,
    /// The text of the offending line, for the caret display.
    pub source_line: Option<String>,
    /// How the failing line was reached, innermost call first: one
    /// `in fn NAME, called at FILE:LINE:COL` (or `in module …`) per frame.
    pub chain: Box<Vec<String>>,
}

impl ScriptError {
    /// A failure of the host itself, not of the script (reported as a runtime error).
    pub fn internal(file: &str, message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Runtime,
            file: file.to_owned(),
            line: None,
            col: None,
            message: message.into(),
            source_line: None,
            chain: Box::default(),
        }
    }

    pub fn io(file: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Io,
            file: file.into(),
            line: None,
            col: None,
            message: message.into(),
            source_line: None,
            chain: Box::default(),
        }
    }

    /// A failure at `pos` in `source`.
    pub fn at(
        kind: ErrorKind,
        file: &str,
        source: &str,
        pos: Position,
        message: impl Into<String>,
    ) -> Self {
        let line = pos.line();
        let source_line = line.and_then(|l| source.lines().nth(l.saturating_sub(1)));
        // Errors end up in logs (the daemon's above all): no token in them,
        // even one the script threw or spelled out in its source.
        Self {
            kind,
            file: file.to_owned(),
            line,
            col: line.map(|_| pos.position().unwrap_or(1).max(1)),
            message: redact_tokens(&message.into()),
            source_line: source_line.map(redact_tokens),
            chain: Box::default(),
        }
    }

    pub fn from_parse(file: &str, source: &str, err: &ParseError) -> Self {
        Self::at(
            ErrorKind::Syntax,
            file,
            source,
            err.1,
            parse_message(&err.0),
        )
    }

    /// Classifies a Rhai evaluation error. Nested call errors are unwrapped to
    /// the innermost failure, which is where the user has to look: its
    /// position is in the file that holds the failing code (a function of an
    /// imported module points into that module), and the calls that led there
    /// become the [`ScriptError::chain`].
    pub fn from_eval(file: &str, source: &str, err: &EvalAltResult) -> Self {
        let mut here = Location::main(file, source);
        let mut frames = Vec::new();
        let mut err = err;
        loop {
            match err {
                EvalAltResult::ErrorInFunctionCall(name, src, inner, pos) => {
                    frames.push(format!(
                        "in {}, called at {}",
                        fn_label(name),
                        here.at(*pos)
                    ));
                    if !src.is_empty() && src != &here.id {
                        here = Location::other(file, src);
                    }
                    err = inner;
                }
                EvalAltResult::ErrorInModule(name, inner, pos) => {
                    let module = Location::other(file, name);
                    frames.push(format!(
                        "in module {}, imported at {}",
                        module.display,
                        here.at(*pos)
                    ));
                    here = module;
                    err = inner;
                }
                _ => break,
            }
        }
        let (kind, message) = describe(err);
        let message = super::typenames::script_type_names(&message);
        let mut e = Self::at(kind, &here.display, &here.source, err.position(), message);
        frames.reverse();
        e.chain = Box::new(frames.into_iter().map(|f| redact_tokens(&f)).collect());
        e
    }

    /// The first line of the diagnostic: `file:line:col: message`.
    pub fn headline(&self) -> String {
        match (self.line, self.col) {
            (Some(l), Some(c)) => format!("{}:{l}:{c}: {}", self.file, self.message),
            _ => format!("{}: {}", self.file, self.message),
        }
    }
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.headline())?;
        if let (Some(line), Some(col), Some(text)) = (self.line, self.col, &self.source_line) {
            let gutter = line.to_string();
            let pad = " ".repeat(gutter.len());
            // Keep tabs so that the caret lines up under the same column in a terminal.
            let lead: String = text
                .chars()
                .take(col.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            write!(f, "\n {gutter} | {text}\n {pad} | {lead}^")?;
        }
        for frame in self.chain.iter() {
            write!(f, "\n  {frame}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScriptError {}

/// A file positions are relative to while an error chain is walked: the
/// script itself, or a module it imported (whose Rhai source id is its path).
struct Location {
    id: String,
    display: String,
    source: String,
}

impl Location {
    fn main(file: &str, source: &str) -> Self {
        Self {
            id: file.to_owned(),
            display: file.to_owned(),
            source: source.to_owned(),
        }
    }

    /// A module's file, shown beside the main script the way the user named
    /// that (`jobs/lib.rhai`, not the canonical absolute path), and read back
    /// for the caret line.
    fn other(main: &str, id: &str) -> Self {
        let path = std::path::Path::new(id);
        let source = std::fs::read_to_string(path).unwrap_or_default();
        let display = match (path.file_name(), std::path::Path::new(main).parent()) {
            (Some(name), Some(dir)) if path.is_absolute() => {
                let beside = dir.join(name);
                let same = beside.canonicalize().is_ok_and(|b| b == path);
                if same {
                    beside.display().to_string()
                } else {
                    id.to_owned()
                }
            }
            _ => id.to_owned(),
        };
        Self {
            id: id.to_owned(),
            display,
            source,
        }
    }

    fn at(&self, pos: Position) -> String {
        match pos.line() {
            Some(l) => format!(
                "{}:{l}:{}",
                self.display,
                pos.position().unwrap_or(1).max(1)
            ),
            None => self.display.clone(),
        }
    }
}

/// How a frame names the function: closures have generated names.
fn fn_label(name: &str) -> String {
    if name.starts_with("anon$") {
        "a closure".to_owned()
    } else {
        format!("fn {name}")
    }
}

fn describe(err: &EvalAltResult) -> (ErrorKind, String) {
    match err {
        EvalAltResult::ErrorTerminated(token, _) => {
            match token.clone().try_cast::<super::host::Stop>() {
                Some(super::host::Stop::Timeout(limit)) => (
                    ErrorKind::Timeout,
                    format!(
                        "the script ran past its time limit of {} (raise it with --timeout)",
                        crate::token::format_go_duration(limit)
                    ),
                ),
                Some(super::host::Stop::ApiCalls(limit)) => (
                    ErrorKind::Runtime,
                    format!(
                        "too many API calls: the script hit its API-call limit of {limit} (raise it with --max-api-calls)"
                    ),
                ),
                _ => (ErrorKind::Cancelled, "the script was cancelled".to_owned()),
            }
        }
        EvalAltResult::ErrorRuntime(value, _) => {
            if let Some(h) = value.clone().try_cast::<HostError>() {
                (ErrorKind::Runtime, h.to_string())
            } else {
                (ErrorKind::Runtime, format!("uncaught exception: {value}"))
            }
        }
        EvalAltResult::ErrorParsing(p, _) => (ErrorKind::Syntax, parse_message(p)),
        EvalAltResult::ErrorTooManyOperations(_) => (
            ErrorKind::Runtime,
            "too many operations: the script hit its operation limit (raise it with --max-operations)"
                .to_owned(),
        ),
        EvalAltResult::ErrorStackOverflow(_) => (
            ErrorKind::Runtime,
            "call stack too deep: the script hit its call-depth limit (raise it with --max-call-depth)"
                .to_owned(),
        ),
        EvalAltResult::ErrorDataTooLarge(what, _) => {
            // Name the one limit that was hit, so the fix is obvious.
            let (noun, flag) = size_limit(what);
            (
                ErrorKind::Runtime,
                format!("{what} exceeds the {noun} size limit (raise it with {flag})"),
            )
        }
        other => {
            // Rhai appends ` (line L, position C)`; the diagnostic shows it already.
            let text = other.to_string();
            let suffix = format!(" ({})", other.position());
            let text = text.strip_suffix(&suffix).map_or(text.clone(), str::to_owned);
            (ErrorKind::Runtime, text)
        }
    }
}

/// Rhai's parse error text; a literal over a size limit also names the flag
/// that raises it, as the same limit hit at run time does.
fn parse_message(p: &rhai::ParseErrorType) -> String {
    if let rhai::ParseErrorType::LiteralTooLarge(what, _) = p {
        let (_, flag) = size_limit(what);
        return format!("{p} (raise it with {flag})");
    }
    p.to_string()
}

/// The size limit Rhai's description of a too-large value is about (its
/// run-time `Size of object map …` and its literals' `Number of properties
/// in object map literal`), as a noun and the flag that raises it.
fn size_limit(what: &str) -> (&'static str, &'static str) {
    if what.starts_with("Length of string") {
        ("string", "--max-string-size")
    } else if what.contains("object map") {
        ("map", "--max-map-size")
    } else {
        ("array", "--max-array-size")
    }
}

/// Follows `ErrorInFunctionCall`/`ErrorInModule` down to the failure itself.
/// A failure inside an imported module keeps the import's position, since its
/// own position is in another file; one in a function of `file` itself (whose
/// source is `file`) points inside that function.
pub fn innermost<'e>(err: &'e EvalAltResult, file: &str) -> (&'e EvalAltResult, Position) {
    match err {
        EvalAltResult::ErrorInFunctionCall(_, src, inner, pos) => {
            let (e, p) = innermost(inner, file);
            if src.is_empty() || src.as_str() == file {
                (e, p)
            } else {
                (e, *pos)
            }
        }
        EvalAltResult::ErrorInModule(_, inner, pos) => (innermost(inner, file).0, *pos),
        other => (other, other.position()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_location_line_and_caret() {
        let src = "let a = 1;\nlet b = foo(a);\n";
        let e = ScriptError::at(
            ErrorKind::Runtime,
            "x.rhai",
            src,
            Position::new(2, 9),
            "function not found: foo (i64)",
        );
        assert_eq!(
            e.to_string(),
            "x.rhai:2:9: function not found: foo (i64)\n 2 | let b = foo(a);\n   |         ^"
        );
    }

    #[test]
    fn no_position_means_one_line() {
        let e = ScriptError::io("missing.rhai", "cannot read script: not found");
        assert_eq!(e.to_string(), "missing.rhai: cannot read script: not found");
    }

    #[test]
    fn position_past_the_end_of_source_still_renders() {
        let e = ScriptError::at(ErrorKind::Syntax, "x", "a", Position::new(9, 3), "eof");
        assert_eq!(e.to_string(), "x:9:3: eof");
    }
}
