//! What the rotation tests share: the loopback webhook receiver, running
//! `scripts/rotate.rhai` with the built binary, and the rotation invariants
//! checked against the dev cluster.
#![allow(dead_code)] // each test binary uses a different part

pub mod receiver;

use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;
use tokensmith::cluster::verify::verify_join;
use tokensmith::cluster::{Cluster, ConnectOptions, StoredToken};
use tokensmith::devcluster::FaultConfig;
use tokensmith::rotation::{PUBLISHED_LABEL, ROTATION_LABEL};
use tokensmith::token::BootstrapTokenString;

use crate::support::upstream::{ClusterUnderTest, client_from};

pub fn rotate_rhai() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/rotate.rhai")
}

/// API faults of every kind the dev cluster injects, at rates where most
/// runs need retries and nearly all retried calls get through.
pub fn rough_weather() -> FaultConfig {
    FaultConfig {
        error_rate: 0.1,
        throttle_rate: 0.08,
        retry_after_seconds: 0,
        drop_rate: 0.04,
        latency_ms: 5,
    }
}

pub async fn connect(c: &impl ClusterUnderTest) -> Cluster {
    Cluster::connect(&ConnectOptions {
        kubeconfig: Some(c.kubeconfig_path().to_path_buf()),
        ..ConnectOptions::default()
    })
    .await
    .expect("connect to the cluster")
}

pub async fn rotation_tokens(cluster: &Cluster, rotation: &str) -> Vec<StoredToken> {
    cluster
        .tokens()
        .list_selected(Some(&format!("{ROTATION_LABEL}={rotation}")))
        .await
        .expect("list the rotation's tokens")
        .into_iter()
        .map(|r| r.expect("a readable token Secret"))
        .collect()
}

pub fn is_published(t: &StoredToken) -> bool {
    t.labels.get(PUBLISHED_LABEL).map(String::as_str) == Some("true")
}

/// The token of a complete join command, or why the text is not one.
pub fn complete_join_command(text: &str) -> Result<BootstrapTokenString, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let after = |flag: &str| {
        words
            .iter()
            .position(|w| *w == flag)
            .and_then(|i| words.get(i + 1))
            .copied()
    };
    let hash = after("--discovery-token-ca-cert-hash").unwrap_or_default();
    let complete = text.starts_with("kubeadm join ")
        && words.len() >= 6
        && hash.len() == "sha256:".len() + 64
        && hash.starts_with("sha256:")
        && hash[7..].bytes().all(|b| b.is_ascii_hexdigit());
    if !complete {
        return Err(format!("not a complete join command: {text:?}"));
    }
    let token = after("--token").ok_or_else(|| format!("no --token in {text:?}"))?;
    BootstrapTokenString::parse(token).map_err(|e| format!("bad token in {text:?}: {e}"))
}

/// True when cluster-info carries the bootstrapsigner's signature for `id`.
pub async fn signed(c: &impl ClusterUnderTest, id: &str) -> bool {
    let cms: Api<ConfigMap> =
        Api::namespaced(client_from(c.kubeconfig_path()).await, "kube-public");
    let cm = cms.get("cluster-info").await.expect("read cluster-info");
    cm.data
        .unwrap_or_default()
        .contains_key(&format!("jws-kubeconfig-{id}"))
}

/// What holds at every moment, even right after a crash: the file sink
/// holds a complete join command for a live token, and a token marked
/// published exists that is signed and passes kubeadm join's checks.
/// Returns the rotation's tokens and the file's token.
pub async fn check_safe(
    c: &impl ClusterUnderTest,
    cluster: &Cluster,
    rotation: &str,
    file: &Path,
    when: &str,
) -> (Vec<StoredToken>, BootstrapTokenString) {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| {
        panic!(
            "{when}: the file sink {} is unreadable: {e}",
            file.display()
        )
    });
    let in_file = complete_join_command(&text).unwrap_or_else(|e| panic!("{when}: {e}"));
    let tokens = rotation_tokens(cluster, rotation).await;
    assert!(
        tokens.iter().any(|t| t.token.token == in_file),
        "{when}: the file sink holds {in_file}, which is not a live token of rotation {rotation}"
    );
    let mut good = None;
    for t in tokens.iter().filter(|t| is_published(t)) {
        let id = t.token.token.id().as_str().to_owned();
        if !signed(c, &id).await {
            continue;
        }
        let join = cluster
            .join_command(&t.token.token, None)
            .expect("join command");
        if verify_join(cluster, &join, Some(Duration::from_secs(5)))
            .await
            .is_ok()
        {
            good = Some(id);
            break;
        }
    }
    assert!(
        good.is_some(),
        "{when}: no published token is signed and valid: {:?}",
        tokens
            .iter()
            .map(|t| (t.token.token.id().to_string(), t.labels.clone()))
            .collect::<Vec<_>>()
    );
    (tokens, in_file)
}

/// What holds after a run that finished (whether it succeeded or rolled
/// back): [`check_safe`], and no live token of the rotation is unmarked.
pub async fn check_finished(
    c: &impl ClusterUnderTest,
    cluster: &Cluster,
    rotation: &str,
    file: &Path,
    when: &str,
) -> (Vec<StoredToken>, BootstrapTokenString) {
    let (tokens, in_file) = check_safe(c, cluster, rotation, file, when).await;
    for t in &tokens {
        assert!(
            is_published(t),
            "{when}: the live token {} was never marked published",
            t.token.token
        );
    }
    let marked = tokens
        .iter()
        .find(|t| t.token.token == in_file)
        .is_some_and(is_published);
    assert!(
        marked,
        "{when}: the file's token {in_file} is not marked published"
    );
    (tokens, in_file)
}
