//! The test-only script API, registered only by `tokensmith test`
//! ([`crate::script::ScriptHost::for_tests`]): assertions and `run_job` as
//! global functions, and the `clock::`, `faults::`, `webhook::` and
//! `schedule::` namespaces. One file per namespace, as in `script::api`.

use std::sync::Arc;

use rhai::{EvalAltResult, Module, NativeCallContext, Shared, exported_module};

use crate::script::api::errors::host_error;
use crate::script::context::RunContext;

use super::World;

pub mod assert;
pub mod clock;
pub mod faults;
pub mod job;
pub mod schedule;
pub mod webhook;

/// The namespaces only tests can call, in the order the reference lists them.
pub const TEST_NAMESPACES: [&str; 4] = ["clock", "faults", "webhook", "schedule"];

pub fn global_modules() -> Vec<Module> {
    vec![
        exported_module!(assert::assert_api),
        exported_module!(job::job_api),
    ]
}

pub fn namespaced_modules() -> Vec<(&'static str, Shared<Module>)> {
    vec![
        ("clock", exported_module!(clock::clock_api).into()),
        ("faults", exported_module!(faults::faults_api).into()),
        ("webhook", exported_module!(webhook::webhook_api).into()),
        ("schedule", exported_module!(schedule::schedule_api).into()),
    ]
}

/// The names `type_of()` and messages show for the test-only types.
pub fn register_types(engine: &mut rhai::Engine) {
    engine
        .register_type_with_name::<assert::AssertionFailure>("AssertionFailure")
        .register_type_with_name::<webhook::WebhookReceiver>("WebhookReceiver");
}

/// The world of the test `ctx` runs in, or a clear error outside `tokensmith test`.
pub(crate) fn world(ctx: &NativeCallContext) -> Result<Arc<World>, Box<EvalAltResult>> {
    let run = RunContext::of(ctx)?;
    run.test.clone().ok_or_else(|| {
        host_error(
            ctx.fn_name(),
            "only tests run by `tokensmith test` can call this",
            ctx.call_position(),
        )
    })
}

/// A duration given as a `Duration` or as Go syntax text (`"90m"`).
pub(crate) fn duration_arg(
    ctx: &NativeCallContext,
    what: &str,
    value: &rhai::Dynamic,
) -> Result<jiff::SignedDuration, Box<EvalAltResult>> {
    if let Some(d) = value.read_lock::<jiff::SignedDuration>() {
        return Ok(*d);
    }
    if let Some(s) = value.read_lock::<rhai::ImmutableString>() {
        return crate::token::parse_go_duration(s.as_str())
            .map_err(|e| host_error(ctx.fn_name(), &format!("{what}: {e}"), ctx.call_position()));
    }
    Err(host_error(
        ctx.fn_name(),
        &format!(
            "{what} must be a Duration or a string such as \"90s\", got {}",
            value.type_name()
        ),
        ctx.call_position(),
    ))
}

/// A time given as a `Timestamp` or as RFC 3339 text.
pub(crate) fn timestamp_arg(
    ctx: &NativeCallContext,
    what: &str,
    value: &rhai::Dynamic,
) -> Result<jiff::Timestamp, Box<EvalAltResult>> {
    if let Some(t) = value.read_lock::<jiff::Timestamp>() {
        return Ok(*t);
    }
    if let Some(s) = value.read_lock::<rhai::ImmutableString>() {
        return crate::token::Expiry::parse(s.as_str())
            .map(|e| e.timestamp())
            .map_err(|e| host_error(ctx.fn_name(), &format!("{what}: {e}"), ctx.call_position()));
    }
    Err(host_error(
        ctx.fn_name(),
        &format!(
            "{what} must be a Timestamp or an RFC 3339 string such as \"2024-03-31T00:00:00Z\", got {}",
            value.type_name()
        ),
        ctx.call_position(),
    ))
}
