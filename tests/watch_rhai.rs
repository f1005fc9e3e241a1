//! The shipped path: `tokensmith --dev watch` runs real Rhai scripts against
//! the embedded dev cluster (real HTTPS, the real kube client), and /metrics
//! shows the tokens they create, by token ID only.

mod support;

use std::path::Path;
use std::process::Command;

use support::daemon::{Daemon, http_get, write_script};

fn spawn(dir: &Path, work: &Path, pre: &[&str], extra: &[&str]) -> Daemon {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tokensmith"));
    cmd.args(pre)
        .arg("watch")
        .arg(dir)
        .arg("--state-dir")
        .arg(work.join("state"))
        .args(extra)
        .env("XDG_STATE_HOME", work.join("xdg"))
        .env("HOME", work)
        .env_remove("KUBECONFIG");
    Daemon::spawn(cmd, work.join("daemon.log"))
}

#[test]
fn rhai_jobs_run_import_their_neighbours_and_report_errors_without_a_cluster() {
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path().join("scripts");
    std::fs::create_dir(&dir).expect("mkdir");
    write_script(&dir, "helpers.rhai", "fn double(x) { x * 2 }\n");
    write_script(
        &dir,
        "job.rhai",
        "//! schedule: * * * * * *\nimport \"helpers\" as h;\nlog::info(\"rhai ran \" + h::double(21));\n",
    );
    let nowhere = work.path().join("no-such-kubeconfig");
    let nowhere = nowhere.to_str().expect("utf-8 path");
    let mut d = spawn(&dir, work.path(), &["--kubeconfig", nowhere], &[]);
    d.wait_log("rhai ran 42");
    d.wait_log("result=\"ok\"");

    // Broken: a parse error with its caret, the last good version keeps running.
    write_script(&dir, "job.rhai", "//! schedule: * * * * * *\nlet x = ;\n");
    d.wait_log("script failed to load; its last good version stays in use");
    assert!(d.log().contains("job.rhai:2:9"), "{}", d.log());

    // A job that throws at every run: reported each time, never fatal.
    write_script(
        &dir,
        "fails.rhai",
        "//! schedule: * * * * * *\nthrow \"rotation failed\";\n",
    );
    d.wait_log("uncaught exception: rotation failed");
    // A token function without a cluster fails that run only.
    write_script(
        &dir,
        "needs.rhai",
        "//! schedule: * * * * * *\ntoken::list();\n",
    );
    d.wait_log("job=needs result=\"error\"");
    d.stop();
}

#[test]
fn rhai_jobs_against_the_dev_cluster_are_added_edited_broken_fixed_and_deleted() {
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path().join("scripts");
    std::fs::create_dir(&dir).expect("mkdir");
    write_script(&dir, "helpers.rhai", "fn double(x) { x * 2 }\n");
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").to_string()
    };
    let mut d = spawn(&dir, work.path(), &["--dev"], &["--listen", &addr]);
    d.wait_log("scripts reloaded");

    // Added: it runs and creates a token on the dev cluster.
    write_script(&dir, "rotate.rhai", &rotation("v1"));
    d.wait_log("v1 created ");
    let line = d
        .log()
        .lines()
        .find(|l| l.contains("v1 created "))
        .map(str::to_owned)
        .expect("line");
    let id = line
        .split("v1 created ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("token id")
        .to_owned();
    assert_eq!(id.len(), 6, "{line}");

    let metrics = http_get(&addr, "/metrics");
    assert!(
        metrics.contains("tokensmith_bootstrap_token_list_up 1"),
        "{metrics}"
    );
    let gauge = metrics
        .lines()
        .find(|l| {
            l.starts_with(&format!(
                "tokensmith_bootstrap_token_expiry_seconds{{token_id=\"{id}\"}}"
            ))
        })
        .unwrap_or_else(|| panic!("no gauge for {id}:\n{metrics}"));
    let secs: f64 = gauge
        .rsplit(' ')
        .next()
        .and_then(|v| v.parse().ok())
        .expect("value");
    assert!(secs > 3600.0 && secs <= 7200.0, "{gauge}");
    // Labelled by ID only: every token label is a bare 6-character ID.
    for l in metrics.lines().filter(|l| l.contains("token_id=")) {
        let label = l.split('"').nth(1).expect("label");
        assert_eq!(label.len(), 6, "{l}");
    }
    assert!(
        metrics.contains("tokensmith_job_runs_total{job=\"rotate\",result=\"ok\"}"),
        "{metrics}"
    );
    assert!(
        !metrics.contains("job=\"helpers\""),
        "import-only scripts are not jobs"
    );

    // Edited: the new version runs against the cluster, the old one never again.
    write_script(&dir, "rotate.rhai", &rotation("v2"));
    d.wait_count("v2 created ", 2);
    let log = d.log();
    let first_v2 = log.find("v2 created ").expect("v2 ran");
    assert!(!log[first_v2..].contains("v1 created "), "{log}");

    // Broken: reported, the last good version (v2) keeps creating tokens.
    write_script(
        &dir,
        "rotate.rhai",
        "//! schedule: * * * * * *\nlet t = token::create(;\n",
    );
    d.wait_log("script failed to load; its last good version stays in use");
    let v2_runs = d.count("v2 created ");
    d.wait_count("v2 created ", v2_runs + 2);

    // Fixed, as a script that fails at every run: reported, never fatal.
    write_script(
        &dir,
        "rotate.rhai",
        "//! schedule: * * * * * *\nthrow \"rotation failed\";\n",
    );
    d.wait_log("uncaught exception: rotation failed");
    assert!(
        d.log().contains("job=rotate result=\"error\""),
        "{}",
        d.log()
    );

    // Deleted: it stops; another job proves time went on.
    std::fs::remove_file(dir.join("rotate.rhai")).expect("delete");
    d.wait_log("script removed");
    let failures = d.count("rotation failed\n");
    write_script(
        &dir,
        "list.rhai",
        "//! schedule: * * * * * *\nlog::info(\"listed \" + token::list().len());\n",
    );
    d.wait_count("listed ", 3);
    assert!(d.count("rotation failed\n") <= failures + 1, "{}", d.log());

    d.stop();
}

fn rotation(version: &str) -> String {
    format!(
        "//! schedule: * * * * * *\n//! overlap: skip\n//! timeout: 20s\n\
         let t = token::create(#{{ttl: \"2h\", description: \"watch {version}\"}});\n\
         log::info(\"{version} created \" + t.id);\n"
    )
}
