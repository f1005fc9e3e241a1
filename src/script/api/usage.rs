//! `token::usage(id)` and `dev::join(cmd)`: the join audit and the
//! rehearsal join, for scripts (see `cluster::audit`, `cluster::bootstrap`).

use rhai::plugin::*;
use rhai::{Dynamic, EvalAltResult};

use crate::script::api::errors::host_error;
use crate::script::context::RunContext;

fn usage(ctx: &NativeCallContext, id: &str) -> Result<Dynamic, Box<EvalAltResult>> {
    const F: &str = "token::usage";
    let pos = ctx.call_position();
    let id = crate::token::value::id_from_id_or_token(id).ok_or_else(|| {
        host_error(
            F,
            "expected a token id (6 characters of [a-z0-9]) or a token",
            pos,
        )
    })?;
    let run = RunContext::of(ctx)?;
    let cluster = run.cluster(F, pos)?.clone();
    let report = run.block_on(F, pos, async move {
        crate::cluster::audit::audit(&cluster).await
    })?;
    let found = report
        .tokens
        .into_iter()
        .find(|t| t.id == id.as_str())
        .unwrap_or(crate::cluster::audit::TokenUsage {
            id: id.as_str().to_string(),
            exists: false,
            rotation: None,
            csrs: Vec::new(),
            nodes: Vec::new(),
            used_after_superseded: false,
        });
    let uses = found.uses() as i64;
    let mut map = rhai::serde::to_dynamic(&found)
        .map_err(|e| host_error(F, &e.to_string(), pos))?
        .try_cast::<rhai::Map>()
        .unwrap_or_default();
    map.insert("uses".into(), Dynamic::from(uses));
    Ok(map.into())
}

fn join(
    ctx: &NativeCallContext,
    cmd: &str,
    node: Option<String>,
) -> Result<rhai::Map, Box<EvalAltResult>> {
    const F: &str = "dev::join";
    let pos = ctx.call_position();
    let run = RunContext::of(ctx)?;
    let cluster = run.cluster(F, pos)?.clone();
    if cluster.dry_run() {
        return Err(host_error(
            F,
            "a rehearsal join creates a CSR and a Node: not in dry-run mode",
            pos,
        ));
    }
    let cmd = cmd.to_string();
    let done = run.block_on(F, pos, async move {
        crate::cluster::bootstrap::rehearse(
            &cmd,
            node.as_deref(),
            std::time::Duration::from_secs(30),
        )
        .await
    })?;
    let mut m = rhai::Map::new();
    m.insert("node".into(), done.node.into());
    m.insert("csr".into(), done.csr.into());
    m.insert("token_id".into(), done.token_id.into());
    Ok(m)
}

#[export_module]
pub mod usage_api {
    use rhai::{Dynamic, EvalAltResult};

    /// Who used the token `id` (an id or a whole token): a map with `id`,
    /// `exists`, `rotation`, `uses` (how many joins), `csrs` (each
    /// `#{name, node, time, state}`, state `Approved`, `Denied` or
    /// `Pending`), `nodes` (registered nodes it brought in) and
    /// `used_after_superseded`. Read from the CSRs kubelets create as
    /// `system:bootstrap:<id>`; a token nobody used has `uses == 0`.
    ///
    /// ```rhai
    /// let u = token::usage("abcdef");
    /// if u.uses >= 1 { token::delete(u.id) }
    /// ```
    #[rhai_fn(name = "usage", return_raw, volatile)]
    pub fn usage(ctx: NativeCallContext, id: &str) -> Result<Dynamic, Box<EvalAltResult>> {
        super::usage(&ctx, id)
    }
}

#[export_module]
pub mod dev_api {
    use rhai::{EvalAltResult, Map};

    /// Rehearses `kubeadm join` with the published line `cmd`: discovery
    /// (anonymous cluster-info, JWS, CA pin), a kubelet client CSR as the
    /// bootstrap user, its approval and certificate, then the Node
    /// registered with that certificate, as the kubelet does. Returns
    /// `#{node, csr, token_id}` or throws
    /// kubeadm's message (e.g. `token id "abcdef" is invalid for this
    /// cluster or it has expired…`).
    ///
    /// ```rhai
    /// let j = dev::join(join::command(token::create(#{ ttl: "1h" })));
    /// log::info(`joined ${j.node}`);
    /// ```
    #[rhai_fn(name = "join", return_raw, volatile)]
    pub fn join(ctx: NativeCallContext, cmd: &str) -> Result<Map, Box<EvalAltResult>> {
        super::join(&ctx, cmd, None)
    }

    /// `dev::join` as the node named `node`.
    ///
    /// ```rhai
    /// let j = dev::join(join::command(token::create(#{ ttl: "1h" })), "worker-1");
    /// ```
    #[rhai_fn(name = "join", return_raw, volatile)]
    pub fn join_as(
        ctx: NativeCallContext,
        cmd: &str,
        node: &str,
    ) -> Result<Map, Box<EvalAltResult>> {
        super::join(&ctx, cmd, Some(node.to_string()))
    }
}
