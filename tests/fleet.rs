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

/// `dev-cluster --clusters 3`: three clusters from one process, one
/// kubeconfig with a context each; a fleet run reaches every one, each keeps
/// its own objects, and SIGTERM stops them all.
#[test]
fn one_dev_cluster_process_serves_a_fleet_with_a_context_per_cluster() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("fleet.kubeconfig");
    let mut server = Command::new(env!("CARGO_BIN_EXE_tokensmith"))
        .args(["dev-cluster", "--clusters", "3", "--listen", "127.0.0.1:0"])
        .arg("--kubeconfig-out")
        .arg(&kubeconfig)
        .env("HOME", dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let mut urls = Vec::new();
    for i in 1..=3 {
        let line = lines.next().unwrap().unwrap();
        let prefix = format!("dev cluster dev-{i} serving at https://127.0.0.1:");
        assert!(line.starts_with(&prefix), "{line}");
        urls.push(line.rsplit(' ').next().unwrap().to_owned());
    }
    assert_eq!(
        lines.next().unwrap().unwrap(),
        format!(
            "admin kubeconfig: {} (contexts dev-1 to dev-3)",
            kubeconfig.display()
        )
    );
    urls.sort();
    urls.dedup();
    assert_eq!(urls.len(), 3, "a port each");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&kubeconfig).unwrap().permissions(),
    );
    assert_eq!(
        mode & 0o777,
        0o600,
        "the kubeconfig holds three admin tokens"
    );

    let script = dir.path().join("count.rhai");
    std::fs::write(
        &script,
        "token::create(#{ ttl: \"1h\" }); token::list().len()\n",
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let out = support::tokensmith()
            .env("KUBECONFIG", &kubeconfig)
            .arg("run")
            .arg(&script)
            .args(extra)
            .args(["--timeout", "20s"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(
        run(&["--all-contexts"]),
        "# context: dev-1\n1\n# context: dev-2\n1\n# context: dev-3\n1\n"
    );
    // A second token in dev-2 only: the clusters share nothing.
    assert_eq!(run(&["--contexts", "dev-2"]), "# context: dev-2\n2\n");
    let listed = |context: &str| {
        let out = support::tokensmith()
            .env("KUBECONFIG", &kubeconfig)
            .args(["token", "list", "--context", context])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap().lines().count() - 1
    };
    assert_eq!(
        [listed("dev-1"), listed("dev-2"), listed("dev-3")],
        [1, 2, 1]
    );

    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(server.wait().unwrap().success(), "a clean stop exits 0");
}

#[test]
fn a_fleet_of_dev_clusters_is_in_memory_and_its_ports_must_exist() {
    support::tokensmith()
        .args(["dev-cluster", "--clusters", "2", "--state", "s.json"])
        .assert()
        .code(2)
        .stderr("error: --clusters serves clusters in memory only: not with --dev or --state\n");
    support::tokensmith()
        .args([
            "dev-cluster",
            "--clusters",
            "3",
            "--listen",
            "127.0.0.1:65534",
        ])
        .assert()
        .code(2)
        .stderr("error: --clusters 3 from port 65534 runs past port 65535\n");
    let out = support::tokensmith()
        .args(["dev-cluster", "--clusters", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("0 is not in 1..=256"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
