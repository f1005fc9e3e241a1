//! The real binary's `watch` on a temporary directory, with the daemon's
//! line-command test executor (no cluster needed): scripts are added, edited,
//! broken, fixed, swapped as a ConfigMap volume swaps them, and deleted, and
//! the files they append to show what ran. Waits poll for an observable
//! effect with a generous upper bound; nothing asserts on timing.

use std::io::Read;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

mod support;

use support::wait_for;

const PATIENCE: Duration = Duration::from_secs(30);

struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn start(dir: &Path, work: &Path, extra: &[&str]) -> Daemon {
        let log = work.join("daemon.log");
        let log_file = std::fs::File::create(&log).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_tokensmith"))
            .arg("watch")
            .arg(dir)
            .arg("--test-executor")
            .arg("--state-dir")
            .arg(work.join("state"))
            .args(extra)
            .env_remove("RUST_LOG")
            .env_remove("RUST_BACKTRACE")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("start tokensmith watch");
        Daemon { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_log(&self, needle: &str) {
        wait_for(
            &format!("log line {needle:?}"),
            || self.log().contains(needle),
            || self.log(),
        );
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill");
        assert!(ok.success());
    }

    fn wait_exit(&mut self) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                start.elapsed() < PATIENCE,
                "daemon did not exit:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn count(path: &Path, line: &str) -> usize {
    lines(path).iter().filter(|l| *l == line).count()
}

/// Writes a script atomically (write, then rename), as editors and
/// `kubectl cp` do, so the daemon never reads half a file.
fn write_script(dir: &Path, name: &str, body: &str) {
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, body).expect("write script");
    std::fs::rename(&tmp, dir.join(name)).expect("rename script");
}

fn every_second(out: &Path, text: &str) -> String {
    format!(
        "//! schedule: * * * * * *\nappend {} {text}\n",
        out.display()
    )
}

#[test]
fn scripts_are_added_edited_broken_fixed_and_deleted_while_running() {
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path().join("scripts");
    std::fs::create_dir(&dir).expect("mkdir");
    let out = work.path().join("out");
    let d = Daemon::start(&dir, work.path(), &[]);
    d.wait_log("watching for scripts");

    // Added: it runs.
    write_script(&dir, "a.rhai", &every_second(&out, "v1"));
    wait_for("v1 to run", || count(&out, "v1") >= 1, || d.log());

    // Edited: the new version runs, and the old one never again.
    write_script(&dir, "a.rhai", &every_second(&out, "v2"));
    wait_for("v2 to run twice", || count(&out, "v2") >= 2, || d.log());
    let all = lines(&out);
    let first_v2 = all.iter().position(|l| l == "v2").expect("v2 ran");
    assert!(
        all[first_v2..].iter().all(|l| l == "v2"),
        "v1 ran after v2: {all:?}"
    );

    // Broken: the error is reported and the last good version keeps running.
    write_script(
        &dir,
        "a.rhai",
        "//! schedule: * * * * * *\nthis is not a command\n",
    );
    d.wait_log("script failed to load; its last good version stays in use");
    assert!(d.log().contains("unknown command \"this\""), "{}", d.log());
    let before = count(&out, "v2");
    wait_for(
        "v2 to keep running",
        || count(&out, "v2") >= before + 2,
        || d.log(),
    );

    // A header error is reported the same way.
    write_script(
        &dir,
        "a.rhai",
        "//! schedule: * * * * * *\n//! colour: blue\n",
    );
    d.wait_log("unknown header key \"colour\"");

    // Fixed: the new version runs.
    write_script(&dir, "a.rhai", &every_second(&out, "v3"));
    wait_for("v3 to run", || count(&out, "v3") >= 1, || d.log());

    // Deleted: it stops. A second script proves time went on.
    let other = work.path().join("other");
    std::fs::remove_file(dir.join("a.rhai")).expect("delete");
    d.wait_log("script removed");
    let v3_after_delete = count(&out, "v3");
    write_script(&dir, "b.rhai", &every_second(&other, "b"));
    wait_for(
        "b to run three times",
        || count(&other, "b") >= 3,
        || d.log(),
    );
    // At most a run already started when the deletion was seen.
    assert!(count(&out, "v3") <= v3_after_delete + 1);
}

#[test]
fn a_configmap_volume_swap_is_picked_up() {
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path().join("cm");
    std::fs::create_dir(&dir).expect("mkdir");
    let out = work.path().join("out");
    // The layout the kubelet writes: file -> ..data/file, ..data -> ..<timestamp>.
    let v1 = dir.join("..2026_11_29_10_00_00.000000001");
    std::fs::create_dir(&v1).expect("mkdir");
    std::fs::write(v1.join("job.rhai"), every_second(&out, "cm-v1")).expect("write");
    std::os::unix::fs::symlink("..2026_11_29_10_00_00.000000001", dir.join("..data"))
        .expect("symlink");
    std::os::unix::fs::symlink("..data/job.rhai", dir.join("job.rhai")).expect("symlink");

    let d = Daemon::start(&dir, work.path(), &[]);
    wait_for("cm-v1 to run", || count(&out, "cm-v1") >= 1, || d.log());

    // The kubelet's atomic update: new dir, new ..data_tmp link renamed over ..data.
    let v2 = dir.join("..2026_11_29_10_05_00.000000002");
    std::fs::create_dir(&v2).expect("mkdir");
    std::fs::write(v2.join("job.rhai"), every_second(&out, "cm-v2")).expect("write");
    std::os::unix::fs::symlink("..2026_11_29_10_05_00.000000002", dir.join("..data_tmp"))
        .expect("symlink");
    std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).expect("swap");
    std::fs::remove_dir_all(&v1).expect("cleanup");

    wait_for("cm-v2 to run", || count(&out, "cm-v2") >= 2, || d.log());
    let all = lines(&out);
    let first = all.iter().position(|l| l == "cm-v2").expect("ran");
    assert!(all[first..].iter().all(|l| l == "cm-v2"), "{all:?}");
}

#[test]
fn a_vanished_directory_is_survived_and_picked_up_again() {
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path().join("scripts");
    std::fs::create_dir(&dir).expect("mkdir");
    let out = work.path().join("out");
    write_script(&dir, "a.rhai", &every_second(&out, "before"));
    let mut d = Daemon::start(&dir, work.path(), &[]);
    wait_for("first run", || count(&out, "before") >= 1, || d.log());

    std::fs::remove_dir_all(&dir).expect("rm dir");
    d.wait_log("cannot read the script directory");
    std::fs::create_dir(&dir).expect("mkdir again");
    write_script(&dir, "a.rhai", &every_second(&out, "after"));
    wait_for(
        "the recreated directory's script to run",
        || count(&out, "after") >= 1,
        || d.log(),
    );
    assert!(
        d.child.try_wait().expect("try_wait").is_none(),
        "daemon exited"
    );
}

#[test]
fn sigterm_lets_the_running_job_finish_then_exits_0() {
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path().join("scripts");
    std::fs::create_dir(&dir).expect("mkdir");
    let out = work.path().join("out");
    write_script(
        &dir,
        "slow.rhai",
        &format!(
            "//! schedule: * * * * * *\nappend {o} started\nsleep 1500ms\nappend {o} finished\n",
            o = out.display()
        ),
    );
    let mut d = Daemon::start(
        &dir,
        work.path(),
        &["--log-format", "json", "--grace", "30s"],
    );
    wait_for(
        "the job to start",
        || count(&out, "started") >= 1,
        || d.log(),
    );
    d.signal("TERM");
    let status = d.wait_exit();
    assert!(status.success(), "exit {status:?}\n{}", d.log());
    assert_eq!(lines(&out), ["started", "finished"]);
    // JSON lines, one per job start and finish, with job, duration and result.
    let log = d.log();
    let finished: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &serde_json::Value| v["fields"]["message"] == "job finished")
        .collect();
    assert_eq!(finished.len(), 1, "{log}");
    assert_eq!(finished[0]["fields"]["job"], "slow");
    assert_eq!(finished[0]["fields"]["result"], "ok");
    assert!(finished[0]["fields"]["duration"].is_string());
}

#[test]
fn sigterm_cancels_a_job_that_outlives_the_grace_period() {
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path().join("scripts");
    std::fs::create_dir(&dir).expect("mkdir");
    let out = work.path().join("out");
    write_script(
        &dir,
        "stuck.rhai",
        &format!(
            "//! schedule: * * * * * *\nappend {o} started\nsleep 1h\nappend {o} finished\n",
            o = out.display()
        ),
    );
    let mut d = Daemon::start(&dir, work.path(), &["--grace", "200ms"]);
    wait_for(
        "the job to start",
        || count(&out, "started") >= 1,
        || d.log(),
    );
    d.signal("TERM");
    let status = d.wait_exit();
    assert!(status.success(), "exit {status:?}\n{}", d.log());
    assert_eq!(lines(&out), ["started"]);
    assert!(d.log().contains("grace period over"), "{}", d.log());
}

fn http_get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    use std::io::Write;
    write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").expect("send");
    let mut body = String::new();
    s.read_to_string(&mut body).expect("read");
    body
}

fn free_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").to_string()
}

#[test]
fn metrics_report_runs_failures_and_load_errors() {
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path().join("scripts");
    std::fs::create_dir(&dir).expect("mkdir");
    let out = work.path().join("out");
    write_script(&dir, "good.rhai", &every_second(&out, "good"));
    write_script(
        &dir,
        "bad.rhai",
        "//! schedule: * * * * * *\nfail on purpose\n",
    );
    write_script(&dir, "broken.rhai", "//! schedule: 99 * * * *\n");
    write_script(&dir, "lib.rhai", "append /dev/null never\n");
    let addr = free_port();
    let d = Daemon::start(&dir, work.path(), &["--listen", &addr]);
    wait_for("good to run", || count(&out, "good") >= 1, || d.log());
    wait_for(
        "bad to fail",
        || {
            http_get(&addr, "/metrics")
                .contains("tokensmith_job_runs_total{job=\"bad\",result=\"error\"}")
        },
        || d.log(),
    );
    let m = http_get(&addr, "/metrics");
    assert!(m.contains("text/plain; version=0.0.4"), "{m}");
    assert!(
        m.contains("tokensmith_job_runs_total{job=\"good\",result=\"ok\"}"),
        "{m}"
    );
    assert!(
        m.contains("tokensmith_job_run_duration_seconds_count{job=\"good\"}"),
        "{m}"
    );
    assert!(
        m.contains("tokensmith_job_last_success_timestamp_seconds{job=\"good\"}"),
        "{m}"
    );
    assert!(
        m.contains("tokensmith_job_next_run_timestamp_seconds{job=\"good\"}"),
        "{m}"
    );
    assert!(
        m.contains("tokensmith_script_load_failing{script=\"broken\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("tokensmith_script_load_errors_total{script=\"broken\"} 1"),
        "{m}"
    );
    // An import-only script is loaded but never scheduled.
    assert!(m.contains("tokensmith_scripts_loaded 3"), "{m}");
    assert!(!m.contains("job=\"lib\""), "{m}");
    assert!(http_get(&addr, "/healthz").contains("200 OK"));
    assert!(http_get(&addr, "/readyz").contains("200 OK"));
    assert!(
        d.log().contains("invalid cron expression \"99 * * * *\""),
        "{}",
        d.log()
    );
}

#[test]
fn sighup_reloads_now() {
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path().join("scripts");
    std::fs::create_dir(&dir).expect("mkdir");
    let d = Daemon::start(&dir, work.path(), &[]);
    d.wait_log("scripts reloaded");
    d.signal("HUP");
    d.wait_log("SIGHUP: reloading the script directory");
}
