//! The loopback webhook receiver the rotation tests publish to: the same one
//! `tokensmith test` gives scripts as `webhook::receiver()`.

pub use tokensmith::testing::receiver::{Mode, Receiver};
