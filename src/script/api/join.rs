//! `join::command`: the one-line `kubeadm join …` for a token, built from the
//! cluster's kubeconfig exactly as `kubeadm token create --print-join-command`.

use rhai::plugin::*;
use rhai::{Dynamic, EvalAltResult, Map};

use crate::script::api::errors::host_error;
use crate::script::api::token::token_of;
use crate::script::context::RunContext;

pub fn render(
    ctx: &NativeCallContext,
    token: &Dynamic,
    options: &Map,
) -> Result<String, Box<EvalAltResult>> {
    const F: &str = "join::command";
    let pos = ctx.call_position();
    let err = |m: &str| host_error(F, m, pos);
    let token = token_of(token, F, pos)?;
    let mut control_plane = None;
    let mut key = None;
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
            other => {
                return Err(err(&format!(
                    "unknown option {other:?} (accepted: control_plane, certificate_key)"
                )));
            }
        }
    }
    // kubeadm joins as a control plane exactly when a certificate key is given.
    let key = match (control_plane, key) {
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
    let run = RunContext::of(ctx)?;
    let cluster = run.cluster(F, pos)?;
    cluster
        .join_command(&token, key.as_deref())
        .map(|c| c.render())
        .map_err(|e| err(&e.to_string()))
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
}
