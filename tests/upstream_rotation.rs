//! The upstream tier, rotation: `scripts/rotate.rhai` on a real kube-apiserver,
//! publishing to a file, a Secret and a ConfigMap, with `join::verify` waiting
//! on the real bootstrapsigner. The invariants are the dev-cluster rotation
//! tests' own (`rotation_support::check_finished`).
//!
//! Run with `bash tests/upstream/run.sh` (ignored by the hermetic `cargo test`).

mod rotation_support;
mod support;

use std::process::Output;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::Api;
use rotation_support::{check_finished, connect, rotate_rhai};
use support::upstream::UpstreamCluster;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
#[ignore = "upstream tier: bash tests/upstream/run.sh"]
fn rotate_rhai_publishes_to_secret_configmap_and_file_on_a_real_apiserver() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let c = UpstreamCluster::start();
    let cluster = rt.block_on(connect(&c));
    let file = c.dir().join("join.sh");
    let run = || -> Output {
        c.tokensmith()
            .arg("run")
            .arg(rotate_rhai())
            .args([
                "--arg",
                "name=nightly",
                "--arg",
                "ttl=1h",
                "--arg",
                "verify=30s",
                "--arg",
                "secret=kube-system/join-command",
                "--arg",
                "configmap=kube-public/join-command",
            ])
            .arg("--arg")
            .arg(format!("out={}", file.display()))
            .output()
            .expect("run rotate.rhai")
    };
    let published = || {
        rt.block_on(async {
            let client = c.client().await;
            let s: Api<Secret> = Api::namespaced(client.clone(), "kube-system");
            let cm: Api<ConfigMap> = Api::namespaced(client, "kube-public");
            let s = s.get("join-command").await.expect("the Secret sink");
            let cm = cm.get("join-command").await.expect("the ConfigMap sink");
            let in_secret = s
                .data
                .and_then(|d| d.get("join-command").map(|v| text(&v.0)))
                .expect("key join-command in the Secret");
            let in_cm = cm
                .data
                .and_then(|d| d.get("join-command").cloned())
                .expect("key join-command in the ConfigMap");
            (in_secret, in_cm)
        })
    };

    let mut previous = None;
    for when in ["first run", "second run"] {
        let out = run();
        assert!(
            out.status.success(),
            "{when}: {}\n{}",
            text(&out.stderr),
            c.logs()
        );
        let (tokens, in_file) = rt.block_on(check_finished(&c, &cluster, "nightly", &file, when));
        assert_eq!(tokens.len(), 1, "{when}: keep=1 leaves one token");
        let file_text = std::fs::read_to_string(&file).expect("file sink");
        let (in_secret, in_cm) = published();
        // A published file ends with a newline; the Secret and ConfigMap
        // values hold the command alone.
        assert_eq!(
            format!("{in_secret}\n"),
            file_text,
            "{when}: Secret and file differ"
        );
        assert_eq!(
            format!("{in_cm}\n"),
            file_text,
            "{when}: ConfigMap and file differ"
        );
        assert_ne!(previous.as_ref(), Some(&in_file), "{when}: not rotated");
        // The published command is what real kubeadm prints for that token.
        let theirs = c
            .kubeadm()
            .args([
                "token",
                "create",
                "--print-join-command",
                "zzzzzz.0123456789abcdef",
            ])
            .output()
            .expect("kubeadm runs");
        assert!(theirs.status.success(), "{}", text(&theirs.stderr));
        let words = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(
            words(&text(&theirs.stdout).replace("zzzzzz.0123456789abcdef", &in_file.expose())),
            words(&file_text),
            "{when}"
        );
        let del = c
            .kubeadm()
            .args(["token", "delete", "zzzzzz"])
            .output()
            .unwrap();
        assert!(del.status.success(), "{}", text(&del.stderr));
        previous = Some(in_file);
    }
}
