//! Finding and reading the kubeconfig as kubeadm does (`cmdutil.GetKubeConfigPath`):
//! the `--kubeconfig` flag; else the first existing file among `$KUBECONFIG`'s
//! entries (or `~/.kube/config` when it is unset), then
//! `/etc/kubernetes/admin.conf`; else the first of those candidates, whose
//! read error is then reported. In a pod with none of those files, the
//! service-account configuration is used instead.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use kube::config::{Cluster as KubeconfigCluster, Kubeconfig};

use super::error::{ClusterError, go_path_error};

/// kubeadm's admin kubeconfig (`constants.GetAdminKubeConfigPath`).
pub const ADMIN_CONF: &str = "/etc/kubernetes/admin.conf";
const SA_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// Where the connection settings come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KubeconfigSource {
    File(PathBuf),
    /// The pod's service account (`KUBERNETES_SERVICE_HOST` and the mounted token).
    InCluster,
}

/// The candidates kubeadm considers, in order, when no flag is given.
fn candidates(env_kubeconfig: Option<&str>, home: Option<&Path>) -> Vec<PathBuf> {
    let mut list: Vec<PathBuf> = match env_kubeconfig {
        Some(v) if !v.is_empty() => std::env::split_paths(v)
            .filter(|p| !p.as_os_str().is_empty())
            .collect(),
        _ => home
            .map(|h| h.join(".kube").join("config"))
            .into_iter()
            .collect(),
    };
    list.push(PathBuf::from(ADMIN_CONF));
    list
}

/// Resolves the kubeconfig to use (see the module docs).
pub fn resolve(flag: Option<&Path>) -> KubeconfigSource {
    if let Some(p) = flag {
        return KubeconfigSource::File(p.to_path_buf());
    }
    let env = std::env::var("KUBECONFIG").ok();
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let list = candidates(env.as_deref(), home.as_deref());
    if let Some(found) = list.iter().find(|p| p.exists()) {
        return KubeconfigSource::File(found.clone());
    }
    if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some()
        && Path::new(SA_DIR).join("token").exists()
    {
        return KubeconfigSource::InCluster;
    }
    KubeconfigSource::File(list[0].clone())
}

/// A kubeconfig file read from disk, with the context tokensmith will use.
#[derive(Debug, Clone)]
pub struct LoadedKubeconfig {
    pub path: PathBuf,
    pub config: Kubeconfig,
    /// `--context`, else `current-context`.
    pub context: Option<String>,
}

/// Reads a kubeconfig file; the error is kubeadm's `failed to load admin kubeconfig: …`.
pub fn load(path: &Path, context: Option<&str>) -> Result<LoadedKubeconfig, ClusterError> {
    let text = crate::input::read_capped(path).map_err(|e| {
        ClusterError::Kubeconfig(format!(
            "failed to load admin kubeconfig: {}",
            go_path_error("open", path, &e)
        ))
    })?;
    let text = String::from_utf8(text).map_err(|_| {
        ClusterError::Kubeconfig(format!(
            "failed to load admin kubeconfig: {}: the file is not UTF-8 text",
            path.display()
        ))
    })?;
    let mut config = Kubeconfig::from_yaml(&text).map_err(|e| {
        ClusterError::Kubeconfig(format!(
            "failed to load admin kubeconfig: {}: {e}",
            path.display()
        ))
    })?;
    absolutize_ca_paths(&mut config, path);
    let context = context
        .map(str::to_owned)
        .or_else(|| config.current_context.clone().filter(|c| !c.is_empty()));
    if let Some(name) = &context
        && !config.contexts.iter().any(|c| &c.name == name)
    {
        return Err(ClusterError::Kubeconfig(format!(
            "failed to load admin kubeconfig: {}: context \"{name}\" does not exist",
            path.display()
        )));
    }
    Ok(LoadedKubeconfig {
        path: path.to_path_buf(),
        config,
        context,
    })
}

/// Relative `certificate-authority` paths are relative to the kubeconfig file.
fn absolutize_ca_paths(config: &mut Kubeconfig, path: &Path) {
    let Some(dir) = path.parent() else { return };
    for named in &mut config.clusters {
        if let Some(c) = &mut named.cluster
            && let Some(ca) = &c.certificate_authority
            && Path::new(ca).is_relative()
        {
            c.certificate_authority = Some(dir.join(ca).display().to_string());
        }
    }
}

impl LoadedKubeconfig {
    /// The cluster entry the join command describes (kubeadm
    /// `GetClusterFromKubeConfig`): a cluster named `""` if there is one, else
    /// the cluster of the chosen context.
    pub fn join_cluster(&self) -> Result<&KubeconfigCluster, ClusterError> {
        let by_name = |name: &str| {
            self.config
                .clusters
                .iter()
                .find(|c| c.name == name)
                .and_then(|c| c.cluster.as_ref())
        };
        if let Some(c) = by_name("") {
            return Ok(c);
        }
        self.context_cluster_name()
            .and_then(by_name)
            .ok_or_else(|| ClusterError::Join("failed to get default cluster config".to_owned()))
    }

    fn context_cluster_name(&self) -> Option<&str> {
        let ctx = self.context.as_deref()?;
        self.config
            .contexts
            .iter()
            .find(|c| c.name == ctx)
            .and_then(|c| c.context.as_ref())
            .map(|c| c.cluster.as_str())
    }

    /// The server URL of the chosen context's cluster.
    pub fn server(&self) -> Option<String> {
        self.context_cluster_name()
            .and_then(|n| self.config.clusters.iter().find(|c| c.name == n))
            .and_then(|c| c.cluster.as_ref())
            .and_then(|c| c.server.clone())
    }
}

/// The PEM bytes of a cluster entry's CA, from `certificate-authority-data`
/// or the file named by `certificate-authority` (kubeadm's messages).
pub fn cluster_ca_pem(cluster: &KubeconfigCluster) -> Result<Vec<u8>, ClusterError> {
    if let Some(data) = cluster
        .certificate_authority_data
        .as_deref()
        .filter(|d| !d.is_empty())
    {
        let cleaned: String = data.chars().filter(|c| !c.is_whitespace()).collect();
        return STANDARD.decode(cleaned).map_err(|e| {
            ClusterError::Join(format!(
                "failed to parse CA certificate from kubeconfig: certificate-authority-data is not base64: {e}"
            ))
        });
    }
    if let Some(file) = cluster
        .certificate_authority
        .as_deref()
        .filter(|f| !f.is_empty())
    {
        return crate::input::read_capped(Path::new(file)).map_err(|e| {
            ClusterError::Join(format!(
                "failed to load CA certificate referenced by kubeconfig: {}",
                go_path_error("open", Path::new(file), &e)
            ))
        });
    }
    Err(ClusterError::Join(
        "no CA certificates found in kubeconfig".to_owned(),
    ))
}

/// In-cluster settings: the API server address and the service-account CA.
pub fn in_cluster_server() -> Option<String> {
    let host = std::env::var("KUBERNETES_SERVICE_HOST").ok()?;
    let port = std::env::var("KUBERNETES_SERVICE_PORT").unwrap_or_else(|_| "443".to_owned());
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host
    };
    Some(format!("https://{host}:{port}"))
}

/// The service-account CA bundle path.
pub fn in_cluster_ca_path() -> PathBuf {
    Path::new(SA_DIR).join("ca.crt")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_follow_kubeadm_precedence() {
        let home = Path::new("/home/u");
        assert_eq!(
            candidates(None, Some(home)),
            [
                PathBuf::from("/home/u/.kube/config"),
                PathBuf::from(ADMIN_CONF)
            ]
        );
        assert_eq!(
            candidates(Some("/a:/b"), Some(home)),
            [
                PathBuf::from("/a"),
                PathBuf::from("/b"),
                PathBuf::from(ADMIN_CONF)
            ]
        );
        assert_eq!(candidates(Some(""), None), [PathBuf::from(ADMIN_CONF)]);
    }

    #[test]
    fn missing_file_reads_like_kubeadm() {
        let err = load(Path::new("/nonexistent/kubeconfig"), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "failed to load admin kubeconfig: open /nonexistent/kubeconfig: no such file or directory"
        );
    }
}
