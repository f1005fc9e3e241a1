//! `HostError`: what a failing host function throws. A script tells it apart
//! from its own `throw` with `type_of(e) == "HostError"`; both it and Rhai's
//! own error maps have a `message`.

use std::fmt;

use rhai::plugin::*;
use rhai::{Dynamic, EvalAltResult, Position};

/// A failure inside a host function: which function, and what went wrong.
/// The message never holds a token secret: every caller builds it from
/// redacted tokens and from cluster errors, which redact too.
#[derive(Debug, Clone)]
pub struct HostError {
    pub function: String,
    pub message: String,
    /// What the call did before it failed (`token::rotate`'s report), or `()`.
    pub report: Dynamic,
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.function, self.message)
    }
}

/// The error a host function returns: a catchable `HostError` at `pos`.
pub fn host_error(function: &str, message: &str, pos: Position) -> Box<EvalAltResult> {
    EvalAltResult::ErrorRuntime(
        Dynamic::from(HostError {
            function: function.to_owned(),
            message: crate::script::typenames::script_type_names(message),
            report: Dynamic::UNIT,
        }),
        pos,
    )
    .into()
}

/// A `HostError` that carries what the call did before failing.
pub fn host_error_with_report(
    function: &str,
    message: &str,
    report: rhai::Map,
    pos: Position,
) -> Box<EvalAltResult> {
    EvalAltResult::ErrorRuntime(
        Dynamic::from(HostError {
            function: function.to_owned(),
            message: crate::script::typenames::script_type_names(message),
            report: report.into(),
        }),
        pos,
    )
    .into()
}

/// Getters of the error value a `catch` receives from a host function.
#[export_module]
pub mod host_error_api {
    /// The error a host function throws. `e.message` is the whole message,
    /// `e.function` the function that failed.
    pub type HostError = super::HostError;

    /// What went wrong, prefixed with the function that failed.
    ///
    /// ```rhai
    /// try { token::delete("bad id!") } catch (e) { log::warn(e.message) }
    /// ```
    #[rhai_fn(global, get = "message", pure)]
    pub fn message(e: &mut HostError) -> String {
        e.to_string()
    }

    /// The function that failed, such as `token::create`.
    ///
    /// ```rhai
    /// try { token::get("nope!!") } catch (e) { if type_of(e) == "HostError" { print(e.function) } }
    /// ```
    #[rhai_fn(global, get = "function", pure)]
    pub fn function(e: &mut HostError) -> String {
        e.function.clone()
    }

    /// What the failing call did before it failed (the report of a failed
    /// `token::rotate`), or `()`.
    ///
    /// ```rhai
    /// try { token::rotate(#{}) } catch (e) { if e.report != () { print(e.report.errors) } }
    /// ```
    #[rhai_fn(global, get = "report", pure)]
    pub fn report(e: &mut HostError) -> Dynamic {
        e.report.clone()
    }

    /// The message, as `print(e)` and string interpolation show it.
    ///
    /// ```rhai
    /// try { env("HOME") } catch (e) { print(`failed: ${e}`) }
    /// ```
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn to_string(e: &mut HostError) -> String {
        e.to_string()
    }
}
