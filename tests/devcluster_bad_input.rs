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

const CONFIGMAPS: &str = "/api/v1/namespaces/default/configmaps";

/// POSTs `body` to `path` and returns (code, Status body).
async fn post(
    cluster: &TestCluster,
    path: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let r = cluster
        .admin("POST", path, Some("application/json"), body.to_string())
        .await;
    (r.status, r.json())
}

#[tokio::test]
async fn non_string_label_values_do_not_decode() {
    let cluster = TestCluster::start();
    let (code, s) = post(
        &cluster,
        CONFIGMAPS,
        json!({"metadata": {"name": "a", "labels": {"n": 1}}}),
    )
    .await;
    assert_eq!((code, s["reason"].as_str()), (400, Some("BadRequest")));
    assert_eq!(
        s["message"],
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string"
    );
    let (code, s) = post(
        &cluster,
        SECRETS,
        json!({"metadata": {"name": "a", "annotations": {"a": true}}}),
    )
    .await;
    assert_eq!(code, 400);
    assert_eq!(
        s["message"],
        "Secret in version \"v1\" cannot be handled as a Secret: json: cannot unmarshal bool into Go struct field ObjectMeta.metadata.annotations of type string"
    );
}

#[tokio::test]
async fn invalid_label_keys_and_values_are_invalid() {
    let cluster = TestCluster::start();
    let (code, s) = post(
        &cluster,
        CONFIGMAPS,
        json!({"metadata": {"name": "a", "labels": {"bad key": "ok"}}}),
    )
    .await;
    assert_eq!((code, s["reason"].as_str()), (422, Some("Invalid")));
    assert_eq!(
        s["message"],
        "ConfigMap \"a\" is invalid: metadata.labels: Invalid value: \"bad key\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    );
    assert_eq!(s["details"]["causes"][0]["field"], "metadata.labels");
    assert_eq!(s["details"]["causes"][0]["reason"], "FieldValueInvalid");

    let long = "v".repeat(64);
    let (code, s) = post(
        &cluster,
        CONFIGMAPS,
        json!({"metadata": {"name": "a", "labels": {"k": long}}}),
    )
    .await;
    assert_eq!(code, 422);
    assert_eq!(
        s["message"],
        format!(
            "ConfigMap \"a\" is invalid: metadata.labels: Invalid value: \"{long}\": must be no more than 63 bytes"
        )
    );

    let (code, s) = post(
        &cluster,
        CONFIGMAPS,
        json!({"metadata": {"name": "a", "labels": {"example.com/k": "-x"}}}),
    )
    .await;
    assert_eq!(code, 422);
    assert_eq!(
        s["message"],
        "ConfigMap \"a\" is invalid: metadata.labels: Invalid value: \"-x\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
    );
}

#[tokio::test]
async fn invalid_annotation_keys_and_oversized_annotations_are_invalid() {
    let cluster = TestCluster::start();
    let (code, s) = post(
        &cluster,
        SECRETS,
        json!({"metadata": {"name": "a", "annotations": {"/x": "v"}}}),
    )
    .await;
    assert_eq!(code, 422);
    assert_eq!(
        s["message"],
        "Secret \"a\" is invalid: metadata.annotations: Invalid value: \"/x\": prefix part must be non-empty"
    );
    // Case does not matter in annotation keys.
    let (code, _) = post(
        &cluster,
        SECRETS,
        json!({"metadata": {"name": "b", "annotations": {"Example.COM/Key": "v"}}}),
    )
    .await;
    assert_eq!(code, 201);

    let big = "x".repeat(256 * 1024);
    let (code, s) = post(
        &cluster,
        SECRETS,
        json!({"metadata": {"name": "c", "annotations": {"k": big}}}),
    )
    .await;
    assert_eq!((code, s["reason"].as_str()), (422, Some("Invalid")));
    assert_eq!(
        s["message"],
        "Secret \"c\" is invalid: metadata.annotations: Too long: may not be more than 262144 bytes"
    );
    assert_eq!(s["details"]["causes"][0]["reason"], "FieldValueTooLong");
}

#[tokio::test]
async fn config_maps_and_secrets_over_one_mebibyte_are_too_long() {
    let cluster = TestCluster::start();
    let half = "x".repeat(512 * 1024 + 1);
    let (code, s) = post(
        &cluster,
        CONFIGMAPS,
        json!({"metadata": {"name": "big"}, "data": {"a": half, "b": half}}),
    )
    .await;
    assert_eq!((code, s["reason"].as_str()), (422, Some("Invalid")));
    assert_eq!(
        s["message"],
        "ConfigMap \"big\" is invalid: []: Too long: may not be more than 1048576 bytes"
    );
    assert_eq!(s["details"]["causes"][0]["field"], "[]");

    // The limit counts decoded bytes: exactly 1 MiB is accepted.
    use base64::Engine;
    let mib = base64::engine::general_purpose::STANDARD.encode(vec![0u8; 1024 * 1024]);
    let (code, _) = post(
        &cluster,
        SECRETS,
        json!({"metadata": {"name": "mib"}, "data": {"k": mib}}),
    )
    .await;
    assert_eq!(code, 201);
    let over = base64::engine::general_purpose::STANDARD.encode(vec![0u8; 1024 * 1024 + 1]);
    let (code, s) = post(
        &cluster,
        SECRETS,
        json!({"metadata": {"name": "over"}, "data": {"k": over}}),
    )
    .await;
    assert_eq!(code, 422);
    assert_eq!(
        s["message"],
        "Secret \"over\" is invalid: data: Too long: may not be more than 1048576 bytes"
    );
}

#[tokio::test]
async fn invalid_binary_data_is_refused() {
    let cluster = TestCluster::start();
    let (code, s) = post(
        &cluster,
        CONFIGMAPS,
        json!({"metadata": {"name": "a"}, "binaryData": {"k": "not base64!"}}),
    )
    .await;
    assert_eq!((code, s["reason"].as_str()), (400, Some("BadRequest")));
    assert_eq!(
        s["message"],
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: illegal base64 data at input byte 3"
    );
    let (code, s) = post(
        &cluster,
        CONFIGMAPS,
        json!({"metadata": {"name": "a"}, "binaryData": {"k": 7}}),
    )
    .await;
    assert_eq!(code, 400);
    assert_eq!(
        s["message"],
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.binaryData of type []uint8"
    );
    let (code, s) = post(
        &cluster,
        CONFIGMAPS,
        json!({"metadata": {"name": "a"}, "data": {"k": "x"}, "binaryData": {"k": "eA==", "bad/key": "eA=="}}),
    )
    .await;
    assert_eq!(code, 422);
    assert_eq!(
        s["message"],
        "ConfigMap \"a\" is invalid: [data[k]: Invalid value: \"k\": duplicate of key present in binaryData, binaryData[bad/key]: Invalid value: \"bad/key\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')]"
    );
}

#[tokio::test]
async fn bogus_resource_versions_on_reads_are_refused() {
    let cluster = TestCluster::start();
    post(&cluster, SECRETS, json!({"metadata": {"name": "a"}})).await;
    let invalid = "resourceVersion: Invalid value: \"abc\": strconv.ParseUint: parsing \"abc\": invalid syntax";

    // get: the watch cache's parse error is no Status, so a 500 without reason.
    let r = cluster
        .admin("GET", &format!("{SECRETS}/a?resourceVersion=abc"), None, "")
        .await;
    assert_eq!(r.status, 500);
    let s = r.json();
    assert_eq!(s["message"], invalid);
    assert!(s.get("reason").is_none(), "{s}");

    // list: the storage layer's 400.
    let r = cluster
        .admin("GET", &format!("{SECRETS}?resourceVersion=abc"), None, "")
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["reason"], "BadRequest");
    assert_eq!(
        r.json()["message"],
        format!("invalid resource version: {invalid}")
    );
    let r = cluster
        .admin("GET", &format!("{SECRETS}?resourceVersion=-1"), None, "")
        .await;
    assert_eq!(r.status, 400);

    // watch: refused before any stream starts.
    let r = cluster
        .admin(
            "GET",
            &format!("{SECRETS}?watch=true&resourceVersion=abc"),
            None,
            "",
        )
        .await;
    assert_eq!(r.status, 500);
    assert_eq!(r.json()["message"], invalid);

    // resourceVersionMatch without a resourceVersion: invalid ListOptions.
    let r = cluster
        .admin(
            "GET",
            &format!("{SECRETS}?resourceVersionMatch=Exact"),
            None,
            "",
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.json()["message"],
        "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"
    );

    // Valid ones still work.
    let r = cluster
        .admin("GET", &format!("{SECRETS}/a?resourceVersion=0"), None, "")
        .await;
    assert_eq!(r.status, 200);
    let r = cluster
        .admin("GET", &format!("{SECRETS}?resourceVersion=0"), None, "")
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn typed_secrets_need_their_keys() {
    let cluster = TestCluster::start();
    let (code, s) = post(
        &cluster,
        SECRETS,
        json!({"metadata": {"name": "t"}, "type": "kubernetes.io/tls", "data": {"tls.crt": "eA=="}}),
    )
    .await;
    assert_eq!((code, s["reason"].as_str()), (422, Some("Invalid")));
    assert_eq!(
        s["message"],
        "Secret \"t\" is invalid: data[tls.key]: Required value"
    );
    assert_eq!(s["details"]["causes"][0]["message"], "Required value");
    let (code, s) = post(
        &cluster,
        SECRETS,
        json!({"metadata": {"name": "sa"}, "type": "kubernetes.io/service-account-token"}),
    )
    .await;
    assert_eq!(code, 422);
    assert_eq!(
        s["message"],
        "Secret \"sa\" is invalid: metadata.annotations[kubernetes.io/service-account.name]: Required value"
    );
}
