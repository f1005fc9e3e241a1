//! `log::debug|info|warn|error(msg)`: the script's lines in tokensmith's own
//! log, with the script as the `script` field (tracing targets must be
//! static, so the path travels as a field on the `tokensmith::script` target).

use rhai::plugin::*;

/// Writes one script log line at `level`.
/// Token secrets are hidden: whatever a script prints, the log never shows one.
pub fn emit(level: tracing::Level, script: &str, msg: &str) {
    let redacted;
    let msg = if crate::script::redact::contains_token(msg) {
        redacted = crate::script::redact::redact_tokens(msg);
        redacted.as_str()
    } else {
        msg
    };
    if crate::testing::world::capture_log(level, msg) {
        return;
    }
    match level {
        tracing::Level::ERROR => tracing::error!(target: "tokensmith::script", script, "{msg}"),
        tracing::Level::WARN => tracing::warn!(target: "tokensmith::script", script, "{msg}"),
        tracing::Level::INFO => tracing::info!(target: "tokensmith::script", script, "{msg}"),
        tracing::Level::DEBUG => tracing::debug!(target: "tokensmith::script", script, "{msg}"),
        tracing::Level::TRACE => tracing::trace!(target: "tokensmith::script", script, "{msg}"),
    }
}

/// A logged value as `print` shows it: strings as they are, tokens redacted.
fn text(value: &rhai::Dynamic) -> String {
    crate::script::render::render(value).unwrap_or_else(|| "()".to_owned())
}

fn script_name(ctx: &NativeCallContext) -> String {
    crate::script::context::RunContext::of(ctx)
        .map(|c| c.script.clone())
        .unwrap_or_else(|_| "<script>".to_owned())
}

#[export_module]
pub mod log_api {
    use rhai::Dynamic;
    use tracing::Level;

    /// Logs a debug line (shown with `-vv`). Like every `log::` function it
    /// takes any value: strings as they are, others as `print` shows them.
    ///
    /// ```rhai
    /// log::debug(`found ${token::list().len()} tokens`);
    /// ```
    pub fn debug(ctx: NativeCallContext, message: Dynamic) {
        super::emit(
            Level::DEBUG,
            &super::script_name(&ctx),
            &super::text(&message),
        );
    }

    /// Logs an informational line (shown by default; hide with `RUST_LOG=warn`).
    ///
    /// ```rhai
    /// log::info("rotation started");
    /// ```
    pub fn info(ctx: NativeCallContext, message: Dynamic) {
        super::emit(
            Level::INFO,
            &super::script_name(&ctx),
            &super::text(&message),
        );
    }

    /// Logs a warning (shown by default).
    ///
    /// ```rhai
    /// log::warn("no token carries the rotation mark yet");
    /// ```
    pub fn warn(ctx: NativeCallContext, message: Dynamic) {
        super::emit(
            Level::WARN,
            &super::script_name(&ctx),
            &super::text(&message),
        );
    }

    /// Logs an error (shown by default). It does not stop the script: `throw` does.
    ///
    /// ```rhai
    /// log::error("could not publish the join command");
    /// ```
    pub fn error(ctx: NativeCallContext, message: Dynamic) {
        super::emit(
            Level::ERROR,
            &super::script_name(&ctx),
            &super::text(&message),
        );
    }
}
