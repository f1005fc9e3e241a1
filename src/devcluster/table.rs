//! `Accept: application/json;as=Table;g=meta.k8s.io;v=v1`: the server-side
//! printing kubectl asks for, with kube-apiserver's columns per kind
//! (pkg/printers/internalversion/printers.go).

use serde_json::{Value, json};

use super::objects;
use super::resources::Resource;

fn column(name: &str, ty: &str, format: &str, description: &str) -> Value {
    json!({"name": name, "type": ty, "format": format, "description": description, "priority": 0})
}

const NAME_DESC: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const AGE_DESC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

fn columns(r: Resource) -> Vec<Value> {
    let name = column("Name", "string", "name", NAME_DESC);
    let age = column("Age", "string", "", AGE_DESC);
    match r {
        Resource::Secrets => vec![
            name,
            column("Type", "string", "", "The type of the secret"),
            column("Data", "string", "", "The number of entries in the secret"),
            age,
        ],
        Resource::ConfigMaps => vec![
            name,
            column(
                "Data",
                "string",
                "",
                "The number of entries in the config map",
            ),
            age,
        ],
        Resource::Namespaces => vec![
            name,
            column("Status", "string", "", "The status of the namespace"),
            age,
        ],
        Resource::Leases => vec![
            name,
            column("Holder", "string", "", "The holder of the lease"),
            age,
        ],
        Resource::CertificateSigningRequests => vec![
            name,
            age,
            column("SignerName", "string", "", "The signer name of the CSR"),
            column(
                "Requestor",
                "string",
                "",
                "Name of the user requesting the CSR",
            ),
            column(
                "RequestedDuration",
                "string",
                "",
                "The requested duration of the certificate",
            ),
            column("Condition", "string", "", "The state of the CSR"),
        ],
        Resource::Nodes => vec![
            name,
            column("Status", "string", "", "The status of the node"),
            column("Roles", "string", "", "The roles of the node"),
            age,
            column(
                "Version",
                "string",
                "",
                "Kubelet Version reported by the node.",
            ),
        ],
    }
}

fn count(obj: &Value, fields: &[&str]) -> usize {
    fields
        .iter()
        .filter_map(|f| obj.get(*f).and_then(Value::as_object))
        .map(|m| m.len())
        .sum()
}

fn cells(r: Resource, obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let name = json!(objects::name(obj));
    let age = json!(age(obj, now));
    match r {
        Resource::Secrets => vec![
            name,
            json!(obj.get("type").and_then(Value::as_str).unwrap_or("")),
            json!(count(obj, &["data"])),
            age,
        ],
        Resource::ConfigMaps => vec![name, json!(count(obj, &["data", "binaryData"])), age],
        Resource::Namespaces => vec![
            name,
            json!(
                obj.pointer("/status/phase")
                    .and_then(Value::as_str)
                    .unwrap_or("")
            ),
            age,
        ],
        Resource::Leases => vec![
            name,
            json!(
                obj.pointer("/spec/holderIdentity")
                    .and_then(Value::as_str)
                    .unwrap_or("")
            ),
            age,
        ],
        Resource::CertificateSigningRequests => {
            let s = |p: &str| json!(obj.pointer(p).and_then(Value::as_str).unwrap_or(""));
            vec![
                name,
                age,
                s("/spec/signerName"),
                s("/spec/username"),
                json!("<none>"),
                json!(csr_condition(obj)),
            ]
        }
        Resource::Nodes => {
            let ready = obj
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .and_then(|c| {
                    c.iter()
                        .find(|c| c.get("type").and_then(Value::as_str) == Some("Ready"))
                })
                .and_then(|c| c.get("status").and_then(Value::as_str))
                .map_or(
                    "Unknown",
                    |s| if s == "True" { "Ready" } else { "NotReady" },
                );
            let version = obj
                .pointer("/status/nodeInfo/kubeletVersion")
                .and_then(Value::as_str)
                .unwrap_or("");
            vec![name, json!(ready), json!("<none>"), age, json!(version)]
        }
    }
}

/// printers.go's CSR condition: the approval conditions, else Pending.
fn csr_condition(obj: &Value) -> String {
    let (approved, denied) = super::csr::approval(obj);
    let mut parts = Vec::new();
    if approved {
        parts.push("Approved");
    }
    if denied {
        parts.push("Denied");
    }
    if obj.pointer("/status/certificate").is_some() {
        parts.push("Issued");
    }
    if parts.is_empty() {
        "Pending".into()
    } else {
        parts.join(",")
    }
}

fn age(obj: &Value, now: jiff::Timestamp) -> String {
    match objects::meta_str(obj, "creationTimestamp")
        .and_then(|s| s.parse::<jiff::Timestamp>().ok())
    {
        Some(t) => human_duration(now.as_second() - t.as_second()),
        None => "<unknown>".to_string(),
    }
}

/// k8s.io/apimachinery/pkg/util/duration.HumanDuration.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

fn row(r: Resource, obj: &Value, now: jiff::Timestamp) -> Value {
    let mut meta = objects::meta(obj).cloned().unwrap_or_default();
    meta.remove("managedFields");
    json!({
        "cells": cells(r, obj, now),
        "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta},
    })
}

pub fn from_list(page: &super::list::ListPage) -> Value {
    let now = jiff::Timestamp::now();
    let r = page.resource;
    let rows: Vec<Value> = page.items.iter().map(|o| row(r, o, now)).collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": page.metadata,
        "columnDefinitions": columns(r),
        "rows": rows,
    })
}

pub fn from_object(r: Resource, obj: &Value) -> Value {
    let now = jiff::Timestamp::now();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": objects::meta_str(obj, "resourceVersion").unwrap_or("")},
        "columnDefinitions": columns(r),
        "rows": [row(r, obj, now)],
    })
}

#[cfg(test)]
mod tests {
    use super::human_duration;

    #[test]
    fn ages_read_as_kubectl_prints_them() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(119), "119s");
        assert_eq!(human_duration(150), "2m30s");
        assert_eq!(human_duration(600), "10m");
        assert_eq!(human_duration(3 * 3600 + 600), "3h10m");
        assert_eq!(human_duration(30 * 3600), "30h");
        assert_eq!(human_duration(3 * 86400 + 3600), "3d1h");
        assert_eq!(human_duration(100 * 86400), "100d");
    }
}
