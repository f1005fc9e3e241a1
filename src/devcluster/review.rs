//! The review APIs a user asks about themself: SelfSubjectReview
//! (`kubectl auth whoami`) and SelfSubjectAccessReview (`kubectl auth
//! can-i`), answered from the same authenticator and authorizer as every
//! other request. RBAC's system:basic-user grants both to authenticated users.

use axum::http::Method;
use axum::response::Response;
use serde_json::{Value, json};

use super::api::{error_response, json_response};
use super::auth::{self, Target, User};
use super::resources::Resource;
use super::status::ApiError;

fn anonymous_refused(plural: &str, group: &str) -> Response {
    error_response(&ApiError::forbidden(
        format!(
            "{plural}.{group} is forbidden: User \"system:anonymous\" cannot create resource \"{plural}\" in API group \"{group}\" at the cluster scope"
        ),
        None,
        Some(plural),
    ))
}

pub fn who_am_i(user: &User, method: &Method) -> Response {
    if *method != Method::POST {
        return error_response(&ApiError::method_not_allowed());
    }
    if *user == User::Anonymous {
        return anonymous_refused("selfsubjectreviews", "authentication.k8s.io");
    }
    json_response(
        201,
        &json!({
            "kind": "SelfSubjectReview",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"creationTimestamp": null},
            "status": {"userInfo": {"username": user.name(), "groups": user.groups()}},
        }),
    )
}

pub fn can_i(user: &User, method: &Method, content_type: &str, body: &[u8]) -> Response {
    if *method != Method::POST {
        return error_response(&ApiError::method_not_allowed());
    }
    if *user == User::Anonymous {
        return anonymous_refused("selfsubjectaccessreviews", "authorization.k8s.io");
    }
    // kubectl sends this one as protobuf too.
    let decoded = if content_type.starts_with("application/vnd.kubernetes.protobuf") {
        super::proto::decode(body)
    } else {
        serde_json::from_slice(body).map_err(|e| {
            let e = super::go_json::unmarshal_error(body, e);
            format!("couldn't get version/kind; json parse error: {e}")
        })
    };
    let review = match decoded {
        Ok(v) => v,
        Err(e) => {
            return error_response(&ApiError::bad_request(format!(
                "the object provided is unrecognized (must be of type SelfSubjectAccessReview): {e}"
            )));
        }
    };
    let spec = review.get("spec").cloned().unwrap_or(Value::Null);
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let allowed = if let Some(attrs) = spec.get("resourceAttributes") {
        let (verb, group, plural) = (s(attrs, "verb"), s(attrs, "group"), s(attrs, "resource"));
        let (namespace, name) = (s(attrs, "namespace"), s(attrs, "name"));
        match Resource::from_path(&group, &plural) {
            Some(resource) => auth::authorize(
                user,
                &Target::Resource {
                    verb: &verb,
                    resource,
                    namespace: &namespace,
                    name: (!name.is_empty()).then_some(name.as_str()),
                },
            )
            .is_ok(),
            // Resources this server does not serve: only the admin may do anything.
            None => *user == User::Admin,
        }
    } else if let Some(attrs) = spec.get("nonResourceAttributes") {
        let path = s(attrs, "path");
        (s(attrs, "verb") == "get" && auth::authorize(user, &Target::Path(&path)).is_ok())
            || *user == User::Admin
    } else {
        return error_response(&ApiError::bad_request(
            "spec.resourceAttributes or spec.nonResourceAttributes is required",
        ));
    };
    let mut status = json!({"allowed": allowed});
    if allowed && *user == User::Admin {
        status["reason"] = json!(
            "RBAC: allowed by ClusterRoleBinding \"kubeadm:cluster-admins\" of ClusterRole \"cluster-admin\" to Group \"kubeadm:cluster-admins\""
        );
    }
    json_response(
        201,
        &json!({
            "kind": "SelfSubjectAccessReview",
            "apiVersion": "authorization.k8s.io/v1",
            "metadata": {"creationTimestamp": null},
            "spec": spec,
            "status": status,
        }),
    )
}
