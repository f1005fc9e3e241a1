//! A minimal OpenAPI v3 surface: the root index and one document per
//! group-version, declaring each served kind's write operations and the
//! `fieldValidation` query parameter. kubectl reads these to learn that the
//! server validates fields itself (its QueryParamVerifierV3); without them
//! `kubectl create -f` fails with "failed to download openapi". Schemas are
//! left out: kubectl needs none once server-side validation is declared.

use serde_json::{Map, Value, json};

use super::resources::{ALL, Resource};

/// `api/v1` or `apis/coordination.k8s.io/v1`: the index keys kubectl uses.
fn gv_path(r: Resource) -> String {
    if r.group().is_empty() {
        "api/v1".to_string()
    } else {
        format!("apis/{}", r.api_version())
    }
}

/// A stable stand-in for the hash apiserver puts in serverRelativeURL.
const HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// `GET /openapi/v3`.
pub fn root() -> Value {
    let mut paths = Map::new();
    for r in ALL {
        let gv = gv_path(r);
        paths.insert(
            gv.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{gv}?hash={HASH}")}),
        );
    }
    json!({"paths": paths})
}

fn operation(r: Resource, action: &str) -> Value {
    let mut params = vec![
        json!({"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": true}}),
        json!({"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": true}}),
        json!({"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}}),
    ];
    if action == "patch" {
        params.push(json!({"name": "force", "in": "query", "schema": {"type": "boolean", "uniqueItems": true}}));
    }
    json!({
        "operationId": format!("{action}{}", r.kind()),
        "parameters": params,
        "responses": {"200": {"description": "OK"}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": r.group(), "version": "v1", "kind": r.kind()},
    })
}

/// `GET /openapi/v3/<gv>`, or None for a group-version not served.
pub fn group_version(path: &str) -> Option<Value> {
    let served: Vec<Resource> = ALL.into_iter().filter(|r| gv_path(*r) == path).collect();
    if served.is_empty() {
        return None;
    }
    let mut paths = Map::new();
    for r in served {
        let prefix = format!("/{}", gv_path(r));
        let (collection, item) = if r.namespaced() {
            (
                format!("{prefix}/namespaces/{{namespace}}/{}", r.plural()),
                format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", r.plural()),
            )
        } else {
            (
                format!("{prefix}/{}", r.plural()),
                format!("{prefix}/{}/{{name}}", r.plural()),
            )
        };
        paths.insert(collection, json!({"post": operation(r, "post")}));
        paths.insert(
            item,
            json!({"put": operation(r, "put"), "patch": operation(r, "patch")}),
        );
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": super::discovery::GIT_VERSION},
        "paths": paths,
    }))
}
