//! `run_job(path, #{args})`: runs a job script as the daemon runs it (its
//! header read and its `timeout` applied, print going to the test's output)
//! against the test's cluster, without the test-only functions.

use rhai::plugin::*;

#[export_module]
pub mod job_api {
    use std::collections::BTreeMap;

    use rhai::{Dynamic, EvalAltResult, Map};

    use crate::schedule::ScriptHeader;
    use crate::script::api::errors::host_error;
    use crate::script::context::RunContext;
    use crate::script::{RunControl, ScriptError};
    use crate::testing::api::world;
    use crate::testing::case::{RunFailure, run_script};

    /// Runs the job script at `path` (relative to the test file) once, as
    /// `tokensmith watch` would, on the test's cluster and clock, and returns
    /// its result. A job that fails (throws, or runs past its header's
    /// `timeout`) makes `run_job` throw with the job's error.
    ///
    /// ```rhai
    /// let out = run_job("report.rhai");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn run_job(ctx: NativeCallContext, path: &str) -> Result<Dynamic, Box<EvalAltResult>> {
        run_job_with(ctx, path, Map::new())
    }

    /// [`run_job`] with script arguments: `#{ args: #{ ttl: "2h" } }` (or the
    /// arguments map itself); values are turned into strings, as `--arg` gives them.
    ///
    /// ```rhai
    /// run_job("rotate.rhai", #{ args: #{ ttl: "2h", stdout: "false" } });
    /// ```
    #[rhai_fn(name = "run_job", return_raw)]
    pub fn run_job_with(
        ctx: NativeCallContext,
        path: &str,
        options: Map,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        const F: &str = "run_job";
        let pos = ctx.call_position();
        let w = world(&ctx)?;
        let run = RunContext::of(&ctx)?;
        let file = w.dir.join(path);
        let source = std::fs::read_to_string(&file)
            .map_err(|e| host_error(F, &format!("cannot read {}: {e}", file.display()), pos))?;
        let header = ScriptHeader::parse(&source)
            .map_err(|e| host_error(F, &format!("{}: {e}", file.display()), pos))?;
        let script = w
            .jobs
            .compile_file(&file)
            .map_err(|e| host_error(F, &e.headline(), pos))?;
        let args_map = match options.get("args") {
            Some(a) => a
                .read_lock::<Map>()
                .map(|m| m.clone())
                .ok_or_else(|| host_error(F, "args must be a map", pos))?,
            None => options,
        };
        let args: BTreeMap<String, String> = args_map
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let by_timeout = header
            .timeout
            .and_then(|t| std::time::Instant::now().checked_add(t));
        let deadline = match (by_timeout, run.deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let ctl = RunControl {
            cancel: run.cancel.clone(),
            deadline,
            args,
        };
        match run_script(&w.jobs, &script, &ctl, &w.output) {
            Ok(v) => Ok(v),
            Err(RunFailure::Script(e)) => {
                let e = ScriptError::from_eval(script.name(), script.source(), &e);
                Err(host_error(
                    F,
                    &format!("the job failed: {}", e.headline()),
                    pos,
                ))
            }
            Err(RunFailure::Panic(m)) => Err(host_error(F, &format!("the job panicked: {m}"), pos)),
        }
    }
}
