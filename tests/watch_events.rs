//! `on:` jobs under `tokensmith watch`: the stock one-shot revoker deletes a
//! token right after its first join (a second join then fails discovery),
//! failing handlers are retried and counted, token-expiring and
//! token-deleted handlers get their events, and /metrics counts token uses.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::TestCluster;

const PATIENCE: Duration = Duration::from_secs(60);

struct Daemon {
    child: Child,
    log: std::path::PathBuf,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Daemon {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_log(&self, needle: &str) {
        let start = Instant::now();
        while !self.log().contains(needle) {
            assert!(
                start.elapsed() < PATIENCE,
                "gave up waiting for {needle:?}; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn http_get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").expect("send");
    let mut body = String::new();
    s.read_to_string(&mut body).expect("read");
    body
}

fn free_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").to_string()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn write_script(dir: &Path, name: &str, body: &str) {
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, body).expect("write script");
    std::fs::rename(&tmp, dir.join(name)).expect("rename script");
}

#[test]
fn a_one_shot_token_is_revoked_by_its_first_join_under_watch() {
    let c = TestCluster::start();
    let dir = c.dir().join("scripts");
    std::fs::create_dir(&dir).expect("mkdir");
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
    let log = c.dir().join("daemon.log");
    let child = Command::new(env!("CARGO_BIN_EXE_tokensmith"))
        .arg("watch")
        .arg(&dir)
        .arg("--state-dir")
        .arg(c.dir().join("state"))
        .args(["--listen", &addr])
        .env("KUBECONFIG", c.kubeconfig_path())
        .env("HOME", c.dir())
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("start watch");
    let d = Daemon { child, log };
    d.wait_log("job loaded");

    let out = c
        .tokensmith()
        .args(["token", "create", "--ttl", "1h", "--print-join-command"])
        .output()
        .expect("token create");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let cmd = text(&out.stdout).trim().to_string();
    let id = cmd
        .split_whitespace()
        .skip_while(|w| *w != "--token")
        .nth(1)
        .map(|t| t[..6].to_string())
        .expect("token in the command");
    d.wait_log(&format!("expiring event for {id}"));

    let first = c
        .tokensmith()
        .args([
            "dev-cluster",
            "join",
            &cmd,
            "--node-name",
            "asg-1",
            "--timeout",
            "20s",
        ])
        .output()
        .expect("join");
    assert!(first.status.success(), "{}", text(&first.stderr));
    d.wait_log(&format!("deleted {id} after 1 use(s)"));

    let second = c
        .tokensmith()
        .args([
            "dev-cluster",
            "join",
            &cmd,
            "--node-name",
            "asg-2",
            "--timeout",
            "2s",
        ])
        .output()
        .expect("join");
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
    let start = Instant::now();
    let metrics = loop {
        let m = http_get(&addr, "/metrics");
        if m.contains("result=\"dropped\"") || start.elapsed() > PATIENCE {
            break m;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
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
