//! Real kubectl against the dev cluster: exit codes and output as against
//! kube-apiserver. Skipped, with a notice, where kubectl is not installed.

mod support;

use std::process::{Command, Output};

use serde_json::Value;
use support::TestCluster;

fn kubectl_available() -> bool {
    Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn kubectl(cluster: &TestCluster, args: &[&str]) -> Output {
    Command::new("kubectl")
        .args(args)
        .env("KUBECONFIG", cluster.kubeconfig_path())
        .env("HOME", cluster.dir())
        .env_remove("KUBECTL_KUBERC")
        .output()
        .expect("run kubectl")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

macro_rules! require_kubectl {
    () => {
        if !kubectl_available() {
            eprintln!("NOTICE: kubectl not found on PATH; skipping the kubectl interop test");
            return;
        }
    };
}

#[test]
fn kubectl_creates_lists_reads_and_deletes() {
    require_kubectl!();
    let cluster = TestCluster::start();

    let out = kubectl(
        &cluster,
        &[
            "create",
            "secret",
            "generic",
            "bootstrap-token-abcdef",
            "-n",
            "kube-system",
            "--type=bootstrap.kubernetes.io/token",
            "--from-literal=token-id=abcdef",
            "--from-literal=token-secret=0123456789abcdef",
            "--from-literal=usage-bootstrap-signing=true",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "secret/bootstrap-token-abcdef created\n");
    let out = kubectl(
        &cluster,
        &[
            "create",
            "secret",
            "generic",
            "s1",
            "-n",
            "kube-system",
            "--from-literal=a=b",
        ],
    );
    assert_eq!(
        text(&out.stdout),
        "secret/s1 created\n",
        "{}",
        text(&out.stderr)
    );

    let out = kubectl(
        &cluster,
        &[
            "get",
            "secrets",
            "-n",
            "kube-system",
            "--field-selector",
            "type=bootstrap.kubernetes.io/token",
            "-o",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let list: Value = serde_json::from_slice(&out.stdout).expect("kubectl prints JSON");
    assert_eq!(list["kind"], "List");
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["kind"], "Secret");
    assert_eq!(items[0]["apiVersion"], "v1");
    assert_eq!(items[0]["metadata"]["name"], "bootstrap-token-abcdef");
    assert_eq!(items[0]["type"], "bootstrap.kubernetes.io/token");
    assert_eq!(items[0]["data"]["token-id"], "YWJjZGVm");

    let out = kubectl(
        &cluster,
        &[
            "get",
            "configmap",
            "cluster-info",
            "-n",
            "kube-public",
            "-o",
            "yaml",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let yaml = text(&out.stdout);
    assert!(yaml.starts_with("apiVersion: v1\ndata:\n"), "{yaml}");
    assert!(yaml.contains("kind: ConfigMap\nmetadata:\n"), "{yaml}");
    assert!(
        yaml.contains("  name: cluster-info\n  namespace: kube-public\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains(&format!("server: {}", cluster.url())),
        "{yaml}"
    );
    assert!(
        !yaml.contains("managedFields"),
        "kubectl hides managedFields: {yaml}"
    );

    let out = kubectl(&cluster, &["get", "secrets", "-n", "kube-system"]);
    let table = text(&out.stdout);
    let header: Vec<&str> = table
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(header, ["NAME", "TYPE", "DATA", "AGE"], "{table}");
    assert!(table.contains("bootstrap.kubernetes.io/token"), "{table}");

    let out = kubectl(&cluster, &["delete", "secret", "s1", "-n", "kube-system"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "secret \"s1\" deleted\n");
    let out = kubectl(&cluster, &["delete", "secret", "s1", "-n", "kube-system"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "Error from server (NotFound): secrets \"s1\" not found\n"
    );
}

#[test]
fn kubectl_sees_the_token_authenticator() {
    require_kubectl!();
    let cluster = TestCluster::start();
    let out = kubectl(
        &cluster,
        &[
            "create",
            "secret",
            "generic",
            "bootstrap-token-abcdef",
            "-n",
            "kube-system",
            "--type=bootstrap.kubernetes.io/token",
            "--from-literal=token-id=abcdef",
            "--from-literal=token-secret=0123456789abcdef",
            "--from-literal=usage-bootstrap-authentication=true",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ca = cluster.dir().join("ca.pem");
    std::fs::write(&ca, cluster.ca_pem()).expect("write CA");
    let as_token = |args: &[&str]| {
        let mut all = vec![
            "--kubeconfig=/dev/null".to_string(),
            format!("--server={}", cluster.url()),
            format!("--certificate-authority={}", ca.display()),
            "--token=abcdef.0123456789abcdef".to_string(),
        ];
        all.extend(args.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        kubectl(&cluster, &refs)
    };
    let out = as_token(&[
        "auth",
        "whoami",
        "-o",
        "jsonpath={.status.userInfo.username}",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "system:bootstrap:abcdef");
    let out = as_token(&[
        "auth",
        "can-i",
        "get",
        "configmaps/cluster-info",
        "-n",
        "kube-public",
    ]);
    // kubeadm binds the cluster-info Role to system:anonymous only: a
    // bootstrap token is refused, as the real apiserver refuses it.
    assert_eq!(
        (out.status.code(), text(&out.stdout)),
        (Some(1), "no\n".to_string()),
        "{}",
        text(&out.stderr)
    );
    let out = as_token(&["auth", "can-i", "list", "secrets", "-n", "kube-system"]);
    assert_eq!(
        (out.status.code(), text(&out.stdout)),
        (Some(1), "no\n".to_string()),
        "{}",
        text(&out.stderr)
    );
    let out = as_token(&["get", "secrets", "-n", "kube-system"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "Error from server (Forbidden): secrets is forbidden: User \"system:bootstrap:abcdef\" cannot list resource \"secrets\" in API group \"\" in the namespace \"kube-system\"\n"
    );
}

#[test]
fn kubectl_applies_manifests_client_and_server_side() {
    require_kubectl!();
    let cluster = TestCluster::start();
    let manifest = cluster.dir().join("cm.yaml");
    let write = |value: &str| {
        std::fs::write(
            &manifest,
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\n  namespace: default\ndata:\n  a: \"{value}\"\n"),
        )
        .expect("write manifest")
    };
    let path = manifest.to_str().expect("utf-8 path");
    write("1");
    let out = kubectl(&cluster, &["create", "-f", path]);
    assert_eq!(
        text(&out.stdout),
        "configmap/applied created\n",
        "{}",
        text(&out.stderr)
    );
    write("2");
    let out = kubectl(&cluster, &["apply", "-f", path]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "configmap/applied configured\n");
    write("3");
    let out = kubectl(
        &cluster,
        &["apply", "--server-side", "--force-conflicts", "-f", path],
    );
    assert_eq!(
        text(&out.stdout),
        "configmap/applied serverside-applied\n",
        "{}",
        text(&out.stderr)
    );
    let out = kubectl(
        &cluster,
        &["get", "configmap", "applied", "-o", "jsonpath={.data.a}"],
    );
    assert_eq!(text(&out.stdout), "3");
}
