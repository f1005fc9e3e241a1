//! `token list`: every token Secret, printed as it is decoded; a malformed
//! Secret's error goes to stderr without a newline, as kubeadm writes it.

use std::io::Write;
use std::time::Instant;

use super::{Failure, GlobalArgs, ListArgs, no_args, runtime};
use crate::cluster::{Cluster, ConnectOptions};
use crate::output::{PrintFlags, printer};

pub fn run(global: &GlobalArgs, args: ListArgs) -> Result<(), Failure> {
    no_args("tokensmith token list", &args.extra)?;
    runtime()?.block_on(async {
        let started = Instant::now();
        let cluster = Cluster::connect(&ConnectOptions::from_global(global))
            .await
            .map_err(|e| Failure::kubeadm(1, e.to_string()))?;
        let mut printer = printer(&PrintFlags {
            output: args.output.clone(),
            template: args.template.clone(),
            allow_missing_template_keys: args.allow_missing_template_keys,
            show_managed_fields: args.show_managed_fields,
        })
        .map_err(|e| Failure::kubeadm(1, e.to_string()))?;
        let connected = started.elapsed();
        let tokens = cluster
            .tokens()
            .list()
            .await
            .map_err(|e| Failure::kubeadm(1, e.to_string()))?;
        let listed = started.elapsed();
        let count = tokens.len();
        let now = jiff::Timestamp::now();
        // One write per buffer-full, not one per token; flushed before an
        // error line so stdout and stderr keep their order.
        let mut out = std::io::BufWriter::with_capacity(64 << 10, std::io::stdout().lock());
        for decoded in tokens {
            match decoded {
                Ok(stored) => match printer.print(&stored.token, now, &mut out) {
                    Ok(()) => {}
                    Err(e) if super::super::is_broken_pipe(&e) => return Ok(()),
                    Err(e) => {
                        let _ = out.flush();
                        // kubeadm names the token here; ours is redacted.
                        return Err(Failure::kubeadm(
                            1,
                            format!(
                                "unable to print token {}: {e}",
                                stored.token.token.redacted()
                            ),
                        ));
                    }
                },
                Err(e) => {
                    let _ = out.flush();
                    // The Secret's own data may be in it (an expiration that
                    // does not parse may hold anything, its secret too).
                    let e = crate::script::redact::redact_tokens(&e.to_string());
                    let _ = write!(std::io::stderr(), "{e}");
                }
            }
        }
        if let Err(e) = out.flush()
            && e.kind() != std::io::ErrorKind::BrokenPipe
        {
            return Err(Failure::kubeadm(1, format!("unable to print tokens: {e}")));
        }
        tracing::info!(
            tokens = count,
            connect = ?connected,
            list = ?(listed - connected),
            print = ?(started.elapsed() - listed),
            "token list timings"
        );
        Ok(())
    })
}
