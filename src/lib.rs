//! tokensmith: Kubernetes bootstrap tokens, managed.
//!
//! Start at [`cli`] for the commands, [`token`] for the pure token model,
//! [`cluster`] for everything that talks to the API server, [`script`] for
//! the Rhai engine, and [`devcluster`] for the embedded API server every test
//! runs against.

pub mod cli;
pub mod clock;
pub mod cluster;
pub mod devcluster;
pub mod entry;
pub mod failure;
pub mod input;
pub mod logging;
pub mod output;
pub mod publish;
pub mod repl;
pub mod rotation;
pub mod schedule;
pub mod script;
pub mod testing;
pub mod token;
pub mod watch;
