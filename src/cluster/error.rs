//! Errors from talking to the cluster. Each names the operation, the object and
//! the server; none ever holds a token secret. Where kubeadm has a message for
//! the situation, the text is kubeadm's.

use std::io;

/// Something that went wrong between tokensmith and the API server.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The kubeconfig could not be found, read or understood.
    #[error("{0}")]
    Kubeconfig(String),
    /// The client could not be built from a readable kubeconfig.
    #[error("failed to create a client for {server}: {reason}")]
    Client { server: String, reason: String },
    /// `token create` found the ID taken (kubeadm's message).
    #[error("a token with id \"{0}\" already exists")]
    TokenExists(String),
    /// An API request failed. `context` is kubeadm's prefix for the operation,
    /// `cause` the API server's Status message or the transport failure.
    #[error("{context}: {cause}")]
    Api {
        context: String,
        cause: String,
        status: Option<u16>,
        reason: Option<String>,
    },
    /// The join command could not be built (kubeadm: `failed to get join command`).
    #[error("{0}")]
    Join(String),
    /// The embedded dev cluster behind `--dev` could not start.
    #[error("failed to start the dev cluster: {0}")]
    Dev(String),
}

impl ClusterError {
    /// The HTTP status of an API error, if the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClusterError::Api { status, .. } => *status,
            _ => None,
        }
    }

    /// True for a Status answer with reason NotFound.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}

/// How one API request failed, before kubeadm's context is added.
#[derive(Debug, Clone)]
pub struct RequestFailure {
    pub cause: String,
    pub status: Option<u16>,
    pub reason: Option<String>,
    /// Worth retrying: 5xx, 429, or the request may not have reached the server.
    pub transient: bool,
    /// Seconds the server asked us to wait (429 `Retry-After` / Status details).
    pub retry_after: Option<u64>,
}

impl RequestFailure {
    pub fn into_error(self, context: impl Into<String>) -> ClusterError {
        ClusterError::Api {
            context: context.into(),
            cause: self.cause,
            status: self.status,
            reason: self.reason,
        }
    }
}

/// Describes a kube client error the way client-go's errors read: the Status
/// message when the server answered, else `<Verb> "<url>": <transport cause>`.
pub fn describe(err: &kube::Error, verb: &str, url: &str) -> RequestFailure {
    // The message below keeps one cause, as client-go's does; `--v=5` (or -vv)
    // shows the whole chain, which is what kubeadm's trailer promises.
    tracing::debug!(
        target: "tokensmith::cause",
        "{verb} {url} failed: {}",
        crate::failure::cause_chain(err)
    );
    match err {
        kube::Error::Api(status) => {
            let code = status.code;
            RequestFailure {
                cause: if status.message.is_empty() {
                    format!("the server responded with status {code} for {verb} \"{url}\"")
                } else {
                    status.message.clone()
                },
                status: Some(code),
                reason: Some(status.reason.clone()).filter(|r| !r.is_empty()),
                transient: code == 429 || code >= 500,
                retry_after: status
                    .details
                    .as_ref()
                    .map(|d| u64::from(d.retry_after_seconds))
                    .filter(|s| *s > 0),
            }
        }
        kube::Error::SerdeError(e) => RequestFailure {
            cause: format!("{verb} \"{url}\": unexpected response from the server: {e}"),
            status: None,
            reason: None,
            transient: false,
            retry_after: None,
        },
        other => RequestFailure {
            cause: format!("{verb} \"{url}\": {}", transport_cause(other)),
            status: None,
            reason: None,
            transient: true,
            retry_after: None,
        },
    }
}

/// The innermost meaningful cause of a transport failure, phrased as Go's net
/// package phrases the common ones.
fn transport_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    let mut last = err.to_string();
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            return match io.kind() {
                io::ErrorKind::ConnectionRefused => "connect: connection refused".to_owned(),
                io::ErrorKind::ConnectionReset => "read: connection reset by peer".to_owned(),
                io::ErrorKind::TimedOut => "i/o timeout".to_owned(),
                io::ErrorKind::UnexpectedEof => "EOF".to_owned(),
                _ => {
                    // rustls wraps its errors in io::Error; its text is the useful part.
                    match io.get_ref() {
                        Some(inner) => inner.to_string(),
                        None => io.to_string(),
                    }
                }
            };
        }
        last = e.to_string();
        cur = e.source();
    }
    if last.contains("connection closed") || last.contains("IncompleteMessage") {
        return "EOF".to_owned();
    }
    last
}

/// Go's `*PathError` text for a failed file operation: `open <path>: no such file or directory`.
pub fn go_path_error(op: &str, path: &std::path::Path, err: &io::Error) -> String {
    let what = match err.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        io::ErrorKind::IsADirectory => "is a directory".to_owned(),
        _ => {
            let s = err.to_string();
            // Drop Rust's " (os error N)" suffix to read like Go.
            match s.find(" (os error") {
                Some(i) => s[..i].to_lowercase(),
                None => s,
            }
        }
    };
    format!("{op} {}: {what}", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_errors_read_like_go() {
        let e = io::Error::from(io::ErrorKind::NotFound);
        assert_eq!(
            go_path_error("open", std::path::Path::new("/x/y"), &e),
            "open /x/y: no such file or directory"
        );
    }

    #[test]
    fn status_errors_keep_the_servers_message() {
        let status =
            kube::core::Status::failure("secrets \"bootstrap-token-abcdef\" not found", "NotFound")
                .with_code(404);
        let f = describe(&kube::Error::Api(Box::new(status)), "DELETE", "https://x");
        assert_eq!(f.cause, "secrets \"bootstrap-token-abcdef\" not found");
        assert_eq!(f.status, Some(404));
        assert!(!f.transient);
    }
}
