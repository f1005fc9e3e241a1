//! Fault injection and the request log: what reliability tests lean on.

mod support;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams, PostParams};
use serde_json::json;
use support::TestCluster;
use tokensmith::devcluster::FaultConfig;

#[tokio::test]
async fn every_request_can_be_answered_500() {
    let cluster = TestCluster::start();
    let secrets: Api<Secret> = Api::namespaced(cluster.client().await, "default");
    cluster
        .set_faults(&FaultConfig {
            error_rate: 1.0,
            ..FaultConfig::none()
        })
        .await;
    let kube::Error::Api(s) = secrets.list(&ListParams::default()).await.expect_err("500") else {
        panic!("expected an API error")
    };
    assert_eq!((s.code, s.reason.as_str()), (500, "InternalError"));
    cluster.set_faults(&FaultConfig::none()).await;
    secrets
        .list(&ListParams::default())
        .await
        .expect("healthy again");
}

#[tokio::test]
async fn throttling_answers_429_with_retry_after() {
    let cluster = TestCluster::start();
    cluster
        .set_faults(&FaultConfig {
            throttle_rate: 1.0,
            retry_after_seconds: 7,
            ..FaultConfig::none()
        })
        .await;
    let r = cluster
        .admin("GET", "/api/v1/namespaces/default/secrets", None, "")
        .await;
    assert_eq!(r.status, 429);
    assert_eq!(
        r.headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("7")
    );
    assert_eq!(r.json()["reason"], "TooManyRequests");
    assert_eq!(r.json()["details"]["retryAfterSeconds"], 7);
}

#[tokio::test]
async fn a_dropped_connection_gets_no_answer() {
    let cluster = TestCluster::start();
    cluster
        .set_faults(&FaultConfig {
            drop_rate: 1.0,
            ..FaultConfig::none()
        })
        .await;
    let err = support::raw_request(
        &cluster.url(),
        &cluster.ca_pem(),
        "GET",
        "/api/v1/namespaces/default/secrets",
        Some(&cluster.admin_token()),
        None,
        bytes::Bytes::new(),
    )
    .await
    .expect_err("the connection is closed without a response");
    assert!(!format!("{err:#}").is_empty());
    // The admin endpoints are exempt, so a test can always turn faults off.
    cluster.set_faults(&FaultConfig::none()).await;
    let r = cluster
        .admin("GET", "/api/v1/namespaces/default/secrets", None, "")
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn faults_can_be_set_at_start() {
    let cluster = TestCluster::start_with(FaultConfig {
        error_rate: 1.0,
        ..FaultConfig::none()
    });
    let r = cluster.admin("GET", "/version", None, "").await;
    assert_eq!(r.status, 500);
    let r = cluster
        .admin("GET", "/tokensmith/v1/faults", None, "")
        .await;
    assert_eq!(r.json()["errorRate"], 1.0);
}

#[tokio::test]
async fn invalid_fault_settings_are_refused() {
    let cluster = TestCluster::start();
    let r = cluster
        .admin(
            "PUT",
            "/tokensmith/v1/faults",
            Some("application/json"),
            r#"{"dropRate": 2}"#,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = cluster
        .admin(
            "PUT",
            "/tokensmith/v1/faults",
            Some("application/json"),
            r#"{"nonsense": true}"#,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
}

#[tokio::test]
async fn the_request_log_counts_verbs_and_resets() {
    let cluster = TestCluster::start();
    let secrets: Api<Secret> = Api::namespaced(cluster.client().await, "default");
    cluster.reset_requests().await;
    let s: Secret = serde_json::from_value(json!({"metadata": {"name": "a"}})).expect("secret");
    secrets
        .create(&PostParams::default(), &s)
        .await
        .expect("create");
    secrets.get("a").await.expect("get");
    secrets.list(&ListParams::default()).await.expect("list");
    let log = cluster.requests().await;
    assert_eq!(log["counts"], json!({"create": 1, "get": 1, "list": 1}));
    let create = &log["items"][0];
    assert_eq!(create["verb"], "create");
    assert_eq!(create["resource"], "secrets");
    assert_eq!(create["namespace"], "default");
    assert_eq!(create["code"], 201);
    assert_eq!(create["user"], "kubernetes-admin");
    cluster.reset_requests().await;
    assert!(cluster.counts().await.is_empty());
}

#[test]
fn the_harness_works_from_a_plain_test() {
    let cluster = TestCluster::start();
    cluster.reset_requests_blocking();
    let r = cluster.raw_blocking(
        "GET",
        "/api/v1/namespaces",
        Some(&cluster.admin_token()),
        None,
        "",
    );
    assert_eq!(r.status, 200);
    assert_eq!(cluster.counts_blocking().get("list"), Some(&1));
}
