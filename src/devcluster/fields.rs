//! Field ownership (`metadata.managedFields`) and server-side apply, kept
//! simple but honest: ownership is tracked per manager at the granularity of
//! one key under `spec`, `data`, `binaryData`, `metadata.labels` and
//! `metadata.annotations`, plus other top-level fields such as `type`.
//! An apply that changes a field another manager owns is a 409 conflict
//! unless forced, as in sigs.k8s.io/structured-merge-diff.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::objects;

pub type FieldPath = Vec<String>;

const MAP_FIELDS: [&[&str]; 5] = [
    &["spec"],
    &["data"],
    &["binaryData"],
    &["metadata", "labels"],
    &["metadata", "annotations"],
];
const UNTRACKED_TOP: [&str; 6] = [
    "apiVersion",
    "kind",
    "metadata",
    "status",
    "stringData",
    "spec",
];

/// The fields `obj` sets, at tracking granularity.
pub fn field_set(obj: &Value) -> BTreeSet<FieldPath> {
    let mut set = BTreeSet::new();
    for prefix in MAP_FIELDS {
        if let Some(m) = get_path(obj, prefix).and_then(Value::as_object) {
            for k in m.keys() {
                let mut p: FieldPath = prefix.iter().map(|s| s.to_string()).collect();
                p.push(k.clone());
                set.insert(p);
            }
        }
    }
    if let Some(o) = obj.as_object() {
        for k in o.keys() {
            if !UNTRACKED_TOP.contains(&k.as_str()) && k != "data" && k != "binaryData" {
                set.insert(vec![k.clone()]);
            }
        }
    }
    set
}

fn get_path<'a, S: AsRef<str>>(obj: &'a Value, path: &[S]) -> Option<&'a Value> {
    let mut cur = obj;
    for s in path {
        cur = cur.get(s.as_ref())?;
    }
    Some(cur)
}

fn set_path(obj: &mut Value, path: &[String], value: Value) {
    let mut cur = obj;
    for (i, s) in path.iter().enumerate() {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let Some(m) = cur.as_object_mut() else { return };
        if i + 1 == path.len() {
            m.insert(s.clone(), value);
            return;
        }
        cur = m
            .entry(s.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

fn remove_path(obj: &mut Value, path: &[String]) {
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    let mut cur = obj;
    for s in parent {
        match cur.get_mut(s) {
            Some(v) => cur = v,
            None => return,
        }
    }
    if let Some(m) = cur.as_object_mut() {
        m.remove(last);
    }
}

/// `.spec.holderIdentity`, as conflict messages name a field.
pub fn render_path(p: &FieldPath) -> String {
    p.iter().map(|s| format!(".{s}")).collect()
}

#[derive(Debug, Clone, PartialEq)]
pub struct ManagerEntry {
    pub manager: String,
    pub operation: String,
    pub api_version: String,
    pub time: String,
    pub fields: BTreeSet<FieldPath>,
}

fn to_fields_v1(fields: &BTreeSet<FieldPath>) -> Value {
    let mut root = Value::Object(Map::new());
    for p in fields {
        let path: Vec<String> = p.iter().map(|s| format!("f:{s}")).collect();
        // Parents exist as maps; leaves are `{}`.
        set_path(&mut root, &path, json!({}));
    }
    // The `f:spec` style parent entries also carry `.: {}` when the map itself is owned;
    // the dev cluster does not track that level.
    root
}

fn from_fields_v1(v: &Value, prefix: &mut FieldPath, out: &mut BTreeSet<FieldPath>) {
    let Some(m) = v.as_object() else { return };
    if m.is_empty() && !prefix.is_empty() {
        out.insert(prefix.clone());
        return;
    }
    for (k, child) in m {
        if let Some(name) = k.strip_prefix("f:") {
            prefix.push(name.to_string());
            from_fields_v1(child, prefix, out);
            prefix.pop();
        }
    }
}

pub fn read_managers(obj: &Value) -> Vec<ManagerEntry> {
    let Some(list) = objects::meta(obj)
        .and_then(|m| m.get("managedFields"))
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|e| {
            let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let mut fields = BTreeSet::new();
            from_fields_v1(e.get("fieldsV1")?, &mut Vec::new(), &mut fields);
            Some(ManagerEntry {
                manager: s("manager"),
                operation: s("operation"),
                api_version: s("apiVersion"),
                time: s("time"),
                fields,
            })
        })
        .collect()
}

pub fn write_managers(obj: &mut Value, managers: &[ManagerEntry]) {
    let meta = objects::meta_mut(obj);
    let entries: Vec<Value> = managers
        .iter()
        .filter(|m| !m.fields.is_empty())
        .map(|m| {
            json!({
                "manager": m.manager,
                "operation": m.operation,
                "apiVersion": m.api_version,
                "time": m.time,
                "fieldsType": "FieldsV1",
                "fieldsV1": to_fields_v1(&m.fields),
            })
        })
        .collect();
    if entries.is_empty() {
        meta.remove("managedFields");
    } else {
        meta.insert("managedFields".into(), Value::Array(entries));
    }
}

/// After a non-apply write: the fields it changed become `manager`'s
/// (operation Update), and nobody owns fields that are gone.
pub fn record_update(old: Option<&Value>, new: &mut Value, manager: &str, api_version: &str) {
    let mut managers = old.map(read_managers).unwrap_or_default();
    let new_fields = field_set(new);
    let changed: BTreeSet<FieldPath> = new_fields
        .iter()
        .filter(|p| old.and_then(|o| get_path(o, p)) != get_path(new, p))
        .cloned()
        .collect();
    for m in &mut managers {
        m.fields
            .retain(|f| new_fields.contains(f) && !changed.contains(f));
    }
    if !changed.is_empty() {
        let now = objects::now_rfc3339();
        match managers
            .iter_mut()
            .find(|m| m.manager == manager && m.operation == "Update")
        {
            Some(m) => {
                m.fields.extend(changed);
                m.time = now;
            }
            None => managers.push(ManagerEntry {
                manager: manager.to_string(),
                operation: "Update".into(),
                api_version: api_version.to_string(),
                time: now,
                fields: changed,
            }),
        }
    }
    write_managers(new, &managers);
}

/// Server-side apply of `config` by `manager` onto `existing` (or a new
/// object). Returns the merged object, or the conflicts as
/// (other manager, field) when not forced.
pub fn apply(
    existing: &Value,
    config: &Value,
    manager: &str,
    force: bool,
    api_version: &str,
) -> Result<Value, Vec<(String, String)>> {
    let mut merged = existing.clone();
    let mut managers = read_managers(existing);
    let config_fields = field_set(config);

    let mut conflicts = Vec::new();
    for m in managers.iter().filter(|m| m.manager != manager) {
        for f in m.fields.intersection(&config_fields) {
            if get_path(existing, f) != get_path(config, f) {
                conflicts.push((m.manager.clone(), render_path(f)));
            }
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(conflicts);
    }
    // Forced (or no conflict): the applier takes the differing fields.
    for m in managers.iter_mut().filter(|m| m.manager != manager) {
        m.fields.retain(|f| {
            !(config_fields.contains(f) && get_path(existing, f) != get_path(config, f))
        });
    }
    // Fields this manager applied before and leaves out now are removed,
    // unless someone else still owns them.
    let previously: BTreeSet<FieldPath> = managers
        .iter()
        .filter(|m| m.manager == manager && m.operation == "Apply")
        .flat_map(|m| m.fields.iter().cloned())
        .collect();
    for f in previously.difference(&config_fields) {
        let owned_elsewhere = managers
            .iter()
            .any(|m| !(m.manager == manager && m.operation == "Apply") && m.fields.contains(f));
        if !owned_elsewhere {
            remove_path(&mut merged, f);
        }
    }
    for f in &config_fields {
        if let Some(v) = get_path(config, f) {
            set_path(&mut merged, f, v.clone());
        }
    }
    managers.retain(|m| !(m.manager == manager && m.operation == "Apply"));
    managers.push(ManagerEntry {
        manager: manager.to_string(),
        operation: "Apply".into(),
        api_version: api_version.to_string(),
        time: objects::now_rfc3339(),
        fields: config_fields,
    });
    write_managers(&mut merged, &managers);
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(holder: &str) -> Value {
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
               "metadata": {"name": "l", "namespace": "ns"},
               "spec": {"holderIdentity": holder, "leaseDurationSeconds": 15}})
    }

    #[test]
    fn a_second_manager_changing_an_owned_field_conflicts() {
        let base = json!({"metadata": {"name": "l"}});
        let a =
            apply(&base, &lease("a"), "a", false, "coordination.k8s.io/v1").expect("first apply");
        let err =
            apply(&a, &lease("b"), "b", false, "coordination.k8s.io/v1").expect_err("conflict");
        assert_eq!(
            err,
            vec![("a".to_string(), ".spec.holderIdentity".to_string())]
        );
        let forced = apply(&a, &lease("b"), "b", true, "coordination.k8s.io/v1").expect("forced");
        assert_eq!(forced["spec"]["holderIdentity"], "b");
        // Same value: shared ownership, no conflict.
        assert!(apply(&a, &lease("a"), "c", false, "coordination.k8s.io/v1").is_ok());
    }

    #[test]
    fn managed_fields_survive_a_round_trip() {
        let base = json!({"metadata": {"name": "l"}});
        let a = apply(&base, &lease("a"), "a", false, "coordination.k8s.io/v1").expect("apply");
        let m = read_managers(&a);
        assert_eq!(m.len(), 1);
        assert!(
            m[0].fields
                .contains(&vec!["spec".to_string(), "holderIdentity".to_string()])
        );
        assert_eq!(
            a["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]["f:holderIdentity"],
            json!({})
        );
    }

    #[test]
    fn an_update_takes_ownership_of_what_it_changed() {
        let base = json!({"metadata": {"name": "l"}});
        let a = apply(&base, &lease("a"), "a", false, "coordination.k8s.io/v1").expect("apply");
        let mut updated = a.clone();
        updated["spec"]["holderIdentity"] = json!("u");
        record_update(Some(&a), &mut updated, "updater", "coordination.k8s.io/v1");
        let err = apply(&updated, &lease("a"), "a", false, "coordination.k8s.io/v1")
            .expect_err("conflict");
        assert_eq!(err[0].0, "updater");
    }

    #[test]
    fn fields_dropped_from_an_apply_are_removed() {
        let base = json!({"metadata": {"name": "c"}});
        let cfg1 = json!({"metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}});
        let cfg2 = json!({"metadata": {"name": "c"}, "data": {"a": "1"}});
        let one = apply(&base, &cfg1, "m", false, "v1").expect("apply");
        let two = apply(&one, &cfg2, "m", false, "v1").expect("apply");
        assert_eq!(two["data"], json!({"a": "1"}));
    }
}
