//! Assertions: `assert`, `assert_eq`, `assert_ne`, `assert_throws`. A failed
//! one throws an `AssertionFailure` carrying both values, which the report
//! prints under the failing line (secrets hidden).

use std::fmt;

use rhai::plugin::*;
use rhai::{Dynamic, EvalAltResult, FnPtr, NativeCallContext};

/// A failed assertion: what was asserted, and the two sides when there are two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionFailure {
    pub message: String,
    pub left: Option<String>,
    pub right: Option<String>,
}

impl fmt::Display for AssertionFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let (Some(l), Some(r)) = (&self.left, &self.right) {
            write!(f, " (left: {l}, right: {r})")?;
        }
        Ok(())
    }
}

fn fail(ctx: &NativeCallContext, failure: AssertionFailure) -> Box<EvalAltResult> {
    EvalAltResult::ErrorRuntime(Dynamic::from(failure), ctx.call_position()).into()
}

/// `a == b` as the script's own `==` decides it; values of types with no
/// `==` between them are unequal.
fn equal(ctx: &NativeCallContext, a: &Dynamic, b: &Dynamic) -> bool {
    let (mut a, mut b) = (a.clone(), b.clone());
    ctx.call_native_fn_raw("==", false, &mut [&mut a, &mut b])
        .ok()
        .and_then(|r| r.as_bool().ok())
        .unwrap_or(false)
}

fn compare(
    ctx: &NativeCallContext,
    a: &Dynamic,
    b: &Dynamic,
    want_equal: bool,
    message: Option<String>,
) -> Result<(), Box<EvalAltResult>> {
    if equal(ctx, a, b) == want_equal {
        return Ok(());
    }
    let op = if want_equal { "==" } else { "!=" };
    let what = format!("assertion `left {op} right` failed");
    Err(fail(
        ctx,
        AssertionFailure {
            message: match message {
                Some(m) => format!("{what}: {m}"),
                None => what,
            },
            left: Some(crate::script::render::inline(a)),
            right: Some(crate::script::render::inline(b)),
        },
    ))
}

fn truth(
    ctx: &NativeCallContext,
    cond: &Dynamic,
    message: Option<String>,
) -> Result<(), Box<EvalAltResult>> {
    let Ok(ok) = cond.as_bool() else {
        return Err(crate::script::api::errors::host_error(
            "assert",
            &format!(
                "the condition must be a bool, got {} ({})",
                cond.type_name(),
                crate::script::render::inline(cond)
            ),
            ctx.call_position(),
        ));
    };
    if ok {
        return Ok(());
    }
    Err(fail(
        ctx,
        AssertionFailure {
            message: match message {
                Some(m) => format!("assertion failed: {m}"),
                None => "assertion failed".to_owned(),
            },
            left: None,
            right: None,
        },
    ))
}

/// What a `catch` would have received for `err`.
fn caught(err: &EvalAltResult) -> Dynamic {
    match err {
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _)
        | EvalAltResult::ErrorInModule(_, inner, _) => caught(inner),
        EvalAltResult::ErrorRuntime(v, _) => v.clone(),
        other => {
            let mut map = rhai::Map::new();
            let text = other.to_string();
            let suffix = format!(" ({})", other.position());
            let text = text
                .strip_suffix(&suffix)
                .map_or(text.clone(), str::to_owned);
            let text = crate::script::typenames::script_type_names(&text);
            map.insert("message".into(), text.into());
            Dynamic::from_map(map)
        }
    }
}

fn message_of(ctx: &NativeCallContext, v: &Dynamic) -> String {
    if let Some(m) = v.read_lock::<rhai::Map>()
        && let Some(msg) = m.get("message")
    {
        return msg.to_string();
    }
    ctx.call_native_fn::<String>("to_string", (v.clone(),))
        .unwrap_or_else(|_| crate::script::render::inline(v))
}

fn throws(
    ctx: &NativeCallContext,
    f: &FnPtr,
    expected: Option<&str>,
) -> Result<Dynamic, Box<EvalAltResult>> {
    match f.call_within_context::<Dynamic>(ctx, ()) {
        Ok(v) => Err(fail(
            ctx,
            AssertionFailure {
                message: format!(
                    "assertion failed: expected the function to throw, it returned {}",
                    crate::script::render::inline(&v)
                ),
                left: None,
                right: None,
            },
        )),
        // A limit or a timeout is not the function's throw: it stops the test.
        Err(e) if !e.is_catchable() => Err(e),
        Err(e) => {
            let value = caught(&e);
            if let Some(want) = expected {
                let got = message_of(ctx, &value);
                if !got.contains(want) {
                    return Err(fail(
                        ctx,
                        AssertionFailure {
                            message:
                                "assertion failed: the error does not contain the expected text"
                                    .to_owned(),
                            left: Some(format!("{got:?}")),
                            right: Some(format!("{want:?}")),
                        },
                    ));
                }
            }
            Ok(value)
        }
    }
}

#[export_module]
pub mod assert_api {
    use rhai::{Dynamic, EvalAltResult, FnPtr};

    /// A failed assertion, as `catch` receives it.
    pub type AssertionFailure = super::AssertionFailure;

    /// Fails the test unless `condition` is `true`.
    ///
    /// ```rhai
    /// assert(token::list().len() == 1);
    /// ```
    #[rhai_fn(name = "assert", return_raw)]
    pub fn assert(ctx: NativeCallContext, condition: Dynamic) -> Result<(), Box<EvalAltResult>> {
        super::truth(&ctx, &condition, None)
    }

    /// Fails the test with `message` unless `condition` is `true`.
    ///
    /// ```rhai
    /// let t = token::create(#{ ttl: "1h" });
    /// assert(!t.expired, "a fresh token has not expired");
    /// ```
    #[rhai_fn(name = "assert", return_raw)]
    pub fn assert_msg(
        ctx: NativeCallContext,
        condition: Dynamic,
        message: Dynamic,
    ) -> Result<(), Box<EvalAltResult>> {
        super::truth(&ctx, &condition, Some(message.to_string()))
    }

    /// Fails the test unless `left == right`; the report shows both values.
    ///
    /// ```rhai
    /// assert_eq(token::list().len(), 0);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn assert_eq(
        ctx: NativeCallContext,
        left: Dynamic,
        right: Dynamic,
    ) -> Result<(), Box<EvalAltResult>> {
        super::compare(&ctx, &left, &right, true, None)
    }

    /// [`assert_eq`] with a message saying what was expected.
    ///
    /// ```rhai
    /// assert_eq(token::list().len(), 0, "the cleaner removed the expired token");
    /// ```
    #[rhai_fn(name = "assert_eq", return_raw)]
    pub fn assert_eq_msg(
        ctx: NativeCallContext,
        left: Dynamic,
        right: Dynamic,
        message: Dynamic,
    ) -> Result<(), Box<EvalAltResult>> {
        super::compare(&ctx, &left, &right, true, Some(message.to_string()))
    }

    /// Fails the test if `left == right`; the report shows both values.
    ///
    /// ```rhai
    /// assert_ne(token::generate(), token::generate());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn assert_ne(
        ctx: NativeCallContext,
        left: Dynamic,
        right: Dynamic,
    ) -> Result<(), Box<EvalAltResult>> {
        super::compare(&ctx, &left, &right, false, None)
    }

    /// [`assert_ne`] with a message.
    ///
    /// ```rhai
    /// assert_ne(token::generate().id, "abcdef", "ids are random");
    /// ```
    #[rhai_fn(name = "assert_ne", return_raw)]
    pub fn assert_ne_msg(
        ctx: NativeCallContext,
        left: Dynamic,
        right: Dynamic,
        message: Dynamic,
    ) -> Result<(), Box<EvalAltResult>> {
        super::compare(&ctx, &left, &right, false, Some(message.to_string()))
    }

    /// Calls `f` and fails the test unless it throws. Returns what a `catch`
    /// would receive (a `HostError`, the thrown value, or a map with a
    /// `message` for Rhai's own errors), to look at further.
    ///
    /// ```rhai
    /// let e = assert_throws(|| token::delete("not a token"));
    /// assert(e.message.contains("token::delete"));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn assert_throws(ctx: NativeCallContext, f: FnPtr) -> Result<Dynamic, Box<EvalAltResult>> {
        super::throws(&ctx, &f, None)
    }

    /// [`assert_throws`], also failing unless the error's message contains `expected`.
    ///
    /// ```rhai
    /// assert_throws(|| duration("1d"), "unknown unit");
    /// ```
    #[rhai_fn(name = "assert_throws", return_raw)]
    pub fn assert_throws_with(
        ctx: NativeCallContext,
        f: FnPtr,
        expected: &str,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        super::throws(&ctx, &f, Some(expected))
    }

    /// What the assertion said, as `catch (e)` sees it.
    ///
    /// ```rhai
    /// try { assert_eq(1, 2) } catch (e) { print(e.message) }
    /// ```
    #[rhai_fn(global, get = "message", pure)]
    pub fn message(f: &mut AssertionFailure) -> String {
        f.to_string()
    }

    /// The failure as text.
    ///
    /// ```rhai
    /// try { assert(false, "nope") } catch (e) { print(`${e}`) }
    /// ```
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn to_string(f: &mut AssertionFailure) -> String {
        f.to_string()
    }
}
