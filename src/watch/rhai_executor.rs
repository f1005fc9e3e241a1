//! The production executor: scripts compiled and run by the one Rhai engine
//! factory, [`ScriptHost`], on blocking threads.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::schedule::{JobExecutor, RunContext};
use crate::script::{CompiledScript, RunControl, ScriptHost};

pub struct RhaiExecutor {
    host: ScriptHost,
    /// `watch --arg`: every job's arguments, under its own `//! arg:` lines.
    args: BTreeMap<String, String>,
}

impl RhaiExecutor {
    pub fn new(host: ScriptHost, args: BTreeMap<String, String>) -> Self {
        Self { host, args }
    }

    /// The same executor against another cluster (a job's context); jobs
    /// compiled by either run on both.
    pub fn for_cluster(
        &self,
        cluster: Option<crate::cluster::Cluster>,
        cluster_error: Option<String>,
    ) -> Self {
        Self {
            host: self.host.with_cluster(cluster, cluster_error),
            args: self.args.clone(),
        }
    }
}

/// A compiled job and the `args` map its runs see.
#[derive(Clone)]
pub struct RhaiJob {
    script: CompiledScript,
    args: Arc<BTreeMap<String, String>>,
}

impl JobExecutor for RhaiExecutor {
    type Job = RhaiJob;

    fn compile(&self, path: &Path, source: &str) -> Result<RhaiJob, String> {
        // From the file, not the text: the host resolves `import` next to it.
        let script = self.host.compile_file(path).map_err(|e| e.to_string())?;
        // Refused now, not at the first event (`check` reports the same).
        if let Some(f) = crate::schedule::header_lint::missing_handler_in(source, script.ast()) {
            return Err(format!("{}:{}: {}", path.display(), f.line, f.message));
        }
        // A helper that later breaks is imported in this version meanwhile.
        self.host.remember_module(&script);
        let header = crate::schedule::header::parse(source).map_err(|e| e.to_string())?;
        let mut args = self.args.clone();
        args.extend(header.args);
        Ok(RhaiJob {
            script,
            args: Arc::new(args),
        })
    }

    fn run(&self, job: RhaiJob, ctx: RunContext) -> BoxFuture<'static, Result<(), String>> {
        let host = self.host.clone();
        async move {
            let ctl = RunControl {
                cancel: ctx.cancel,
                deadline: ctx.deadline,
                args: (*job.args).clone(),
            };
            let script = job.script;
            let event = ctx.event;
            let work = move || match &event {
                Some(call) => host.run_handler(&script, &ctl, call.handler, &call.payload),
                None => host.run(&script, &ctl),
            };
            match tokio::task::spawn_blocking(work).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(e.to_string()),
                // Re-raised so the scheduler reports it as a panic of this job.
                Err(e) => match e.try_into_panic() {
                    Ok(payload) => std::panic::resume_unwind(payload),
                    Err(e) => Err(format!("the run was aborted: {e}")),
                },
            }
        }
        .boxed()
    }
}
