//! `webhook::`: a real HTTP receiver on loopback that records what it got,
//! to publish to from the script under test.

use rhai::plugin::*;

use crate::testing::receiver::{Mode, Receiver};

/// The path scripts' receivers answer on.
const PATH: &str = "hook";

/// A receiver as a script holds it.
#[derive(Clone, Debug)]
pub struct WebhookReceiver {
    pub(crate) receiver: Receiver,
}

fn start(ctx: &NativeCallContext) -> Result<WebhookReceiver, Box<rhai::EvalAltResult>> {
    let w = super::world(ctx)?;
    let receiver = w.receiver().map_err(|e| {
        crate::script::api::errors::host_error(
            "webhook::receiver",
            &format!("cannot listen on loopback: {e}"),
            ctx.call_position(),
        )
    })?;
    Ok(WebhookReceiver { receiver })
}

#[export_module]
pub mod webhook_api {
    use rhai::{Array, Dynamic, EvalAltResult, INT, Map};

    use crate::script::api::errors::host_error;

    pub type WebhookReceiver = super::WebhookReceiver;

    /// Starts a receiver that answers every POST with 204 and records it.
    ///
    /// ```rhai
    /// let hook = webhook::receiver();
    /// publish::webhook(hook.url, "kubeadm join …");
    /// assert_eq(hook.received.len(), 1);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn receiver(ctx: NativeCallContext) -> Result<WebhookReceiver, Box<EvalAltResult>> {
        super::start(&ctx)
    }

    /// Starts a receiver that answers every POST with `status` (e.g. 503, to
    /// test what a failed publish does) and records it.
    ///
    /// ```rhai
    /// let down = webhook::receiver(503);
    /// ```
    #[rhai_fn(name = "receiver", return_raw)]
    pub fn receiver_with(
        ctx: NativeCallContext,
        status: INT,
    ) -> Result<WebhookReceiver, Box<EvalAltResult>> {
        let mut r = super::start(&ctx)?;
        respond(ctx, &mut r, status)?;
        Ok(r)
    }

    /// The URL to POST to (`http://127.0.0.1:PORT/hook`).
    ///
    /// ```rhai
    /// let hook = webhook::receiver();
    /// print(hook.url);
    /// ```
    #[rhai_fn(global, get = "url", pure)]
    pub fn url(r: &mut WebhookReceiver) -> String {
        r.receiver.url(super::PATH)
    }

    /// Every POST so far, oldest first, each a map: `body` (the JSON body as
    /// a map, or the text when it is not JSON), `text` (the body as text),
    /// `status` (what the receiver answered), `authorized` (whether an
    /// Authorization header came; its value is not kept).
    ///
    /// ```rhai
    /// let hook = webhook::receiver();
    /// publish::webhook(hook.url, "kubeadm join …");
    /// assert_eq(hook.received[0].body.joinCommand, "kubeadm join …");
    /// ```
    #[rhai_fn(global, get = "received", pure)]
    pub fn received(r: &mut WebhookReceiver) -> Array {
        r.receiver
            .received()
            .into_iter()
            .map(|got| {
                let text = String::from_utf8_lossy(&got.body).into_owned();
                let body = serde_json::from_slice::<serde_json::Value>(&got.body)
                    .ok()
                    .and_then(|v| rhai::serde::to_dynamic(v).ok())
                    .unwrap_or_else(|| Dynamic::from(text.clone()));
                let mut m = Map::new();
                m.insert("body".into(), body);
                m.insert("text".into(), text.into());
                m.insert("status".into(), INT::from(got.status).into());
                m.insert("authorized".into(), got.authorization.is_some().into());
                Dynamic::from_map(m)
            })
            .collect()
    }

    /// From now on, answer POSTs with `status`: 2xx accepts, anything else
    /// (400–599) refuses; `0` never answers (the sender times out).
    ///
    /// ```rhai
    /// let hook = webhook::receiver();
    /// hook.respond(500);
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn respond(
        ctx: NativeCallContext,
        r: &mut WebhookReceiver,
        status: INT,
    ) -> Result<(), Box<EvalAltResult>> {
        let mode = match status {
            0 => super::Mode::Hang,
            200..=299 => super::Mode::Accept,
            400..=599 => super::Mode::Reject(status as u16),
            _ => {
                return Err(host_error(
                    "respond",
                    &format!(
                        "the status must be 200-299, 400-599 or 0 (never answer), got {status}"
                    ),
                    ctx.call_position(),
                ));
            }
        };
        r.receiver.set(super::PATH, mode);
        Ok(())
    }

    /// A receiver prints as its URL.
    ///
    /// ```rhai
    /// print(webhook::receiver());
    /// ```
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn to_string(r: &mut WebhookReceiver) -> String {
        format!("WebhookReceiver({})", r.receiver.url(super::PATH))
    }
}
