//! Turns a request path into what it names: a discovery document, a
//! collection or one object of a served resource.

use super::resources::{CERTIFICATES, COORDINATION, Resource};

pub const AUTHENTICATION: &str = "authentication.k8s.io";
pub const AUTHORIZATION: &str = "authorization.k8s.io";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Discovery, /version, health and other non-resource paths.
    NonResource(NonResource),
    /// A collection; `namespace` None means all namespaces (or cluster-scoped).
    Collection {
        resource: Resource,
        namespace: Option<String>,
    },
    Object {
        resource: Resource,
        /// Empty for cluster-scoped resources.
        namespace: String,
        name: String,
    },
    /// `…/certificatesigningrequests/<name>/approval` and the other
    /// subresources `Resource::subresources` lists.
    Subresource {
        resource: Resource,
        name: String,
        sub: &'static str,
    },
    /// tokensmith's own admin endpoints.
    Admin(Admin),
    /// `POST /apis/authentication.k8s.io/v1/selfsubjectreviews` (`kubectl auth whoami`).
    SelfSubjectReview,
    /// `POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews` (`kubectl auth can-i`).
    SelfSubjectAccessReview,
    /// An API path naming nothing served: 404 with a Status body.
    UnknownApi,
    /// Not an API path at all: 404 `404 page not found`, as apiserver's mux says.
    NotFound,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonResource {
    Version,
    Api,
    CoreV1,
    Apis,
    CoordinationGroup,
    CoordinationV1,
    CertificatesGroup,
    CertificatesV1,
    /// `/apis/authentication.k8s.io` or `/apis/authorization.k8s.io`.
    ReviewGroup(&'static str),
    ReviewV1(&'static str),
    Health,
    /// /openapi/v2 and anything else under /openapi: not served.
    OpenApi,
    OpenApiV3Root,
    /// /openapi/v3/<group-version path>
    OpenApiV3,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admin {
    Faults,
    Requests,
}

pub fn parse(path: &str) -> Route {
    let trimmed = path.trim_end_matches('/');
    let segs: Vec<&str> = trimmed.split('/').skip(1).collect();
    match segs.as_slice() {
        ["version"] => Route::NonResource(NonResource::Version),
        ["healthz" | "livez" | "readyz", ..] => Route::NonResource(NonResource::Health),
        ["openapi", "v3"] => Route::NonResource(NonResource::OpenApiV3Root),
        ["openapi", "v3", ..] => Route::NonResource(NonResource::OpenApiV3),
        ["openapi", ..] => Route::NonResource(NonResource::OpenApi),
        ["api"] => Route::NonResource(NonResource::Api),
        ["api", "v1"] => Route::NonResource(NonResource::CoreV1),
        ["api", "v1", rest @ ..] => resource_path("", rest),
        ["api", ..] => Route::UnknownApi,
        ["apis"] => Route::NonResource(NonResource::Apis),
        ["apis", COORDINATION] => Route::NonResource(NonResource::CoordinationGroup),
        ["apis", COORDINATION, "v1"] => Route::NonResource(NonResource::CoordinationV1),
        ["apis", COORDINATION, "v1", rest @ ..] => resource_path(COORDINATION, rest),
        ["apis", CERTIFICATES] => Route::NonResource(NonResource::CertificatesGroup),
        ["apis", CERTIFICATES, "v1"] => Route::NonResource(NonResource::CertificatesV1),
        ["apis", CERTIFICATES, "v1", rest @ ..] => resource_path(CERTIFICATES, rest),
        ["apis", AUTHENTICATION] => Route::NonResource(NonResource::ReviewGroup(AUTHENTICATION)),
        ["apis", AUTHENTICATION, "v1"] => Route::NonResource(NonResource::ReviewV1(AUTHENTICATION)),
        ["apis", AUTHENTICATION, "v1", "selfsubjectreviews"] => Route::SelfSubjectReview,
        ["apis", AUTHORIZATION] => Route::NonResource(NonResource::ReviewGroup(AUTHORIZATION)),
        ["apis", AUTHORIZATION, "v1"] => Route::NonResource(NonResource::ReviewV1(AUTHORIZATION)),
        ["apis", AUTHORIZATION, "v1", "selfsubjectaccessreviews"] => Route::SelfSubjectAccessReview,
        ["apis", ..] => Route::UnknownApi,
        ["tokensmith", "v1", "faults"] => Route::Admin(Admin::Faults),
        ["tokensmith", "v1", "requests"] => Route::Admin(Admin::Requests),
        _ => Route::NotFound,
    }
}

fn resource_path(group: &str, rest: &[&str]) -> Route {
    let lookup = |plural: &str| Resource::from_path(group, plural);
    match rest {
        [plural] => match lookup(plural) {
            Some(resource) => Route::Collection {
                resource,
                namespace: None,
            },
            None => Route::UnknownApi,
        },
        [plural, name] => match lookup(plural) {
            Some(resource) if !resource.namespaced() && !name.is_empty() => Route::Object {
                resource,
                namespace: String::new(),
                name: name.to_string(),
            },
            _ => Route::UnknownApi,
        },
        ["namespaces", ns, plural] => match lookup(plural) {
            Some(resource) if resource.namespaced() && !ns.is_empty() => Route::Collection {
                resource,
                namespace: Some(ns.to_string()),
            },
            _ => Route::UnknownApi,
        },
        ["namespaces", ns, plural, name] => match lookup(plural) {
            Some(resource) if resource.namespaced() && !ns.is_empty() && !name.is_empty() => {
                Route::Object {
                    resource,
                    namespace: ns.to_string(),
                    name: name.to_string(),
                }
            }
            _ => Route::UnknownApi,
        },
        [plural, name, sub] => match lookup(plural) {
            Some(resource) if !resource.namespaced() && !name.is_empty() => resource
                .subresources()
                .iter()
                .find(|(s, _)| s == sub)
                .map_or(Route::UnknownApi, |(s, _)| Route::Subresource {
                    resource,
                    name: name.to_string(),
                    sub: s,
                }),
            _ => Route::UnknownApi,
        },
        _ => Route::UnknownApi,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_as_apiserver_routes_them() {
        assert_eq!(
            parse("/api/v1/namespaces/kube-system/secrets"),
            Route::Collection {
                resource: Resource::Secrets,
                namespace: Some("kube-system".into())
            }
        );
        assert_eq!(
            parse("/api/v1/namespaces/kube-system"),
            Route::Object {
                resource: Resource::Namespaces,
                namespace: String::new(),
                name: "kube-system".into()
            }
        );
        assert_eq!(
            parse("/apis/coordination.k8s.io/v1/namespaces/a/leases/l"),
            Route::Object {
                resource: Resource::Leases,
                namespace: "a".into(),
                name: "l".into()
            }
        );
        assert_eq!(
            parse("/api/v1/secrets"),
            Route::Collection {
                resource: Resource::Secrets,
                namespace: None
            }
        );
        assert_eq!(parse("/api/v1/pods"), Route::UnknownApi);
        assert_eq!(parse("/api/v1/namespaces/a/leases"), Route::UnknownApi);
        assert_eq!(parse("/nope"), Route::NotFound);
        assert_eq!(
            parse("/apis/certificates.k8s.io/v1/certificatesigningrequests/c/approval"),
            Route::Subresource {
                resource: Resource::CertificateSigningRequests,
                name: "c".into(),
                sub: "approval"
            }
        );
        assert_eq!(
            parse("/apis/certificates.k8s.io/v1/certificatesigningrequests/c/nope"),
            Route::UnknownApi
        );
        assert_eq!(
            parse("/api/v1/nodes/n"),
            Route::Object {
                resource: Resource::Nodes,
                namespace: String::new(),
                name: "n".into()
            }
        );
        assert_eq!(parse("/version"), Route::NonResource(NonResource::Version));
    }
}
