//! The Rhai engine: one factory ([`ScriptHost`]) for `run`, `check`, `repl`,
//! the watch daemon and the tests; one registration module per namespace
//! under [`api`]; sandbox [`limits`]; [`error`] diagnostics with a caret.
//!
//! Start with [`ScriptHost::new`], then `compile_file` and `run`.

pub mod api;
pub mod arg_keys;
pub mod arg_types;
pub mod brackets;
pub mod catalog;
pub mod context;
pub mod definitions;
pub mod docs;
pub mod error;
pub mod host;
pub(crate) mod insertion_check;
pub mod limits;
pub mod lint;
pub mod redact;
pub mod render;
pub mod resolver;
pub mod session;
pub mod typenames;

pub(crate) use crate::cluster;

pub use error::{ErrorKind, ScriptError};
pub use host::{CompiledScript, RunControl, ScriptHost, ScriptOptions};
pub use limits::Limits;
pub use session::Session;

#[cfg(test)]
mod tests;
