//! Object validation as kube-apiserver's `ValidateObjectMeta`,
//! `ValidateSecret` and `ValidateConfigMap` do it
//! (pkg/apis/core/validation/validation.go), plus the decoding rules that
//! come before validation (Secret data is base64 `[]byte`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use super::objects;
use super::resources::Resource;
use super::status::{ApiError, FieldCause};

const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const CONFIG_KEY_MSG: &str = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
/// core.MaxSecretSize: 1 MiB across all data values (ConfigMaps share it).
const MAX_SECRET_SIZE: usize = 1024 * 1024;

pub fn is_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

pub fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253 && subdomain_shape(s)
}

fn subdomain_shape(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|l| {
            let b = l.as_bytes();
            !b.is_empty()
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
                && b[0] != b'-'
                && b[b.len() - 1] != b'-'
        })
}

fn name_causes(r: Resource, field: &str, name: &str) -> Vec<FieldCause> {
    let mut causes = Vec::new();
    if r == Resource::Namespaces {
        if name.len() > 63 {
            causes.push(FieldCause::invalid(
                field,
                name,
                "must be no more than 63 characters",
            ));
        }
        if name.contains('.') || !subdomain_shape(name) {
            // IsDNS1123Label: a valid subdomain that is no label has dots.
            let msg = if subdomain_shape(name) {
                "must not contain dots"
            } else {
                DNS1123_LABEL_MSG
            };
            causes.push(FieldCause::invalid(field, name, msg));
        }
    } else {
        if name.len() > 253 {
            causes.push(FieldCause::invalid(
                field,
                name,
                "must be no more than 253 characters",
            ));
        }
        if !subdomain_shape(name) {
            causes.push(FieldCause::invalid(field, name, DNS1123_SUBDOMAIN_MSG));
        }
    }
    causes
}

/// A config key (Secret and ConfigMap data keys): validation.IsConfigMapKey.
pub fn config_key_errors(key: &str) -> Vec<&'static str> {
    let mut errs = Vec::new();
    if key.len() > 253 {
        errs.push("must be no more than 253 characters");
    }
    if key.is_empty()
        || !key
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
    {
        errs.push(CONFIG_KEY_MSG);
    }
    if key == "." {
        errs.push("must not be '.'");
    } else if key == ".." {
        errs.push("must not be '..'");
    } else if key.starts_with("..") {
        errs.push("must not start with '..'");
    }
    errs
}

/// Decodes what apiserver's JSON decoder would reject before validation:
/// non-string label, annotation and data values, non-base64 `[]byte` data.
/// Folds Secret `stringData` into `data` (the Secret strategy does this on write).
pub fn decode_and_normalize(r: Resource, obj: &mut Value) -> Result<(), ApiError> {
    let cannot_handle = |why: String| {
        ApiError::bad_request(format!(
            "{kind} in version \"{v}\" cannot be handled as a {kind}: {why}",
            kind = r.kind(),
            v = r.api_version().rsplit('/').next().unwrap_or("v1"),
        ))
    };
    let Some(o) = obj.as_object_mut() else {
        return Err(cannot_handle("the body is not a JSON object".into()));
    };
    match o.get_mut("metadata") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for field in ["labels", "annotations"] {
                string_map_field(m, field, "ObjectMeta.metadata", Elem::String)
                    .map_err(cannot_handle)?;
            }
        }
        Some(_) => {
            return Err(cannot_handle(
                "json: cannot unmarshal into Go struct field .metadata of type v1.ObjectMeta"
                    .into(),
            ));
        }
    }
    let kind = r.kind();
    match r {
        Resource::Secrets => {
            string_map_field(o, "data", kind, Elem::Bytes).map_err(cannot_handle)?;
            string_map_field(o, "stringData", kind, Elem::String).map_err(cannot_handle)?;
            if let Some(Value::Object(sd)) = o.remove("stringData") {
                let data = o.entry("data").or_insert_with(|| Value::Object(Map::new()));
                if let Some(d) = data.as_object_mut() {
                    for (k, v) in sd {
                        let s = v.as_str().unwrap_or_default();
                        d.insert(k, Value::String(STANDARD.encode(s.as_bytes())));
                    }
                }
            }
            match o.get("type") {
                None | Some(Value::Null) => {
                    o.insert("type".into(), Value::String("Opaque".into()));
                }
                Some(Value::String(s)) if s.is_empty() => {
                    o.insert("type".into(), Value::String("Opaque".into()));
                }
                Some(Value::String(_)) => {}
                Some(other) => {
                    return Err(cannot_handle(format!(
                        "json: cannot unmarshal {} into Go struct field Secret.type of type v1.SecretType",
                        json_type(other)
                    )));
                }
            }
        }
        Resource::ConfigMaps => {
            string_map_field(o, "data", kind, Elem::String).map_err(cannot_handle)?;
            string_map_field(o, "binaryData", kind, Elem::Bytes).map_err(cannot_handle)?;
        }
        Resource::Namespaces
        | Resource::Leases
        | Resource::CertificateSigningRequests
        | Resource::Nodes => {}
    }
    Ok(())
}

/// The Go element type of a JSON map field.
#[derive(Clone, Copy)]
enum Elem {
    String,
    /// `[]byte`: a base64 string.
    Bytes,
}

/// Checks a `map[string]string` / `map[string][]byte` field as Go's
/// `encoding/json` decodes it (the first error, in its words: `Go struct
/// field <Struct>.<path> of type <T>`). A null map is dropped; a null value
/// decodes to the empty value, as Go leaves it.
fn string_map_field(
    o: &mut Map<String, Value>,
    field: &str,
    path: &str,
    elem: Elem,
) -> Result<(), String> {
    let go_elem = match elem {
        Elem::String => "string",
        Elem::Bytes => "[]uint8",
    };
    match o.get_mut(field) {
        None => Ok(()),
        Some(Value::Null) => {
            o.remove(field);
            Ok(())
        }
        Some(Value::Object(m)) => {
            for v in m.values_mut() {
                match v {
                    Value::Null => *v = Value::String(String::new()),
                    Value::String(s) => {
                        if let Elem::Bytes = elem {
                            go_base64_decode_len(s)
                                .map_err(|at| format!("illegal base64 data at input byte {at}"))?;
                        }
                    }
                    other => {
                        return Err(format!(
                            "json: cannot unmarshal {} into Go struct field {path}.{field} of type {go_elem}",
                            json_type(other)
                        ));
                    }
                }
            }
            Ok(())
        }
        Some(other) => Err(format!(
            "json: cannot unmarshal {} into Go struct field {path}.{field} of type map[string]{go_elem}",
            json_type(other)
        )),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Field validation: 422 Invalid with every cause found, in
/// ValidateObjectMeta's order, then the kind's own fields.
pub fn validate(r: Resource, obj: &Value) -> Result<(), ApiError> {
    let name = objects::name(obj);
    let mut causes = Vec::new();
    let generate_name = objects::meta_str(obj, "generateName").unwrap_or("");
    if !generate_name.is_empty() {
        // NameIsDNSSubdomain(prefix=true) masks a trailing dash (generic.go
        // maskTrailingDash, which drops two characters for it).
        let masked = match generate_name.strip_suffix('-') {
            Some(_) if generate_name.len() > 1 => {
                format!("{}a", &generate_name[..generate_name.len() - 2])
            }
            _ => generate_name.to_string(),
        };
        for mut c in name_causes(r, "metadata.generateName", &masked) {
            c.value = Some(crate::token::go_quote(generate_name));
            causes.push(c);
        }
    }
    if name.is_empty() {
        causes.push(FieldCause::required(
            "metadata.name",
            "name or generateName is required",
        ));
    } else {
        causes.extend(name_causes(r, "metadata.name", name));
    }
    if let Some(labels) = objects::labels(obj) {
        for (k, v) in labels {
            for msg in label_key_errors(k) {
                causes.push(FieldCause::invalid("metadata.labels", k, msg));
            }
            for msg in label_value_errors(v.as_str().unwrap_or("")) {
                causes.push(FieldCause::invalid(
                    "metadata.labels",
                    v.as_str().unwrap_or(""),
                    msg,
                ));
            }
        }
    }
    if let Some(annotations) = objects::meta(obj)
        .and_then(|m| m.get("annotations"))
        .and_then(Value::as_object)
    {
        let mut total = 0usize;
        for (k, v) in annotations {
            // ValidateAnnotations: a qualified name, but case does not matter.
            for msg in label_key_errors(&k.to_lowercase()) {
                causes.push(FieldCause::invalid("metadata.annotations", k, msg));
            }
            total += k.len() + v.as_str().map_or(0, str::len);
        }
        if total > MAX_ANNOTATIONS_SIZE {
            causes.push(FieldCause::too_long(
                "metadata.annotations",
                MAX_ANNOTATIONS_SIZE,
            ));
        }
    }
    match r {
        Resource::Secrets => {
            let mut total = 0usize;
            for (k, v) in string_map(obj, "data") {
                for msg in config_key_errors(k) {
                    causes.push(FieldCause::invalid(format!("data[{k}]"), k, msg));
                }
                total += go_base64_decode_len(v).unwrap_or(0);
            }
            if total > MAX_SECRET_SIZE {
                causes.push(FieldCause::too_long("data", MAX_SECRET_SIZE));
            }
            causes.extend(secret_type_causes(obj));
        }
        Resource::ConfigMaps => {
            let binary = string_map(obj, "binaryData");
            let mut total = 0usize;
            for (k, v) in string_map(obj, "data") {
                for msg in config_key_errors(k) {
                    causes.push(FieldCause::invalid(format!("data[{k}]"), k, msg));
                }
                if binary.iter().any(|(b, _)| *b == k) {
                    causes.push(FieldCause::invalid(
                        format!("data[{k}]"),
                        k,
                        "duplicate of key present in binaryData",
                    ));
                }
                total += v.len();
            }
            for (k, v) in &binary {
                for msg in config_key_errors(k) {
                    causes.push(FieldCause::invalid(format!("binaryData[{k}]"), k, msg));
                }
                total += go_base64_decode_len(v).unwrap_or(0);
            }
            if total > MAX_SECRET_SIZE {
                // ValidateConfigMap reports the whole object: field.NewPath("") prints as "[]".
                causes.push(FieldCause::too_long("[]", MAX_SECRET_SIZE));
            }
        }
        Resource::Namespaces
        | Resource::Leases
        | Resource::CertificateSigningRequests
        | Resource::Nodes => {}
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(r, name, causes))
    }
}

/// ValidateSecret's per-type required keys (the JSON checks of the docker
/// config types are a listed departure, docs/departures.md).
fn secret_type_causes(obj: &Value) -> Vec<FieldCause> {
    let data = string_map(obj, "data");
    let has = |k: &str| data.iter().any(|(key, _)| key.as_str() == k);
    let required = |k: &str| FieldCause::required(format!("data[{k}]"), "");
    let mut causes = Vec::new();
    match obj.get("type").and_then(Value::as_str).unwrap_or("") {
        "kubernetes.io/service-account-token" => {
            let named = objects::meta(obj)
                .and_then(|m| m.get("annotations"))
                .and_then(|a| a.get("kubernetes.io/service-account.name"))
                .and_then(Value::as_str)
                .is_some_and(|n| !n.is_empty());
            if !named {
                causes.push(FieldCause::required(
                    "metadata.annotations[kubernetes.io/service-account.name]",
                    "",
                ));
            }
        }
        "kubernetes.io/dockercfg" if !has(".dockercfg") => causes.push(required(".dockercfg")),
        "kubernetes.io/dockerconfigjson" if !has(".dockerconfigjson") => {
            causes.push(required(".dockerconfigjson"));
        }
        "kubernetes.io/basic-auth" if !has("username") && !has("password") => {
            causes.push(required("username"));
            causes.push(required("password"));
        }
        "kubernetes.io/ssh-auth"
            if data
                .iter()
                .find(|(k, _)| k.as_str() == "ssh-privatekey")
                .is_none_or(|(_, v)| v.is_empty()) =>
        {
            causes.push(required("ssh-privatekey"));
        }
        "kubernetes.io/tls" => {
            for k in ["tls.crt", "tls.key"] {
                if !has(k) {
                    causes.push(required(k));
                }
            }
        }
        _ => {}
    }
    causes
}

/// The string entries of a top-level map field (decoding has already
/// refused anything else).
fn string_map<'a>(obj: &'a Value, field: &str) -> Vec<(&'a String, &'a str)> {
    obj.get(field)
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k, v.as_str()?)))
                .collect()
        })
        .unwrap_or_default()
}

const LABEL_KEY_NAME_MSG: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
/// TotalAnnotationSizeLimitB: keys plus values.
const MAX_ANNOTATIONS_SIZE: usize = 256 * 1024;

/// `(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])`, without a length bound.
fn label_name_shape(v: &str) -> bool {
    let b = v.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// A label key or qualified name (api/validate/content.IsLabelKey): an
/// optional DNS-subdomain prefix and '/', then a name of at most 63 bytes.
pub fn label_key_errors(key: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = key.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_string());
            } else {
                if prefix.len() > 253 {
                    errs.push("prefix part must be no more than 253 bytes".to_string());
                }
                if !subdomain_shape(prefix) {
                    errs.push(format!("prefix part {DNS1123_SUBDOMAIN_MSG}"));
                }
            }
            name
        }
        _ => {
            return vec![format!(
                "a valid label key {LABEL_KEY_NAME_MSG} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            )];
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".to_string());
    } else if name.len() > 63 {
        errs.push("name part must be no more than 63 bytes".to_string());
    }
    if !label_name_shape(name) {
        errs.push(format!("name part {LABEL_KEY_NAME_MSG}"));
    }
    errs
}

/// content.IsLabelValue: empty, or a label name of at most 63 bytes.
fn label_value_errors(v: &str) -> Vec<&'static str> {
    let mut errs = Vec::new();
    if v.len() > 63 {
        errs.push("must be no more than 63 bytes");
    }
    if !v.is_empty() && !label_name_shape(v) {
        errs.push(LABEL_VALUE_MSG);
    }
    errs
}

/// Go's `base64.StdEncoding.Decode` (encoding/base64 decodeQuantum), as
/// `encoding/json` applies it to `[]byte` fields: padding required, CR and
/// LF skipped, trailing bits tolerated. The decoded length, or the input
/// offset Go's `CorruptInputError` names.
pub fn go_base64_decode_len(s: &str) -> Result<usize, usize> {
    fn value(c: u8) -> bool {
        c.is_ascii_alphanumeric() || c == b'+' || c == b'/'
    }
    let src = s.as_bytes();
    let skip_newlines = |mut i: usize| {
        while i < src.len() && matches!(src[i], b'\n' | b'\r') {
            i += 1;
        }
        i
    };
    let mut si = 0usize;
    let mut n = 0usize;
    loop {
        let mut j = 0usize;
        let mut dlen = 4usize;
        while j < 4 {
            if si == src.len() {
                if j == 0 {
                    return Ok(n);
                }
                // Padding is required, so a short final quantum is corrupt.
                return Err(si - j);
            }
            let c = src[si];
            si += 1;
            if value(c) {
                j += 1;
                continue;
            }
            if matches!(c, b'\n' | b'\r') {
                continue;
            }
            if c != b'=' {
                return Err(si - 1);
            }
            match j {
                0 | 1 => return Err(si - 1),
                2 => {
                    si = skip_newlines(si);
                    if si == src.len() {
                        return Err(src.len());
                    }
                    if src[si] != b'=' {
                        return Err(si - 1);
                    }
                    si += 1;
                }
                _ => {}
            }
            si = skip_newlines(si);
            if si < src.len() {
                return Err(si);
            }
            dlen = j;
            break;
        }
        n += dlen - 1;
        if dlen < 4 {
            return Ok(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subdomains_follow_rfc_1123() {
        assert!(is_dns1123_subdomain("bootstrap-token-abcdef"));
        assert!(is_dns1123_subdomain("a.b-c.d"));
        assert!(!is_dns1123_subdomain("Bad"));
        assert!(!is_dns1123_subdomain("-a"));
        assert!(!is_dns1123_subdomain("a..b"));
        assert!(!is_dns1123_subdomain(""));
        assert!(!is_dns1123_subdomain(&"a".repeat(254)));
    }

    #[test]
    fn a_bad_name_is_invalid_with_apiserver_text() {
        let e = validate(
            Resource::Secrets,
            &json!({"metadata": {"name": "Bad_Name"}}),
        )
        .expect_err("invalid");
        assert_eq!(e.code, 422);
        assert!(
            e.message.starts_with(
                "Secret \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain"
            ),
            "{}",
            e.message
        );
        assert_eq!(e.details["causes"][0]["field"], "metadata.name");
    }

    #[test]
    fn a_bad_data_key_is_invalid() {
        let e = validate(
            Resource::ConfigMaps,
            &json!({"metadata": {"name": "a"}, "data": {"bad key": "x"}}),
        )
        .expect_err("invalid");
        assert!(
            e.message
                .contains("data[bad key]: Invalid value: \"bad key\": a valid config key"),
            "{}",
            e.message
        );
    }

    #[test]
    fn secret_data_must_be_base64() {
        let mut o = json!({"metadata": {"name": "a"}, "data": {"k": "not base64!"}});
        let e = decode_and_normalize(Resource::Secrets, &mut o).expect_err("bad");
        assert_eq!(e.code, 400);
        assert_eq!(
            e.message,
            "Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data at input byte 3"
        );
    }

    #[test]
    fn string_data_merges_into_data() {
        let mut o =
            json!({"metadata": {"name": "a"}, "data": {"a": "eA=="}, "stringData": {"b": "y"}});
        decode_and_normalize(Resource::Secrets, &mut o).expect("ok");
        assert_eq!(o["data"], json!({"a": "eA==", "b": "eQ=="}));
        assert!(o.get("stringData").is_none());
        assert_eq!(o["type"], "Opaque");
    }

    #[test]
    fn base64_follows_go_std_encoding() {
        assert_eq!(go_base64_decode_len(""), Ok(0));
        assert_eq!(go_base64_decode_len("eA=="), Ok(1));
        assert_eq!(go_base64_decode_len("eHk="), Ok(2));
        assert_eq!(go_base64_decode_len("eHl6"), Ok(3));
        assert_eq!(go_base64_decode_len("eHl6\neA==\r\n"), Ok(4));
        assert_eq!(go_base64_decode_len("not base64!"), Err(3));
        assert_eq!(go_base64_decode_len("abc"), Err(0));
        assert_eq!(go_base64_decode_len("abcde"), Err(4));
        assert_eq!(go_base64_decode_len("eA="), Err(3));
        assert_eq!(go_base64_decode_len("eA==eA=="), Err(4));
        assert_eq!(go_base64_decode_len("e==="), Err(1));
    }

    #[test]
    fn label_keys_are_qualified_names() {
        assert!(label_key_errors("app").is_empty());
        assert!(label_key_errors("example.com/app").is_empty());
        assert_eq!(label_key_errors("/app"), ["prefix part must be non-empty"]);
        assert_eq!(
            label_key_errors(&"a".repeat(64)),
            ["name part must be no more than 63 bytes"]
        );
        assert_eq!(label_key_errors("a/b/c").len(), 1);
        assert_eq!(
            label_key_errors("Bad_/x")[0],
            format!("prefix part {DNS1123_SUBDOMAIN_MSG}")
        );
        assert_eq!(label_key_errors("").len(), 2);
    }

    #[test]
    fn non_string_labels_do_not_decode() {
        let mut o = json!({"metadata": {"name": "a", "labels": {"n": 1}}});
        let e = decode_and_normalize(Resource::ConfigMaps, &mut o).expect_err("bad");
        assert_eq!(
            e.message,
            "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string"
        );
        let mut o = json!({"metadata": {"name": "a", "annotations": ["x"]}});
        let e = decode_and_normalize(Resource::Secrets, &mut o).expect_err("bad");
        assert!(
            e.message.ends_with(
                "json: cannot unmarshal array into Go struct field ObjectMeta.metadata.annotations of type map[string]string"
            ),
            "{}",
            e.message
        );
    }
}
