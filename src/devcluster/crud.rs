//! The verbs on objects: create, get, list, update, patch, delete and
//! deletecollection, with the checks kube-apiserver's generic registry and
//! admission make, in its order.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::fields;
use super::objects;
use super::patch;
use super::resources::Resource;
use super::status::{self, ApiError, FieldCause};
use super::store::{Key, Store, Tx};
use super::validate;

pub use super::decode::{body_as_json, decode_body};
pub use super::list::{ListOptions, list};

/// Namespaces kube-apiserver refuses to delete (NamespaceLifecycle).
const IMMORTAL_NAMESPACES: [&str; 3] = ["default", "kube-system", "kube-public"];

/// What every write needs to know besides its body.
pub struct WriteContext<'a> {
    pub resource: Resource,
    /// Empty for cluster-scoped resources.
    pub namespace: &'a str,
    pub manager: String,
    pub dry_run: bool,
}

/// Checks the namespace in the body against the URL and fills it in.
fn settle_namespace(r: Resource, obj: &mut Value, namespace: &str) -> Result<(), ApiError> {
    if !r.namespaced() {
        objects::meta_mut(obj).remove("namespace");
        return Ok(());
    }
    let in_body = objects::namespace(obj);
    if !in_body.is_empty() && in_body != namespace {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    objects::meta_mut(obj).insert("namespace".into(), json!(namespace));
    Ok(())
}

/// Defaults kube-apiserver applies to Namespaces.
fn namespace_defaults(obj: &mut Value) {
    let name = objects::name(obj).to_string();
    let meta = objects::meta_mut(obj);
    let labels = meta.entry("labels").or_insert_with(|| json!({}));
    if let Some(l) = labels.as_object_mut() {
        l.insert("kubernetes.io/metadata.name".into(), json!(name));
    }
    if let Some(o) = obj.as_object_mut() {
        let spec = o.entry("spec").or_insert_with(|| json!({}));
        if spec.get("finalizers").is_none()
            && let Some(s) = spec.as_object_mut()
        {
            s.insert("finalizers".into(), json!(["kubernetes"]));
        }
        o.insert("status".into(), json!({"phase": "Active"}));
    }
}

fn ensure_namespace(tx: &Tx<'_>, r: Resource, namespace: &str) -> Result<(), ApiError> {
    if r.namespaced()
        && tx
            .get(&Key::new(Resource::Namespaces, "", namespace))
            .is_none()
    {
        return Err(ApiError::not_found("namespaces", "", namespace));
    }
    Ok(())
}

pub async fn create(
    store: &Store,
    ctx: &WriteContext<'_>,
    body: &[u8],
) -> Result<(u16, Value), ApiError> {
    let r = ctx.resource;
    let mut obj = decode_body(r, body)?;
    settle_namespace(r, &mut obj, ctx.namespace)?;
    validate::decode_and_normalize(r, &mut obj)?;
    if objects::name(&obj).is_empty()
        && let Some(prefix) = objects::meta_str(&obj, "generateName").map(str::to_string)
        && !prefix.is_empty()
    {
        let generated = objects::generate_name(&prefix);
        objects::meta_mut(&mut obj).insert("name".into(), json!(generated));
    }
    validate::validate(r, &obj)?;
    if objects::meta_str(&obj, "resourceVersion").is_some_and(|s| !s.is_empty()) {
        return Err(ApiError::internal(
            "resourceVersion should not be set on objects to be created",
        ));
    }
    stamp_new(r, &mut obj, store.clock().now());
    let name = objects::name(&obj).to_string();
    let key = Key::new(r, ctx.namespace, &name);
    store
        .transact(ctx.dry_run, |tx| {
            ensure_namespace(tx, r, ctx.namespace)?;
            if tx.get(&key).is_some() {
                return Err(ApiError::already_exists(r, &name));
            }
            fields::record_update(None, &mut obj, &ctx.manager, r.api_version());
            Ok((201, tx.put(key, obj)))
        })
        .await
}

/// What the server sets on every new object: a fresh uid and creation time,
/// and nothing the client claimed about them.
fn stamp_new(r: Resource, obj: &mut Value, now: jiff::Timestamp) {
    let meta = objects::meta_mut(obj);
    for field in [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "generation",
        "selfLink",
        "managedFields",
    ] {
        meta.remove(field);
    }
    meta.insert("uid".into(), json!(objects::new_uid()));
    meta.insert("creationTimestamp".into(), json!(objects::rfc3339(now)));
    if r == Resource::Namespaces {
        namespace_defaults(obj);
    }
}

pub fn get(store: &Store, r: Resource, namespace: &str, name: &str) -> Result<Value, ApiError> {
    store
        .get(&Key::new(r, namespace, name))
        .ok_or_else(|| ApiError::not_found(r.plural(), r.group(), name))
}

pub async fn update(
    store: &Store,
    ctx: &WriteContext<'_>,
    name: &str,
    body: &[u8],
) -> Result<(u16, Value), ApiError> {
    update_object(store, ctx, name, decode_body(ctx.resource, body)?).await
}

/// [`update`] of an object already decoded: a controller's write of an
/// object it read from the store skips the JSON round trip.
pub async fn update_object(
    store: &Store,
    ctx: &WriteContext<'_>,
    name: &str,
    mut obj: Value,
) -> Result<(u16, Value), ApiError> {
    let r = ctx.resource;
    let in_body = objects::name(&obj);
    if in_body != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({in_body}) does not match the name on the URL ({name})"
        )));
    }
    settle_namespace(r, &mut obj, ctx.namespace)?;
    validate::decode_and_normalize(r, &mut obj)?;
    let key = Key::new(r, ctx.namespace, name);
    let rv_given = objects::meta_str(&obj, "resourceVersion").is_some_and(|s| !s.is_empty());
    // The Lease strategy allows create-on-update and forbids unconditional
    // updates; Secrets, ConfigMaps and Namespaces the other way round.
    let leases = r == Resource::Leases;
    store
        .transact(ctx.dry_run, |tx| match tx.get(&key).cloned() {
            None if leases && !rv_given => {
                ensure_namespace(tx, r, ctx.namespace)?;
                validate::validate(r, &obj)?;
                stamp_new(r, &mut obj, store.clock().now());
                fields::record_update(None, &mut obj, &ctx.manager, r.api_version());
                Ok((201, tx.put(key.clone(), obj)))
            }
            None => Err(ApiError::not_found(r.plural(), r.group(), name)),
            Some(_) if leases && !rv_given => Err(ApiError::resource_version_required(r, name)),
            Some(existing) => finish_update(tx, ctx, &key, &existing, obj, false, None),
        })
        .await
}

/// PUT on a subresource (`approval`, `status`): the body is the whole
/// object; what of it counts is `csr::restrict_update`'s to say.
pub async fn update_subresource(
    store: &Store,
    ctx: &WriteContext<'_>,
    name: &str,
    sub: &str,
    body: &[u8],
) -> Result<(u16, Value), ApiError> {
    let r = ctx.resource;
    let mut obj = decode_body(r, body)?;
    let in_body = objects::name(&obj);
    if in_body != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({in_body}) does not match the name on the URL ({name})"
        )));
    }
    settle_namespace(r, &mut obj, ctx.namespace)?;
    let key = Key::new(r, ctx.namespace, name);
    store
        .transact(ctx.dry_run, |tx| match tx.get(&key).cloned() {
            None => Err(ApiError::not_found(r.plural(), r.group(), name)),
            Some(existing) => finish_update(tx, ctx, &key, &existing, obj, false, Some(sub)),
        })
        .await
}

/// The common tail of update, patch and apply on an existing object.
fn finish_update(
    tx: &mut Tx<'_>,
    ctx: &WriteContext<'_>,
    key: &Key,
    existing: &Value,
    mut obj: Value,
    managed_fields_done: bool,
    sub: Option<&str>,
) -> Result<(u16, Value), ApiError> {
    let r = ctx.resource;
    let name = &key.name;
    super::csr::restrict_update(r, sub, existing, &mut obj)?;
    // Optimistic concurrency: a resourceVersion in the body must be current.
    if let Some(rv) = objects::meta_str(&obj, "resourceVersion").filter(|s| !s.is_empty())
        && Some(rv) != objects::meta_str(existing, "resourceVersion")
    {
        return Err(ApiError::stale(r, name));
    }
    let existing_uid = objects::uid(existing).to_string();
    if let Some(uid) = objects::meta_str(&obj, "uid").filter(|s| !s.is_empty())
        && uid != existing_uid
    {
        return Err(ApiError::conflict(
            r,
            name,
            &format!(
                "Precondition failed: UID in precondition: {uid}, UID in object meta: {existing_uid}"
            ),
        ));
    }
    validate::validate(r, &obj)?;
    if r == Resource::Secrets && obj.get("type") != existing.get("type") {
        let t = obj.get("type").and_then(Value::as_str).unwrap_or("");
        return Err(ApiError::invalid(
            r,
            name,
            vec![FieldCause::invalid("type", t, "field is immutable")],
        ));
    }
    if existing.get("immutable") == Some(&Value::Bool(true))
        && (obj.get("data") != existing.get("data")
            || obj.get("binaryData") != existing.get("binaryData"))
    {
        return Err(ApiError::invalid(
            r,
            name,
            vec![FieldCause {
                field: "data".into(),
                reason: "FieldValueForbidden",
                value: None,
                detail: "field is immutable when `immutable` is set".into(),
            }],
        ));
    }
    {
        let em = objects::meta(existing);
        let meta = objects::meta_mut(&mut obj);
        for field in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "generation",
        ] {
            match em.and_then(|m| m.get(field)) {
                Some(v) => meta.insert(field.into(), v.clone()),
                None => meta.remove(field),
            };
        }
        if !managed_fields_done {
            meta.remove("managedFields");
        }
    }
    if r == Resource::Namespaces {
        namespace_defaults(&mut obj);
    }
    if !managed_fields_done {
        fields::record_update(Some(existing), &mut obj, &ctx.manager, r.api_version());
    }
    // A no-op write does not bump the resourceVersion (etcd3 store GuaranteedUpdate).
    if same_but_version_and_times(&obj, existing) {
        return Ok((200, existing.clone()));
    }
    Ok((200, tx.put(key.clone(), obj)))
}

/// Whether an update changes nothing: `new` and `old` equal but for
/// metadata.resourceVersion (either's, or its absence) and the `time` of
/// each managedFields entry. Compared in place, without copying either.
fn same_but_version_and_times(new: &Value, old: &Value) -> bool {
    let (Some(n), Some(o)) = (new.as_object(), old.as_object()) else {
        return new == old;
    };
    n.len() == o.len()
        && n.iter().all(|(k, nv)| match o.get(k) {
            Some(ov) if k == "metadata" => same_meta(nv, ov),
            Some(ov) => nv == ov,
            None => false,
        })
}

fn same_meta(new: &Value, old: &Value) -> bool {
    same_except(new, old, "resourceVersion", |k, n, o| match k {
        "managedFields" => same_managed_fields(n, o),
        _ => n == o,
    })
}

fn same_managed_fields(new: &Value, old: &Value) -> bool {
    let (Some(n), Some(o)) = (new.as_array(), old.as_array()) else {
        return new == old;
    };
    n.len() == o.len()
        && n.iter()
            .zip(o)
            .all(|(a, b)| same_except(a, b, "time", |_, x, y| x == y))
}

/// Two objects with the same keys but `skip` (in either, or neither), each
/// pair of values equal by `same(key, new, old)`; not objects: plain equality.
fn same_except(
    new: &Value,
    old: &Value,
    skip: &str,
    same: impl Fn(&str, &Value, &Value) -> bool,
) -> bool {
    let (Some(n), Some(o)) = (new.as_object(), old.as_object()) else {
        return new == old;
    };
    let counted = |m: &serde_json::Map<String, Value>| m.keys().filter(|k| *k != skip).count();
    counted(n) == counted(o)
        && n.iter()
            .filter(|(k, _)| *k != skip)
            .all(|(k, nv)| o.get(k).is_some_and(|ov| same(k, nv, ov)))
}

pub enum PatchKind {
    Merge,
    Strategic,
    Json,
    Apply { force: bool },
}

impl PatchKind {
    pub fn from_content_type(
        ct: &str,
        query: &HashMap<String, String>,
    ) -> Result<PatchKind, ApiError> {
        let base = ct.split(';').next().unwrap_or("").trim();
        match base {
            "application/merge-patch+json" => Ok(PatchKind::Merge),
            "application/strategic-merge-patch+json" => Ok(PatchKind::Strategic),
            "application/json-patch+json" => Ok(PatchKind::Json),
            "application/apply-patch+yaml" => Ok(PatchKind::Apply {
                force: query.get("force").is_some_and(|v| v == "true"),
            }),
            _ => Err(ApiError::patch_unsupported_media_type()),
        }
    }
}

fn parse_patch_body(body: &[u8], yaml: bool) -> Result<Value, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => Ok(v),
        Err(_) if !yaml => Err(ApiError::bad_request("invalid JSON patch")),
        Err(_) => {
            let text = std::str::from_utf8(body)
                .map_err(|_| ApiError::bad_request("error decoding YAML: invalid UTF-8"))?;
            serde_saphyr::from_str::<Value>(text)
                .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))
        }
    }
}

pub async fn patch(
    store: &Store,
    ctx: &WriteContext<'_>,
    name: &str,
    kind: PatchKind,
    body: &[u8],
) -> Result<(u16, Value), ApiError> {
    let r = ctx.resource;
    let is_apply = matches!(kind, PatchKind::Apply { .. });
    let patch_doc = parse_patch_body(body, is_apply)?;
    if is_apply && ctx.manager.is_empty() {
        return Err(ApiError::bad_request(
            "PATCH, application/apply-patch+yaml: fieldManager is required for apply requests",
        ));
    }
    let key = Key::new(r, ctx.namespace, name);
    store
        .transact(ctx.dry_run, |tx| {
            let existing = tx.get(&key).cloned();
            match kind {
                PatchKind::Apply { force } => {
                    let mut config = patch_doc.clone();
                    if !config.is_object() {
                        return Err(ApiError::bad_request("error decoding YAML: the apply configuration is not an object"));
                    }
                    let kind_ok = config.get("kind").and_then(Value::as_str) == Some(r.kind())
                        && config.get("apiVersion").and_then(Value::as_str) == Some(r.api_version());
                    if !kind_ok {
                        return Err(ApiError::bad_request(format!(
                            "the API version and kind in the apply configuration must be {} {}",
                            r.api_version(),
                            r.kind()
                        )));
                    }
                    // An apply configuration may leave the name to the URL
                    // (kube-lease-manager's do); a different one is refused.
                    let in_body = objects::name(&config).to_string();
                    if in_body.is_empty() {
                        objects::meta_mut(&mut config).insert("name".into(), json!(name));
                    } else if in_body != name {
                        return Err(ApiError::bad_request(format!(
                            "the name of the object ({in_body}) does not match the name on the URL ({name})"
                        )));
                    }
                    settle_namespace(r, &mut config, ctx.namespace)?;
                    validate::decode_and_normalize(r, &mut config)?;
                    match existing {
                        None => {
                            ensure_namespace(tx, r, ctx.namespace)?;
                            let mut base = json!({"apiVersion": r.api_version(), "kind": r.kind(), "metadata": {"name": name}});
                            if r.namespaced() {
                                base["metadata"]["namespace"] = json!(ctx.namespace);
                            }
                            let mut obj = fields::apply(&base, &config, &ctx.manager, force, r.api_version())
                                .map_err(|c| ApiError::apply_conflict(&c, r.api_version()))?;
                            validate::validate(r, &obj)?;
                            let meta = objects::meta_mut(&mut obj);
                            meta.insert("uid".into(), json!(objects::new_uid()));
                            meta.insert("creationTimestamp".into(), json!(objects::rfc3339(store.clock().now())));
                            if r == Resource::Namespaces {
                                namespace_defaults(&mut obj);
                            }
                            Ok((201, tx.put(key.clone(), obj)))
                        }
                        Some(existing) => {
                            let merged = fields::apply(&existing, &config, &ctx.manager, force, r.api_version())
                                .map_err(|c| ApiError::apply_conflict(&c, r.api_version()))?;
                            finish_update(tx, ctx, &key, &existing, merged, true, None)
                        }
                    }
                }
                other => {
                    let existing = existing.ok_or_else(|| ApiError::not_found(r.plural(), r.group(), name))?;
                    let mut patched = existing.clone();
                    match other {
                        PatchKind::Merge => {
                            if !patch_doc.is_object() {
                                return Err(ApiError::bad_request("error decoding patch: a merge patch must be a JSON object"));
                            }
                            patch::merge(&mut patched, &patch_doc);
                        }
                        PatchKind::Strategic => {
                            if !patch_doc.is_object() {
                                return Err(ApiError::bad_request("error decoding patch: a strategic merge patch must be a JSON object"));
                            }
                            patch::strategic_merge(&mut patched, &patch_doc).map_err(ApiError::bad_request)?;
                        }
                        PatchKind::Json => {
                            patch::json_patch(&mut patched, &patch_doc).map_err(|_| ApiError::json_patch_failed())?;
                        }
                        PatchKind::Apply { .. } => unreachable!("handled above"),
                    }
                    if !patched.is_object() {
                        return Err(ApiError::bad_request("the patched object is not a JSON object"));
                    }
                    if objects::name(&patched) != name || (r.namespaced() && objects::namespace(&patched) != ctx.namespace) {
                        return Err(ApiError::bad_request(format!(
                            "the name of the object ({}) does not match the name on the URL ({name})",
                            objects::name(&patched)
                        )));
                    }
                    if patched.get("kind") != existing.get("kind") || patched.get("apiVersion") != existing.get("apiVersion") {
                        return Err(ApiError::bad_request("the kind and apiVersion of an object cannot be patched"));
                    }
                    validate::decode_and_normalize(r, &mut patched)?;
                    finish_update(tx, ctx, &key, &existing, patched, false, None)
                }
            }
        })
        .await
}

/// DeleteOptions.preconditions.
#[derive(Default)]
pub struct Preconditions {
    pub uid: Option<String>,
    pub resource_version: Option<String>,
}

impl Preconditions {
    pub fn from_body(body: &[u8]) -> Result<Preconditions, ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Preconditions::default());
        }
        let doc: Value = serde_json::from_slice(body).map_err(|e| {
            let e = super::go_json::unmarshal_error(body, e);
            ApiError::bad_request(format!("couldn't get version/kind; json parse error: {e}"))
        })?;
        let p = doc.get("preconditions");
        let s = |k: &str| {
            p.and_then(|p| p.get(k))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        Ok(Preconditions {
            uid: s("uid"),
            resource_version: s("resourceVersion"),
        })
    }

    fn check(&self, r: Resource, obj: &Value) -> Result<(), ApiError> {
        let name = objects::name(obj);
        if let Some(uid) = &self.uid
            && uid != objects::uid(obj)
        {
            return Err(ApiError::uid_precondition_failed(
                r,
                name,
                uid,
                objects::uid(obj),
            ));
        }
        if let Some(rv) = &self.resource_version {
            let actual = objects::meta_str(obj, "resourceVersion").unwrap_or("");
            if rv != actual {
                return Err(ApiError::conflict(
                    r,
                    name,
                    &format!(
                        "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {actual}"
                    ),
                ));
            }
        }
        Ok(())
    }
}

pub async fn delete(
    store: &Store,
    ctx: &WriteContext<'_>,
    name: &str,
    pre: &Preconditions,
) -> Result<(u16, Value), ApiError> {
    let r = ctx.resource;
    let key = Key::new(r, ctx.namespace, name);
    store
        .transact(ctx.dry_run, |tx| {
            let existing = tx
                .get(&key)
                .cloned()
                .ok_or_else(|| ApiError::not_found(r.plural(), r.group(), name))?;
            pre.check(r, &existing)?;
            if r == Resource::Namespaces {
                if IMMORTAL_NAMESPACES.contains(&name) {
                    return Err(ApiError::forbidden(
                        format!(
                            "namespaces \"{name}\" is forbidden: this namespace may not be deleted"
                        ),
                        Some(name),
                        Some("namespaces"),
                    ));
                }
                // The namespace controller's work, done at once: its contents go first.
                for res in super::resources::ALL.into_iter().filter(|x| x.namespaced()) {
                    for (k, _) in tx.list(res, Some(name)) {
                        tx.remove(&k);
                    }
                }
                let mut last = tx.remove(&key).unwrap_or(existing);
                objects::meta_mut(&mut last).insert(
                    "deletionTimestamp".into(),
                    json!(objects::rfc3339(store.clock().now())),
                );
                last["status"] = json!({"phase": "Terminating"});
                return Ok((200, last));
            }
            tx.remove(&key);
            Ok((
                200,
                status::delete_success(r, name, objects::uid(&existing)),
            ))
        })
        .await
}

pub async fn delete_collection(
    store: &Store,
    ctx: &WriteContext<'_>,
    namespace: Option<&str>,
    opts: &ListOptions,
) -> Result<(u16, Value), ApiError> {
    let r = ctx.resource;
    if r == Resource::Namespaces {
        return Err(ApiError::method_not_allowed());
    }
    store
        .transact(ctx.dry_run, |tx| {
            let mut deleted = Vec::new();
            for (k, obj) in tx.list(r, namespace) {
                if opts.matches(&obj)
                    && let Some(last) = tx.remove(&k)
                {
                    deleted.push(objects::as_list_item(last));
                }
            }
            Ok((
                200,
                json!({
                    "kind": r.list_kind(),
                    "apiVersion": r.api_version(),
                    "metadata": {"resourceVersion": ""},
                    "items": deleted,
                }),
            ))
        })
        .await
}

#[cfg(test)]
mod no_op_tests {
    use super::same_but_version_and_times as same;
    use serde_json::json;

    fn object(rv: &str, time: &str, data: &str) -> serde_json::Value {
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "x",
                "resourceVersion": rv,
                "managedFields": [{ "manager": "m", "operation": "Update", "time": time }],
            },
            "data": { "k": data },
        })
    }

    #[test]
    fn an_update_is_a_no_op_when_only_the_version_and_times_differ() {
        let old = object("7", "2026-01-01T00:00:00Z", "v");
        assert!(same(&object("7", "2026-01-01T00:00:00Z", "v"), &old));
        assert!(same(&object("3", "2026-12-04T00:00:00Z", "v"), &old));
        let mut without_version = object("7", "2026-01-01T00:00:00Z", "v");
        without_version["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("resourceVersion");
        assert!(same(&without_version, &old));
    }

    #[test]
    fn any_other_difference_is_a_change() {
        let old = object("7", "2026-01-01T00:00:00Z", "v");
        assert!(!same(&object("7", "2026-01-01T00:00:00Z", "w"), &old));
        let mut labelled = old.clone();
        labelled["metadata"]["labels"] = json!({ "a": "b" });
        assert!(!same(&labelled, &old));
        assert!(!same(&old, &labelled));
        let mut other_manager = old.clone();
        other_manager["metadata"]["managedFields"][0]["manager"] = json!("n");
        assert!(!same(&other_manager, &old));
        let mut two_entries = old.clone();
        two_entries["metadata"]["managedFields"]
            .as_array_mut()
            .unwrap()
            .push(json!({ "manager": "n" }));
        assert!(!same(&two_entries, &old));
        let mut extra = old.clone();
        extra["immutable"] = json!(true);
        assert!(!same(&extra, &old));
    }
}
