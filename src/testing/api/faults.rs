//! `faults::`: the test cluster's fault injection (the dev cluster's own,
//! `src/devcluster/faults.rs`), set from the script.

use rhai::plugin::*;

#[export_module]
pub mod faults_api {
    use rhai::{EvalAltResult, Map};

    use crate::devcluster::FaultConfig;
    use crate::script::api::errors::host_error;
    use crate::testing::api::{duration_arg, world};

    /// Makes the test cluster's API fail: `error_rate` (answered 500),
    /// `throttle_rate` (429 with Retry-After `retry_after`, default `"1s"`)
    /// and `drop_rate` (connection closed) are fractions of requests from 0
    /// to 1 that add up to at most 1; `latency` (e.g. `"50ms"`) delays every
    /// request. Keys left out are 0. Replaces the previous setting.
    ///
    /// ```rhai
    /// faults::set(#{ error_rate: 0.2, latency: "5ms" });
    /// let t = token::create(#{ ttl: "1h" });   // retried until it gets through
    /// faults::clear();
    /// ```
    #[rhai_fn(return_raw)]
    pub fn set(ctx: NativeCallContext, options: Map) -> Result<(), Box<EvalAltResult>> {
        let w = world(&ctx)?;
        let bad = |msg: String| host_error("faults::set", &msg, ctx.call_position());
        let mut cfg = FaultConfig::none();
        for (key, value) in &options {
            let rate = || {
                value
                    .as_float()
                    .or_else(|_| value.as_int().map(|i| i as f64))
                    .map_err(|_| {
                        bad(format!(
                            "{key} must be a number from 0 to 1, got {}",
                            value.type_name()
                        ))
                    })
            };
            match key.as_str() {
                "error_rate" => cfg.error_rate = rate()?,
                "throttle_rate" => cfg.throttle_rate = rate()?,
                "drop_rate" => cfg.drop_rate = rate()?,
                "latency" => {
                    let d = duration_arg(&ctx, "latency", value)?;
                    cfg.latency_ms = u64::try_from(d.as_millis())
                        .map_err(|_| bad("latency must not be negative".to_owned()))?;
                }
                "retry_after" => {
                    let d = duration_arg(&ctx, "retry_after", value)?;
                    cfg.retry_after_seconds = u64::try_from(d.as_secs())
                        .map_err(|_| bad("retry_after must not be negative".to_owned()))?;
                }
                other => {
                    return Err(bad(format!(
                        "unknown option {other:?} (accepted: error_rate, throttle_rate, drop_rate, latency, retry_after)"
                    )));
                }
            }
        }
        // The dev cluster's own names (errorRate …) would confuse here.
        cfg.validate().map_err(|e| {
            bad(e
                .replace("errorRate", "error_rate")
                .replace("throttleRate", "throttle_rate")
                .replace("dropRate", "drop_rate"))
        })?;
        w.dev.set_faults(cfg).map_err(|e| bad(format!("{e:#}")))
    }

    /// Turns fault injection off again.
    ///
    /// ```rhai
    /// faults::clear();
    /// ```
    #[rhai_fn(return_raw)]
    pub fn clear(ctx: NativeCallContext) -> Result<(), Box<EvalAltResult>> {
        let w = world(&ctx)?;
        w.dev
            .set_faults(FaultConfig::none())
            .map_err(|e| host_error("faults::clear", &format!("{e:#}"), ctx.call_position()))
    }
}
