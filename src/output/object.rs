//! The object kubeadm prints per token: `output.kubeadm.k8s.io/v1alpha3`
//! `BootstrapToken` (TypeMeta inline, then the embedded
//! `bootstraptoken/v1.BootstrapToken`), as its JSON form. Every structured
//! format (json, yaml, templates, jsonpath) starts from this value.

use serde_json::{Map, Value};

use crate::token::{BootstrapToken, format_go_duration};

pub const API_VERSION: &str = "output.kubeadm.k8s.io/v1alpha3";
pub const KIND: &str = "BootstrapToken";

/// The JSON object in Go's field order, with `omitempty` applied.
/// `expires` is `metav1.Time`, which marshals in UTC.
pub fn token_object(token: &BootstrapToken) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("kind".into(), KIND.into());
    m.insert("apiVersion".into(), API_VERSION.into());
    m.insert("token".into(), token.token.expose().into());
    if !token.description.is_empty() {
        m.insert("description".into(), token.description.clone().into());
    }
    if let Some(ttl) = token.ttl {
        m.insert("ttl".into(), format_go_duration(ttl).into());
    }
    if let Some(e) = token.expires {
        m.insert("expires".into(), e.to_rfc3339_utc().into());
    }
    if !token.usages.is_empty() {
        m.insert("usages".into(), token.usages.clone().into());
    }
    if !token.groups.is_empty() {
        m.insert("groups".into(), token.groups.clone().into());
    }
    m
}

/// Go's `json.MarshalIndent(obj, "", "    ")`: serde_json already escapes
/// control characters as Go does; Go additionally HTML-escapes `<`, `>`, `&`
/// and escapes U+2028/U+2029. Those characters only occur inside strings.
pub fn go_json_indent(value: &Value) -> String {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    serde::Serialize::serialize(value, &mut ser)
        .expect("serializing a serde_json::Value into memory cannot fail");
    go_html_escape(&String::from_utf8_lossy(&buf))
}

/// Go's compact `json.Marshal`, with the same escaping.
pub fn go_json_compact(value: &Value) -> String {
    go_html_escape(&value.to_string())
}

fn go_html_escape(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}
