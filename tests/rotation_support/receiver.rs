//! The loopback webhook receiver the rotation tests publish to: the same one
//! `tokensmith test` gives scripts as `webhook::receiver()`.

// Not every test binary that includes rotation_support publishes to a webhook.
#[allow(unused_imports)]
pub use tokensmith::testing::receiver::{Mode, Receiver};
