//! coordination.k8s.io/v1 Leases: CRUD with optimistic concurrency and
//! server-side apply with field-manager conflicts, as kube-lease-manager
//! relies on them.

mod support;

use k8s_openapi::api::coordination::v1::Lease;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;
use support::TestCluster;

fn lease(holder: &str) -> serde_json::Value {
    json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "leader"},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": 15},
    })
}

#[tokio::test]
async fn leases_have_full_crud_with_conflicts() {
    let cluster = TestCluster::start();
    let leases: Api<Lease> = Api::namespaced(cluster.client().await, "default");
    let l: Lease = serde_json::from_value(lease("a")).expect("lease");
    let created = leases
        .create(&PostParams::default(), &l)
        .await
        .expect("create");
    let mut stale = created.clone();
    let mut fresh = created.clone();
    fresh.spec.as_mut().expect("spec").holder_identity = Some("b".into());
    leases
        .replace("leader", &PostParams::default(), &fresh)
        .await
        .expect("replace");
    stale.spec.as_mut().expect("spec").holder_identity = Some("c".into());
    let kube::Error::Api(s) = leases
        .replace("leader", &PostParams::default(), &stale)
        .await
        .expect_err("stale")
    else {
        panic!("expected an API error")
    };
    assert_eq!(s.code, 409);
    assert_eq!(
        s.message,
        "Operation cannot be fulfilled on leases.coordination.k8s.io \"leader\": the object has been modified; please apply your changes to the latest version and try again"
    );
    let got = leases.get("leader").await.expect("get");
    assert_eq!(
        got.spec.expect("spec").holder_identity.as_deref(),
        Some("b")
    );
    leases
        .delete("leader", &DeleteParams::default())
        .await
        .expect("delete");
    let kube::Error::Api(s) = leases.get("leader").await.expect_err("gone") else {
        panic!()
    };
    assert_eq!(s.message, "leases.coordination.k8s.io \"leader\" not found");
}

#[tokio::test]
async fn server_side_apply_conflicts_between_managers_unless_forced() {
    let cluster = TestCluster::start();
    let leases: Api<Lease> = Api::namespaced(cluster.client().await, "default");
    let a = PatchParams::apply("holder-a");
    let created = leases
        .patch("leader", &a, &Patch::Apply(lease("a")))
        .await
        .expect("apply creates");
    assert_eq!(
        created.spec.expect("spec").holder_identity.as_deref(),
        Some("a")
    );
    let managers: Vec<String> = created
        .metadata
        .managed_fields
        .expect("managedFields")
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert_eq!(managers, ["holder-a"]);

    // Re-applying one's own config is fine; another manager changing the holder is not.
    leases
        .patch("leader", &a, &Patch::Apply(lease("a")))
        .await
        .expect("idempotent apply");
    let b = PatchParams::apply("holder-b");
    let kube::Error::Api(s) = leases
        .patch("leader", &b, &Patch::Apply(lease("b")))
        .await
        .expect_err("conflict")
    else {
        panic!("expected an API error")
    };
    assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        s.message,
        "Apply failed with 1 conflict: conflict with \"holder-a\" using coordination.k8s.io/v1: .spec.holderIdentity"
    );
    let forced = leases
        .patch("leader", &b.force(), &Patch::Apply(lease("b")))
        .await
        .expect("forced");
    assert_eq!(
        forced.spec.expect("spec").holder_identity.as_deref(),
        Some("b")
    );
    // Now holder-a is the one in conflict.
    assert!(
        leases
            .patch("leader", &a, &Patch::Apply(lease("a")))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn an_update_takes_ownership_away_from_an_applier() {
    let cluster = TestCluster::start();
    let leases: Api<Lease> = Api::namespaced(cluster.client().await, "default");
    leases
        .patch(
            "leader",
            &PatchParams::apply("holder-a"),
            &Patch::Apply(lease("a")),
        )
        .await
        .expect("apply");
    let pp = PatchParams {
        field_manager: Some("renewer".into()),
        ..PatchParams::default()
    };
    leases
        .patch(
            "leader",
            &pp,
            &Patch::Strategic(json!({"spec": {"holderIdentity": "r"}})),
        )
        .await
        .expect("strategic merge");
    let kube::Error::Api(s) = leases
        .patch(
            "leader",
            &PatchParams::apply("holder-a"),
            &Patch::Apply(lease("a")),
        )
        .await
        .expect_err("conflict")
    else {
        panic!("expected an API error")
    };
    assert!(
        s.message.contains("conflict with \"renewer\""),
        "{}",
        s.message
    );
}

#[tokio::test]
async fn apply_without_a_field_manager_is_refused() {
    let cluster = TestCluster::start();
    let r = cluster
        .admin(
            "PATCH",
            "/apis/coordination.k8s.io/v1/namespaces/default/leases/leader",
            Some("application/apply-patch+yaml"),
            "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: leader\nspec:\n  holderIdentity: a\n",
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    // With a manager, YAML bodies apply.
    let r = cluster
        .admin(
            "PATCH",
            "/apis/coordination.k8s.io/v1/namespaces/default/leases/leader?fieldManager=yaml",
            Some("application/apply-patch+yaml"),
            "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: leader\nspec:\n  holderIdentity: a\n",
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["spec"]["holderIdentity"], "a");
}

/// The Lease strategy: create-on-update allowed, unconditional update not.
#[tokio::test]
async fn a_lease_put_creates_but_an_update_needs_a_resource_version() {
    let cluster = TestCluster::start();
    let path = "/apis/coordination.k8s.io/v1/namespaces/default/leases/leader";
    let body = lease("a").to_string();
    let r = cluster
        .admin("PUT", path, Some("application/json"), body.clone())
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = cluster
        .admin("PUT", path, Some("application/json"), body)
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(
        r.json()["message"],
        "leases.coordination.k8s.io \"leader\" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update"
    );
    // Secrets are the other way round.
    let r = cluster
        .admin(
            "PUT",
            "/api/v1/namespaces/default/secrets/s",
            Some("application/json"),
            r#"{"metadata":{"name":"s"}}"#,
        )
        .await;
    assert_eq!(r.status, 404);
}

/// The calls kube-lease-manager makes (its src/state.rs): create an empty
/// Lease, take it with a nameless apply, bump transitions with a strategic
/// merge, release by nulling the fields; a rival's apply meanwhile conflicts.
#[tokio::test]
async fn kube_lease_manager_call_sequence() {
    let cluster = TestCluster::start();
    let leases: Api<Lease> = Api::namespaced(cluster.client().await, "default");
    let empty: Lease =
        serde_json::from_value(json!({"metadata": {"name": "lock"}, "spec": {}})).expect("lease");
    leases
        .create(&PostParams::default(), &empty)
        .await
        .expect("create empty lease");
    let pp = |who: &str| PatchParams {
        field_manager: Some(format!("kube-lease-{who}")),
        ..PatchParams::default()
    };
    let take = |who: &str| {
        json!({
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "spec": {
                "acquireTime": "2030-01-01T00:00:00.000000Z",
                "renewTime": "2030-01-01T00:00:00.000000Z",
                "holderIdentity": who,
                "leaseDurationSeconds": 5,
            },
        })
    };
    leases
        .patch("lock", &pp("a"), &Patch::Apply(take("a")))
        .await
        .expect("a takes the lease");
    let kube::Error::Api(s) = leases
        .patch("lock", &pp("b"), &Patch::Apply(take("b")))
        .await
        .expect_err("b conflicts")
    else {
        panic!("expected an API error")
    };
    assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));
    leases
        .patch("lock", &pp("a"), &Patch::Strategic(json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "spec": {"leaseTransitions": 1}})))
        .await
        .expect("bump transitions");
    let release = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "spec": {"acquireTime": null, "renewTime": null, "holderIdentity": null, "leaseDurationSeconds": null}});
    let released = leases
        .patch("lock", &pp("a"), &Patch::Strategic(release))
        .await
        .expect("release");
    let spec = released.spec.expect("spec");
    assert!(spec.holder_identity.is_none());
    assert_eq!(spec.lease_transitions, Some(1));
    leases
        .patch("lock", &pp("b"), &Patch::Apply(take("b")))
        .await
        .expect("b takes the released lease");
    assert_eq!(
        leases
            .get("lock")
            .await
            .expect("get")
            .spec
            .expect("spec")
            .holder_identity
            .as_deref(),
        Some("b")
    );
}
