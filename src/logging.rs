//! Logging set-up: tracing to stderr, text or JSON lines, every line passed
//! through the secret redactor on its way out.

use std::io::Write;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::cli::{GlobalArgs, LogFormat};

/// kube's client logs a response body it cannot decode at WARN, and every
/// body at debug/trace: a Secret list would be dumped before tokensmith has
/// read (and so remembered) the secrets in it. Its request builder's lines
/// ("requesting", "failed with status") carry no body and stay.
const KUBE_BODIES_OFF: &str = "kube_client::client=off";

/// Installs the global subscriber. `RUST_LOG` overrides the -v level.
pub fn init(global: &GlobalArgs) {
    // Dependency crates stay at warnings at every level: `--v=5` is for
    // tokensmith's own story (and an error's cause chain), not for hyper's
    // and rustls's TRACE lines. RUST_LOG can still ask for them.
    let level = if global.quiet {
        "error,kube_client=off"
    } else {
        match global.verbose.max(global.klog_v.map_or(0, |v| v.min(3))) {
            // The daemon's job start/finish lines and a script's own log:: lines
            // are their output: shown by default.
            // kube_client logs every failed request at ERROR; the command's own
            // error already says it once, as kubeadm prints it, so keep it quiet.
            0 => {
                "warn,tokensmith::watch=info,tokensmith::schedule=info,tokensmith::script=info,kube_client=off"
            }
            1 => "warn,tokensmith=info,kube_client=off",
            2 => "warn,tokensmith=debug,kube_client=off",
            _ => "warn,tokensmith=trace,kube_client=off",
        }
    };
    let builder_level = match level {
        "debug" | "trace" => level,
        _ => "info",
    };
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(level))
        .add_directive(KUBE_BODIES_OFF.parse().expect("a valid directive"));
    let filter = if level.starts_with("warn") {
        filter
    } else {
        filter.add_directive(
            format!("kube_client::client::builder={builder_level}")
                .parse()
                .expect("a valid directive"),
        )
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(RedactedStderr);
    let _ = match global.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// stderr for log lines: each event is gathered whole, redacted
/// ([`crate::script::redact`]), then written in one piece.
pub struct RedactedStderr;

impl<'a> MakeWriter<'a> for RedactedStderr {
    type Writer = RedactedLine;

    fn make_writer(&'a self) -> Self::Writer {
        RedactedLine(Vec::new())
    }
}

/// One event's bytes, written out redacted when the formatter is done.
pub struct RedactedLine(Vec<u8>);

impl Write for RedactedLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for RedactedLine {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let text = crate::script::redact::redact_tokens(&String::from_utf8_lossy(&self.0));
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}
