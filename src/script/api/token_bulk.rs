//! `token::create_many`: many creates from one call, with a bounded number
//! of requests in flight inside the host, so a script that needs a thousand
//! tokens is not paced by one round trip per token.

use futures::StreamExt;
use rhai::plugin::*;
use rhai::{Array, Dynamic, EvalAltResult, Map, Position};

use super::errors::host_error;
use super::token::ScriptToken;
use super::token_options::token_from_options;
use crate::script::context::RunContext;
use crate::token::{BootstrapToken, BootstrapTokenString};

const F: &str = "token::create_many";
/// Requests in flight unless the script says otherwise.
pub const DEFAULT_PARALLEL: usize = 16;
/// Beyond this more connections only queue on the server.
pub const MAX_PARALLEL: usize = 64;
/// One call's ceiling: a typo such as `1000000` should not flood a cluster.
pub const MAX_COUNT: i64 = 100_000;

fn parallel_of(options: &mut Map, pos: Position) -> Result<usize, Box<EvalAltResult>> {
    let Some(v) = options.remove("parallel") else {
        return Ok(DEFAULT_PARALLEL);
    };
    if v.is_unit() {
        return Ok(DEFAULT_PARALLEL);
    }
    match v.as_int() {
        Ok(n) if (1..=MAX_PARALLEL as i64).contains(&n) => Ok(n as usize),
        Ok(n) => Err(host_error(
            F,
            &format!("parallel must be between 1 and {MAX_PARALLEL}, got {n}"),
            pos,
        )),
        Err(t) => Err(host_error(
            F,
            &format!("parallel must be an integer, got {t}"),
            pos,
        )),
    }
}

fn count_of(n: i64, pos: Position) -> Result<usize, Box<EvalAltResult>> {
    if !(1..=MAX_COUNT).contains(&n) {
        return Err(host_error(
            F,
            &format!("the number of tokens must be between 1 and {MAX_COUNT}, got {n}"),
            pos,
        ));
    }
    Ok(n as usize)
}

/// Creates every token, at most `parallel` at a time, in order. If any
/// create fails, the ones that succeeded are deleted again and the first
/// failure is thrown: the call creates all or none.
fn create_all(
    ctx: &NativeCallContext,
    tokens: Vec<BootstrapToken>,
    parallel: usize,
) -> Result<Array, Box<EvalAltResult>> {
    let pos = ctx.call_position();
    let run = RunContext::of(ctx)?;
    let store = run.cluster(F, pos)?.tokens();
    let total = tokens.len();
    let stored = run.block_on(F, pos, async move {
        let results: Vec<_> = futures::stream::iter(tokens)
            .map(|t| {
                let store = store.clone();
                // Every token here has a generated ID.
                async move { store.create_generated(&t, &Default::default()).await }
            })
            .buffered(parallel)
            .collect()
            .await;
        let failed = results.iter().filter(|r| r.is_err()).count();
        let Some(first) = results.iter().find_map(|r| r.as_ref().err()) else {
            return Ok(results.into_iter().flatten().collect::<Vec<_>>());
        };
        let first = first.to_string();
        let created: Vec<_> = results.into_iter().flatten().collect();
        let mut undone = 0;
        for s in &created {
            if store.delete(s.token.token.id()).await.is_ok() {
                undone += 1;
            }
        }
        Err(format!(
            "{failed} of {total} creates failed (first: {first}); deleted {undone} of the {} created",
            created.len()
        ))
    })?;
    Ok(stored
        .into_iter()
        .map(|s| Dynamic::from(ScriptToken::from(s)))
        .collect())
}

fn same_options(
    n: i64,
    mut options: Map,
    pos: Position,
    now: jiff::Timestamp,
) -> Result<(Vec<BootstrapToken>, usize), Box<EvalAltResult>> {
    let n = count_of(n, pos)?;
    let parallel = parallel_of(&mut options, pos)?;
    let tokens = (0..n)
        .map(|_| token_from_options(BootstrapTokenString::generate(), &options, pos, F, now))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((tokens, parallel))
}

#[export_module]
pub mod token_bulk_api {
    use rhai::{Array, EvalAltResult, Map};

    use super::{F, create_all, same_options};
    use crate::script::api::errors::host_error;
    use crate::script::api::token_options::token_from_options;
    use crate::token::BootstrapTokenString;

    /// Creates `n` random tokens with kubeadm's defaults and returns them in
    /// an array. Up to 16 creates are in flight at once. All or none: if one
    /// create fails, the others are deleted again and the call throws. A random
    /// ID that is already taken is not a failure: that token gets a fresh ID
    /// (up to 8 tries) and the existing one is left alone.
    ///
    /// ```rhai
    /// let ts = token::create_many(100);
    /// print(ts.len());   // 100
    /// ```
    #[rhai_fn(name = "create_many", return_raw, volatile)]
    pub fn create_many(ctx: NativeCallContext, n: i64) -> Result<Array, Box<EvalAltResult>> {
        let (tokens, parallel) =
            same_options(n, Map::new(), ctx.call_position(), RunContext::now_of(&ctx))?;
        create_all(&ctx, tokens, parallel)
    }

    /// Creates `n` random tokens, each with the options of
    /// `token::create(#{…})`, plus `parallel` (1–64, default 16): how many
    /// creates are in flight at once. All or none, as `token::create_many(n)`.
    ///
    /// ```rhai
    /// let ts = token::create_many(500, #{ ttl: "2h", description: "rack 12", parallel: 32 });
    /// ```
    #[rhai_fn(name = "create_many", return_raw, volatile)]
    pub fn create_many_with_options(
        ctx: NativeCallContext,
        n: i64,
        options: Map,
    ) -> Result<Array, Box<EvalAltResult>> {
        let (tokens, parallel) =
            same_options(n, options, ctx.call_position(), RunContext::now_of(&ctx))?;
        create_all(&ctx, tokens, parallel)
    }

    /// Creates one random token per element of `specs`, an array of option
    /// maps as `token::create(#{…})` takes, returned in the same order. Up to
    /// 16 creates are in flight at once; all or none.
    ///
    /// ```rhai
    /// let ts = token::create_many([#{ description: "web" }, #{ description: "db", ttl: "1h" }]);
    /// ```
    #[rhai_fn(name = "create_many", return_raw, volatile)]
    pub fn create_many_from_specs(
        ctx: NativeCallContext,
        specs: Array,
    ) -> Result<Array, Box<EvalAltResult>> {
        let pos = ctx.call_position();
        if specs.is_empty() || specs.len() as i64 > super::MAX_COUNT {
            return Err(host_error(
                F,
                &format!(
                    "expected between 1 and {} option maps, got {}",
                    super::MAX_COUNT,
                    specs.len()
                ),
                pos,
            ));
        }
        let mut tokens = Vec::with_capacity(specs.len());
        for (i, spec) in specs.into_iter().enumerate() {
            let Some(options) = spec.try_cast::<Map>() else {
                return Err(host_error(
                    F,
                    &format!("element {i} is not an option map #{{…}}"),
                    pos,
                ));
            };
            if options.contains_key("parallel") {
                return Err(host_error(
                    F,
                    "parallel applies to the whole call: use token::create_many(n, #{parallel: …})",
                    pos,
                ));
            }
            tokens.push(token_from_options(
                BootstrapTokenString::generate(),
                &options,
                pos,
                F,
                RunContext::now_of(&ctx),
            )?);
        }
        create_all(&ctx, tokens, super::DEFAULT_PARALLEL)
    }
}
