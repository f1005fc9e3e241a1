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

    /// What `main` writes to stderr.
    pub fn render(&self) -> String {
        if self.kubeadm_style {
            // kubeadm v1.37's exitWithCode writes `error: ` before the message.
            format!("error: {}\n{KUBEADM_TRAILER}\n", self.message)
        } else {
            format!("error: {}\n", self.message)
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
