//! `tokensmith run --contexts/--all-contexts`: one script across a fleet,
//! members run concurrently (at most `--parallel` at once) so a fleet takes
//! about as long as its slowest member, not the sum of all of them.
//!
//! [`select_contexts`] serves `watch --contexts/--all-contexts` too.
//!
//! Results still come out in the order the contexts were given, each as soon
//! as every member before it is done; a progress bar shows on a terminal
//! only, and a summary table on stderr closes the run.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use super::{Failure, GlobalArgs};
use crate::script::{CompiledScript, ScriptOptions};

/// The kubeconfig's context names, in its order, and its path.
pub fn kubeconfig_contexts(global: &GlobalArgs) -> Result<(PathBuf, Vec<String>), Failure> {
    if global.dev {
        return Err(Failure::new(
            2,
            "--contexts and --all-contexts need a kubeconfig, not --dev",
        ));
    }
    let path = match crate::cluster::kubeconfig::resolve(global.kubeconfig.as_deref()) {
        crate::cluster::KubeconfigSource::File(p) => p,
        crate::cluster::KubeconfigSource::InCluster => {
            return Err(Failure::new(
                2,
                "--contexts and --all-contexts need a kubeconfig file",
            ));
        }
    };
    let loaded = crate::cluster::kubeconfig::load(&path, None)
        .map_err(|e| Failure::new(1, e.to_string()))?;
    let known = loaded
        .config
        .contexts
        .iter()
        .map(|c| c.name.clone())
        .collect();
    Ok((path, known))
}

/// `--contexts a,b` (checked against the kubeconfig) or `--all-contexts`,
/// for `run` and `watch`.
pub fn select_contexts(
    global: &GlobalArgs,
    contexts: &[String],
    all: bool,
) -> Result<Vec<String>, Failure> {
    let (path, known) = kubeconfig_contexts(global)?;
    if all {
        if known.is_empty() {
            return Err(Failure::new(
                1,
                format!("{} has no contexts", path.display()),
            ));
        }
        return Ok(known);
    }
    if let Some(bad) = contexts.iter().find(|c| !known.contains(c)) {
        return Err(Failure::new(
            2,
            format!(
                "context {bad:?} is not in {} (it has: {})",
                path.display(),
                known.join(", ")
            ),
        ));
    }
    Ok(contexts.to_vec())
}

/// `--parallel` when not given.
pub const DEFAULT_PARALLEL: u16 = 8;

struct Outcome {
    result: Result<rhai::Dynamic, Failure>,
    took: Duration,
}

struct Board {
    done: Vec<Option<Outcome>>,
    /// The first context whose result is not printed yet.
    next_to_print: usize,
    /// A stdout write failed: stop printing, report it at the end.
    write_error: Option<Failure>,
}

pub struct Fleet<'a> {
    pub rt: &'a tokio::runtime::Runtime,
    pub global: &'a GlobalArgs,
    pub opts: &'a ScriptOptions,
    pub script: &'a CompiledScript,
    pub args: &'a BTreeMap<String, String>,
    pub contexts: &'a [String],
    pub parallel: usize,
}

impl Fleet<'_> {
    pub fn run(&self) -> Result<(), Failure> {
        let n = self.contexts.len();
        let bar = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(n as u64);
            if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} contexts {msg}") {
                bar.set_style(style);
            }
            bar
        } else {
            ProgressBar::hidden()
        };
        let board = Mutex::new(Board {
            done: (0..n).map(|_| None).collect(),
            next_to_print: 0,
            write_error: None,
        });
        let next = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..self.parallel.min(n) {
                // Each member runs its script on this thread: started with
                // the script stack, so no second thread per context.
                let member = std::thread::Builder::new()
                    .name("fleet-member".to_owned())
                    .stack_size(crate::script::host::SCRIPT_STACK);
                let spawned = member.spawn_scoped(scope, || {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(context) = self.contexts.get(i) else {
                            break;
                        };
                        let started = Instant::now();
                        let mut g = self.global.clone();
                        g.context = Some(context.clone());
                        let result = super::run::run_member(
                            self.rt,
                            &g,
                            self.opts.clone(),
                            self.script,
                            self.args,
                            true,
                        );
                        let outcome = Outcome {
                            result,
                            took: started.elapsed(),
                        };
                        let mut b = board.lock().unwrap_or_else(|p| p.into_inner());
                        b.done[i] = Some(outcome);
                        bar.inc(1);
                        bar.set_message(context.clone());
                        bar.suspend(|| self.print_ready(&mut b));
                    }
                });
                // The contexts it would have run are left "not run" and fail the run.
                if let Err(e) = spawned {
                    tracing::warn!("cannot start a thread for the fleet's members: {e}");
                }
            }
        });
        bar.finish_and_clear();
        let b = board.into_inner().unwrap_or_else(|p| p.into_inner());
        self.summary(&b);
        if let Some(e) = b.write_error {
            return Err(e);
        }
        let failed: Vec<&str> = self
            .contexts
            .iter()
            .zip(&b.done)
            .filter(|(_, o)| o.as_ref().is_none_or(|o| o.result.is_err()))
            .map(|(c, _)| c.as_str())
            .collect();
        if failed.is_empty() {
            return Ok(());
        }
        Err(Failure::new(
            1,
            format!(
                "the script failed in {} of {} contexts: {}",
                failed.len(),
                n,
                failed.join(", ")
            ),
        ))
    }

    /// Prints every finished result that all earlier contexts are done before.
    fn print_ready(&self, b: &mut Board) {
        while let Some(Some(o)) = b.done.get(b.next_to_print) {
            let context = &self.contexts[b.next_to_print];
            if b.write_error.is_none() {
                let printed = super::write_stdout(format!("# context: {context}\n").as_bytes())
                    .and_then(|()| match &o.result {
                        Ok(value) => super::run::print_result(value),
                        Err(f) => {
                            let f = crate::script::redact::redact_tokens(&f.to_string());
                            eprintln!("context {context}: {f}");
                            Ok(())
                        }
                    });
                if let Err(e) = printed {
                    b.write_error = Some(e);
                }
            }
            b.next_to_print += 1;
        }
    }

    fn summary(&self, b: &Board) {
        let width = self
            .contexts
            .iter()
            .map(|c| c.len())
            .max()
            .unwrap_or(0)
            .max("CONTEXT".len());
        let mut table = format!("{:<width$}  {:<6}  SECONDS\n", "CONTEXT", "RESULT");
        for (context, o) in self.contexts.iter().zip(&b.done) {
            let (result, secs) = match o {
                Some(o) if o.result.is_ok() => ("ok", o.took.as_secs_f64()),
                Some(o) => ("failed", o.took.as_secs_f64()),
                None => ("not run", 0.0),
            };
            table += &format!("{context:<width$}  {result:<6}  {secs:.2}\n");
        }
        eprint!("{table}");
    }
}
