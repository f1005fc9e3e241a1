//! Logging set-up: tracing to stderr, text or JSON lines.

use tracing_subscriber::EnvFilter;

use crate::cli::{GlobalArgs, LogFormat};

/// Installs the global subscriber. `RUST_LOG` overrides the -v level.
pub fn init(global: &GlobalArgs) {
    let level = match global.verbose.max(global.klog_v.map_or(0, |v| v.min(3))) {
        // The daemon's job start/finish lines and a script's own log:: lines
        // are their output: shown by default.
        // kube_client logs every failed request at ERROR; the command's own
        // error already says it once, as kubeadm prints it, so keep it quiet.
        0 => {
            "warn,tokensmith::watch=info,tokensmith::schedule=info,tokensmith::script=info,kube_client=off"
        }
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match global.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
