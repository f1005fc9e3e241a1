//! The upstream tier, join audit: a real bootstrap token makes a real CSR on
//! a real kube-apiserver (through `dev-cluster join`, whose discovery checks
//! the real cluster-info signed by the real bootstrapsigner), the real
//! csrapprover approves it, and `token audit` reads it back.
//!
//! Run with `bash tests/upstream/run.sh` (ignored by the hermetic `cargo test`).

mod support;

use serde_json::Value;
use support::upstream::UpstreamCluster;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
#[ignore = "upstream tier: bash tests/upstream/run.sh"]
fn token_audit_reads_a_real_csr_made_with_a_real_bootstrap_token() {
    let c = UpstreamCluster::start();
    let created = c
        .tokensmith()
        .args(["token", "create", "--ttl", "1h", "--print-join-command"])
        .output()
        .expect("token create");
    assert!(created.status.success(), "{}", text(&created.stderr));
    let cmd = text(&created.stdout).trim().to_string();
    let id = cmd
        .split_whitespace()
        .skip_while(|w| *w != "--token")
        .nth(1)
        .map(|t| t[..6].to_string())
        .expect("token in the command");
    let unused = c
        .tokensmith()
        .args(["token", "create", "--ttl", "1h"])
        .output()
        .expect("token create");
    let unused = text(&unused.stdout).trim()[..6].to_string();

    // The bootstrapsigner signs cluster-info asynchronously; the rehearsal's
    // discovery waits for it within its timeout, as kubeadm join does.
    let joined = c
        .tokensmith()
        .args([
            "dev-cluster",
            "join",
            &cmd,
            "--node-name",
            "upstream-node",
            "--timeout",
            "60s",
        ])
        .output()
        .expect("dev-cluster join");
    assert!(
        joined.status.success(),
        "{}\n{}",
        text(&joined.stderr),
        c.logs()
    );

    let audit = c
        .tokensmith()
        .args(["token", "audit", "-o", "json"])
        .output()
        .expect("token audit");
    assert!(audit.status.success(), "{}", text(&audit.stderr));
    let a: Value = serde_json::from_slice(&audit.stdout).expect("audit JSON");
    let t = a["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .find(|t| t["id"] == id.as_str())
        .unwrap_or_else(|| panic!("{id} not in {a:#}"));
    let csrs = t["csrs"].as_array().expect("csrs");
    assert_eq!(csrs.len(), 1, "{a:#}");
    assert_eq!(csrs[0]["node"], "upstream-node");
    assert_eq!(
        csrs[0]["state"], "Approved",
        "the real csrapprover approved it: {a:#}"
    );
    assert_eq!(t["nodes"], serde_json::json!(["upstream-node"]));
    assert!(
        a["neverUsed"]
            .as_array()
            .is_some_and(|n| n.iter().any(|x| x == unused.as_str())),
        "{a:#}"
    );
}
