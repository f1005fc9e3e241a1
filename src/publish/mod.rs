//! Publishing sinks: where the join command goes so provisioning can read it.
//! A file (atomic, 0600), a Secret or ConfigMap key, an HTTP webhook, or
//! standard output.

pub mod file;
pub mod object;
pub mod webhook;

use std::path::PathBuf;

pub use object::ObjectKind;
pub use webhook::Webhook;

use crate::cluster::Cluster;

/// Why publishing failed; each names the sink and the cause, never the text.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("publish to file {}: {reason}", .path.display())]
    File { path: PathBuf, reason: String },
    #[error("publish to {what} on {server}: {cause}")]
    Object {
        what: String,
        server: String,
        cause: String,
    },
    #[error("publish to webhook {url}: {cause}")]
    Webhook { url: String, cause: String },
    #[error("publish to {sink}: {cause}")]
    Other { sink: String, cause: String },
}

/// One place the join command is handed to.
#[derive(Debug, Clone)]
pub enum Sink {
    File(PathBuf),
    Object {
        kind: ObjectKind,
        namespace: String,
        name: String,
        key: String,
    },
    /// POSTs `{"joinCommand": text, …extra}`.
    Webhook {
        hook: Webhook,
        extra: serde_json::Map<String, serde_json::Value>,
    },
    Stdout,
}

impl Sink {
    /// A short description for reports and logs (no secrets).
    pub fn describe(&self) -> String {
        match self {
            Sink::File(p) => format!("file {}", p.display()),
            Sink::Object {
                kind,
                namespace,
                name,
                key,
            } => format!("{} {namespace}/{name}[{key}]", kind.singular()),
            Sink::Webhook { hook, .. } => format!("webhook {}", hook.url),
            Sink::Stdout => "stdout".to_owned(),
        }
    }

    /// Hands `text` to this sink.
    pub async fn publish(&self, cluster: Option<&Cluster>, text: &str) -> Result<(), PublishError> {
        match self {
            Sink::File(path) => {
                // A text file ends with a newline, so `cat` and `sh` read it whole.
                let mut text = text.to_owned();
                if !text.ends_with('\n') {
                    text.push('\n');
                }
                let path = path.clone();
                tokio::task::spawn_blocking(move || file::write_atomic(&path, &text))
                    .await
                    .map_err(|e| PublishError::Other {
                        sink: self.describe(),
                        cause: e.to_string(),
                    })?
            }
            Sink::Object {
                kind,
                namespace,
                name,
                key,
            } => {
                let cluster = cluster.ok_or_else(|| PublishError::Other {
                    sink: self.describe(),
                    cause: "no cluster connection".to_owned(),
                })?;
                if cluster.dry_run() {
                    println!(
                        "[dryrun] Would perform action UPDATE on resource {} key {key} of {namespace}/{name}",
                        crate::token::go_quote(kind.resource())
                    );
                    return Ok(());
                }
                object::upsert_key(
                    cluster.client(),
                    cluster.server(),
                    *kind,
                    namespace,
                    name,
                    key,
                    text,
                )
                .await
            }
            Sink::Webhook { hook, extra } => {
                let mut payload = extra.clone();
                payload.insert("joinCommand".to_owned(), text.into());
                hook.post(&serde_json::Value::Object(payload))
                    .await
                    .map(|_| ())
            }
            Sink::Stdout => crate::cli::write_stdout(format!("{text}\n").as_bytes()).map_err(|e| {
                PublishError::Other {
                    sink: "stdout".to_owned(),
                    cause: e.message,
                }
            }),
        }
    }
}
