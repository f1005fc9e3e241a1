//! Rehearsal joins through the binary, against the dev cluster or the
//! upstream tier alike (both hand out a sandboxed `tokensmith` command).

use std::process::Output;

use assert_cmd::Command;

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The token id in a printed `kubeadm join … --token <id>.<secret> …` line.
pub fn token_id_in(join_line: &str) -> String {
    join_line
        .split_whitespace()
        .skip_while(|w| *w != "--token")
        .nth(1)
        .map(|t| t[..6].to_string())
        .expect("a --token in the join command")
}

/// `token create --ttl 1h --print-join-command`: the published join line.
pub fn create_join_line(mut tokensmith: Command) -> String {
    let out = tokensmith
        .args(["token", "create", "--ttl", "1h", "--print-join-command"])
        .output()
        .expect("token create");
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).trim().to_string()
}

/// `dev-cluster join LINE --node-name NODE --timeout TIMEOUT`.
pub fn join(mut tokensmith: Command, line: &str, node: &str, timeout: &str) -> Output {
    tokensmith
        .args([
            "dev-cluster",
            "join",
            line,
            "--node-name",
            node,
            "--timeout",
            timeout,
        ])
        .output()
        .expect("run dev-cluster join")
}
