//! The upstream tier, leader election: two `tokensmith watch --leader-elect`
//! replicas contend for a real coordination.k8s.io Lease on kube-apiserver,
//! in the same scenario the dev-cluster test runs (support::leader).
//!
//! Run with `bash tests/upstream/run.sh` (ignored by the hermetic `cargo test`).

mod support;

use support::upstream::UpstreamCluster;

#[test]
#[ignore = "upstream tier: bash tests/upstream/run.sh"]
fn one_replica_runs_the_ticks_and_the_other_takes_over_on_a_real_lease() {
    let c = UpstreamCluster::start();
    support::leader::one_replica_runs_the_ticks_and_the_other_takes_over(&c);
}
