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

    /// What `main` writes to stderr: never a secret the process has seen.
    pub fn render(&self) -> String {
        let message = crate::script::redact::redact_tokens(&self.message);
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
