//! The bootstrapsigner and tokencleaner controllers running inside the dev
//! cluster (spec §10–11), observed through the API as a user would.

mod support;

use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::json;
use support::TestCluster;
use tokensmith::token::jws::detached_signature;

/// Polls `check` until it holds; the cap only keeps a broken build from
/// hanging, it is not what the test asserts.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..400 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("never happened: {what}");
}

async fn create_token(secrets: &Api<Secret>, id: &str, extra: serde_json::Value) -> Secret {
    let mut data = json!({"token-id": id, "token-secret": "0123456789abcdef", "usage-bootstrap-signing": "true"});
    if let (Some(d), Some(e)) = (data.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            d.insert(k.clone(), v.clone());
        }
    }
    let s: Secret = serde_json::from_value(json!({
        "metadata": {"name": format!("bootstrap-token-{id}")},
        "type": "bootstrap.kubernetes.io/token",
        "stringData": data,
    }))
    .expect("secret");
    secrets
        .create(&PostParams::default(), &s)
        .await
        .expect("create token secret")
}

fn jws_keys(cm: &ConfigMap) -> Vec<String> {
    cm.data
        .as_ref()
        .map(|d| {
            d.keys()
                .filter(|k| k.starts_with("jws-kubeconfig-"))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn the_signer_signs_signing_tokens_and_unsigns_deleted_ones() {
    let cluster = TestCluster::start();
    let client = cluster.client().await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "kube-system");
    let cms: Api<ConfigMap> = Api::namespaced(client, "kube-public");

    create_token(&secrets, "abcdef", json!({})).await;
    create_token(
        &secrets,
        "noauth",
        json!({"usage-bootstrap-signing": "false"}),
    )
    .await;
    eventually("cluster-info signed for abcdef", || async {
        cms.get("cluster-info")
            .await
            .map(|cm| jws_keys(&cm) == ["jws-kubeconfig-abcdef"])
            .unwrap_or(false)
    })
    .await;
    let cm = cms.get("cluster-info").await.expect("cluster-info");
    let data = cm.data.expect("data");
    assert_eq!(
        data["jws-kubeconfig-abcdef"],
        detached_signature(&data["kubeconfig"], "abcdef", "0123456789abcdef"),
        "a detached HS256 JWS over the kubeconfig, keyed by the token secret"
    );

    secrets
        .delete("bootstrap-token-abcdef", &DeleteParams::default())
        .await
        .expect("delete");
    eventually("signature removed", || async {
        cms.get("cluster-info")
            .await
            .map(|cm| jws_keys(&cm).is_empty())
            .unwrap_or(false)
    })
    .await;
}

#[tokio::test]
async fn the_cleaner_deletes_expired_and_unparsable_tokens_only() {
    let cluster = TestCluster::start();
    let secrets: Api<Secret> = Api::namespaced(cluster.client().await, "kube-system");
    create_token(
        &secrets,
        "expird",
        json!({"expiration": "2001-01-01T00:00:00Z"}),
    )
    .await;
    create_token(&secrets, "garbge", json!({"expiration": "not a time"})).await;
    create_token(
        &secrets,
        "future",
        json!({"expiration": "2999-01-01T00:00:00Z"}),
    )
    .await;
    create_token(&secrets, "forevr", json!({})).await;
    eventually("expired tokens deleted", || async {
        let names: Vec<String> = secrets
            .list(&Default::default())
            .await
            .map(|l| {
                l.items
                    .into_iter()
                    .filter_map(|s| s.metadata.name)
                    .collect()
            })
            .unwrap_or_default();
        names == ["bootstrap-token-forevr", "bootstrap-token-future"]
    })
    .await;
}

#[tokio::test]
async fn a_token_is_cleaned_up_when_its_time_comes() {
    let cluster = TestCluster::start();
    let client = cluster.client().await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "kube-system");
    let cms: Api<ConfigMap> = Api::namespaced(client, "kube-public");
    let soon = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(2);
    let expiration = soon.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    create_token(&secrets, "shortl", json!({"expiration": expiration})).await;
    eventually("signed while valid", || async {
        cms.get("cluster-info")
            .await
            .map(|cm| !jws_keys(&cm).is_empty())
            .unwrap_or(false)
    })
    .await;
    eventually("deleted at expiry and unsigned", || async {
        let gone = secrets
            .get_opt("bootstrap-token-shortl")
            .await
            .map(|s| s.is_none())
            .unwrap_or(false);
        let unsigned = cms
            .get("cluster-info")
            .await
            .map(|cm| jws_keys(&cm).is_empty())
            .unwrap_or(false);
        gone && unsigned
    })
    .await;
}

#[tokio::test]
async fn the_controllers_do_not_show_up_in_the_request_log() {
    let cluster = TestCluster::start();
    let secrets: Api<Secret> = Api::namespaced(cluster.client().await, "kube-system");
    cluster.reset_requests().await;
    create_token(
        &secrets,
        "abcdef",
        json!({"expiration": "2001-01-01T00:00:00Z"}),
    )
    .await;
    eventually("expired token cleaned", || async {
        secrets
            .get_opt("bootstrap-token-abcdef")
            .await
            .map(|s| s.is_none())
            .unwrap_or(false)
    })
    .await;
    let counts = cluster.counts().await;
    assert_eq!(counts.get("create"), Some(&1));
    assert_eq!(
        counts.get("delete"),
        None,
        "the cleaner's delete is internal: {counts:?}"
    );
}
