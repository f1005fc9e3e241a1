//! What a script may learn about where it runs: `env(name)` for variables
//! the operator allowed, `dry_run()`, and an interruptible `sleep`.

use std::time::{Duration, Instant};

use rhai::plugin::*;
use rhai::{Dynamic, EvalAltResult, FLOAT};

use crate::script::context::RunContext;

/// Sleeps in short slices so that a deadline or a cancel stops it promptly.
pub fn sleep_for(ctx: &NativeCallContext, seconds: FLOAT) -> Result<(), Box<EvalAltResult>> {
    let run = RunContext::of(ctx)?;
    if !seconds.is_finite() || seconds <= 0.0 {
        return Ok(());
    }
    let until = Instant::now() + Duration::from_secs_f64(seconds.min(1e9));
    loop {
        let now = Instant::now();
        if now >= until {
            return Ok(());
        }
        if let Some(stop) = run.stop_reason(now) {
            return Err(
                EvalAltResult::ErrorTerminated(Dynamic::from(stop), ctx.call_position()).into(),
            );
        }
        std::thread::sleep((until - now).min(Duration::from_millis(50)));
    }
}

#[export_module]
pub mod env_api {
    use rhai::{Dynamic, EvalAltResult, FLOAT, INT};

    use super::sleep_for;

    use crate::script::api::errors::host_error;
    use crate::script::context::RunContext;

    /// The value of environment variable `name`, or `()` when it is unset.
    /// Only names allowed with `--allow-env NAME` can be read; any other
    /// name throws a catchable error.
    ///
    /// ```rhai
    /// let region = env("REGION") ?? "default";
    /// ```
    #[rhai_fn(return_raw, volatile)]
    pub fn env(ctx: NativeCallContext, name: &str) -> Result<Dynamic, Box<EvalAltResult>> {
        let run = RunContext::of(&ctx)?;
        if !run.allow_env.contains(name) {
            return Err(host_error(
                "env",
                &format!(
                    "reading environment variable {name:?} is not allowed (allow it with --allow-env {name})"
                ),
                ctx.call_position(),
            ));
        }
        let value = std::env::var(name).ok();
        // A token in the environment is a secret the run has now seen.
        if let Some(v) = &value {
            crate::script::redact::learn_tokens(v);
        }
        Ok(value.map_or(Dynamic::UNIT, Dynamic::from))
    }

    /// True when the run is a dry run (`--dry-run`): token writes are
    /// printed instead of sent to the cluster.
    ///
    /// ```rhai
    /// if dry_run() { log::info("dry run: nothing will change") }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn dry_run(ctx: NativeCallContext) -> Result<bool, Box<EvalAltResult>> {
        Ok(RunContext::of(&ctx)?.dry_run)
    }

    /// Pauses the script for `seconds`. The run's time limit and
    /// cancellation still apply while it sleeps.
    ///
    /// ```rhai
    /// sleep(2);
    /// ```
    #[rhai_fn(name = "sleep", return_raw, volatile)]
    pub fn sleep_int(ctx: NativeCallContext, seconds: INT) -> Result<(), Box<EvalAltResult>> {
        sleep_for(&ctx, seconds as FLOAT)
    }

    /// Pauses the script for a fractional number of seconds.
    ///
    /// ```rhai
    /// sleep(0.5);
    /// ```
    #[rhai_fn(name = "sleep", return_raw, volatile)]
    pub fn sleep_float(ctx: NativeCallContext, seconds: FLOAT) -> Result<(), Box<EvalAltResult>> {
        sleep_for(&ctx, seconds)
    }
}
