//! Logging set-up: tracing to stderr, text or JSON lines.

use tracing_subscriber::EnvFilter;

use crate::cli::{GlobalArgs, LogFormat};

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
