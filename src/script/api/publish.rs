//! `publish::…`: hand a join command (or any text) to where provisioning
//! reads it, through the project's publishing sinks (`src/publish`). In a
//! dry run nothing is written; the would-be write is printed instead.

use rhai::EvalAltResult;
use rhai::plugin::*;

use crate::publish::{ObjectKind, Sink};
use crate::script::api::errors::host_error;
use crate::script::api::sink_spec::object_sink;
use crate::script::context::RunContext;

/// Publishes `text` to `sink` on the run's runtime.
fn publish(
    ctx: &NativeCallContext,
    function: &str,
    sink: Sink,
    text: &str,
) -> Result<(), Box<EvalAltResult>> {
    let pos = ctx.call_position();
    let run = RunContext::of(ctx)?;
    crate::script::api::sink_spec::refuse_stdout_in_daemon(function, &run, &sink, pos)?;
    if run.dry_run {
        let line = format!("[dryrun] Would publish to {}", sink.describe());
        crate::script::api::log::emit(tracing::Level::INFO, &run.script, &line);
        let _ = crate::cli::write_stdout(format!("{line}\n").as_bytes());
        return Ok(());
    }
    let cluster = run.cluster.clone();
    let text = text.to_owned();
    run.block_on(function, pos, async move {
        sink.publish(cluster.as_ref(), &text).await
    })
}

fn object(
    ctx: &NativeCallContext,
    function: &str,
    kind: ObjectKind,
    ns: &str,
    name: &str,
    key: &str,
    text: &str,
) -> Result<(), Box<EvalAltResult>> {
    let pos = ctx.call_position();
    let run = RunContext::of(ctx)?;
    run.cluster(function, pos)?;
    let sink = object_sink(kind, ns, name, key).map_err(|m| host_error(function, &m, pos))?;
    publish(ctx, function, sink, text)
}

#[export_module]
pub mod publish_api {
    use rhai::{Dynamic, EvalAltResult, Map};

    use crate::publish::ObjectKind;
    use crate::script::api::sink_spec::{file_sink, sink_from_spec, webhook_sink};
    use crate::script::context::RunContext;

    /// Writes `text` to the file at `path`, atomically and with mode 0600
    /// (it holds a token secret): a reader sees the old content or the new.
    ///
    /// ```rhai
    /// let t = token::create(#{ ttl: "24h" });
    /// publish::file("/var/lib/provisioning/join.sh", join::command(t));
    /// ```
    #[rhai_fn(return_raw, volatile)]
    pub fn file(ctx: NativeCallContext, path: &str, text: &str) -> Result<(), Box<EvalAltResult>> {
        let sink = file_sink(path)
            .map_err(|m| super::host_error("publish::file", &m, ctx.call_position()))?;
        super::publish(&ctx, "publish::file", sink, text)
    }

    /// Stores `text` under `key` in the Secret `namespace/name`, creating
    /// the Secret if needed and leaving its other keys alone.
    ///
    /// ```rhai
    /// let t = token::create(#{});
    /// publish::secret("provisioning", "join", "command", join::command(t));
    /// ```
    #[rhai_fn(return_raw, volatile)]
    pub fn secret(
        ctx: NativeCallContext,
        namespace: &str,
        name: &str,
        key: &str,
        text: &str,
    ) -> Result<(), Box<EvalAltResult>> {
        super::object(
            &ctx,
            "publish::secret",
            ObjectKind::Secret,
            namespace,
            name,
            key,
            text,
        )
    }

    /// Stores `text` under `key` in the ConfigMap `namespace/name`, creating
    /// it if needed. ConfigMaps are readable more widely than Secrets: prefer
    /// `publish::secret` for join commands.
    ///
    /// ```rhai
    /// publish::configmap("provisioning", "join", "updated", now().to_rfc3339());
    /// ```
    #[rhai_fn(return_raw, volatile)]
    pub fn configmap(
        ctx: NativeCallContext,
        namespace: &str,
        name: &str,
        key: &str,
        text: &str,
    ) -> Result<(), Box<EvalAltResult>> {
        super::object(
            &ctx,
            "publish::configmap",
            ObjectKind::ConfigMap,
            namespace,
            name,
            key,
            text,
        )
    }

    /// POSTs `{"joinCommand": text}` as JSON to `url`, retrying transient failures.
    ///
    /// ```rhai
    /// let t = token::create(#{});
    /// publish::webhook("https://provisioner.example/join", join::command(t));
    /// ```
    #[rhai_fn(name = "webhook", return_raw, volatile)]
    pub fn webhook(
        ctx: NativeCallContext,
        url: &str,
        text: &str,
    ) -> Result<(), Box<EvalAltResult>> {
        webhook_with(ctx, url, text, Map::new())
    }

    /// POSTs `{"joinCommand": text, …extra}`: the map's fields are added to the payload.
    ///
    /// ```rhai
    /// let t = token::create(#{});
    /// publish::webhook("https://provisioner.example/join", join::command(t), #{ cluster: "prod-eu", expires: `${t.expires}` });
    /// ```
    #[rhai_fn(name = "webhook", return_raw, volatile)]
    pub fn webhook_with(
        ctx: NativeCallContext,
        url: &str,
        text: &str,
        extra: Map,
    ) -> Result<(), Box<EvalAltResult>> {
        let sink = webhook_sink(url, &extra)
            .map_err(|m| super::host_error("publish::webhook", &m, ctx.call_position()))?;
        super::publish(&ctx, "publish::webhook", sink, text)
    }

    /// Publishes `text` to a sink given as a map, the same maps
    /// `token::rotate`'s `publish` array takes: `#{file: path}`,
    /// `#{secret: "ns/name", key: k}`, `#{configmap: "ns/name", key: k}`
    /// (key defaults to `join-command`), `#{stdout: true}`, or
    /// `#{webhook: url, headers: #{…}, authorization_file: path,
    /// authorization_env: NAME, ca_file: path, timeout: "10s", attempts: 4,
    /// payload: #{…}}`. An unknown key is an error naming what is accepted.
    ///
    /// ```rhai
    /// let t = token::create(#{});
    /// publish::to(#{ webhook: "https://provisioner.example/join", authorization_file: "/etc/tokensmith/hook-auth" }, join::command(t));
    /// ```
    #[rhai_fn(return_raw, volatile)]
    pub fn to(ctx: NativeCallContext, sink: Dynamic, text: &str) -> Result<(), Box<EvalAltResult>> {
        const F: &str = "publish::to";
        let run = RunContext::of(&ctx)?;
        let sink = sink_from_spec(F, "sink", &sink, &run.allow_env, ctx.call_position())?;
        super::publish(&ctx, F, sink, text)
    }
}
