//! Bad input answered as kube-apiserver answers it, never with a panic.

mod support;

use serde_json::json;
use support::TestCluster;

const SECRETS: &str = "/api/v1/namespaces/default/secrets";

#[tokio::test]
async fn malformed_json_is_a_bad_request() {
    let cluster = TestCluster::start();
    let r = cluster
        .admin("POST", SECRETS, Some("application/json"), "{not json")
        .await;
    assert_eq!(r.status, 400);
    let s = r.json();
    assert_eq!(s["reason"], "BadRequest");
    assert!(
        s["message"].as_str().unwrap_or("").starts_with(
            "the object provided is unrecognized (must be of type Secret): couldn't get version/kind; json parse error:"
        ),
        "{s}"
    );
}

#[tokio::test]
async fn a_wrong_kind_is_a_bad_request() {
    let cluster = TestCluster::start();
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}});
    let r = cluster
        .admin("POST", SECRETS, Some("application/json"), body.to_string())
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("ConfigMap in version \"v1\" cannot be handled as a Secret"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn non_base64_secret_data_is_a_bad_request() {
    let cluster = TestCluster::start();
    let body = json!({"metadata": {"name": "x"}, "data": {"k": "not base64!"}});
    let r = cluster
        .admin("POST", SECRETS, Some("application/json"), body.to_string())
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["message"],
        "Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data at input byte 3"
    );
}

#[tokio::test]
async fn invalid_names_and_keys_are_invalid_with_causes() {
    let cluster = TestCluster::start();
    let body = json!({"metadata": {"name": "Not_Valid"}, "data": {"bad key": "eA=="}});
    let r = cluster
        .admin("POST", SECRETS, Some("application/json"), body.to_string())
        .await;
    assert_eq!(r.status, 422);
    let s = r.json();
    assert_eq!(s["reason"], "Invalid");
    assert_eq!(s["details"]["name"], "Not_Valid");
    assert_eq!(s["details"]["kind"], "Secret");
    let fields: Vec<&str> = s["details"]["causes"]
        .as_array()
        .expect("causes")
        .iter()
        .filter_map(|c| c["field"].as_str())
        .collect();
    assert_eq!(fields, ["metadata.name", "data[bad key]"]);
    assert!(
        s["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("Secret \"Not_Valid\" is invalid: ["),
        "{s}"
    );

    let body = json!({"metadata": {}});
    let r = cluster
        .admin("POST", SECRETS, Some("application/json"), body.to_string())
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.json()["message"],
        "Secret \"\" is invalid: metadata.name: Required value: name or generateName is required"
    );
}

#[tokio::test]
async fn generate_name_makes_a_name() {
    let cluster = TestCluster::start();
    let body = json!({"metadata": {"generateName": "gen-"}});
    let r = cluster
        .admin("POST", SECRETS, Some("application/json"), body.to_string())
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let name = r.json()["metadata"]["name"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(name.starts_with("gen-") && name.len() == 9, "{name}");
}

#[tokio::test]
async fn an_oversized_body_is_too_large() {
    let cluster = TestCluster::start();
    let big = vec![b' '; 3 * 1024 * 1024 + 1];
    let r = cluster
        .admin("POST", SECRETS, Some("application/json"), big)
        .await;
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["reason"], "RequestEntityTooLarge");
}

#[tokio::test]
async fn unknown_paths_and_resources_are_not_found() {
    let cluster = TestCluster::start();
    let r = cluster.admin("GET", "/no/such/path", None, "").await;
    assert_eq!((r.status, r.body.as_str()), (404, "404 page not found\n"));
    let r = cluster
        .admin("GET", "/api/v1/namespaces/default/pods", None, "")
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json()["message"],
        "the server could not find the requested resource"
    );
    let r = cluster
        .admin("GET", "/apis/apps/v1/deployments", None, "")
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn unsupported_verbs_are_method_not_allowed() {
    let cluster = TestCluster::start();
    let r = cluster
        .admin(
            "POST",
            "/api/v1/namespaces/default/secrets/x",
            Some("application/json"),
            "{}",
        )
        .await;
    assert_eq!(r.status, 405);
    assert_eq!(r.json()["reason"], "MethodNotAllowed");
    let r = cluster
        .admin("PUT", SECRETS, Some("application/json"), "{}")
        .await;
    assert_eq!(r.status, 405);
    let r = cluster.admin("DELETE", "/version", None, "").await;
    assert_eq!(r.status, 405);
}

#[tokio::test]
async fn an_update_must_name_the_object_in_the_url() {
    let cluster = TestCluster::start();
    let body = json!({"metadata": {"name": "a"}});
    cluster
        .admin("POST", SECRETS, Some("application/json"), body.to_string())
        .await;
    let r = cluster
        .admin(
            "PUT",
            &format!("{SECRETS}/b"),
            Some("application/json"),
            body.to_string(),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["message"],
        "the name of the object (a) does not match the name on the URL (b)"
    );
}

#[tokio::test]
async fn unknown_patch_types_and_bad_selectors_are_refused() {
    let cluster = TestCluster::start();
    let body = json!({"metadata": {"name": "a"}});
    cluster
        .admin("POST", SECRETS, Some("application/json"), body.to_string())
        .await;
    let r = cluster
        .admin("PATCH", &format!("{SECRETS}/a"), Some("text/plain"), "{}")
        .await;
    assert_eq!(r.status, 415);
    let r = cluster
        .admin(
            "GET",
            &format!("{SECRETS}?labelSelector=a%20in%20(b"),
            None,
            "",
        )
        .await;
    assert_eq!(r.status, 400);
    let r = cluster
        .admin(
            "GET",
            &format!("{SECRETS}?fieldSelector=spec.x%3D1"),
            None,
            "",
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["message"], "field label not supported: spec.x");
    let r = cluster
        .admin(
            "PATCH",
            &format!("{SECRETS}/a"),
            Some("application/json-patch+json"),
            r#"[{"op":"remove","path":"/nope"}]"#,
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
}

#[tokio::test]
async fn dry_run_validates_but_writes_nothing() {
    let cluster = TestCluster::start();
    let body = json!({"metadata": {"name": "dry"}});
    let r = cluster
        .admin(
            "POST",
            &format!("{SECRETS}?dryRun=All"),
            Some("application/json"),
            body.to_string(),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = cluster
        .admin("GET", &format!("{SECRETS}/dry"), None, "")
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn protected_namespaces_cannot_be_deleted() {
    let cluster = TestCluster::start();
    let r = cluster
        .admin("DELETE", "/api/v1/namespaces/kube-system", None, "")
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.json()["message"],
        "namespaces \"kube-system\" is forbidden: this namespace may not be deleted"
    );
}
