//! `watch` jobs per kubeconfig context: a `//! contexts:` header (or
//! `watch --contexts`) runs a job once per context, each against its own
//! cluster with its own leader election and `context`-labelled metrics.
//! Two dev clusters and a dead one in one kubeconfig, the real binary.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::TestCluster;
use support::daemon::{Daemon, watch_command};
use support::wait_for;

/// `tokensmith watch WORK/scripts` against `kubeconfig`, logging to WORK/daemon.log.
fn start_daemon(work: &Path, kubeconfig: &Path, extra: &[&str]) -> Daemon {
    let mut cmd = watch_command(&work.join("scripts"), work, kubeconfig);
    cmd.args(extra).env("XDG_STATE_HOME", work.join("xdg"));
    Daemon::spawn(cmd, work.join("daemon.log"))
}

fn http_get(addr: &str, path: &str) -> String {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return String::new();
    };
    let _ = write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n");
    let mut body = String::new();
    let _ = s.read_to_string(&mut body);
    body
}

/// Scrapes /metrics until `done` holds of it; returns that scrape.
fn scrape_until(addr: &str, d: &Daemon, what: &str, done: impl Fn(&str) -> bool) -> String {
    let last = std::cell::RefCell::new(String::new());
    wait_for(
        what,
        || {
            *last.borrow_mut() = http_get(addr, "/metrics");
            done(&last.borrow())
        },
        || format!("{}\n{}", last.borrow(), d.log()),
    );
    last.into_inner()
}

fn free_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").to_string()
}

/// A fleet of east and west (east current) plus `gone`, and a scripts directory.
fn fleet(east: &TestCluster, west: &TestCluster) -> (tempfile::TempDir, PathBuf) {
    let work = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(work.path().join("scripts")).expect("mkdir");
    let kubeconfig = work.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        support::fleet::kubeconfig(&[("east", east), ("west", west)], Some("gone")),
    )
    .expect("kubeconfig");
    (work, kubeconfig)
}

fn script(work: &Path, name: &str, body: &str) {
    std::fs::write(work.join("scripts").join(name), body).expect("script");
}

/// The descriptions of a cluster's tokens, via `token list -o json` (one
/// JSON document per token, as kubeadm prints them).
fn descriptions(c: &TestCluster) -> Vec<String> {
    let out = c
        .tokensmith()
        .args(["token", "list", "-o", "json"])
        .output()
        .expect("token list");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter::<serde_json::Value>()
        .map(|t| {
            t.expect("JSON")["description"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect()
}

#[test]
fn a_job_runs_once_per_context_with_its_own_cluster_lease_state_and_metrics() {
    let east = TestCluster::start();
    let west = TestCluster::start();
    let (work, kubeconfig) = fleet(&east, &west);
    script(
        work.path(),
        "rotate.rhai",
        "//! schedule: * * * * * *\n//! contexts: east, west\n//! timeout: 20s\n\
         let name = cluster::context();\n\
         token::create(#{ ttl: \"1h\", description: `watch ${name}` });\n\
         log::info(`rotated ${name}`);\n",
    );
    script(
        work.path(),
        "everywhere.rhai",
        "//! schedule: * * * * * *\n//! contexts: *\ntoken::list();\n",
    );
    script(
        work.path(),
        "plain.rhai",
        "//! schedule: * * * * * *\nlog::info(`plain on ${cluster::context()}`);\n",
    );
    script(
        work.path(),
        "typo.rhai",
        "//! schedule: @daily\n//! contexts: east, south\n",
    );
    let addr = free_addr();
    let mut d = start_daemon(
        work.path(),
        &kubeconfig,
        &[
            "--listen",
            &addr,
            "--leader-elect",
            "--lease-duration",
            "3s",
        ],
    );
    let wanted = [
        "tokensmith_job_runs_total{job=\"rotate\",context=\"east\",result=\"ok\"}",
        "tokensmith_job_runs_total{job=\"rotate\",context=\"west\",result=\"ok\"}",
        "tokensmith_job_runs_total{job=\"everywhere\",context=\"east\",result=\"ok\"}",
        "tokensmith_job_runs_total{job=\"everywhere\",context=\"west\",result=\"ok\"}",
        // A context whose Lease cannot be taken never leads, so never runs.
        "tokensmith_job_runs_total{job=\"everywhere\",context=\"gone\",result=\"follower\"}",
        // A job without `contexts:` keeps its unlabelled series.
        "tokensmith_job_runs_total{job=\"plain\",result=\"ok\"}",
        "tokensmith_script_load_failing{script=\"typo\"} 1",
    ];
    let metrics = scrape_until(&addr, &d, "every context's series", |m| {
        wanted.iter().all(|w| m.contains(w))
    });
    assert!(
        !metrics.contains("context=\"gone\",result=\"ok\""),
        "{metrics}"
    );
    let log = d.log();
    assert!(
        log.contains("rotated east") && log.contains("rotated west"),
        "{log}"
    );
    assert!(log.contains("plain on east"), "{log}");
    assert!(
        log.contains("context \"south\" is not in the kubeconfig (it has: east, west, gone)"),
        "{log}"
    );
    assert!(
        log.contains("context{context=west}"),
        "a context's lines say which: {log}"
    );

    // Each context's runs used its own client: each cluster has only its own tokens.
    let e = descriptions(&east);
    let w = descriptions(&west);
    assert!(
        !e.is_empty() && e.iter().all(|x| x == "watch east"),
        "{e:?}"
    );
    assert!(
        !w.is_empty() && w.iter().all(|x| x == "watch west"),
        "{w:?}"
    );

    // Each context elects a leader in its own cluster, under its own Lease.
    for (c, lease) in [
        (&east, "tokensmith-watch-east"),
        (&west, "tokensmith-watch-west"),
    ] {
        let r = c.raw_blocking(
            "GET",
            &format!("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/{lease}"),
            Some(&c.admin_token()),
            None,
            "",
        );
        assert_eq!(r.status, 200, "{lease}: {}", r.body);
    }
    d.stop();
    for context in ["east", "west"] {
        let state = work
            .path()
            .join("state/contexts")
            .join(context)
            .join("state.json");
        let text = std::fs::read_to_string(&state).unwrap_or_default();
        assert!(text.contains("\"rotate\""), "{}: {text}", state.display());
    }
}

#[test]
fn watch_contexts_runs_plain_jobs_on_those_contexts_and_refuses_an_unknown_one() {
    let east = TestCluster::start();
    let west = TestCluster::start();
    let (work, kubeconfig) = fleet(&east, &west);
    script(
        work.path(),
        "plain.rhai",
        "//! schedule: * * * * * *\nlog::info(`plain on ${cluster::context()}`);\n",
    );

    let out = Command::new(env!("CARGO_BIN_EXE_tokensmith"))
        .arg("watch")
        .arg(work.path().join("scripts"))
        .args(["--contexts", "west,nope"])
        .env("KUBECONFIG", &kubeconfig)
        .env("HOME", work.path())
        .output()
        .expect("watch");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("context \"nope\" is not in"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let addr = free_addr();
    let mut d = start_daemon(
        work.path(),
        &kubeconfig,
        &["--listen", &addr, "--contexts", "west"],
    );
    let metrics = scrape_until(&addr, &d, "the job on west", |m| {
        m.contains("tokensmith_job_runs_total{job=\"plain\",context=\"west\",result=\"ok\"}")
    });
    assert!(!metrics.contains("job=\"plain\",result="), "{metrics}");
    assert!(!d.log().contains("plain on east"), "{}", d.log());
    assert!(d.log().contains("plain on west"), "{}", d.log());
    d.stop();
}
