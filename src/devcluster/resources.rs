//! The resources the dev cluster serves, and what discovery says about them.

use serde_json::{Value, json};

/// A served resource. The store is generic; this says how each one is named,
/// scoped and validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resource {
    Namespaces,
    Secrets,
    ConfigMaps,
    Leases,
    /// certificates.k8s.io/v1, cluster-scoped: what a joining kubelet creates.
    CertificateSigningRequests,
    /// core/v1, cluster-scoped: what a joined kubelet registers.
    Nodes,
}

pub const ALL: [Resource; 6] = [
    Resource::Namespaces,
    Resource::Secrets,
    Resource::ConfigMaps,
    Resource::Leases,
    Resource::CertificateSigningRequests,
    Resource::Nodes,
];

pub const COORDINATION: &str = "coordination.k8s.io";
pub const CERTIFICATES: &str = "certificates.k8s.io";

const VERBS_NAMESPACED: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

impl Resource {
    pub fn plural(self) -> &'static str {
        match self {
            Resource::Namespaces => "namespaces",
            Resource::Secrets => "secrets",
            Resource::ConfigMaps => "configmaps",
            Resource::Leases => "leases",
            Resource::CertificateSigningRequests => "certificatesigningrequests",
            Resource::Nodes => "nodes",
        }
    }

    pub fn singular(self) -> &'static str {
        match self {
            Resource::Namespaces => "namespace",
            Resource::Secrets => "secret",
            Resource::ConfigMaps => "configmap",
            Resource::Leases => "lease",
            Resource::CertificateSigningRequests => "certificatesigningrequest",
            Resource::Nodes => "node",
        }
    }

    pub fn kind(self) -> &'static str {
        match self {
            Resource::Namespaces => "Namespace",
            Resource::Secrets => "Secret",
            Resource::ConfigMaps => "ConfigMap",
            Resource::Leases => "Lease",
            Resource::CertificateSigningRequests => "CertificateSigningRequest",
            Resource::Nodes => "Node",
        }
    }

    pub fn list_kind(self) -> String {
        format!("{}List", self.kind())
    }

    pub fn group(self) -> &'static str {
        match self {
            Resource::Leases => COORDINATION,
            Resource::CertificateSigningRequests => CERTIFICATES,
            _ => "",
        }
    }

    pub fn api_version(self) -> &'static str {
        match self {
            Resource::Leases => "coordination.k8s.io/v1",
            Resource::CertificateSigningRequests => "certificates.k8s.io/v1",
            _ => "v1",
        }
    }

    pub fn namespaced(self) -> bool {
        !matches!(
            self,
            Resource::Namespaces | Resource::CertificateSigningRequests | Resource::Nodes
        )
    }

    /// `secrets` or `leases.coordination.k8s.io`, as error messages name it.
    pub fn qualified(self) -> String {
        if self.group().is_empty() {
            self.plural().to_string()
        } else {
            format!("{}.{}", self.plural(), self.group())
        }
    }

    pub fn short_names(self) -> &'static [&'static str] {
        match self {
            Resource::Namespaces => &["ns"],
            Resource::ConfigMaps => &["cm"],
            Resource::CertificateSigningRequests => &["csr"],
            Resource::Nodes => &["no"],
            _ => &[],
        }
    }

    /// Resolves a URL segment under a group (`""` = core).
    pub fn from_path(group: &str, plural: &str) -> Option<Resource> {
        ALL.into_iter()
            .find(|r| r.group() == group && r.plural() == plural)
    }

    pub fn from_kind(api_version: &str, kind: &str) -> Option<Resource> {
        ALL.into_iter()
            .find(|r| r.api_version() == api_version && r.kind() == kind)
    }

    /// Its entry in an APIResourceList.
    pub fn discovery_entry(self) -> Value {
        let verbs: Vec<&str> = match self {
            // Namespaces have no deletecollection in kube-apiserver.
            Resource::Namespaces => VERBS_NAMESPACED
                .iter()
                .copied()
                .filter(|v| *v != "deletecollection")
                .collect(),
            _ => VERBS_NAMESPACED.to_vec(),
        };
        let mut e = json!({
            "name": self.plural(),
            "singularName": self.singular(),
            "namespaced": self.namespaced(),
            "kind": self.kind(),
            "verbs": verbs,
        });
        if !self.short_names().is_empty() {
            e["shortNames"] = json!(self.short_names());
        }
        e["storageVersionHash"] = json!(storage_version_hash(self));
        e
    }

    /// The subresources discovery lists after the resource, as
    /// kube-apiserver does: (name, verbs).
    pub fn subresources(self) -> &'static [(&'static str, &'static [&'static str])] {
        const RW: &[&str] = &["get", "patch", "update"];
        match self {
            Resource::CertificateSigningRequests => &[("approval", RW), ("status", RW)],
            Resource::Nodes => &[("status", RW)],
            _ => &[],
        }
    }

    /// Discovery's entries for the subresources.
    pub fn subresource_entries(self) -> Vec<Value> {
        self.subresources()
            .iter()
            .map(|(sub, verbs)| {
                json!({
                    "name": format!("{}/{sub}", self.plural()),
                    "singularName": "",
                    "namespaced": self.namespaced(),
                    "kind": self.kind(),
                    "verbs": verbs,
                })
            })
            .collect()
    }
}

/// kube-apiserver's values, so clients that cache by hash see stable ones.
fn storage_version_hash(r: Resource) -> &'static str {
    match r {
        Resource::Namespaces => "Q3oi5N2YM8M=",
        Resource::Secrets => "S6u1pOWzb84=",
        Resource::ConfigMaps => "qFsyl6wFWjQ=",
        Resource::Leases => "gqkMMb/YqFM=",
        Resource::CertificateSigningRequests => "95fRKMXA+00=",
        Resource::Nodes => "XwShjMxG9Fs=",
    }
}
