//! Discovery documents: /version, /api, /api/v1, /apis and the
//! coordination.k8s.io group, as kube-apiserver serves them (the legacy,
//! unaggregated form; clients asking for aggregated discovery get these with
//! `application/json`, and client-go falls back on that content type).

use serde_json::{Value, json};

use super::resources::{ALL, CERTIFICATES, COORDINATION};

pub const GIT_VERSION: &str = "v1.37.0-tokensmith";

pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "37",
        "emulationMajor": "1",
        "emulationMinor": "37",
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "36",
        "gitVersion": GIT_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-11-29T00:00:00Z",
        "goVersion": "go1.25.0",
        "compiler": "gc",
        "platform": format!("{}/{}", std::env::consts::OS, go_arch()),
    })
}

fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// `/api`: APIVersions.
pub fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    })
}

fn resource_list(group_version: &str, group: &str) -> Value {
    let resources: Vec<Value> = ALL
        .into_iter()
        .filter(|r| r.group() == group)
        .flat_map(|r| std::iter::once(r.discovery_entry()).chain(r.subresource_entries()))
        .collect();
    json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    })
}

/// `/api/v1`.
pub fn core_resources() -> Value {
    resource_list("v1", "")
}

/// `/apis/coordination.k8s.io/v1`.
pub fn coordination_resources() -> Value {
    resource_list("coordination.k8s.io/v1", COORDINATION)
}

fn coordination_group() -> Value {
    review_group(COORDINATION)
}

/// `/apis/certificates.k8s.io/v1`.
pub fn certificates_resources() -> Value {
    resource_list("certificates.k8s.io/v1", CERTIFICATES)
}

/// `/apis/certificates.k8s.io`: APIGroup.
pub fn certificates_group_doc() -> Value {
    let mut g = review_group(CERTIFICATES);
    g["kind"] = json!("APIGroup");
    g["apiVersion"] = json!("v1");
    g
}

/// The review APIs served beside the resources: (group, plural, kind).
pub const REVIEWS: [(&str, &str, &str); 2] = [
    (
        "authentication.k8s.io",
        "selfsubjectreviews",
        "SelfSubjectReview",
    ),
    (
        "authorization.k8s.io",
        "selfsubjectaccessreviews",
        "SelfSubjectAccessReview",
    ),
];

fn review_group(group: &str) -> Value {
    let v = json!({"groupVersion": format!("{group}/v1"), "version": "v1"});
    json!({
        "name": group,
        "versions": [v.clone()],
        "preferredVersion": v,
    })
}

/// `/apis/<review group>`: APIGroup, or None for another group.
pub fn review_group_doc(group: &str) -> Option<Value> {
    REVIEWS.iter().find(|(g, _, _)| *g == group)?;
    let mut g = review_group(group);
    g["kind"] = json!("APIGroup");
    g["apiVersion"] = json!("v1");
    Some(g)
}

/// `/apis/<review group>/v1`: its one create-only resource.
pub fn review_resources(group: &str) -> Option<Value> {
    let (_, plural, kind) = REVIEWS.iter().find(|(g, _, _)| *g == group)?;
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": format!("{group}/v1"),
        "resources": [{
            "name": plural,
            "singularName": plural.trim_end_matches('s'),
            "namespaced": false,
            "kind": kind,
            "verbs": ["create"],
        }],
    }))
}

/// `/apis/coordination.k8s.io`: APIGroup.
pub fn coordination_group_doc() -> Value {
    let mut g = coordination_group();
    g["kind"] = json!("APIGroup");
    g["apiVersion"] = json!("v1");
    g
}

/// `/apis`: APIGroupList.
pub fn groups() -> Value {
    json!({
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [
            review_group(REVIEWS[0].0),
            review_group(REVIEWS[1].0),
            review_group(CERTIFICATES),
            coordination_group(),
        ],
    })
}
