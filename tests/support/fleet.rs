//! A kubeconfig with one context per test cluster, for fleet runs
//! (`run --contexts`, `watch` jobs per context).

use super::TestCluster;

/// One kubeconfig whose contexts reach each cluster (server and CA taken
/// from each cluster's own admin kubeconfig); `dead` adds a context whose
/// server refuses connections. The first member is the current context.
pub fn kubeconfig(members: &[(&str, &TestCluster)], dead: Option<&str>) -> String {
    use base64::Engine;
    let mut clusters = String::new();
    let mut contexts = String::new();
    let mut users = String::new();
    for (name, c) in members {
        let ca = base64::engine::general_purpose::STANDARD.encode(c.ca_pem());
        clusters += &format!(
            "- name: {name}\n  cluster:\n    server: {}\n    certificate-authority-data: {ca}\n",
            c.url()
        );
        contexts += &format!("- name: {name}\n  context:\n    cluster: {name}\n    user: {name}\n");
        users += &format!("- name: {name}\n  user:\n    token: {}\n", c.admin_token());
    }
    if let Some(name) = dead {
        let ca = base64::engine::general_purpose::STANDARD.encode(members[0].1.ca_pem());
        clusters += &format!(
            "- name: {name}\n  cluster:\n    server: https://127.0.0.1:1\n    certificate-authority-data: {ca}\n"
        );
        contexts += &format!("- name: {name}\n  context:\n    cluster: {name}\n    user: {name}\n");
        users += &format!("- name: {name}\n  user:\n    token: nothing\n");
    }
    format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: {}\nclusters:\n{clusters}contexts:\n{contexts}users:\n{users}",
        members[0].0
    )
}
