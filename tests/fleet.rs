//! `tokensmith run --contexts/--all-contexts`: one script across a fleet of
//! clusters named by kubeconfig contexts, here two dev clusters and a dead one.

mod support;

use support::TestCluster;
use support::fleet::kubeconfig as fleet_kubeconfig;

#[test]
fn a_script_runs_once_per_context_and_a_dead_member_fails_alone() {
    let east = TestCluster::start();
    let west = TestCluster::start();
    let dir = east.dir().join("fleet");
    std::fs::create_dir_all(&dir).unwrap();
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        fleet_kubeconfig(&[("east", &east), ("west", &west)], Some("gone")),
    )
    .unwrap();
    let script = dir.join("count.rhai");
    std::fs::write(
        &script,
        "let t = token::create(#{ ttl: \"1h\", description: \"fleet\" });\ntoken::list().len()\n",
    )
    .unwrap();

    let out = east
        .tokensmith()
        .env("KUBECONFIG", &kubeconfig)
        .args([
            "run",
            script.to_str().unwrap(),
            "--contexts",
            "east,west",
            "--timeout",
            "20s",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout, "# context: east\n1\n# context: west\n1\n");

    let out = east
        .tokensmith()
        .env("KUBECONFIG", &kubeconfig)
        .args([
            "run",
            script.to_str().unwrap(),
            "--all-contexts",
            "--timeout",
            "20s",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stdout, "# context: east\n2\n# context: west\n2\n# context: gone\n",
        "{stderr}"
    );
    assert!(
        stderr.contains("context gone: ") && stderr.contains("127.0.0.1:1"),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("error: the script failed in 1 of 3 contexts: gone\n"),
        "{stderr}"
    );
    let table: Vec<Vec<&str>> = stderr
        .lines()
        .skip_while(|l| !l.starts_with("CONTEXT"))
        .take(4)
        .map(|l| l.split_whitespace().take(2).collect())
        .collect();
    assert_eq!(
        table,
        [
            ["CONTEXT", "RESULT"],
            ["east", "ok"],
            ["west", "ok"],
            ["gone", "failed"]
        ],
        "a summary table: {stderr}"
    );

    // One at a time gives the same results.
    let out = east
        .tokensmith()
        .env("KUBECONFIG", &kubeconfig)
        .args(["run", script.to_str().unwrap(), "--contexts", "east,west"])
        .args(["--parallel", "1", "--timeout", "20s"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "# context: east\n3\n# context: west\n3\n"
    );
}

#[test]
fn an_unknown_context_is_a_usage_error_before_anything_runs() {
    let c = TestCluster::start();
    let script = c.dir().join("s.rhai");
    std::fs::write(&script, "token::create(#{})").unwrap();
    let out = c
        .tokensmith()
        .args(["run", script.to_str().unwrap(), "--contexts", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("context \"nope\" is not in"));
    assert_eq!(c.counts_blocking().get("create"), None);
}
