//! Who used which token, end to end against the dev cluster with the built
//! binary: rotations, rehearsal joins with the published command
//! (`dev-cluster join`), `token audit`, one-shot tokens
//! (`scripts/revoke_after_use.rhai`), and the CSR API as kubectl sees it.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{Value, json};
use support::TestCluster;
use support::join::{create_join_line, text, token_id_in};

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scripts")
        .join(name)
}

fn join(c: &TestCluster, cmd: &str, node: &str, timeout: &str) -> Output {
    support::join::join(c.tokensmith(), cmd, node, timeout)
}

fn audit(c: &TestCluster) -> Value {
    let out = c
        .tokensmith()
        .args(["token", "audit", "-o", "json"])
        .output()
        .expect("run token audit");
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("audit JSON")
}

fn usage<'a>(a: &'a Value, id: &str) -> &'a Value {
    a["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .find(|t| t["id"] == id)
        .unwrap_or_else(|| panic!("token {id} not in the audit: {a:#}"))
}

fn created_token(c: &TestCluster, extra: &[&str]) -> String {
    let out = c
        .tokensmith()
        .args(["token", "create", "--ttl", "1h"])
        .args(extra)
        .output()
        .expect("token create");
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).trim().to_string()
}

#[test]
fn rotate_then_three_joins_with_the_published_command_show_in_the_audit_exactly() {
    let c = TestCluster::start();
    let unused = created_token(&c, &[]);
    let unused_id = &unused[..6];
    let published = c.dir().join("join.sh");
    let rotated = c
        .tokensmith()
        .arg("run")
        .arg(script("rotate.rhai"))
        .args([
            "--arg",
            "name=workers",
            "--arg",
            "ttl=1h",
            "--arg",
            "verify=10s",
        ])
        .arg("--arg")
        .arg(format!("out={}", published.display()))
        .output()
        .expect("run rotate.rhai");
    assert!(rotated.status.success(), "{}", text(&rotated.stderr));
    let cmd = std::fs::read_to_string(&published).expect("published join command");
    let cmd = cmd.trim();
    let id = token_id_in(cmd);

    for node in ["node-a", "node-b", "node-c"] {
        let out = join(&c, cmd, node, "20s");
        assert!(out.status.success(), "join {node}: {}", text(&out.stderr));
        let said = text(&out.stdout);
        assert!(said.contains(&format!("Node {node} registered")), "{said}");
        assert!(
            !said.contains(&cmd[cmd.find("--token").unwrap_or(0)..]),
            "the secret is not echoed"
        );
    }

    let a = audit(&c);
    let t = usage(&a, &id);
    assert_eq!(t["exists"], true);
    assert_eq!(t["rotation"], "workers");
    let csrs = t["csrs"].as_array().expect("csrs");
    assert_eq!(csrs.len(), 3, "{a:#}");
    let nodes: BTreeSet<&str> = csrs.iter().filter_map(|c| c["node"].as_str()).collect();
    assert_eq!(nodes, BTreeSet::from(["node-a", "node-b", "node-c"]));
    assert!(csrs.iter().all(|c| c["state"] == "Approved"), "{a:#}");
    assert_eq!(t["nodes"], json!(["node-a", "node-b", "node-c"]));
    // Exactly those: no other token has a use, and the unused one is listed.
    for other in a["tokens"].as_array().expect("tokens") {
        if other["id"] != id.as_str() {
            assert_eq!(other["csrs"], json!([]), "{a:#}");
        }
    }
    assert_eq!(a["neverUsed"], json!([unused_id]));
    assert_eq!(a["usedAfterSuperseded"], json!([]));

    let table = c
        .tokensmith()
        .args(["token", "audit"])
        .output()
        .expect("token audit");
    assert!(table.status.success());
    let table = text(&table.stdout);
    assert!(
        table.contains(&format!(
            "{unused_id}   present   0      <none>  never used"
        )),
        "{table}"
    );
    assert!(table.contains("node-a,node-b,node-c"), "{table}");
    let yaml = c
        .tokensmith()
        .args(["token", "audit", "-o", "yaml"])
        .output()
        .expect("token audit yaml");
    assert!(yaml.status.success());
    assert!(text(&yaml.stdout).contains("neverUsed:"));
    let bad = c
        .tokensmith()
        .args(["token", "audit", "-o", "wide"])
        .output()
        .expect("token audit wide");
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stderr).contains("allowed formats are: json,text,yaml"));

    // A second rotation supersedes the token; a join with the old command
    // still works while it exists and is reported.
    let again = c
        .tokensmith()
        .arg("run")
        .arg(script("rotate.rhai"))
        .args([
            "--arg",
            "name=workers",
            "--arg",
            "ttl=1h",
            "--arg",
            "keep=2",
        ])
        .arg("--arg")
        .arg(format!("out={}", published.display()))
        .output()
        .expect("second rotation");
    assert!(again.status.success(), "{}", text(&again.stderr));
    let late = join(&c, cmd, "node-late", "20s");
    assert!(late.status.success(), "{}", text(&late.stderr));
    let a = audit(&c);
    assert_eq!(a["usedAfterSuperseded"], json!([id]), "{a:#}");
}

#[test]
fn a_one_shot_token_is_gone_after_its_first_join_and_a_second_join_fails_discovery() {
    let c = TestCluster::start();
    let cmd = create_join_line(c.tokensmith());
    let id = token_id_in(&cmd);
    let keep = created_token(&c, &[]);

    let first = join(&c, &cmd, "asg-node-1", "20s");
    assert!(first.status.success(), "{}", text(&first.stderr));

    let revoked = c
        .tokensmith()
        .arg("run")
        .arg(script("revoke_after_use.rhai"))
        .output()
        .expect("run revoke_after_use.rhai");
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    let said = text(&revoked.stdout);
    assert!(
        said.contains(&format!("deleted {id} after 1 use(s)")),
        "{said}"
    );
    assert!(said.contains("revoked 1 token(s)"), "{said}");

    let listed = c
        .tokensmith()
        .args(["token", "list"])
        .output()
        .expect("token list");
    let listed = text(&listed.stdout);
    assert!(!listed.contains(&id), "{listed}");
    assert!(
        listed.contains(&keep[..6]),
        "an unused token stays: {listed}"
    );

    let second = join(&c, &cmd, "asg-node-2", "2s");
    assert_eq!(second.status.code(), Some(1));
    let err = text(&second.stderr);
    assert!(
        err.contains(&format!(
            "couldn't validate the identity of the API Server: token id \"{id}\" is invalid for this cluster or it has expired"
        )),
        "{err}"
    );
    assert!(
        !err.contains(&cmd[cmd.find("--token").unwrap_or(0) + 8..][..23]),
        "no secret in: {err}"
    );

    let a = audit(&c);
    let t = usage(&a, &id);
    assert_eq!(t["exists"], false);
    assert_eq!(t["nodes"], json!(["asg-node-1"]));
}

#[test]
fn join_errors_are_kubeadms_and_bad_csrs_are_refused() {
    let c = TestCluster::start();
    let token = created_token(&c, &[]);
    let wrong_pin = format!(
        "kubeadm join {} --token {token} --discovery-token-ca-cert-hash sha256:{}",
        c.url().trim_start_matches("https://"),
        "0".repeat(64)
    );
    let out = join(&c, &wrong_pin, "n", "5s");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(
            "cluster CA found in cluster-info ConfigMap is invalid: none of the public keys"
        ),
        "{err}"
    );
    assert!(!err.contains(&token[7..]), "{err}");

    let out = join(
        &c,
        "kubeadm join h:1 --token abcdef.0123456789abcdef",
        "n",
        "5s",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("without caCertHashes can be unsafe"));

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        // A bootstrap token may create CSRs; a garbage request is invalid.
        let body = json!({
            "apiVersion": "certificates.k8s.io/v1",
            "kind": "CertificateSigningRequest",
            "metadata": {"name": "garbage"},
            "spec": {
                "request": "bm90IGEgY3Ny",
                "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
                "usages": ["client auth"]
            }
        });
        let r = c
            .raw(
                "POST",
                "/apis/certificates.k8s.io/v1/certificatesigningrequests",
                Some(&token),
                Some("application/json"),
                body.to_string(),
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains("spec.request"), "{}", r.body);
        // Anonymous may not list them; Nodes are not the bootstrapper's.
        let r = c
            .raw(
                "GET",
                "/apis/certificates.k8s.io/v1/certificatesigningrequests",
                None,
                None,
                "",
            )
            .await;
        assert_eq!(r.status, 403, "{}", r.body);
        let r = c.raw("GET", "/api/v1/nodes", Some(&token), None, "").await;
        assert_eq!(r.status, 403, "{}", r.body);
    });
}

fn kubectl(c: &TestCluster, args: &[&str]) -> Option<Output> {
    std::process::Command::new("kubectl")
        .args(args)
        .env("KUBECONFIG", c.kubeconfig_path())
        .env("HOME", c.dir())
        .env_remove("KUBECTL_KUBERC")
        .output()
        .ok()
}

#[test]
fn kubectl_lists_approves_and_denies_csrs() {
    let c = TestCluster::start();
    if kubectl(&c, &["version", "--client"]).is_none_or(|o| !o.status.success()) {
        eprintln!("NOTICE: kubectl not found on PATH; skipping the kubectl CSR test");
        return;
    }
    let out = c
        .tokensmith()
        .args(["token", "create", "--ttl", "1h", "--print-join-command"])
        .output()
        .expect("token create");
    let cmd = text(&out.stdout).trim().to_string();
    let joined = join(&c, &cmd, "kubectl-node", "20s");
    assert!(joined.status.success(), "{}", text(&joined.stderr));

    let got = kubectl(&c, &["get", "csr"]).expect("kubectl get csr");
    assert!(got.status.success(), "{}", text(&got.stderr));
    let table = text(&got.stdout);
    assert!(
        table.contains("kubernetes.io/kube-apiserver-client-kubelet"),
        "{table}"
    );
    assert!(table.contains("Approved"), "{table}");
    let nodes = kubectl(&c, &["get", "nodes", "-o", "name"]).expect("kubectl get nodes");
    assert_eq!(text(&nodes.stdout).trim(), "node/kubectl-node");

    // An admin's CSR is not a bootstrapper's: it stays Pending until kubectl
    // decides, and the audit ignores it.
    let pem = tokensmith::token::csr::kubelet_client_request("by-hand").expect("csr");
    let manifest = c.dir().join("csr.json");
    let doc = json!({
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": "by-hand"},
        "spec": {
            "request": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, pem),
            "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
            "usages": ["digital signature", "client auth"]
        }
    });
    std::fs::write(&manifest, doc.to_string()).expect("write manifest");
    let created = kubectl(&c, &["create", "-f", &manifest.display().to_string()]).expect("create");
    assert!(created.status.success(), "{}", text(&created.stderr));
    let pending = kubectl(&c, &["get", "csr", "by-hand"]).expect("get");
    assert!(
        text(&pending.stdout).contains("Pending"),
        "{}",
        text(&pending.stdout)
    );
    let denied = kubectl(&c, &["certificate", "deny", "by-hand"]).expect("deny");
    assert!(denied.status.success(), "{}", text(&denied.stderr));
    let after = kubectl(
        &c,
        &[
            "get",
            "csr",
            "by-hand",
            "-o",
            "jsonpath={.status.conditions[0].type}",
        ],
    )
    .expect("get");
    assert_eq!(text(&after.stdout), "Denied");
    let approve = kubectl(&c, &["certificate", "approve", "by-hand"]).expect("approve");
    assert!(!approve.status.success(), "approving a denied CSR fails");
    let a = audit(&c);
    assert!(
        a["tokens"]
            .as_array()
            .expect("tokens")
            .iter()
            .all(|t| t["csrs"]
                .as_array()
                .is_some_and(|c| c.iter().all(|c| c["name"] != "by-hand"))),
        "{a:#}"
    );
}

#[test]
fn the_rehearsal_registers_the_node_with_its_issued_certificate_and_no_kubeconfig() {
    let c = TestCluster::start();
    let line = create_join_line(c.tokensmith());
    c.reset_requests_blocking();
    // A sandbox without a kubeconfig: the join line is all the join has.
    let out = support::join::join(support::tokensmith(), &line, "cert-node", "20s");
    assert!(out.status.success(), "{}", text(&out.stderr));

    let log = c.requests_blocking();
    let creates: Vec<&Value> = log["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|r| r["verb"] == "create" && r["resource"] == "nodes")
        .collect();
    assert_eq!(creates.len(), 1, "{log:#}");
    assert_eq!(creates[0]["user"], "system:node:cert-node", "{log:#}");
    assert_eq!(creates[0]["code"], 201, "{log:#}");

    // The CSR carries the certificate the signer issued for its subject.
    let csrs = c
        .raw_blocking(
            "GET",
            "/apis/certificates.k8s.io/v1/certificatesigningrequests",
            Some(&c.admin_token()),
            None,
            "",
        )
        .json();
    let cert = csrs["items"][0]["status"]["certificate"]
        .as_str()
        .expect("status.certificate");
    use base64::Engine;
    let pem = base64::engine::general_purpose::STANDARD
        .decode(cert)
        .expect("base64");
    let pem = String::from_utf8(pem).expect("utf-8");
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let der = CertificateDer::from_pem_slice(pem.as_bytes()).expect("a PEM certificate");
    let (cn, orgs) = tokensmith::token::csr::certificate_subject(&der).expect("subject");
    assert_eq!(cn.as_deref(), Some("system:node:cert-node"));
    assert_eq!(orgs, ["system:nodes"]);
}

#[tokio::test]
async fn a_node_certificate_may_register_and_read_only_its_own_node() {
    use k8s_openapi::api::core::v1::{Node, Secret};
    use kube::api::{Api, ObjectMeta, PostParams};
    use tokensmith::cluster::bootstrap;

    let c = TestCluster::start();
    let line = create_join_line(c.tokensmith());
    let req = bootstrap::parse_join_line(&line).expect("join line");
    let timeout = std::time::Duration::from_secs(20);
    let ca = bootstrap::discover(&req, timeout).await.expect("discovery");
    let as_bootstrap = bootstrap::bootstrap_client(&req.join, &ca)
        .await
        .expect("bootstrap client");
    let cert = bootstrap::request_client_certificate(as_bootstrap, "own", timeout)
        .await
        .expect("an issued certificate");
    let as_node = bootstrap::node_client(&req.join, &ca, &cert)
        .await
        .expect("node client");

    let nodes: Api<Node> = Api::all(as_node.clone());
    let node = |name: &str| Node {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..ObjectMeta::default()
        },
        ..Node::default()
    };
    nodes
        .create(&PostParams::default(), &node("own"))
        .await
        .expect("its own Node");
    nodes.get("own").await.expect("get its own Node");
    fn code<T>(r: Result<T, kube::Error>) -> u16 {
        match r {
            Err(kube::Error::Api(s)) => s.code,
            other => panic!("expected an API error, got {:?}", other.map(|_| ())),
        }
    }
    assert_eq!(
        code(nodes.create(&PostParams::default(), &node("other")).await),
        403
    );
    let admin: Api<Node> = Api::all(c.client().await);
    admin
        .create(&PostParams::default(), &node("other"))
        .await
        .expect("admin creates another Node");
    assert_eq!(code(nodes.get("other").await), 403);
    let secrets: Api<Secret> = Api::namespaced(as_node, "kube-system");
    assert_eq!(code(secrets.list(&Default::default()).await), 403);
}
