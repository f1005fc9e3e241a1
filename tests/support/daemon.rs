//! `tokensmith watch` as a child process for end-to-end tests: its log, a
//! wait on a log line, an atomic script write, /metrics over plain HTTP.
//!
//! ```ignore
//! let d = Daemon::spawn(cmd, work.join("daemon.log"));   // cmd: `tokensmith … watch DIR …`
//! write_script(&dir, "job.rhai", "//! schedule: @every 1s\n…");
//! d.wait_log("job loaded");
//! ```

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PATIENCE: Duration = Duration::from_secs(60);

/// A running daemon; killed when dropped.
pub struct Daemon {
    pub child: Child,
    log: PathBuf,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Daemon {
    /// Starts `cmd` with stdin and stdout closed and stderr (the log) in `log`.
    pub fn spawn(mut cmd: Command, log: PathBuf) -> Daemon {
        let child = cmd
            .env("RUST_LOG", "info")
            .env_remove("RUST_BACKTRACE")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("create the daemon log"))
            .spawn()
            .expect("start tokensmith watch");
        Daemon { child, log }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// How often `needle` is in the log.
    pub fn count(&self, needle: &str) -> usize {
        self.log().matches(needle).count()
    }

    pub fn wait_log(&self, needle: &str) {
        self.wait_count(needle, 1);
    }

    pub fn wait_count(&self, needle: &str, n: usize) {
        let start = Instant::now();
        while self.count(needle) < n {
            assert!(
                start.elapsed() < PATIENCE,
                "gave up waiting for {n} x {needle:?}; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, then the exit, which must be a success.
    pub fn stop(&mut self) {
        let ok = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("kill");
        assert!(ok.success());
        let start = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                break s;
            }
            assert!(start.elapsed() < PATIENCE, "no exit:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "{status:?}\n{}", self.log());
    }
}

/// `tokensmith watch DIR --state-dir WORK/state` against `kubeconfig`, HOME in `work`.
pub fn watch_command(dir: &Path, work: &Path, kubeconfig: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tokensmith"));
    cmd.arg("watch")
        .arg(dir)
        .arg("--state-dir")
        .arg(work.join("state"))
        .env("KUBECONFIG", kubeconfig)
        .env("HOME", work);
    cmd
}

/// Writes a script the way a deployment would: whole, by rename.
pub fn write_script(dir: &Path, name: &str, body: &str) {
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, body).expect("write script");
    std::fs::rename(&tmp, dir.join(name)).expect("rename script");
}

pub fn http_get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").expect("send");
    let mut body = String::new();
    s.read_to_string(&mut body).expect("read");
    body
}

/// A loopback address nothing listens on (yet).
pub fn free_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").to_string()
}
