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

/// One cluster of [`admin_fleet`]: its context name, server, CA and admin token.
pub struct FleetMember<'a> {
    pub name: &'a str,
    pub server: &'a str,
    pub ca_pem: &'a str,
    pub token: &'a str,
}

/// One admin kubeconfig for several dev clusters: a cluster, a user and a
/// context per member, all named after it (the user `NAME-admin`), and the
/// first member's context current. `run --all-contexts` walks it in order.
pub fn admin_fleet(members: &[FleetMember<'_>]) -> String {
    let (mut clusters, mut contexts, mut users) = (String::new(), String::new(), String::new());
    for m in members {
        let (name, server, token) = (m.name, m.server, m.token);
        let ca = STANDARD.encode(m.ca_pem.as_bytes());
        clusters += &format!(
            "- cluster:\n    certificate-authority-data: {ca}\n    server: {server}\n  name: {name}\n"
        );
        contexts +=
            &format!("- context:\n    cluster: {name}\n    user: {name}-admin\n  name: {name}\n");
        users += &format!("- name: {name}-admin\n  user:\n    token: {token}\n");
    }
    let current = members.first().map_or("\"\"", |m| m.name);
    format!(
        "apiVersion: v1\nclusters:\n{clusters}contexts:\n{contexts}current-context: {current}\n\
         kind: Config\npreferences: {{}}\nusers:\n{users}"
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fleet_kubeconfig_has_a_context_cluster_and_user_per_member() {
        let members = [
            FleetMember {
                name: "dev-1",
                server: "https://127.0.0.1:1",
                ca_pem: "ca one",
                token: "t1",
            },
            FleetMember {
                name: "dev-2",
                server: "https://127.0.0.1:2",
                ca_pem: "ca two",
                token: "t2",
            },
        ];
        let kc = kube::config::Kubeconfig::from_yaml(&admin_fleet(&members)).unwrap();
        assert_eq!(kc.current_context.as_deref(), Some("dev-1"));
        let names: Vec<&str> = kc.contexts.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["dev-1", "dev-2"]);
        let second = kc.contexts[1].context.as_ref().unwrap();
        assert_eq!(
            (second.cluster.as_str(), second.user.as_deref()),
            ("dev-2", Some("dev-2-admin"))
        );
        let cluster = kc.clusters[1].cluster.as_ref().unwrap();
        assert_eq!(cluster.server.as_deref(), Some("https://127.0.0.1:2"));
        assert_eq!(
            cluster.certificate_authority_data.as_deref(),
            Some(STANDARD.encode("ca two").as_str())
        );
        let user = kc.auth_infos[1].auth_info.as_ref().unwrap();
        assert_eq!(kc.auth_infos[1].name, "dev-2-admin");
        assert!(user.token.is_some());
    }
}
