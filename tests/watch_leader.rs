//! Leader election: two `tokensmith watch --leader-elect` replicas against
//! one dev cluster run each tick once between them; when the leader is
//! killed, the other takes over; a leader that stops cleanly releases the
//! Lease. Waits poll for an observable effect with a generous bound.

mod support;

use std::path::Path;
use std::process::Command;

use support::TestCluster;

#[test]
fn one_replica_runs_the_ticks_and_the_other_takes_over() {
    let c = TestCluster::start();
    support::leader::one_replica_runs_the_ticks_and_the_other_takes_over(&c);
}

#[test]
fn leader_election_without_a_cluster_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tokensmith"))
        .args([
            "watch",
            dir.path().to_str().unwrap(),
            "--leader-elect",
            "--kubeconfig",
        ])
        .arg(Path::new("/nonexistent/kubeconfig"))
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--leader-elect needs the cluster: failed to load admin kubeconfig: open /nonexistent/kubeconfig"),
        "{err}"
    );
}
