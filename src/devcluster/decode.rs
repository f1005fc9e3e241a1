//! Request bodies into JSON objects: content types (JSON, YAML, kubectl's
//! protobuf) and the apiserver codec's checks and messages for kind and
//! apiVersion (handlers/rest.go transformDecodeError).

use serde_json::{Value, json};

use super::resources::Resource;
use super::status::ApiError;

/// apiserver's summarizeData: the first 30 bytes, as text for JSON, else hex.
fn summarize(body: &[u8]) -> String {
    const MAX: usize = 30;
    match body.first() {
        None => "<empty>".to_string(),
        Some(b'{') => {
            let shown = String::from_utf8_lossy(&body[..body.len().min(MAX)]).into_owned();
            if body.len() > MAX {
                format!("{shown} ...")
            } else {
                shown
            }
        }
        Some(_) => {
            let hex: String = body[..body.len().min(MAX)]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            if body.len() > MAX {
                format!("{hex} ...")
            } else {
                hex
            }
        }
    }
}

/// The body of a create or update as JSON: JSON as is, YAML converted;
/// protobuf (which kubectl uses for built-in kinds) decoded for the served
/// kinds; anything else is 415.
pub fn body_as_json(r: Resource, content_type: &str, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let base = content_type.split(';').next().unwrap_or("").trim();
    match base {
        "" | "application/json" | "*/*" => Ok(body.to_vec()),
        "application/yaml" => {
            let text = std::str::from_utf8(body)
                .map_err(|_| ApiError::bad_request("error decoding YAML: invalid UTF-8"))?;
            let v: Value = serde_saphyr::from_str(text).map_err(|e| {
                ApiError::bad_request(format!("error converting YAML to JSON: {e}"))
            })?;
            Ok(v.to_string().into_bytes())
        }
        "application/vnd.kubernetes.protobuf" => {
            let v = super::proto::decode(body).map_err(|e| {
                ApiError::bad_request(format!(
                    "the object provided is unrecognized (must be of type {}): {e}",
                    r.kind()
                ))
            })?;
            Ok(v.to_string().into_bytes())
        }
        _ => Err(ApiError::unsupported_media_type(&[
            "application/json",
            "application/yaml",
            "application/vnd.kubernetes.protobuf",
        ])),
    }
}

/// Decodes a create/update body into an object of `r`, as the apiserver's
/// codec does (handlers/rest.go transformDecodeError for the messages).
pub fn decode_body(r: Resource, body: &[u8]) -> Result<Value, ApiError> {
    let unrecognized = |why: String| {
        ApiError::bad_request(format!(
            "the object provided is unrecognized (must be of type {}): {why} ({})",
            r.kind(),
            summarize(body)
        ))
    };
    let mut obj: Value = serde_json::from_slice(body).map_err(|e| {
        let e = super::go_json::unmarshal_error(body, e);
        unrecognized(format!("couldn't get version/kind; json parse error: {e}"))
    })?;
    let Some(o) = obj.as_object_mut() else {
        return Err(unrecognized(
            "couldn't get version/kind; json parse error: json: cannot unmarshal into Go value of type struct".into(),
        ));
    };
    let kind = o
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let api_version = o
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if !kind.is_empty() || !api_version.is_empty() {
        let kind_shown = if kind.is_empty() {
            r.kind()
        } else {
            kind.as_str()
        };
        let av_shown = if api_version.is_empty() {
            r.api_version()
        } else {
            api_version.as_str()
        };
        let version = av_shown.rsplit('/').next().unwrap_or(av_shown);
        if kind_shown != r.kind() || av_shown != r.api_version() {
            let why = match Resource::from_kind(av_shown, kind_shown) {
                Some(other) => format!(
                    "converting ({version}.{}) to ({}.{}): unknown conversion",
                    other.kind(),
                    if r.group().is_empty() {
                        "core"
                    } else {
                        "coordination"
                    },
                    r.kind()
                ),
                None => format!(
                    "no kind \"{kind_shown}\" is registered for version \"{av_shown}\" in scheme \"k8s.io/kubernetes/pkg/api/legacyscheme/scheme.go:30\""
                ),
            };
            return Err(ApiError::bad_request(format!(
                "{kind_shown} in version \"{version}\" cannot be handled as a {}: {why}",
                r.kind()
            )));
        }
    }
    o.insert("kind".into(), json!(r.kind()));
    o.insert("apiVersion".into(), json!(r.api_version()));
    Ok(obj)
}
