//! The upstream tier, join audit: a real bootstrap token makes a real CSR on
//! a real kube-apiserver (through `dev-cluster join`, whose discovery checks
//! the real cluster-info signed by the real bootstrapsigner), the real
//! csrapprover approves it, `watch` sees it through a real watch (an
//! `on: csr` handler), and `token audit` reads it back.
//!
//! Run with `bash tests/upstream/run.sh` (ignored by the hermetic `cargo test`).

mod support;

use serde_json::Value;
use support::daemon::{Daemon, watch_command, write_script};
use support::join::{create_join_line, join, text, token_id_in};
use support::upstream::UpstreamCluster;

#[test]
#[ignore = "upstream tier: bash tests/upstream/run.sh"]
fn token_audit_reads_a_real_csr_made_with_a_real_bootstrap_token() {
    let c = UpstreamCluster::start();
    let cmd = create_join_line(c.tokensmith());
    let id = token_id_in(&cmd);
    let unused = c
        .tokensmith()
        .args(["token", "create", "--ttl", "1h"])
        .output()
        .expect("token create");
    let unused = text(&unused.stdout).trim()[..6].to_string();

    // `watch` sees the real CSR through a real watch (an `on: csr` handler).
    let scripts = c.dir().join("scripts");
    std::fs::create_dir_all(&scripts).expect("mkdir");
    write_script(
        &scripts,
        "seen.rhai",
        "//! on: csr\nfn on_csr(csr) { log::info(`csr event: node ${csr.node} token ${csr.token_id}`); }\n",
    );
    let d = Daemon::spawn(
        watch_command(&scripts, c.dir(), c.kubeconfig_path()),
        c.dir().join("daemon.log"),
    );
    d.wait_log("watched=Csrs");

    // The bootstrapsigner signs cluster-info asynchronously; the rehearsal's
    // discovery waits for it within its timeout, as kubeadm join does.
    let joined = join(c.tokensmith(), &cmd, "upstream-node", "60s");
    assert!(
        joined.status.success(),
        "{}\n{}",
        text(&joined.stderr),
        c.logs()
    );

    d.wait_log(&format!("csr event: node upstream-node token {id}"));

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
