//! `join::command`: the one-line `kubeadm join …` for a token, built from the
//! cluster's kubeconfig exactly as `kubeadm token create --print-join-command`.

use rhai::plugin::*;
use rhai::{Dynamic, EvalAltResult, Map};

use crate::script::api::errors::host_error;
use crate::script::api::token::token_of;
use crate::script::context::RunContext;

/// The options `join::command` and `join::verify` share, read from `options`;
/// `verify` also takes `wait`.
struct JoinOptions {
    certificate_key: Option<String>,
    wait: Option<std::time::Duration>,
}

fn join_options(
    function: &str,
    options: &Map,
    takes_wait: bool,
    pos: rhai::Position,
) -> Result<JoinOptions, Box<EvalAltResult>> {
    let err = |m: &str| host_error(function, m, pos);
    let mut control_plane = None;
    let mut key = None;
    let mut wait = None;
    for (k, v) in options {
        match k.as_str() {
            "control_plane" => {
                control_plane =
                    Some(v.as_bool().map_err(|t| {
                        err(&format!("control_plane must be true or false, got {t}"))
                    })?)
            }
            "certificate_key" if v.is_unit() => {}
            "certificate_key" => {
                key = Some(
                    v.clone()
                        .into_string()
                        .map_err(|t| err(&format!("certificate_key must be a string, got {t}")))?,
                )
            }
            "wait" if takes_wait && v.is_unit() => {}
            "wait" if takes_wait => {
                wait = Some(crate::script::api::rotate::wait_bound(v, "wait").map_err(|m| err(&m))?)
            }
            other => {
                let accepted = if takes_wait {
                    "wait, control_plane, certificate_key"
                } else {
                    "control_plane, certificate_key"
                };
                return Err(err(&format!(
                    "unknown option {other:?} (accepted: {accepted})"
                )));
            }
        }
    }
    // kubeadm joins as a control plane exactly when a certificate key is given.
    let certificate_key = match (control_plane, key) {
        (Some(true), None) => {
            return Err(err(
                "control_plane: true needs certificate_key (create one with `kubeadm init phase upload-certs --upload-certs`)",
            ));
        }
        (Some(false), Some(_)) => {
            return Err(err("certificate_key is only used with control_plane: true"));
        }
        (_, key) => key,
    };
    Ok(JoinOptions {
        certificate_key,
        wait,
    })
}

pub fn render(
    ctx: &NativeCallContext,
    token: &Dynamic,
    options: &Map,
) -> Result<String, Box<EvalAltResult>> {
    const F: &str = "join::command";
    let pos = ctx.call_position();
    let token = token_of(token, F, pos)?;
    let opts = join_options(F, options, false, pos)?;
    let run = RunContext::of(ctx)?;
    let cluster = run.cluster(F, pos)?;
    cluster
        .join_command(&token, opts.certificate_key.as_deref())
        .map(|c| c.render())
        .map_err(|e| host_error(F, &e.to_string(), pos))
}

/// `join::verify`: kubeadm join's discovery checks for `token`, as a report
/// map. A failed check is `ok: false` with the reason in `error`; a bad
/// argument, a missing cluster or the run's time limit still throw.
fn verify(
    ctx: &NativeCallContext,
    token: &Dynamic,
    options: &Map,
) -> Result<Map, Box<EvalAltResult>> {
    const F: &str = "join::verify";
    let pos = ctx.call_position();
    let token = token_of(token, F, pos)?;
    let opts = join_options(F, options, true, pos)?;
    let run = RunContext::of(ctx)?;
    let cluster = run.cluster(F, pos)?.clone();
    let join = cluster
        .join_command(&token, opts.certificate_key.as_deref())
        .map_err(|e| host_error(F, &e.to_string(), pos))?;
    let mut report = Map::new();
    let mut put = |k: &str, v: Dynamic| {
        report.insert(k.into(), v);
    };
    put("token", Dynamic::from(token.id().to_string()));
    put("endpoint", Dynamic::from(join.endpoint.clone()));
    put(
        "ca_cert_hashes",
        join.ca_pins
            .iter()
            .cloned()
            .map(Dynamic::from)
            .collect::<rhai::Array>()
            .into(),
    );
    put("dry_run", Dynamic::from(run.dry_run));
    // A dry run created nothing: a token it "created" is not on the cluster,
    // so the report says what would be checked instead of failing.
    if run.dry_run {
        let store = cluster.tokens();
        let id = token.id().clone();
        let stored = run.block_on(F, pos, async move { store.get(&id).await })?;
        if stored.is_none() {
            put("ok", Dynamic::TRUE);
            put("verified", Dynamic::FALSE);
            put("error", Dynamic::UNIT);
            put(
                "message",
                Dynamic::from(format!(
                    "dry run: would check the jws-kubeconfig-{} signature of kube-public/cluster-info at {} against the CA hash",
                    token.id(),
                    join.endpoint
                )),
            );
            return Ok(report);
        }
    }
    // Reads only: a dry run verifies a token that exists.
    let checked = cluster.clone();
    let outcome = run.block_on(F, pos, async move {
        Ok::<_, std::convert::Infallible>(
            crate::cluster::verify::verify_join(&checked, &join, opts.wait)
                .await
                .map_err(|e| e.to_string()),
        )
    })?;
    let ok = outcome.is_ok();
    put("ok", Dynamic::from(ok));
    put("verified", Dynamic::from(ok));
    match outcome {
        Ok(()) => {
            put("error", Dynamic::UNIT);
            put(
                "message",
                Dynamic::from(format!(
                    "cluster-info is signed for {} and its CA matches the join command",
                    token.id()
                )),
            );
        }
        Err(e) => {
            let e = crate::script::redact::redact_tokens(&format!("{F}: {e}"));
            put("error", Dynamic::from(e.clone()));
            put("message", Dynamic::from(e));
        }
    }
    Ok(report)
}

#[export_module]
pub mod join_api {
    use rhai::{Dynamic, EvalAltResult, Map};

    use super::render;

    /// The worker join command for `token` (a `Token` or a token string):
    /// `kubeadm join <host:port> --token <token> --discovery-token-ca-cert-hash sha256:<hex> `,
    /// byte for byte what kubeadm prints. It holds the secret.
    ///
    /// ```rhai
    /// let t = token::create(#{ ttl: "2h" });
    /// let cmd = join::command(t);
    /// ```
    #[rhai_fn(name = "command", return_raw)]
    pub fn command(ctx: NativeCallContext, token: Dynamic) -> Result<String, Box<EvalAltResult>> {
        render(&ctx, &token, &Map::new())
    }

    /// The join command with options: `control_plane: true` together with
    /// `certificate_key: "<key from kubeadm init phase upload-certs>"` gives
    /// the control-plane join command.
    ///
    /// ```rhai
    /// let t = token::create(#{ ttl: "1h" });
    /// let cmd = join::command(t, #{ control_plane: true, certificate_key: args.certificate_key });
    /// ```
    #[rhai_fn(name = "command", return_raw)]
    pub fn command_with(
        ctx: NativeCallContext,
        token: Dynamic,
        options: Map,
    ) -> Result<String, Box<EvalAltResult>> {
        render(&ctx, &token, &options)
    }

    /// Checks `token` as `kubeadm join` does before it trusts the cluster:
    /// reads `kube-public/cluster-info` without credentials, finds the
    /// token's `jws-kubeconfig-<id>` signature, verifies it with the token's
    /// secret and checks the CA in it against the join command's
    /// `--discovery-token-ca-cert-hash`. Returns a report map: `ok`,
    /// `verified` (the check ran and passed), `token` (the ID), `endpoint`,
    /// `ca_cert_hashes`, `dry_run`, `message`, and `error` (kubeadm's
    /// message when the check fails, e.g. `token id "abcdef" is invalid for
    /// this cluster or it has expired…`, else `()`). A failed check does not
    /// throw: test `ok`. In a dry run, a token that is not on the cluster
    /// (one the dry run "created") gives `ok: true, verified: false` and a
    /// message saying what would be checked.
    ///
    /// ```rhai
    /// let t = token::create(#{ ttl: "1h" });
    /// let r = join::verify(t);
    /// if !r.ok { log::warn(r.error) }
    /// ```
    #[rhai_fn(name = "verify", return_raw, volatile)]
    pub fn verify(ctx: NativeCallContext, token: Dynamic) -> Result<Map, Box<EvalAltResult>> {
        super::verify(&ctx, &token, &Map::new())
    }

    /// `join::verify` with options: `wait` (`"30s"` or a duration) polls,
    /// bounded, until the bootstrapsigner has signed cluster-info for the
    /// token; `control_plane` and `certificate_key` as `join::command`.
    ///
    /// ```rhai
    /// let t = token::create(#{ ttl: "1h" });
    /// let r = join::verify(t, #{ wait: "30s" });
    /// if !r.ok { throw r.error }
    /// ```
    #[rhai_fn(name = "verify", return_raw, volatile)]
    pub fn verify_with(
        ctx: NativeCallContext,
        token: Dynamic,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        super::verify(&ctx, &token, &options)
    }
}
