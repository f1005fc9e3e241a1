//! Leader election: two `tokensmith watch --leader-elect` replicas against
//! one dev cluster run each tick once between them; when the leader is
//! killed, the other takes over; a leader that stops cleanly releases the
//! Lease. Waits poll for an observable effect with a generous bound.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use k8s_openapi::api::coordination::v1::Lease;
use kube::api::Api;
use support::{TestCluster, wait_for};

struct Replica {
    child: Child,
    ran: PathBuf,
    log: PathBuf,
}

impl Replica {
    fn start(c: &TestCluster, name: &str) -> Replica {
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

    fn runs(&self) -> usize {
        std::fs::read_to_string(&self.ran)
            .map(|s| s.lines().count())
            .unwrap_or(0)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn holder(c: &TestCluster) -> Option<String> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let api: Api<Lease> = Api::namespaced(c.client().await, "kube-system");
        api.get_opt("tokensmith-watch")
            .await
            .unwrap()
            .and_then(|l| l.spec)
            .and_then(|s| s.holder_identity)
    })
}

fn logs(rs: &[&Replica]) -> String {
    rs.iter()
        .map(|r| r.log())
        .collect::<Vec<_>>()
        .join("\n----\n")
}

#[test]
fn one_replica_runs_the_ticks_and_the_other_takes_over() {
    let c = TestCluster::start();
    let a = Replica::start(&c, "alpha");
    wait_for("alpha to lead and run", || a.runs() >= 2, || logs(&[&a]));
    assert_eq!(holder(&c).as_deref(), Some("alpha"));

    let b = Replica::start(&c, "beta");
    wait_for(
        "beta to see the lease held",
        || b.log().contains("leader election on"),
        || logs(&[&a, &b]),
    );
    let a_before = a.runs();
    wait_for(
        "alpha to keep running",
        || a.runs() >= a_before + 3,
        || logs(&[&a, &b]),
    );
    assert_eq!(b.runs(), 0, "the follower ran a tick:\n{}", logs(&[&a, &b]));

    // The leader dies without releasing: the follower takes over once the
    // Lease has gone unrenewed for its duration.
    let mut a = a;
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    let a_final = a.runs();
    wait_for("beta to take over", || b.runs() >= 2, || logs(&[&a, &b]));
    assert_eq!(holder(&c).as_deref(), Some("beta"));
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
    assert_eq!(holder(&c), None, "the lease was not released:\n{}", b.log());
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
