//! A wedged API server — it accepts connections and never answers — ends
//! every `token` command with a clear error (issue 10), as kubeadm bounds
//! its API calls. The bound below is a hang guard, not a timing assertion.

mod support;

use std::net::TcpListener;
use std::time::{Duration, Instant};

const HANG_GUARD: Duration = Duration::from_secs(120);

/// Accepts every connection and holds it open without reading or writing.
fn wedged_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            held.push(conn);
        }
    });
    addr
}

fn kubeconfig(dir: &std::path::Path, addr: &str) -> std::path::PathBuf {
    let path = dir.join("wedged.conf");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://{addr}\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    token: not-a-real-credential\ncontexts:\n- name: c\n  context: {{cluster: c, user: u}}\ncurrent-context: c\n"
        ),
    )
    .expect("kubeconfig");
    path
}

#[test]
fn token_commands_against_a_wedged_server_fail_clearly_instead_of_hanging() {
    let addr = wedged_server();
    let dir = tempfile::tempdir().expect("tempdir");
    let kc = kubeconfig(dir.path(), &addr);
    let commands: [&[&str]; 3] = [
        &["token", "list"],
        &["token", "create"],
        &["token", "delete", "abcdef"],
    ];
    let runs: Vec<_> = commands
        .iter()
        .map(|args| {
            let mut cmd = support::tokensmith();
            cmd.arg("--kubeconfig")
                .arg(&kc)
                .args(*args)
                .timeout(HANG_GUARD);
            let args = args.join(" ");
            std::thread::spawn(move || {
                let start = Instant::now();
                let out = cmd.output().expect("run");
                (args, out, start.elapsed())
            })
        })
        .collect();
    for run in runs {
        let (args, out, took) = run.join().expect("thread");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(took < HANG_GUARD, "{args} hung: {stderr}");
        assert_eq!(out.status.code(), Some(1), "{args}: {out:?}");
        assert!(
            stderr.contains("the API server did not answer within")
                && stderr.contains("gave up after"),
            "{args}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args}: {stderr}");
        assert!(out.stdout.is_empty(), "{args}: {out:?}");
    }
}
