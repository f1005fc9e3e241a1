//! `tokensmith test`: hermetic tests for scripts. Each `fn test_*()` of a
//! `*_test.rhai` file runs against a fresh in-process dev cluster with the
//! real bootstrap controllers, whose clock the test can move and whose API it
//! can make fail.
//!
//! Start at [`run`]: [`discover`] finds the files and their tests, [`case`]
//! runs one test in its [`World`], [`report`] prints the results (cargo-test
//! style, TAP, JUnit XML). The test-only script functions live in [`api`].

pub mod api;
pub mod case;
pub mod discover;
pub mod receiver;
pub mod report;
pub mod runner;
pub mod world;

pub use runner::{RunOptions, run};
pub use world::World;
