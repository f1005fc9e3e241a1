//! The production executor: scripts compiled and run by the one Rhai engine
//! factory, [`ScriptHost`], on blocking threads.

use std::collections::BTreeMap;
use std::path::Path;

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::schedule::{JobExecutor, RunContext};
use crate::script::{CompiledScript, RunControl, ScriptHost};

pub struct RhaiExecutor {
    host: ScriptHost,
}

impl RhaiExecutor {
    pub fn new(host: ScriptHost) -> Self {
        Self { host }
    }
}

impl JobExecutor for RhaiExecutor {
    type Job = CompiledScript;

    fn compile(&self, path: &Path, _source: &str) -> Result<CompiledScript, String> {
        // From the file, not the text: the host resolves `import` next to it.
        self.host.compile_file(path).map_err(|e| e.to_string())
    }

    fn run(&self, job: CompiledScript, ctx: RunContext) -> BoxFuture<'static, Result<(), String>> {
        let host = self.host.clone();
        async move {
            let ctl = RunControl {
                cancel: ctx.cancel,
                deadline: ctx.deadline,
                args: BTreeMap::new(),
            };
            let event = ctx.event;
            let work = move || match &event {
                Some(call) => host.run_handler(&job, &ctl, call.handler, &call.payload),
                None => host.run(&job, &ctl),
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
