//! The kubeconfigs the dev cluster hands out: the admin one (server, CA,
//! bearer token) and the cluster-info one kubeadm publishes (server and CA
//! only, one cluster named "").

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The admin kubeconfig, as `kubeadm init` writes admin.conf but with a token.
pub fn admin(server: &str, ca_pem: &str, token: &str) -> String {
    let ca = STANDARD.encode(ca_pem.as_bytes());
    format!(
        "apiVersion: v1\n\
         clusters:\n\
         - cluster:\n    certificate-authority-data: {ca}\n    server: {server}\n  name: tokensmith-dev\n\
         contexts:\n\
         - context:\n    cluster: tokensmith-dev\n    user: tokensmith-dev-admin\n  name: tokensmith-dev\n\
         current-context: tokensmith-dev\n\
         kind: Config\n\
         preferences: {{}}\n\
         users:\n\
         - name: tokensmith-dev-admin\n  user:\n    token: {token}\n"
    )
}

/// cluster-info's `kubeconfig` key, as clientcmd.Write renders kubeadm's
/// one-cluster config.
pub fn cluster_info(server: &str, ca_pem: &str) -> String {
    let ca = STANDARD.encode(ca_pem.as_bytes());
    format!(
        "apiVersion: v1\n\
         clusters:\n\
         - cluster:\n    certificate-authority-data: {ca}\n    server: {server}\n  name: \"\"\n\
         contexts: null\n\
         current-context: \"\"\n\
         kind: Config\n\
         users: null\n"
    )
}
