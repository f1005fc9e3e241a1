//! `cluster::…`: which cluster a script is talking to, so that a fleet run
//! (`run --all-contexts`) can tell its contexts apart.

use rhai::plugin::*;

#[export_module]
pub mod cluster_api {
    use rhai::{Dynamic, EvalAltResult};

    use crate::script::context::RunContext;

    /// The kubeconfig context the run uses (`--context`, the context of this
    /// pass of a `--contexts`/`--all-contexts` run, else the kubeconfig's
    /// `current-context`), or `()` inside a pod using its service account.
    ///
    /// ```rhai
    /// let name = cluster::context() ?? "in-cluster";
    /// log::info(`rotating on ${name}`);
    /// ```
    #[rhai_fn(name = "context", return_raw)]
    pub fn context_name(ctx: NativeCallContext) -> Result<Dynamic, Box<EvalAltResult>> {
        let run = RunContext::of(&ctx)?;
        let cluster = run.cluster("cluster::context", ctx.call_position())?;
        Ok(cluster
            .kubeconfig()
            .and_then(|k| k.context.clone())
            .map_or(Dynamic::UNIT, Dynamic::from))
    }

    /// The API server's URL, as the kubeconfig (or the pod) gives it.
    ///
    /// ```rhai
    /// print(cluster::server());   // https://127.0.0.1:6443
    /// ```
    #[rhai_fn(return_raw)]
    pub fn server(ctx: NativeCallContext) -> Result<String, Box<EvalAltResult>> {
        let run = RunContext::of(&ctx)?;
        Ok(run
            .cluster("cluster::server", ctx.call_position())?
            .server()
            .to_owned())
    }
}
