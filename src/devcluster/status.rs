//! API errors as kube-apiserver renders them: `Status` objects with its
//! reasons, codes and message texts (k8s.io/apimachinery/pkg/api/errors).

use serde_json::{Value, json};

use super::resources::Resource;

/// One failed request, carried as a value until it becomes a `Status` body.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Value,
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>, details: Value) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
            details,
        }
    }

    /// `secrets "x" not found` (errors.NewNotFound).
    pub fn not_found(plural: &str, group: &str, name: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("{} \"{name}\" not found", qualified(plural, group)),
            details(name, plural, group),
        )
    }

    /// A path the server does not serve (errors.NewGenericServerResponse for 404).
    pub fn no_such_resource() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
            json!({}),
        )
    }

    /// `secrets "x" already exists` (errors.NewAlreadyExists).
    pub fn already_exists(r: Resource, name: &str) -> Self {
        Self::new(
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", r.qualified()),
            details(name, r.plural(), r.group()),
        )
    }

    /// The optimistic-concurrency failure (errors.NewConflict with
    /// registry.OptimisticLockErrorMsg).
    pub fn stale(r: Resource, name: &str) -> Self {
        Self::conflict(
            r,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// errors.NewConflict: `Operation cannot be fulfilled on <res> "<name>": <why>`.
    pub fn conflict(r: Resource, name: &str, why: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": {why}",
                r.qualified()
            ),
            details(name, r.plural(), r.group()),
        )
    }

    /// errors.NewApplyConflict: server-side apply found fields owned by others.
    pub fn apply_conflict(conflicts: &[(String, String)], api_version: &str) -> Self {
        let causes: Vec<Value> = conflicts
            .iter()
            .map(|(manager, field)| {
                json!({
                    "type": "FieldManagerConflict",
                    "message": format!("conflict with \"{manager}\" using {api_version}"),
                    "field": field,
                })
            })
            .collect();
        let plural = if conflicts.len() == 1 { "" } else { "s" };
        let mut message = format!("Apply failed with {} conflict{plural}:", conflicts.len());
        for (manager, field) in conflicts {
            message.push_str(&format!(
                " conflict with \"{manager}\" using {api_version}: {field}"
            ));
        }
        Self::new(409, "Conflict", message, json!({ "causes": causes }))
    }

    /// errors.NewInvalid: 422 with one cause per field error.
    pub fn invalid(r: Resource, name: &str, causes: Vec<FieldCause>) -> Self {
        Self::invalid_kind(r.kind(), r.group(), name, causes)
    }

    /// errors.NewInvalid for any group and kind (the storage layer passes a
    /// plural resource as the kind, e.g. a watch's bad resourceVersion).
    pub fn invalid_kind(kind: &str, group: &str, name: &str, causes: Vec<FieldCause>) -> Self {
        // field.ErrorList.ToAggregate drops repeated messages; the causes keep them.
        let mut rendered: Vec<String> = Vec::new();
        for c in &causes {
            let line = c.render();
            if !rendered.contains(&line) {
                rendered.push(line);
            }
        }
        let joined = if rendered.len() == 1 {
            rendered[0].clone()
        } else {
            format!("[{}]", rendered.join(", "))
        };
        let cause_values: Vec<Value> = causes
            .iter()
            .map(|c| json!({"reason": c.reason, "message": c.cause_message(), "field": c.field}))
            .collect();
        let mut d = json!({"name": name, "kind": kind, "causes": cause_values});
        if name.is_empty()
            && let Some(o) = d.as_object_mut()
        {
            o.remove("name");
        }
        let qualified_kind = if group.is_empty() {
            kind.to_string()
        } else {
            d["group"] = json!(group);
            format!("{kind}.{group}")
        };
        Self::new(
            422,
            "Invalid",
            format!("{qualified_kind} \"{name}\" is invalid: {joined}"),
            d,
        )
    }

    /// An update without resourceVersion where the strategy forbids
    /// unconditional updates (genericregistry.Store.Update: the kind in the
    /// message is the qualified resource, as upstream's TODO notes).
    pub fn resource_version_required(r: Resource, name: &str) -> Self {
        let cause = FieldCause {
            field: "metadata.resourceVersion".into(),
            reason: "FieldValueInvalid",
            value: Some("0x0".into()),
            detail: "must be specified for an update".into(),
        };
        let mut d = json!({"name": name, "kind": r.plural(), "causes": [{
            "reason": cause.reason, "message": cause.cause_message(), "field": cause.field,
        }]});
        if !r.group().is_empty() {
            d["group"] = json!(r.group());
        }
        Self::new(
            422,
            "Invalid",
            format!(
                "{} \"{name}\" is invalid: {}",
                r.qualified(),
                cause.render()
            ),
            d,
        )
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message, json!({}))
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
            json!({}),
        )
    }

    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized", json!({}))
    }

    /// errors.NewForbidden as the RBAC authorizer phrases it.
    pub fn forbidden(message: String, name: Option<&str>, plural: Option<&str>) -> Self {
        let mut d = json!({});
        if let Some(n) = name {
            d["name"] = json!(n);
        }
        if let Some(p) = plural {
            d["kind"] = json!(p);
        }
        Self::new(403, "Forbidden", message, d)
    }

    pub fn too_large() -> Self {
        Self::new(
            413,
            "RequestEntityTooLarge",
            "Request entity too large: limit is 3145728",
            json!({}),
        )
    }

    /// negotiation.NewUnsupportedMediaTypeError: 415 naming what is accepted.
    pub fn unsupported_media_type(accepted: &[&str]) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                accepted.join(", ")
            ),
            json!({}),
        )
    }

    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message, json!({}))
    }

    /// An error the apiserver does not turn into a Status (its
    /// ErrorToAPIStatus fallback): reason omitted, message verbatim.
    pub fn unknown(code: u16, message: impl Into<String>) -> Self {
        Self::new(code, "", message, json!({}))
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message, json!({}))
    }

    pub fn too_many_requests(retry_after: u64) -> Self {
        Self::new(
            429,
            "TooManyRequests",
            "The server has received too many requests and has asked us to try again later",
            json!({"retryAfterSeconds": retry_after}),
        )
    }

    /// Seconds for a `Retry-After` header, as apiserver sends with 429.
    pub fn retry_after(&self) -> Option<u64> {
        self.details
            .get("retryAfterSeconds")
            .and_then(Value::as_u64)
    }

    /// The `Status` body.
    pub fn to_status(&self) -> Value {
        let mut s = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "details": self.details,
            "code": self.code,
        });
        // apiserver omits empty details (omitempty on a pointer it leaves nil)
        // and an empty reason (StatusReasonUnknown, omitempty).
        if let Some(o) = s.as_object_mut() {
            if self.details.as_object().is_some_and(|d| d.is_empty()) {
                o.remove("details");
            }
            if self.reason.is_empty() {
                o.remove("reason");
            }
        }
        s
    }
}

fn qualified(plural: &str, group: &str) -> String {
    if group.is_empty() {
        plural.to_string()
    } else {
        format!("{plural}.{group}")
    }
}

fn details(name: &str, plural: &str, group: &str) -> Value {
    let mut d = json!({"name": name});
    if !group.is_empty() {
        d["group"] = json!(group);
    }
    d["kind"] = json!(plural);
    d
}

/// One field error of a 422 (field.Error).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldCause {
    pub field: String,
    /// `FieldValueRequired`, `FieldValueInvalid`, `FieldValueTooLong`, ...
    pub reason: &'static str,
    /// The value shown after `Invalid value:` (already rendered), if any.
    pub value: Option<String>,
    pub detail: String,
}

impl FieldCause {
    pub fn invalid(field: impl Into<String>, value: &str, detail: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: "FieldValueInvalid",
            value: Some(crate::token::go_quote(value)),
            detail: detail.into(),
        }
    }

    /// field.TooLong: the value is never shown.
    pub fn too_long(field: impl Into<String>, max_bytes: usize) -> Self {
        Self {
            field: field.into(),
            reason: "FieldValueTooLong",
            value: None,
            detail: format!("may not be more than {max_bytes} bytes"),
        }
    }

    pub fn forbidden(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: "FieldValueForbidden",
            value: None,
            detail: detail.into(),
        }
    }

    pub fn required(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: "FieldValueRequired",
            value: None,
            detail: detail.into(),
        }
    }

    fn type_text(&self) -> &'static str {
        match self.reason {
            "FieldValueRequired" => "Required value",
            "FieldValueTooLong" => "Too long",
            "FieldValueForbidden" => "Forbidden",
            "FieldValueNotSupported" => "Unsupported value",
            _ => "Invalid value",
        }
    }

    /// The cause's own message (without the field path).
    fn cause_message(&self) -> String {
        let mut s = match &self.value {
            Some(v) => format!("{}: {v}", self.type_text()),
            None => self.type_text().to_string(),
        };
        // field.Error.ErrorBody appends ": detail" only when there is one.
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }

    fn render(&self) -> String {
        format!("{}: {}", self.field, self.cause_message())
    }
}

/// A successful delete's body (metav1.Status with StatusSuccess).
pub fn delete_success(r: Resource, name: &str, uid: &str) -> Value {
    let mut d = details(name, r.plural(), r.group());
    d["uid"] = json!(uid);
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": d,
    })
}

impl ApiError {
    /// A 422 without field causes (json-patch application errors).
    pub fn new_unprocessable(message: impl Into<String>) -> Self {
        Self::new(422, "UnprocessableEntity", message, json!({}))
    }
}
