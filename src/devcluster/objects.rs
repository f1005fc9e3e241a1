//! Reading and writing the metadata of JSON objects, as apiserver fills it in.

use std::sync::OnceLock;

use bytes::Bytes;
use rand::RngExt;
use serde_json::{Map, Value, json};

use super::resources::Resource;
use super::store::Key;

/// An object as the store keeps it, with its JSON as a list item (no `kind`,
/// no `apiVersion`) made on the first list that serves it and shared by every
/// later one: a list is then its items' bytes spliced together, not a deep
/// copy and a new serialisation of each.
#[derive(Debug)]
pub struct Stored {
    value: Value,
    list_item: OnceLock<Bytes>,
}

impl Stored {
    pub fn new(value: Value) -> Self {
        Self {
            value,
            list_item: OnceLock::new(),
        }
    }

    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The object's JSON as a list item, in its stored key order.
    pub fn list_item_json(&self) -> &Bytes {
        self.list_item.get_or_init(|| {
            use serde::Serializer;
            let mut out = Vec::with_capacity(512);
            // Serializing a Value to memory cannot fail.
            let _ = match &self.value {
                Value::Object(m) => serde_json::Serializer::new(&mut out)
                    .collect_map(m.iter().filter(|(k, _)| *k != "kind" && *k != "apiVersion")),
                other => serde_json::to_writer(&mut out, other),
            };
            Bytes::from(out)
        })
    }
}

impl std::ops::Deref for Stored {
    type Target = Value;

    fn deref(&self) -> &Value {
        &self.value
    }
}

pub fn meta(obj: &Value) -> Option<&Map<String, Value>> {
    obj.get("metadata").and_then(Value::as_object)
}

/// `metadata`, created as an empty map if absent or not a map.
pub fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.is_object() {
        *obj = json!({});
    }
    let o = obj
        .as_object_mut()
        .expect("invariant: obj was just made an object");
    let m = o
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !m.is_object() {
        *m = Value::Object(Map::new());
    }
    m.as_object_mut()
        .expect("invariant: metadata was just made an object")
}

pub fn meta_str<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    meta(obj)?.get(field)?.as_str()
}

pub fn name(obj: &Value) -> &str {
    meta_str(obj, "name").unwrap_or("")
}

pub fn namespace(obj: &Value) -> &str {
    meta_str(obj, "namespace").unwrap_or("")
}

pub fn uid(obj: &Value) -> &str {
    meta_str(obj, "uid").unwrap_or("")
}

pub fn resource_version(obj: &Value) -> Option<u64> {
    meta_str(obj, "resourceVersion")?.parse().ok()
}

pub fn set_resource_version(obj: &mut Value, rv: u64) {
    meta_mut(obj).insert("resourceVersion".into(), json!(rv.to_string()));
}

pub fn labels(obj: &Value) -> Option<&Map<String, Value>> {
    meta(obj)?.get("labels")?.as_object()
}

/// The store key of a stored object, from its apiVersion, kind and metadata.
pub fn key_of(obj: &Value) -> Option<Key> {
    let api_version = obj.get("apiVersion")?.as_str()?;
    let kind = obj.get("kind")?.as_str()?;
    let resource = Resource::from_kind(api_version, kind)?;
    let n = name(obj);
    if n.is_empty() {
        return None;
    }
    Some(Key::new(resource, namespace(obj), n))
}

/// A random RFC 4122 version 4 UUID, the format apiserver's uids have.
pub fn new_uid() -> String {
    let mut b: [u8; 16] = rand::rng().random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// RFC 3339, UTC, whole seconds: metav1.Time's wire format.
pub fn now_rfc3339() -> String {
    rfc3339(jiff::Timestamp::now())
}

/// `at` in metav1.Time's wire format.
pub fn rfc3339(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `generateName` + 5 random characters from apiserver's alphabet
/// (k8s.io/apiserver/pkg/storage/names, utilrand.String: no vowels, no
/// look-alikes).
pub fn generate_name(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    // apiserver truncates the prefix so the result stays a valid name.
    let max_prefix = 63 - 5;
    let prefix: String = prefix.chars().take(max_prefix).collect();
    let suffix: String = (0..5)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("{prefix}{suffix}")
}

/// The object as a list item: apiserver omits `kind` and `apiVersion` there.
pub fn as_list_item(mut obj: Value) -> Value {
    if let Some(o) = obj.as_object_mut() {
        o.remove("kind");
        o.remove("apiVersion");
    }
    obj
}

/// The object as `PartialObjectMetadata` (`Accept: …;as=PartialObjectMetadata;g=meta.k8s.io;v=v1`).
pub fn as_partial_metadata(obj: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

/// A list page as `PartialObjectMetadataList`.
pub fn as_partial_metadata_list(metadata: &Value, items: &[std::sync::Arc<Stored>]) -> Value {
    let items: Vec<Value> = items.iter().map(|o| as_partial_metadata(o)).collect();
    json!({
        "kind": "PartialObjectMetadataList",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "items": items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_look_like_uuid_v4() {
        let u = new_uid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"), "{u}");
        assert_ne!(u, new_uid());
    }

    #[test]
    fn a_list_item_is_the_object_without_kind_and_api_version() {
        let o = Stored::new(json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "a"}, "type": "t", "data": {"k": "dg=="}}));
        let item: Value = serde_json::from_slice(o.list_item_json()).expect("JSON");
        assert_eq!(
            item,
            json!({"metadata": {"name": "a"}, "type": "t", "data": {"k": "dg=="}})
        );
        assert_eq!(
            std::str::from_utf8(o.list_item_json()).expect("utf-8"),
            r#"{"metadata":{"name":"a"},"type":"t","data":{"k":"dg=="}}"#,
            "in the stored key order"
        );
    }

    #[test]
    fn generated_names_keep_the_prefix() {
        let n = generate_name("bootstrap-token-");
        assert!(n.starts_with("bootstrap-token-"));
        assert_eq!(n.len(), "bootstrap-token-".len() + 5);
    }
}
