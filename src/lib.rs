//! tokensmith: Kubernetes bootstrap tokens, managed.
//!
//! Start at [`cli`] for the commands, [`token`] for the pure token model,
//! [`cluster`] for everything that talks to the API server, and
//! [`devcluster`] for the embedded API server every test runs against.

pub mod token;
