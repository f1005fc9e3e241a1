//! Just enough of Kubernetes' protobuf encoding to read what kubectl sends:
//! it writes built-in objects (`kubectl create secret|configmap|namespace`)
//! as `application/vnd.kubernetes.protobuf` and does not fall back to JSON.
//! Decodes the `k8s\0` envelope (runtime.Unknown) and Secret, ConfigMap,
//! Namespace and Lease (generated.proto of k8s.io/api) into their JSON form.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

const MAGIC: &[u8] = b"k8s\x00";

#[derive(Debug, Clone, Copy)]
enum Wire<'a> {
    Varint(u64),
    Fixed64,
    Bytes(&'a [u8]),
    Fixed32,
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, String> {
        let mut out = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self.buf.split_first().ok_or("truncated varint")?;
            self.buf = rest;
            out |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(out);
            }
        }
        Err("varint too long".into())
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if n > self.buf.len() {
            return Err("truncated field".into());
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    fn next(&mut self) -> Result<Option<(u64, Wire<'a>)>, String> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let field = key >> 3;
        let wire = match key & 7 {
            0 => Wire::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Wire::Fixed64
            }
            2 => {
                let len = usize::try_from(self.varint()?).map_err(|_| "length overflow")?;
                Wire::Bytes(self.take(len)?)
            }
            5 => {
                self.take(4)?;
                Wire::Fixed32
            }
            other => return Err(format!("unsupported wire type {other}")),
        };
        Ok(Some((field, wire)))
    }
}

fn fields(buf: &[u8]) -> Result<Vec<(u64, Wire<'_>)>, String> {
    let mut r = Reader { buf };
    let mut out = Vec::new();
    while let Some(f) = r.next()? {
        out.push(f);
    }
    Ok(out)
}

fn string(w: Wire<'_>) -> Result<String, String> {
    match w {
        Wire::Bytes(b) => {
            String::from_utf8(b.to_vec()).map_err(|_| "invalid UTF-8 in string".into())
        }
        _ => Err("expected a string".into()),
    }
}

fn bytes(w: Wire<'_>) -> Result<&[u8], String> {
    match w {
        Wire::Bytes(b) => Ok(b),
        _ => Err("expected bytes".into()),
    }
}

fn int(w: Wire<'_>) -> Result<i64, String> {
    match w {
        // Two's complement for negative int32/int64, as protobuf encodes them.
        Wire::Varint(v) => Ok(v as i64),
        _ => Err("expected an integer".into()),
    }
}

/// A map entry message {1: key, 2: value}.
fn map_entry(w: Wire<'_>, value_as_bytes: bool) -> Result<(String, Value), String> {
    let mut key = String::new();
    let mut value = json!("");
    for (f, v) in fields(bytes(w)?)? {
        match f {
            1 => key = string(v)?,
            2 if value_as_bytes => value = json!(STANDARD.encode(bytes(v)?)),
            2 => value = json!(string(v)?),
            _ => {}
        }
    }
    Ok((key, value))
}

fn insert_map(obj: &mut Map<String, Value>, name: &str, entry: (String, Value)) {
    if let Some(m) = obj
        .entry(name)
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
    {
        m.insert(entry.0, entry.1);
    }
}

fn push(obj: &mut Map<String, Value>, name: &str, v: Value) {
    if let Some(a) = obj
        .entry(name)
        .or_insert_with(|| Value::Array(Vec::new()))
        .as_array_mut()
    {
        a.push(v);
    }
}

/// metav1.Time / MicroTime {1: seconds, 2: nanos} as RFC 3339.
fn time(w: Wire<'_>, micro: bool) -> Result<Value, String> {
    let mut secs = 0i64;
    let mut nanos = 0i64;
    for (f, v) in fields(bytes(w)?)? {
        match f {
            1 => secs = int(v)?,
            2 => nanos = int(v)?,
            _ => {}
        }
    }
    let ts = jiff::Timestamp::new(secs, i32::try_from(nanos).unwrap_or(0))
        .map_err(|e| format!("invalid time: {e}"))?;
    Ok(if micro {
        json!(ts.strftime("%Y-%m-%dT%H:%M:%S.%6fZ").to_string())
    } else {
        json!(ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
    })
}

fn owner_reference(w: Wire<'_>) -> Result<Value, String> {
    let mut o = Map::new();
    for (f, v) in fields(bytes(w)?)? {
        match f {
            1 => o.insert("kind".into(), json!(string(v)?)),
            3 => o.insert("name".into(), json!(string(v)?)),
            4 => o.insert("uid".into(), json!(string(v)?)),
            5 => o.insert("apiVersion".into(), json!(string(v)?)),
            6 => o.insert("controller".into(), json!(int(v)? != 0)),
            7 => o.insert("blockOwnerDeletion".into(), json!(int(v)? != 0)),
            _ => None,
        };
    }
    Ok(Value::Object(o))
}

fn object_meta(w: Wire<'_>) -> Result<Value, String> {
    let mut m = Map::new();
    for (f, v) in fields(bytes(w)?)? {
        match f {
            1 => {
                m.insert("name".into(), json!(string(v)?));
            }
            2 => {
                m.insert("generateName".into(), json!(string(v)?));
            }
            3 => {
                m.insert("namespace".into(), json!(string(v)?));
            }
            5 => {
                m.insert("uid".into(), json!(string(v)?));
            }
            6 => {
                m.insert("resourceVersion".into(), json!(string(v)?));
            }
            7 => {
                m.insert("generation".into(), json!(int(v)?));
            }
            8 => {
                m.insert("creationTimestamp".into(), time(v, false)?);
            }
            9 => {
                m.insert("deletionTimestamp".into(), time(v, false)?);
            }
            11 => insert_map(&mut m, "labels", map_entry(v, false)?),
            12 => insert_map(&mut m, "annotations", map_entry(v, false)?),
            13 => push(&mut m, "ownerReferences", owner_reference(v)?),
            14 => push(&mut m, "finalizers", json!(string(v)?)),
            _ => {}
        }
    }
    // Empty strings are how protobuf says "unset"; JSON omits them.
    m.retain(|_, v| v.as_str() != Some(""));
    Ok(Value::Object(m))
}

fn body(kind: &str, raw: &[u8]) -> Result<Value, String> {
    let mut o = Map::new();
    for (f, v) in fields(raw)? {
        match (kind, f) {
            (_, 1) => {
                o.insert("metadata".into(), object_meta(v)?);
            }
            ("Secret", 2) => insert_map(&mut o, "data", map_entry(v, true)?),
            ("Secret", 3) => {
                o.insert("type".into(), json!(string(v)?));
            }
            ("Secret", 4) => insert_map(&mut o, "stringData", map_entry(v, false)?),
            ("Secret", 5) | ("ConfigMap", 4) => {
                o.insert("immutable".into(), json!(int(v)? != 0));
            }
            ("ConfigMap", 2) => insert_map(&mut o, "data", map_entry(v, false)?),
            ("ConfigMap", 3) => insert_map(&mut o, "binaryData", map_entry(v, true)?),
            ("Namespace", 2) => {
                let mut spec = Map::new();
                for (sf, sv) in fields(bytes(v)?)? {
                    if sf == 1 {
                        push(&mut spec, "finalizers", json!(string(sv)?));
                    }
                }
                o.insert("spec".into(), Value::Object(spec));
            }
            ("Lease", 2) => {
                let mut spec = Map::new();
                for (sf, sv) in fields(bytes(v)?)? {
                    match sf {
                        1 => spec.insert("holderIdentity".into(), json!(string(sv)?)),
                        2 => spec.insert("leaseDurationSeconds".into(), json!(int(sv)? as i32)),
                        3 => spec.insert("acquireTime".into(), time(sv, true)?),
                        4 => spec.insert("renewTime".into(), time(sv, true)?),
                        5 => spec.insert("leaseTransitions".into(), json!(int(sv)? as i32)),
                        6 => spec.insert("strategy".into(), json!(string(sv)?)),
                        7 => spec.insert("preferredHolder".into(), json!(string(sv)?)),
                        _ => None,
                    };
                }
                o.insert("spec".into(), Value::Object(spec));
            }
            ("CertificateSigningRequest", 2) => {
                let mut spec = Map::new();
                for (sf, sv) in fields(bytes(v)?)? {
                    match sf {
                        1 => {
                            spec.insert("request".into(), json!(STANDARD.encode(bytes(sv)?)));
                        }
                        2 => {
                            spec.insert("username".into(), json!(string(sv)?));
                        }
                        3 => {
                            spec.insert("uid".into(), json!(string(sv)?));
                        }
                        4 => push(&mut spec, "groups", json!(string(sv)?)),
                        5 => push(&mut spec, "usages", json!(string(sv)?)),
                        7 => {
                            spec.insert("signerName".into(), json!(string(sv)?));
                        }
                        8 => {
                            spec.insert("expirationSeconds".into(), json!(int(sv)? as i32));
                        }
                        _ => {}
                    }
                }
                o.insert("spec".into(), Value::Object(spec));
            }
            ("CertificateSigningRequest", 3) => {
                let mut status = Map::new();
                for (sf, sv) in fields(bytes(v)?)? {
                    match sf {
                        1 => {
                            let mut c = Map::new();
                            for (cf, cv) in fields(bytes(sv)?)? {
                                let (name, value) = match cf {
                                    1 => ("type", json!(string(cv)?)),
                                    6 => ("status", json!(string(cv)?)),
                                    2 => ("reason", json!(string(cv)?)),
                                    3 => ("message", json!(string(cv)?)),
                                    4 => ("lastUpdateTime", time(cv, false)?),
                                    5 => ("lastTransitionTime", time(cv, false)?),
                                    _ => continue,
                                };
                                c.insert(name.into(), value);
                            }
                            push(&mut status, "conditions", Value::Object(c));
                        }
                        2 => {
                            status.insert("certificate".into(), json!(STANDARD.encode(bytes(sv)?)));
                        }
                        _ => {}
                    }
                }
                o.insert("status".into(), Value::Object(status));
            }
            ("SelfSubjectAccessReview", 2) => {
                let mut spec = Map::new();
                for (sf, sv) in fields(bytes(v)?)? {
                    let names: &[(u64, &str)] = match sf {
                        1 => &[
                            (1, "namespace"),
                            (2, "verb"),
                            (3, "group"),
                            (4, "version"),
                            (5, "resource"),
                            (6, "subresource"),
                            (7, "name"),
                        ],
                        2 => &[(1, "path"), (2, "verb")],
                        _ => continue,
                    };
                    let mut attrs = Map::new();
                    for (af, av) in fields(bytes(sv)?)? {
                        if let Some((_, n)) = names.iter().find(|(f, _)| *f == af) {
                            attrs.insert((*n).into(), json!(string(av)?));
                        }
                    }
                    let key = if sf == 1 {
                        "resourceAttributes"
                    } else {
                        "nonResourceAttributes"
                    };
                    spec.insert(key.into(), Value::Object(attrs));
                }
                o.insert("spec".into(), Value::Object(spec));
            }
            _ => {}
        }
    }
    Ok(Value::Object(o))
}

/// Decodes a protobuf-encoded object into JSON, with `apiVersion` and `kind`
/// from the envelope.
pub fn decode(data: &[u8]) -> Result<Value, String> {
    let rest = data.strip_prefix(MAGIC).ok_or(
        "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]",
    )?;
    let mut api_version = String::new();
    let mut kind = String::new();
    let mut raw: &[u8] = &[];
    for (f, v) in fields(rest)? {
        match f {
            1 => {
                for (tf, tv) in fields(bytes(v)?)? {
                    match tf {
                        1 => api_version = string(tv)?,
                        2 => kind = string(tv)?,
                        _ => {}
                    }
                }
            }
            2 => raw = bytes(v)?,
            _ => {}
        }
    }
    if !matches!(
        kind.as_str(),
        "Secret"
            | "ConfigMap"
            | "Namespace"
            | "Lease"
            | "SelfSubjectAccessReview"
            | "CertificateSigningRequest"
            | "Node"
    ) {
        return Err(format!(
            "no kind \"{kind}\" is registered for version \"{api_version}\""
        ));
    }
    let mut obj = body(&kind, raw)?;
    if let Some(o) = obj.as_object_mut() {
        o.insert("kind".into(), json!(kind));
        o.insert("apiVersion".into(), json!(api_version));
    }
    Ok(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(n: u64, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![((n << 3) | 2) as u8, payload.len() as u8];
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn a_kubectl_secret_decodes() {
        let meta = [field(1, b"s1"), field(3, b"kube-system")].concat();
        let entry = [field(1, b"a"), field(2, b"b")].concat();
        let secret = [field(1, &meta), field(2, &entry), field(3, b"Opaque")].concat();
        let type_meta = [field(1, b"v1"), field(2, b"Secret")].concat();
        let mut msg = MAGIC.to_vec();
        msg.extend([field(1, &type_meta), field(2, &secret)].concat());
        let v = decode(&msg).expect("decode");
        assert_eq!(
            v,
            json!({"metadata": {"name": "s1", "namespace": "kube-system"}, "data": {"a": "Yg=="},
                   "type": "Opaque", "kind": "Secret", "apiVersion": "v1"})
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(decode(b"k8s\x00\xff\xff\xff").is_err());
        assert!(decode(b"k8s\x00\x12\x50abc").is_err());
        assert!(decode(b"nope").is_err());
    }
}
