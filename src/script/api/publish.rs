//! `publish::…`: hand a join command (or any text) to where provisioning
//! reads it, through the project's publishing sinks (`src/publish`). In a
//! dry run nothing is written; the would-be write is printed instead.

use rhai::plugin::*;
use rhai::{EvalAltResult, Map, Position};

use crate::publish::{ObjectKind, Sink};
use crate::script::api::errors::host_error;
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
    for (what, v) in [("namespace", ns), ("name", name), ("key", key)] {
        if v.is_empty() {
            return Err(host_error(
                function,
                &format!("the {what} must not be empty"),
                pos,
            ));
        }
    }
    let sink = Sink::Object {
        kind,
        namespace: ns.to_owned(),
        name: name.to_owned(),
        key: key.to_owned(),
    };
    publish(ctx, function, sink, text)
}

fn webhook_payload(
    extra: &Map,
    pos: Position,
) -> Result<serde_json::Map<String, serde_json::Value>, Box<EvalAltResult>> {
    let value: serde_json::Value =
        rhai::serde::from_dynamic(&rhai::Dynamic::from_map(extra.clone())).map_err(|e| {
            host_error(
                "publish::webhook",
                &format!("the extra fields are not JSON: {e}"),
                pos,
            )
        })?;
    match value {
        serde_json::Value::Object(m) => Ok(m),
        _ => Ok(serde_json::Map::new()),
    }
}

#[export_module]
pub mod publish_api {
    use rhai::{EvalAltResult, Map};

    use crate::publish::{ObjectKind, Sink, Webhook};

    /// Writes `text` to the file at `path`, atomically and with mode 0600
    /// (it holds a token secret): a reader sees the old content or the new.
    ///
    /// ```rhai
    /// let t = token::create(#{ ttl: "24h" });
    /// publish::file("/var/lib/provisioning/join.sh", join::command(t));
    /// ```
    #[rhai_fn(return_raw, volatile)]
    pub fn file(ctx: NativeCallContext, path: &str, text: &str) -> Result<(), Box<EvalAltResult>> {
        if path.is_empty() {
            return Err(super::host_error(
                "publish::file",
                "the path must not be empty",
                ctx.call_position(),
            ));
        }
        super::publish(&ctx, "publish::file", Sink::File(path.into()), text)
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
        let pos = ctx.call_position();
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(super::host_error(
                "publish::webhook",
                &format!("{url:?} is not an http:// or https:// URL"),
                pos,
            ));
        }
        let extra = super::webhook_payload(&extra, pos)?;
        let sink = Sink::Webhook {
            hook: Webhook::new(url),
            extra,
        };
        super::publish(&ctx, "publish::webhook", sink, text)
    }
}
