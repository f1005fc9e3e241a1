//! How a command fails: one message and one exit status, printed once by `main`.

use std::fmt;

/// A command's failure. kubeadm-compatible commands add kubeadm's trailer line
/// so that scripts matching kubeadm's stderr keep working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: u8,
    pub message: String,
    pub kubeadm_style: bool,
}

/// kubeadm's `CheckErr` trailer.
pub const KUBEADM_TRAILER: &str =
    "To see the stack trace of this error execute with --v=5 or higher";

impl Failure {
    /// A failure of a `token` command: printed as kubeadm prints it. kubeadm
    /// v1.37 exits 1 for every error, validation included
    /// (cmd/kubeadm/app/util/errors: handleError, defaultErrorExitCode), so
    /// `_code` is kept only as the caller's classification.
    pub fn kubeadm(_code: u8, message: impl Into<String>) -> Self {
        Self {
            code: 1,
            message: message.into(),
            kubeadm_style: true,
        }
    }

    /// A failure of one of tokensmith's own commands: `error: <message>`.
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            kubeadm_style: false,
        }
    }

    /// What `main` writes to stderr: never a secret the process has seen,
    /// never a raw control character, never a huge input in full.
    pub fn render(&self) -> String {
        let message = safe_echo(&crate::script::redact::redact_tokens(&self.message));
        if self.kubeadm_style {
            // kubeadm v1.37's exitWithCode writes `error: ` before the message.
            format!("error: {message}\n{KUBEADM_TRAILER}\n")
        } else {
            format!("error: {message}\n")
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Self::new(1, format!("{e:#}"))
    }
}

/// The longest run of non-blank characters an error repeats whole.
const ECHO_MAX: usize = 256;
/// How much of a longer run is kept.
const ECHO_PREFIX: usize = 64;

/// A message made safe to print, whatever input it echoes: a run of
/// non-blank characters longer than [`ECHO_MAX`] (a 100 000-character
/// token pasted by mistake) is cut to its first [`ECHO_PREFIX`] characters
/// and its length, and control characters other than newline and tab are
/// escaped as Go's `%q` escapes them, so an echoed input cannot drive the
/// terminal.
pub fn safe_echo(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(4096));
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let n = word.chars().count();
        if n > ECHO_MAX {
            out.extend(word.chars().take(ECHO_PREFIX));
            out.push_str(&format!("…[{n} characters]"));
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in message.chars() {
        if c == '\n' || c == '\t' || c == ' ' {
            flush(&mut word, &mut out);
            out.push(c);
        } else if c.is_control() {
            let quoted = crate::token::go_quote(c.encode_utf8(&mut [0; 4]));
            word.push_str(&quoted[1..quoted.len() - 1]);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// An error and each of its sources, one per line (`0: outer`, `1: inner`…),
/// for the verbose log a failure's one-line message leaves out.
pub fn cause_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = String::new();
    let mut cur = Some(err);
    let mut i = 0;
    while let Some(e) = cur {
        out.push_str(&format!("\n  {i}: {e}"));
        i += 1;
        cur = e.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_echo_is_cut_and_control_characters_are_escaped() {
        let huge = "a".repeat(100_000);
        let m = safe_echo(&format!(
            "the bootstrap token \"{huge}\" was not of the form"
        ));
        assert!(m.len() < 200, "{m}");
        assert!(m.starts_with(&format!(
            "the bootstrap token \"{}…[100002 characters]",
            "a".repeat(63)
        )));
        assert!(m.ends_with(" was not of the form"));
        assert_eq!(
            safe_echo("bad \u{1b}[31mred\r\u{7f}\u{85}\nnext\tline"),
            "bad \\x1b[31mred\\r\\x7f\\u0085\nnext\tline"
        );
        let ordinary = format!("path {} is fine", "p/".repeat(100));
        assert_eq!(safe_echo(&ordinary), ordinary);
    }
}
