//! PATCH bodies: JSON merge patch (RFC 7386), strategic merge patch (for the
//! served kinds, whose fields are maps and scalars, it merges as RFC 7386
//! does, plus the `$patch: delete`/`replace` directives on maps), and JSON
//! patch (RFC 6902).

use serde_json::{Map, Value};

/// RFC 7386: objects merge recursively, `null` removes, anything else replaces.
pub fn merge(target: &mut Value, patch: &Value) {
    let Some(p) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Some(t) = target.as_object_mut() else {
        return;
    };
    for (k, v) in p {
        if v.is_null() {
            t.remove(k);
        } else {
            merge(t.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

/// Strategic merge for maps: RFC 7386 plus the `$patch` directive.
pub fn strategic_merge(target: &mut Value, patch: &Value) -> Result<(), String> {
    let Some(p) = patch.as_object() else {
        *target = patch.clone();
        return Ok(());
    };
    match p.get("$patch").and_then(Value::as_str) {
        Some("delete") => {
            *target = Value::Null;
            return Ok(());
        }
        Some("replace") => {
            let mut replaced = p.clone();
            replaced.remove("$patch");
            *target = Value::Object(replaced);
            return Ok(());
        }
        Some(other) => return Err(format!("unknown patch type: {other} in map: {patch}")),
        None => {}
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Some(t) = target.as_object_mut() else {
        return Ok(());
    };
    for (k, v) in p {
        if k.starts_with("$setElementOrder/") || k.starts_with("$retainKeys") {
            continue;
        }
        if v.is_null() {
            t.remove(k);
        } else {
            let slot = t.entry(k.clone()).or_insert(Value::Null);
            strategic_merge(slot, v)?;
            if slot.is_null() {
                t.remove(k);
            }
        }
    }
    Ok(())
}

/// RFC 6901 pointer segments.
fn pointer_segments(path: &str) -> Result<Vec<String>, String> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Err(format!(
            "JSON pointer must be empty or start with a \"/\": {path:?}"
        ));
    };
    Ok(rest
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn parent_and_last<'a>(doc: &'a mut Value, path: &str) -> Result<(&'a mut Value, String), String> {
    let mut segs = pointer_segments(path)?;
    let last = segs.pop().ok_or_else(|| {
        "the root of the document cannot be the target of this operation".to_string()
    })?;
    let mut cur = doc;
    for s in &segs {
        cur = match cur {
            Value::Object(m) => m
                .get_mut(s)
                .ok_or_else(|| format!("doc is missing path: {path:?}: missing value"))?,
            Value::Array(a) => {
                let i: usize = s
                    .parse()
                    .map_err(|_| format!("invalid index {s:?} in path {path:?}"))?;
                a.get_mut(i)
                    .ok_or_else(|| format!("doc is missing path: {path:?}: missing value"))?
            }
            _ => return Err(format!("doc is missing path: {path:?}: missing value")),
        };
    }
    Ok((cur, last))
}

fn get_at<'a>(doc: &'a Value, path: &str) -> Result<&'a Value, String> {
    let mut cur = doc;
    for s in pointer_segments(path)? {
        cur = match cur {
            Value::Object(m) => m.get(&s),
            Value::Array(a) => s.parse::<usize>().ok().and_then(|i| a.get(i)),
            _ => None,
        }
        .ok_or_else(|| format!("doc is missing path: {path:?}: missing value"))?;
    }
    Ok(cur)
}

fn add_at(doc: &mut Value, path: &str, value: Value) -> Result<(), String> {
    if path.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (parent, last) = parent_and_last(doc, path)?;
    match parent {
        Value::Object(m) => {
            m.insert(last, value);
            Ok(())
        }
        Value::Array(a) => {
            if last == "-" {
                a.push(value);
                return Ok(());
            }
            let i: usize = last
                .parse()
                .map_err(|_| format!("invalid index {last:?} in path {path:?}"))?;
            if i > a.len() {
                return Err(format!("index out of bounds in path {path:?}"));
            }
            a.insert(i, value);
            Ok(())
        }
        _ => Err(format!("doc is missing path: {path:?}: missing value")),
    }
}

fn remove_at(doc: &mut Value, path: &str) -> Result<Value, String> {
    let (parent, last) = parent_and_last(doc, path)?;
    match parent {
        Value::Object(m) => m
            .remove(&last)
            .ok_or_else(|| format!("unable to remove nonexistent key: {last}: missing value")),
        Value::Array(a) => {
            let i: usize = last
                .parse()
                .map_err(|_| format!("invalid index {last:?} in path {path:?}"))?;
            if i >= a.len() {
                return Err(format!(
                    "unable to remove nonexistent index {i} in path {path:?}"
                ));
            }
            Ok(a.remove(i))
        }
        _ => Err(format!("doc is missing path: {path:?}: missing value")),
    }
}

/// RFC 6902. Errors carry evanphx/json-patch's wording where it matters.
pub fn json_patch(doc: &mut Value, ops: &Value) -> Result<(), String> {
    let Some(ops) = ops.as_array() else {
        return Err("json: cannot unmarshal object into Go value of type jsonpatch.Patch".into());
    };
    for op in ops {
        let kind = op.get("op").and_then(Value::as_str).unwrap_or("");
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("operation missing path: {op}"))?;
        let value = || {
            op.get("value")
                .cloned()
                .ok_or_else(|| format!("missing value for {kind} operation"))
        };
        let from = || {
            op.get("from")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("operation missing from: {op}"))
        };
        match kind {
            "add" => add_at(doc, path, value()?)?,
            "remove" => {
                remove_at(doc, path)?;
            }
            "replace" => {
                get_at(doc, path)?;
                if path.is_empty() {
                    *doc = value()?;
                } else {
                    remove_at(doc, path)?;
                    add_at(doc, path, value()?)?;
                }
            }
            "move" => {
                let v = remove_at(doc, from()?)?;
                add_at(doc, path, v)?;
            }
            "copy" => {
                let v = get_at(doc, from()?)?.clone();
                add_at(doc, path, v)?;
            }
            "test" => {
                if *get_at(doc, path)? != value()? {
                    return Err(format!("testing value {path} failed: test failed"));
                }
            }
            other => return Err(format!("Unexpected kind: {other}")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut t = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge(&mut t, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(t, json!({"a": "z", "c": {"d": "e"}}));
    }

    #[test]
    fn strategic_merge_on_maps_and_directives() {
        let mut t = json!({"data": {"a": "1", "b": "2"}, "metadata": {"labels": {"x": "y"}}});
        strategic_merge(
            &mut t,
            &json!({"data": {"b": null, "c": "3"}, "metadata": {"labels": {"$patch": "delete"}}}),
        )
        .expect("patch");
        assert_eq!(t, json!({"data": {"a": "1", "c": "3"}, "metadata": {}}));
    }

    #[test]
    fn json_patch_ops() {
        let mut t = json!({"data": {"a": "1"}, "list": [1, 2]});
        json_patch(
            &mut t,
            &json!([
                {"op": "add", "path": "/data/b", "value": "2"},
                {"op": "replace", "path": "/data/a", "value": "x"},
                {"op": "remove", "path": "/list/0"},
                {"op": "add", "path": "/list/-", "value": 3},
                {"op": "copy", "from": "/data/b", "path": "/data/c"},
                {"op": "move", "from": "/data/c", "path": "/data/d"},
                {"op": "test", "path": "/data/d", "value": "2"},
            ]),
        )
        .expect("patch");
        assert_eq!(
            t,
            json!({"data": {"a": "x", "b": "2", "d": "2"}, "list": [2, 3]})
        );
    }

    #[test]
    fn json_patch_failures_are_errors_not_panics() {
        let mut t = json!({"a": 1});
        assert!(json_patch(&mut t, &json!([{"op": "remove", "path": "/nope"}])).is_err());
        assert!(json_patch(&mut t, &json!([{"op": "test", "path": "/a", "value": 2}])).is_err());
        assert!(
            json_patch(
                &mut t,
                &json!([{"op": "replace", "path": "/x/y", "value": 2}])
            )
            .is_err()
        );
        assert!(
            json_patch(
                &mut t,
                &json!([{"op": "add", "path": "no-slash", "value": 2}])
            )
            .is_err()
        );
        assert!(json_patch(&mut t, &json!({"op": "add"})).is_err());
        assert_eq!(t, json!({"a": 1}));
    }
}
