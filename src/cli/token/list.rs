//! `token list`: every token Secret, printed as it is decoded; a malformed
//! Secret's error goes to stderr without a newline, as kubeadm writes it.

use std::io::Write;

use super::{Failure, GlobalArgs, ListArgs, no_args, runtime};
use crate::cluster::{Cluster, ConnectOptions};
use crate::output::{PrintFlags, printer};

pub fn run(global: &GlobalArgs, args: ListArgs) -> Result<(), Failure> {
    no_args("tokensmith token list", &args.extra)?;
    runtime()?.block_on(async {
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
        let tokens = cluster
            .tokens()
            .list()
            .await
            .map_err(|e| Failure::kubeadm(1, e.to_string()))?;
        let now = jiff::Timestamp::now();
        let stdout = std::io::stdout();
        for decoded in tokens {
            match decoded {
                Ok(stored) => {
                    let mut out = stdout.lock();
                    let printed = printer.print(&stored.token, now, &mut out);
                    let _ = out.flush();
                    match printed {
                        Ok(()) => {}
                        Err(e) if super::super::is_broken_pipe(&e) => return Ok(()),
                        Err(e) => {
                            // kubeadm names the token here; ours is redacted.
                            return Err(Failure::kubeadm(
                                1,
                                format!(
                                    "unable to print token {}: {e}",
                                    stored.token.token.redacted()
                                ),
                            ));
                        }
                    }
                }
                Err(e) => {
                    let _ = write!(std::io::stderr(), "{e}");
                }
            }
        }
        Ok(())
    })
}
