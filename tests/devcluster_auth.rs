//! Authentication and authorization: the admin token, anonymous, and
//! bootstrap tokens checked as kube-apiserver's bootstrap-token
//! authenticator checks them (spec §12).

mod support;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, ListParams, PostParams};
use serde_json::{Value, json};
use support::TestCluster;

const TOKEN: &str = "abcdef.0123456789abcdef";

/// A token Secret as kubeadm writes it, with `data` overrides (None removes a key).
async fn put_token_secret(cluster: &TestCluster, overrides: &[(&str, Option<&str>)]) {
    let mut data = serde_json::Map::new();
    for (k, v) in [
        ("token-id", "abcdef"),
        ("token-secret", "0123456789abcdef"),
        ("usage-bootstrap-authentication", "true"),
        ("usage-bootstrap-signing", "true"),
        (
            "auth-extra-groups",
            "system:bootstrappers:kubeadm:default-node-token",
        ),
    ] {
        data.insert(k.into(), json!(v));
    }
    for (k, v) in overrides {
        match v {
            Some(v) => data.insert((*k).into(), json!(v)),
            None => data.remove(*k),
        };
    }
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "bootstrap-token-abcdef", "namespace": "kube-system"},
        "type": "bootstrap.kubernetes.io/token",
        "stringData": data,
    }))
    .expect("secret");
    let api: Api<Secret> = Api::namespaced(cluster.client().await, "kube-system");
    api.create(&PostParams::default(), &secret)
        .await
        .expect("create token secret");
}

async fn whoami(cluster: &TestCluster, token: &str) -> (u16, Value) {
    let r = cluster
        .raw(
            "POST",
            "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            Some(token),
            Some("application/json"),
            r#"{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}"#,
        )
        .await;
    (r.status, r.json())
}

#[tokio::test]
async fn the_admin_token_may_do_everything() {
    let cluster = TestCluster::start();
    let secrets: Api<Secret> = Api::namespaced(cluster.client().await, "kube-system");
    secrets
        .list(&ListParams::default())
        .await
        .expect("admin lists secrets");
    let (code, review) = whoami(&cluster, &cluster.admin_token()).await;
    assert_eq!(code, 201);
    assert_eq!(review["status"]["userInfo"]["username"], "kubernetes-admin");
}

#[tokio::test]
async fn anonymous_may_read_cluster_info_and_nothing_else() {
    let cluster = TestCluster::start();
    let anon = cluster.client_with_token(None).await;
    let cms: Api<ConfigMap> = Api::namespaced(anon.clone(), "kube-public");
    let ci = cms
        .get("cluster-info")
        .await
        .expect("anonymous reads cluster-info");
    let kubeconfig = &ci.data.expect("data")["kubeconfig"];
    assert!(
        kubeconfig.contains(&format!("server: {}", cluster.url())),
        "{kubeconfig}"
    );
    assert!(kubeconfig.contains("name: \"\""), "{kubeconfig}");

    let secrets: Api<Secret> = Api::namespaced(anon, "kube-system");
    let err = secrets
        .list(&ListParams::default())
        .await
        .expect_err("forbidden");
    let kube::Error::Api(status) = err else {
        panic!("{err:?}")
    };
    assert_eq!((status.code, status.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        status.message,
        "secrets is forbidden: User \"system:anonymous\" cannot list resource \"secrets\" in API group \"\" in the namespace \"kube-system\""
    );
    let r = cluster
        .raw(
            "GET",
            "/api/v1/namespaces/kube-public/configmaps",
            None,
            None,
            "",
        )
        .await;
    assert_eq!(
        r.status, 403,
        "listing configmaps is not getting cluster-info"
    );
    let r = cluster.raw("GET", "/version", None, None, "").await;
    assert_eq!(r.status, 200, "/version is public");
}

#[tokio::test]
async fn unknown_credentials_are_unauthorized_with_a_status() {
    let cluster = TestCluster::start();
    for token in [
        "garbage",
        "abcdef.0123456789abcdef",
        "ABCDEF.0123456789abcdef",
    ] {
        let r = cluster
            .raw(
                "GET",
                "/api/v1/namespaces/kube-public/configmaps/cluster-info",
                Some(token),
                None,
                "",
            )
            .await;
        assert_eq!(r.status, 401, "token {token:?}");
        assert_eq!(
            r.json(),
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                   "message": "Unauthorized", "reason": "Unauthorized", "code": 401})
        );
    }
}

#[tokio::test]
async fn a_valid_bootstrap_token_authenticates_with_sorted_deduplicated_groups() {
    let cluster = TestCluster::start();
    put_token_secret(
        &cluster,
        &[(
            "auth-extra-groups",
            Some("system:bootstrappers:z,system:bootstrappers:kubeadm:default-node-token,system:bootstrappers:z"),
        )],
    )
    .await;
    let (code, review) = whoami(&cluster, TOKEN).await;
    assert_eq!(code, 201, "{review}");
    assert_eq!(
        review["status"]["userInfo"]["username"],
        "system:bootstrap:abcdef"
    );
    assert_eq!(
        review["status"]["userInfo"]["groups"],
        json!([
            "system:bootstrappers",
            "system:bootstrappers:kubeadm:default-node-token",
            "system:bootstrappers:z",
            "system:authenticated"
        ])
    );
    let client = cluster.client_with_token(Some(TOKEN)).await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "kube-public");
    // kubeadm binds cluster-info's Role to system:anonymous only.
    let kube::Error::Api(status) = cms.get("cluster-info").await.expect_err("forbidden") else {
        panic!("expected an API error")
    };
    assert_eq!(
        status.message,
        "configmaps \"cluster-info\" is forbidden: User \"system:bootstrap:abcdef\" cannot get resource \"configmaps\" in API group \"\" in the namespace \"kube-public\""
    );
    let secrets: Api<Secret> = Api::namespaced(client, "kube-system");
    let kube::Error::Api(status) = secrets
        .get("bootstrap-token-abcdef")
        .await
        .expect_err("forbidden")
    else {
        panic!("expected an API error")
    };
    assert_eq!(
        status.message,
        "secrets \"bootstrap-token-abcdef\" is forbidden: User \"system:bootstrap:abcdef\" cannot get resource \"secrets\" in API group \"\" in the namespace \"kube-system\""
    );
}

/// Each check of the authenticator, in turn, turns the token away with 401.
#[tokio::test]
async fn every_authenticator_check_rejects() {
    type DataOverrides = &'static [(&'static str, Option<&'static str>)];
    let cases: &[(&str, DataOverrides)] = &[
        (
            "wrong secret",
            &[("token-secret", Some("ffffffffffffffff"))],
        ),
        ("missing secret", &[("token-secret", None)]),
        ("id disagrees", &[("token-id", Some("zzzzzz"))]),
        ("expired", &[("expiration", Some("2000-01-01T00:00:00Z"))]),
        ("unparsable expiration", &[("expiration", Some("tomorrow"))]),
        (
            "no authentication usage",
            &[("usage-bootstrap-authentication", None)],
        ),
        (
            "usage not exactly true",
            &[("usage-bootstrap-authentication", Some("True"))],
        ),
        (
            "invalid extra group",
            &[("auth-extra-groups", Some("system:masters"))],
        ),
    ];
    for (why, overrides) in cases {
        let cluster = TestCluster::start();
        put_token_secret(&cluster, overrides).await;
        let r = cluster
            .raw(
                "GET",
                "/api/v1/namespaces/kube-public/configmaps/cluster-info",
                Some(TOKEN),
                None,
                "",
            )
            .await;
        assert_eq!(r.status, 401, "{why}: {}", r.body);
    }
}

#[tokio::test]
async fn a_future_expiration_still_authenticates() {
    let cluster = TestCluster::start();
    put_token_secret(&cluster, &[("expiration", Some("2999-01-01T00:00:00Z"))]).await;
    let (code, _) = whoami(&cluster, TOKEN).await;
    assert_eq!(code, 201);
}

#[tokio::test]
async fn a_secret_of_another_type_is_not_a_token() {
    let cluster = TestCluster::start();
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "bootstrap-token-abcdef"},
        "type": "Opaque",
        "stringData": {"token-id": "abcdef", "token-secret": "0123456789abcdef", "usage-bootstrap-authentication": "true"},
    }))
    .expect("secret");
    let api: Api<Secret> = Api::namespaced(cluster.client().await, "kube-system");
    api.create(&PostParams::default(), &secret)
        .await
        .expect("create");
    let (code, _) = whoami(&cluster, TOKEN).await;
    assert_eq!(code, 401);
}

#[tokio::test]
async fn the_admin_endpoints_are_admin_only() {
    let cluster = TestCluster::start();
    put_token_secret(&cluster, &[]).await;
    for token in [None, Some(TOKEN)] {
        let r = cluster
            .raw("GET", "/tokensmith/v1/requests", token, None, "")
            .await;
        assert_eq!(r.status, 403, "{token:?}: {}", r.body);
        let r = cluster
            .raw(
                "PUT",
                "/tokensmith/v1/faults",
                token,
                Some("application/json"),
                r#"{"errorRate": 1}"#,
            )
            .await;
        assert_eq!(r.status, 403);
    }
    // Faults were not changed by the refused request.
    let r = cluster
        .admin("GET", "/tokensmith/v1/faults", None, "")
        .await;
    assert_eq!(r.json()["errorRate"], 0.0);
}
