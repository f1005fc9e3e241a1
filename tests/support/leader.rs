//! Two `tokensmith watch --leader-elect` replicas on one cluster: the dev
//! cluster's test (tests/watch_leader.rs) and the real apiserver's
//! (tests/upstream_watch_leader.rs) run this same scenario.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use k8s_openapi::api::coordination::v1::Lease;
use kube::api::Api;

use super::upstream::{ClusterUnderTest, client_from};
use super::{block_on, wait_for};

pub struct Replica {
    pub child: Child,
    ran: PathBuf,
    log: PathBuf,
}

impl Replica {
    pub fn start(c: &impl ClusterUnderTest, name: &str) -> Replica {
        let work = c.dir().join(name);
        let scripts = work.join("scripts");
        std::fs::create_dir_all(&scripts).unwrap();
        let ran = work.join("ran");
        std::fs::write(
            scripts.join("tick.rhai"),
            format!("//! schedule: * * * * * *\nappend {} tick\n", ran.display()),
        )
        .unwrap();
        let log = work.join("daemon.log");
        let child = Command::new(env!("CARGO_BIN_EXE_tokensmith"))
            .args([
                "watch",
                scripts.to_str().unwrap(),
                "--test-executor",
                "--leader-elect",
            ])
            .args([
                "--lease-duration",
                "2s",
                "--lease-namespace",
                "kube-system",
                "--identity",
                name,
            ])
            .arg("--state-dir")
            .arg(work.join("state"))
            .env("KUBECONFIG", c.kubeconfig_path())
            .env("RUST_LOG", "info")
            .env_remove("RUST_BACKTRACE")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start tokensmith watch");
        Replica { child, ran, log }
    }

    pub fn runs(&self) -> usize {
        std::fs::read_to_string(&self.ran)
            .map(|s| s.lines().count())
            .unwrap_or(0)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Who holds the `kube-system/tokensmith-watch` Lease.
pub fn holder(c: &impl ClusterUnderTest) -> Option<String> {
    let kubeconfig = c.kubeconfig_path().to_path_buf();
    block_on(async move {
        let api: Api<Lease> = Api::namespaced(client_from(&kubeconfig).await, "kube-system");
        api.get_opt("tokensmith-watch")
            .await
            .unwrap()
            .and_then(|l| l.spec)
            .and_then(|s| s.holder_identity)
    })
}

pub fn logs(c: &impl ClusterUnderTest, rs: &[&Replica]) -> String {
    let mut all: Vec<String> = rs.iter().map(|r| r.log()).collect();
    all.push(c.context());
    all.join("\n----\n")
}

/// One replica runs the ticks, the other follows; when the leader is killed
/// the follower takes over; a leader that stops cleanly releases the Lease.
pub fn one_replica_runs_the_ticks_and_the_other_takes_over(c: &impl ClusterUnderTest) {
    let a = Replica::start(c, "alpha");
    wait_for("alpha to lead and run", || a.runs() >= 2, || logs(c, &[&a]));
    assert_eq!(holder(c).as_deref(), Some("alpha"));

    let b = Replica::start(c, "beta");
    wait_for(
        "beta to see the lease held",
        || b.log().contains("leader election on"),
        || logs(c, &[&a, &b]),
    );
    let a_before = a.runs();
    wait_for(
        "alpha to keep running",
        || a.runs() >= a_before + 3,
        || logs(c, &[&a, &b]),
    );
    assert_eq!(
        b.runs(),
        0,
        "the follower ran a tick:\n{}",
        logs(c, &[&a, &b])
    );

    // The leader dies without releasing: the follower takes over once the
    // Lease has gone unrenewed for its duration.
    let mut a = a;
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    let a_final = a.runs();
    wait_for("beta to take over", || b.runs() >= 2, || logs(c, &[&a, &b]));
    assert_eq!(holder(c).as_deref(), Some("beta"));
    assert_eq!(a.runs(), a_final);

    // A clean stop gives the Lease up at once.
    let mut b = b;
    let ok = Command::new("kill")
        .args(["-TERM", &b.child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let status = b.child.wait().unwrap();
    assert!(status.success(), "{}", b.log());
    assert_eq!(holder(c), None, "the lease was not released:\n{}", b.log());
}
