//! `on:` jobs under `tokensmith watch`: the stock one-shot revoker deletes a
//! token right after its first join (a second join then fails discovery),
//! failing handlers are retried and counted, token-expiring and
//! token-deleted handlers get their events, and /metrics counts token uses.
//! Events come from API watches: a token created and deleted at once is
//! seen, a CSR made while the daemon was down fires once when it starts, and
//! a script whose handler is missing is refused (by `check` and `watch`).

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;
use support::TestCluster;
use support::daemon::{Daemon, free_addr, http_get, watch_command, write_script};
use support::join::{create_join_line, join, text, token_id_in};

const PATIENCE: Duration = Duration::from_secs(60);

fn scripts_dir(c: &TestCluster) -> std::path::PathBuf {
    let dir = c.dir().join("scripts");
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

fn start_watch(c: &TestCluster, dir: &Path, extra: &[&str]) -> Daemon {
    let mut cmd = watch_command(dir, c.dir(), c.kubeconfig_path());
    cmd.args(extra);
    Daemon::spawn(cmd, c.dir().join("daemon.log"))
}

/// Waits for /metrics to contain `needle`; returns the page.
fn wait_metrics(addr: &str, needle: &str) -> String {
    let start = Instant::now();
    loop {
        let m = http_get(addr, "/metrics");
        if m.contains(needle) {
            return m;
        }
        assert!(start.elapsed() < PATIENCE, "no {needle:?} in:\n{m}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_one_shot_token_is_revoked_by_its_first_join_under_watch() {
    let c = TestCluster::start();
    let dir = scripts_dir(&c);
    let stock = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/revoke_after_use.rhai"),
    )
    .expect("stock script");
    write_script(&dir, "revoke_after_use.rhai", &stock);
    write_script(
        &dir,
        "flaky.rhai",
        "//! on: token-deleted\nfn on_token_deleted(t) { log::info(`deleted event for ${t.id}`); throw \"handler broke\"; }\n",
    );
    write_script(
        &dir,
        "expiring.rhai",
        "//! on: token-expiring 2h\nfn on_token_expiring(t) { log::info(`expiring event for ${t.id}`); }\n",
    );
    let addr = free_addr();
    let d = start_watch(&c, &dir, &["--listen", &addr]);
    d.wait_log("job loaded");

    let cmd = create_join_line(c.tokensmith());
    let id = token_id_in(&cmd);
    d.wait_log(&format!("expiring event for {id}"));

    let first = join(c.tokensmith(), &cmd, "asg-1", "20s");
    assert!(first.status.success(), "{}", text(&first.stderr));
    d.wait_log(&format!("deleted {id} after 1 use(s)"));

    let second = join(c.tokensmith(), &cmd, "asg-2", "2s");
    assert_eq!(second.status.code(), Some(1));
    assert!(
        text(&second.stderr).contains(&format!(
            "token id \"{id}\" is invalid for this cluster or it has expired"
        )),
        "{}",
        text(&second.stderr)
    );

    // The deletion is an event too; its handler fails every attempt.
    d.wait_log("handler failed on every attempt; event dropped");
    let metrics = wait_metrics(&addr, "result=\"dropped\"");
    assert!(
        metrics.contains(&format!(
            "tokensmith_token_uses_total{{token_id=\"{id}\"}} 1"
        )),
        "{metrics}"
    );
    assert!(
        metrics.contains("tokensmith_job_runs_total{job=\"flaky\",result=\"error\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tokensmith_job_runs_total{job=\"flaky\",result=\"retried\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tokensmith_job_runs_total{job=\"revoke_after_use\",result=\"ok\"}"),
        "{metrics}"
    );
    assert!(
        !d.log()
            .contains(&cmd[cmd.find("--token").unwrap_or(0) + 8..][..23]),
        "no secret in the log"
    );
}

#[test]
fn a_token_created_and_deleted_within_milliseconds_raises_token_deleted() {
    let c = TestCluster::start();
    let dir = scripts_dir(&c);
    write_script(
        &dir,
        "gone.rhai",
        // Queued: with the default `overlap: skip`, a deletion arriving
        // while the handler still runs for the one before is skipped, as
        // documented (which a loaded machine made happen here).
        "//! on: token-deleted\n//! overlap: queue\nfn on_token_deleted(t) { log::info(`deleted event for ${t.id}`); }\n",
    );
    let d = start_watch(&c, &dir, &[]);
    // From the first list on, every change reaches the daemon (the watch
    // resumes from the list's resourceVersion).
    d.wait_log("watched=Tokens");
    let b = |s: &str| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(s)
    };
    let secret = |id: &str| {
        json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": format!("bootstrap-token-{id}"), "namespace": "kube-system"},
            "type": "bootstrap.kubernetes.io/token",
            "data": {"token-id": b(id), "token-secret": b("0123456789abcdef"),
                     "usage-bootstrap-authentication": b("true")},
        })
        .to_string()
    };
    let path = "/api/v1/namespaces/kube-system/secrets";
    let token = c.admin_token();
    // Several, each gone again before a once-a-second poll could see it.
    let ids = ["fast01", "fast02", "fast03"];
    for id in ids {
        let made = c.raw_blocking(
            "POST",
            path,
            Some(&token),
            Some("application/json"),
            secret(id),
        );
        assert_eq!(made.status, 201, "{}", made.body);
        let gone = c.raw_blocking(
            "DELETE",
            &format!("{path}/bootstrap-token-{id}"),
            Some(&token),
            None,
            "",
        );
        assert_eq!(gone.status, 200, "{}", gone.body);
    }
    for id in ids {
        d.wait_log(&format!("deleted event for {id}"));
    }
}

#[test]
fn a_csr_made_while_the_daemon_was_down_fires_once_when_it_starts() {
    let c = TestCluster::start();
    let dir = scripts_dir(&c);
    // A node joins while no daemon runs (it is restarting, say).
    let first = create_join_line(c.tokensmith());
    let joined = join(c.tokensmith(), &first, "while-down", "20s");
    assert!(joined.status.success(), "{}", text(&joined.stderr));

    let stock = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/revoke_after_use.rhai"),
    )
    .expect("stock script");
    write_script(&dir, "revoke_after_use.rhai", &stock);
    write_script(
        &dir,
        "seen.rhai",
        "//! on: csr\n//! overlap: queue\nfn on_csr(csr) { log::info(`csr event for node ${csr.node}`); }\n",
    );
    let d = start_watch(&c, &dir, &[]);
    d.wait_log("csr event for node while-down");
    // The one-shot rule holds for it: the node counted, the token went.
    let id = token_id_in(&first);
    d.wait_log(&format!("deleted {id} after 1 use(s)"));

    // A later join fires for its own CSR only: the first one fired once.
    let second = create_join_line(c.tokensmith());
    let joined = join(c.tokensmith(), &second, "while-up", "20s");
    assert!(joined.status.success(), "{}", text(&joined.stderr));
    d.wait_log("csr event for node while-up");
    assert_eq!(d.count("csr event for node while-down"), 1, "{}", d.log());
}

#[test]
fn a_missing_or_wrong_handler_fails_check_and_is_refused_by_watch() {
    let c = TestCluster::start();
    let dir = scripts_dir(&c);
    let missing = dir.join("missing.rhai");
    std::fs::write(
        &missing,
        "//! on: csr\n//! timeout: 1m\n\nfn on_crs(csr) {}\n",
    )
    .expect("write");
    let wrong = dir.join("wrong.rhai");
    std::fs::write(
        &wrong,
        "//! overlap: queue\n//! on: token-deleted\nfn on_token_deleted() {}\n",
    )
    .expect("write");
    let out = c
        .tokensmith()
        .arg("check")
        .arg(&missing)
        .arg(&wrong)
        .output()
        .expect("check");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let report = text(&out.stdout);
    assert!(
        report.contains(&format!("{}:1:1: invalid header: ", missing.display()))
            && report
                .contains("`on: csr` calls fn on_csr(event), which this script does not define"),
        "{report}"
    );
    assert!(
        report.contains(&format!("{}:2:1: invalid header: ", wrong.display()))
            && report.contains("but this script's on_token_deleted takes 0"),
        "{report}"
    );
    std::fs::remove_file(&missing).expect("rm");
    std::fs::remove_file(&wrong).expect("rm");

    // Under watch: a good version runs; a version without the handler is
    // refused and counted, and the good one keeps handling events.
    write_script(
        &dir,
        "gone.rhai",
        "//! on: token-deleted\nfn on_token_deleted(t) { log::info(`v1 handled ${t.id}`); }\n",
    );
    let addr = free_addr();
    let d = start_watch(&c, &dir, &["--listen", &addr]);
    d.wait_log("job loaded");
    write_script(
        &dir,
        "gone.rhai",
        "//! on: token-deleted\nfn on_token_gone(t) { log::info(`v2 handled ${t.id}`); }\n",
    );
    d.wait_log("script failed to load; its last good version stays in use");
    assert!(
        d.log()
            .contains("gone.rhai:1: `on: token-deleted` calls fn on_token_deleted(event)"),
        "{}",
        d.log()
    );
    wait_metrics(
        &addr,
        "tokensmith_script_load_errors_total{script=\"gone\"} 1",
    );
    let line = create_join_line(c.tokensmith());
    let id = token_id_in(&line);
    let out = c
        .tokensmith()
        .args(["token", "delete", &id])
        .output()
        .expect("token delete");
    assert!(out.status.success(), "{}", text(&out.stderr));
    d.wait_log(&format!("v1 handled {id}"));
    assert!(!d.log().contains("v2 handled"), "{}", d.log());
}
