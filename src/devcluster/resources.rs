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
}

pub const ALL: [Resource; 4] = [
    Resource::Namespaces,
    Resource::Secrets,
    Resource::ConfigMaps,
    Resource::Leases,
];

pub const COORDINATION: &str = "coordination.k8s.io";

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
        }
    }

    pub fn singular(self) -> &'static str {
        match self {
            Resource::Namespaces => "namespace",
            Resource::Secrets => "secret",
            Resource::ConfigMaps => "configmap",
            Resource::Leases => "lease",
        }
    }

    pub fn kind(self) -> &'static str {
        match self {
            Resource::Namespaces => "Namespace",
            Resource::Secrets => "Secret",
            Resource::ConfigMaps => "ConfigMap",
            Resource::Leases => "Lease",
        }
    }

    pub fn list_kind(self) -> String {
        format!("{}List", self.kind())
    }

    pub fn group(self) -> &'static str {
        match self {
            Resource::Leases => COORDINATION,
            _ => "",
        }
    }

    pub fn api_version(self) -> &'static str {
        match self {
            Resource::Leases => "coordination.k8s.io/v1",
            _ => "v1",
        }
    }

    pub fn namespaced(self) -> bool {
        !matches!(self, Resource::Namespaces)
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
}

/// kube-apiserver's values, so clients that cache by hash see stable ones.
fn storage_version_hash(r: Resource) -> &'static str {
    match r {
        Resource::Namespaces => "Q3oi5N2YM8M=",
        Resource::Secrets => "S6u1pOWzb84=",
        Resource::ConfigMaps => "qFsyl6wFWjQ=",
        Resource::Leases => "gqkMMb/YqFM=",
    }
}
