//! Object validation as kube-apiserver's `ValidateObjectMeta`,
//! `ValidateSecret` and `ValidateConfigMap` do it
//! (pkg/apis/core/validation/validation.go), plus the decoding rules that
//! come before validation (Secret data is base64 `[]byte`).

use base64::Engine;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use serde_json::{Map, Value};

use super::objects;
use super::resources::Resource;
use super::status::{ApiError, FieldCause};

const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const CONFIG_KEY_MSG: &str = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
/// Go's `base64.StdEncoding`, which `encoding/json` uses for `[]byte`:
/// padding required, stray trailing bits tolerated.
pub(crate) const GO_STD_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// core.MaxSecretSize: 1 MiB across all data values.
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

fn name_causes(r: Resource, name: &str) -> Vec<FieldCause> {
    let mut causes = Vec::new();
    if r == Resource::Namespaces {
        if name.len() > 63 {
            causes.push(FieldCause::invalid(
                "metadata.name",
                name,
                "must be no more than 63 characters",
            ));
        }
        if !is_dns1123_label(name) {
            causes.push(FieldCause::invalid(
                "metadata.name",
                name,
                DNS1123_LABEL_MSG,
            ));
        }
    } else {
        if name.len() > 253 {
            causes.push(FieldCause::invalid(
                "metadata.name",
                name,
                "must be no more than 253 characters",
            ));
        }
        if !subdomain_shape(name) {
            causes.push(FieldCause::invalid(
                "metadata.name",
                name,
                DNS1123_SUBDOMAIN_MSG,
            ));
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
/// non-string or non-base64 Secret data, non-string ConfigMap data.
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
    if let Some(m) = o.get("metadata")
        && !m.is_object()
        && !m.is_null()
    {
        return Err(cannot_handle(
            "json: cannot unmarshal into Go struct field .metadata of type v1.ObjectMeta".into(),
        ));
    }
    match r {
        Resource::Secrets => {
            for field in ["data", "stringData"] {
                match o.get(field) {
                    None | Some(Value::Null) => {
                        o.remove(field);
                    }
                    Some(Value::Object(m)) => {
                        for (k, v) in m {
                            let Some(s) = v.as_str() else {
                                return Err(cannot_handle(format!(
                                    "json: cannot unmarshal {} into Go struct field Secret.{field} of type {}",
                                    json_type(v),
                                    if field == "data" { "[]uint8" } else { "string" }
                                )));
                            };
                            if field == "data" {
                                GO_STD_BASE64.decode(s).map_err(|e| {
                                    cannot_handle(format!(
                                        "illegal base64 data at input byte {}",
                                        bad_byte(&e, s)
                                    ))
                                })?;
                            }
                            let _ = k;
                        }
                    }
                    Some(other) => {
                        return Err(cannot_handle(format!(
                            "json: cannot unmarshal {} into Go struct field Secret.{field} of type map[string]{}",
                            json_type(other),
                            if field == "data" { "[]uint8" } else { "string" }
                        )));
                    }
                }
            }
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
            if let Some(Value::Object(m)) = o.get("data") {
                for v in m.values() {
                    if !v.is_string() {
                        return Err(cannot_handle(format!(
                            "json: cannot unmarshal {} into Go struct field ConfigMap.data of type string",
                            json_type(v)
                        )));
                    }
                }
            }
        }
        Resource::Namespaces | Resource::Leases => {}
    }
    Ok(())
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

/// Go's base64 errors name the offending byte offset.
fn bad_byte(e: &base64::DecodeError, s: &str) -> usize {
    match e {
        base64::DecodeError::InvalidByte(i, _) => *i,
        base64::DecodeError::InvalidLastSymbol { offset, .. } => *offset,
        base64::DecodeError::InvalidLength(_) | base64::DecodeError::InvalidPadding => {
            // Go reports the position where the incomplete quantum starts.
            s.len() - s.len() % 4
        }
    }
}

/// Field validation: 422 Invalid with every cause found.
pub fn validate(r: Resource, obj: &Value) -> Result<(), ApiError> {
    let name = objects::name(obj);
    let mut causes = Vec::new();
    let generate_name = objects::meta_str(obj, "generateName").unwrap_or("");
    if name.is_empty() && generate_name.is_empty() {
        causes.push(FieldCause::required(
            "metadata.name",
            "name or generateName is required",
        ));
    } else if !name.is_empty() {
        causes.extend(name_causes(r, name));
    }
    if let Some(labels) = objects::labels(obj) {
        for (k, v) in labels {
            let value = v.as_str().unwrap_or("");
            if !is_label_value(value) {
                causes.push(FieldCause::invalid(
                    "metadata.labels",
                    value,
                    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
                ));
            }
            let _ = k;
        }
    }
    if matches!(r, Resource::Secrets | Resource::ConfigMaps) {
        let mut total = 0usize;
        for field in ["data", "binaryData"] {
            if let Some(Value::Object(m)) = obj.get(field) {
                for (k, v) in m {
                    for msg in config_key_errors(k) {
                        causes.push(FieldCause::invalid(format!("{field}[{k}]"), k, msg));
                    }
                    total += v.as_str().map(str::len).unwrap_or(0);
                }
            }
        }
        if r == Resource::Secrets && total * 3 / 4 > MAX_SECRET_SIZE {
            causes.push(FieldCause {
                field: "data".into(),
                reason: "FieldValueTooLong",
                value: None,
                detail: format!("must have at most {MAX_SECRET_SIZE} bytes"),
            });
        }
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(r, name, causes))
    }
}

fn is_label_value(v: &str) -> bool {
    if v.is_empty() {
        return true;
    }
    let b = v.as_bytes();
    b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
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
}
