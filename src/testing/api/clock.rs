//! `clock::`: the test cluster's clock. Moving it moves everything that
//! judges expiry: the tokencleaner, the bootstrap authenticator and
//! bootstrapsigner, creation timestamps, `now()` and `t.expired`/`t.ttl`.

use rhai::plugin::*;

#[export_module]
pub mod clock_api {
    use rhai::{Dynamic, EvalAltResult};

    use crate::script::api::errors::host_error;
    use crate::script::context::RunContext;
    use crate::testing::api::{duration_arg, world};

    /// Moves the clock forward by `by` (a Duration or Go syntax such as
    /// `"25h"`), then lets the tokencleaner and bootstrapsigner catch up
    /// before it returns: expired tokens are gone and cluster-info no longer
    /// carries their signatures. Time only moves forward.
    ///
    /// ```rhai
    /// let t = token::create(#{ ttl: "1h" });
    /// clock::advance("2h");
    /// assert(t.expired);
    /// assert_eq(token::get(t.id), ());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn advance(ctx: NativeCallContext, by: Dynamic) -> Result<(), Box<EvalAltResult>> {
        let w = world(&ctx)?;
        let by = duration_arg(&ctx, "the step", &by)?;
        w.clock
            .advance(by)
            .map_err(|e| host_error("clock::advance", &e, ctx.call_position()))?;
        let dev = w.dev.clone();
        RunContext::of(&ctx)?.block_on("clock::advance", ctx.call_position(), async move {
            dev.reconcile_now().await;
            Ok::<(), String>(())
        })
    }

    /// How far the clock has been moved ahead of real time in this test.
    ///
    /// ```rhai
    /// clock::advance(duration("90m"));
    /// assert_eq(clock::offset(), duration("90m"));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn offset(ctx: NativeCallContext) -> Result<jiff::SignedDuration, Box<EvalAltResult>> {
        Ok(world(&ctx)?.clock.offset())
    }
}
