//! What `kubeadm init` leaves behind that tokensmith relies on: the
//! default, kube-system and kube-public namespaces and kube-public/cluster-info.

use serde_json::json;

use super::crud::{self, WriteContext};
use super::kubeconfig;
use super::resources::Resource;
use super::store::Store;

/// What `kubeadm init` leaves behind: the three namespaces and cluster-info.
pub async fn seed(store: &Store, url: &str, ca_pem: &str) -> anyhow::Result<()> {
    for ns in ["default", "kube-system", "kube-public"] {
        let ctx = WriteContext {
            resource: Resource::Namespaces,
            namespace: "",
            manager: "kube-apiserver".into(),
            dry_run: false,
        };
        let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
        match crud::create(store, &ctx, body.to_string().as_bytes()).await {
            Ok(_) => {}
            Err(e) if e.code == 409 => {}
            Err(e) => anyhow::bail!("seeding namespace {ns}: {}", e.message),
        }
    }
    let kubeconfig = kubeconfig::cluster_info(url, ca_pem);
    let ctx = WriteContext {
        resource: Resource::ConfigMaps,
        namespace: "kube-public",
        manager: "kubeadm".into(),
        dry_run: false,
    };
    match crud::get(store, Resource::ConfigMaps, "kube-public", "cluster-info") {
        Err(_) => {
            let body = json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "cluster-info", "namespace": "kube-public"},
                "data": {"kubeconfig": kubeconfig}});
            crud::create(store, &ctx, body.to_string().as_bytes())
                .await
                .map_err(|e| anyhow::anyhow!("seeding kube-public/cluster-info: {}", e.message))?;
        }
        // A restart on another port: point cluster-info at where we are now.
        Ok(cm)
            if cm.pointer("/data/kubeconfig").and_then(|v| v.as_str())
                != Some(kubeconfig.as_str()) =>
        {
            let mut updated = cm.clone();
            updated["data"]["kubeconfig"] = json!(kubeconfig);
            crud::update(store, &ctx, "cluster-info", updated.to_string().as_bytes())
                .await
                .map_err(|e| anyhow::anyhow!("updating kube-public/cluster-info: {}", e.message))?;
        }
        Ok(_) => {}
    }
    Ok(())
}
