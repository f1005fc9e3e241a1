//! `tokensmith dev-cluster --state`: what a client saw acknowledged survives
//! a `kill -9`; the CA, admin token and kubeconfig survive a restart; a
//! corrupt state file stops the start instead of being dropped.

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams, PostParams};
use serde_json::json;

/// A `tokensmith dev-cluster` child process and the URL it printed.
struct Server {
    child: Child,
    url: String,
}

fn spawn(dir: &Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tokensmith"))
        .args(["dev-cluster", "--listen", "127.0.0.1:0", "--state"])
        .arg(dir.join("state.json"))
        .env_remove("RUST_BACKTRACE")
        .env("HOME", dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn tokensmith dev-cluster");
    let stdout = child.stdout.take().expect("stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("read the serving line");
    let url = first
        .trim()
        .strip_prefix("dev cluster serving at ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    Server { child, url }
}

async fn client(dir: &Path) -> kube::Client {
    let yaml = std::fs::read_to_string(dir.join("admin.kubeconfig")).expect("kubeconfig written");
    let kc = kube::config::Kubeconfig::from_yaml(&yaml).expect("kubeconfig parses");
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .expect("config");
    kube::Client::try_from(cfg).expect("client")
}

fn secret(name: &str) -> Secret {
    serde_json::from_value(json!({"metadata": {"name": name}, "stringData": {"k": name}}))
        .expect("secret")
}

#[tokio::test]
async fn acknowledged_writes_survive_kill_9_and_the_kubeconfig_stays_valid() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut first = spawn(dir.path());
    let ca_before =
        std::fs::read_to_string(dir.path().join("ca.crt")).expect("CA kept beside the state");
    let secrets: Api<Secret> = Api::namespaced(client(dir.path()).await, "default");
    let mut last_rv = 0u64;
    for i in 0..20 {
        let s = secrets
            .create(&PostParams::default(), &secret(&format!("s{i:02}")))
            .await
            .expect("create");
        last_rv = s
            .metadata
            .resource_version
            .expect("rv")
            .parse()
            .expect("rv");
    }
    first.child.kill().expect("kill -9");
    first.child.wait().expect("reaped");

    let mut second = spawn(dir.path());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("ca.crt")).expect("CA"),
        ca_before,
        "the CA is kept across restarts"
    );
    let secrets: Api<Secret> = Api::namespaced(client(dir.path()).await, "default");
    let list = secrets
        .list(&ListParams::default())
        .await
        .expect("list after restart");
    assert_eq!(list.items.len(), 20, "every acknowledged create survived");
    let next = secrets
        .create(&PostParams::default(), &secret("after"))
        .await
        .expect("create");
    let rv: u64 = next
        .metadata
        .resource_version
        .expect("rv")
        .parse()
        .expect("rv");
    assert!(
        rv > last_rv,
        "resourceVersions keep increasing across restarts: {last_rv} then {rv}"
    );
    // cluster-info follows the new port.
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(client(dir.path()).await, "kube-public");
    let ci = cms.get("cluster-info").await.expect("cluster-info");
    assert!(ci.data.expect("data")["kubeconfig"].contains(&second.url));
    second.child.kill().expect("kill");
    second.child.wait().expect("reaped");
}

#[test]
fn the_kubeconfig_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = spawn(dir.path());
    let mode = std::fs::metadata(dir.path().join("admin.kubeconfig"))
        .expect("kubeconfig")
        .permissions()
        .mode();
    s.child.kill().expect("kill");
    s.child.wait().expect("reaped");
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn a_corrupt_state_file_is_an_error_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state.json");
    std::fs::write(
        &state,
        b"{\"resourceVersion\": \"12\", \"objects\": [{\"kind\"",
    )
    .expect("write");
    let out = support::tokensmith()
        .args(["dev-cluster", "--listen", "127.0.0.1:0", "--state"])
        .arg(&state)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: state file ") && stderr.contains("is corrupt"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(&state).expect("still there"),
        b"{\"resourceVersion\": \"12\", \"objects\": [{\"kind\"",
        "the corrupt file is left as it was"
    );
}

#[test]
fn bad_fault_flags_are_refused() {
    support::tokensmith()
        .args([
            "dev-cluster",
            "--listen",
            "127.0.0.1:0",
            "--fault-error-rate",
            "1.5",
        ])
        .assert()
        .code(2)
        .stderr("error: invalid fault flags: errorRate must be between 0 and 1, got 1.5\n");
}

#[test]
fn two_servers_cannot_share_one_state_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut first = spawn(dir.path());
    let out = support::tokensmith()
        .args(["dev-cluster", "--listen", "127.0.0.1:0", "--state"])
        .arg(dir.path().join("state.json"))
        .output()
        .expect("run");
    first.child.kill().expect("kill");
    first.child.wait().expect("reaped");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("is in use by another running dev cluster"),
        "{stderr}"
    );
}

#[test]
fn sigterm_shuts_the_server_down_cleanly_and_the_default_kubeconfig_goes_to_the_state_home() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state_home = dir.path().join("xdg-state");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tokensmith"))
        .args(["dev-cluster", "--listen", "127.0.0.1:0"])
        .env_remove("RUST_BACKTRACE")
        .env("HOME", dir.path())
        .env("XDG_STATE_HOME", &state_home)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let serving = lines.next().expect("first line").expect("read");
    assert!(
        serving.starts_with("dev cluster serving at https://127.0.0.1:"),
        "{serving}"
    );
    let kubeconfig_line = lines.next().expect("second line").expect("read");
    let expected = state_home.join("tokensmith/dev-cluster.kubeconfig");
    assert_eq!(
        kubeconfig_line,
        format!("admin kubeconfig: {}", expected.display())
    );
    assert!(expected.exists());

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("send SIGTERM");
    assert!(status.success());
    let exit = child.wait().expect("exits");
    assert_eq!(exit.code(), Some(0), "a clean shutdown on SIGTERM");
}
