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
/// `text` parsed, or the parser's message. The last text parsed is kept: a
/// fleet run loads the same kubeconfig once per context, and parsing its
/// YAML was most of a member's cost; a copy of the parsed form is cheap.
fn parsed(text: &str) -> Result<std::sync::Arc<Kubeconfig>, String> {
    type Last = Option<(String, std::sync::Arc<Kubeconfig>)>;
    static LAST: std::sync::Mutex<Last> = std::sync::Mutex::new(None);
    if let Ok(last) = LAST.lock()
        && let Some((t, config)) = last.as_ref()
        && t == text
    {
        return Ok(config.clone());
    }
    let config = std::sync::Arc::new(Kubeconfig::from_yaml(text).map_err(|e| e.to_string())?);
    if let Ok(mut last) = LAST.lock() {
        *last = Some((text.to_owned(), config.clone()));
    }
    Ok(config)
}

/// `config` with only the entries `context` names: its context, cluster and
/// user (every entry of those names, in order, so the first still wins). A
/// fleet member copies its own few entries, not the whole fleet's.
fn only_context(config: &Kubeconfig, context: &str) -> Kubeconfig {
    let ctx = config
        .contexts
        .iter()
        .find(|c| c.name == context)
        .and_then(|c| c.context.as_ref());
    let cluster = ctx.map(|c| c.cluster.as_str());
    let user = ctx.and_then(|c| c.user.as_deref());
    Kubeconfig {
        clusters: config
            .clusters
            .iter()
            .filter(|c| Some(c.name.as_str()) == cluster)
            .cloned()
            .collect(),
        auth_infos: config
            .auth_infos
            .iter()
            .filter(|a| Some(a.name.as_str()) == user)
            .cloned()
            .collect(),
        contexts: config
            .contexts
            .iter()
            .filter(|c| c.name == context)
            .cloned()
            .collect(),
        preferences: config.preferences.clone(),
        current_context: config.current_context.clone(),
        extensions: config.extensions.clone(),
        api_version: config.api_version.clone(),
        kind: config.kind.clone(),
        other: config.other.clone(),
    }
}

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
    let whole = parsed(&text).map_err(|e| {
        ClusterError::Kubeconfig(format!(
            "failed to load admin kubeconfig: {}: {}",
            path.display(),
            parse_problem(&e)
        ))
    })?;
    let named = context.is_some();
    let context = context
        .map(str::to_owned)
        .or_else(|| whole.current_context.clone().filter(|c| !c.is_empty()));
    if let Some(name) = &context
        && !whole.contexts.iter().any(|c| &c.name == name)
    {
        return Err(ClusterError::Kubeconfig(format!(
            "failed to load admin kubeconfig: {}: context {} does not exist",
            path.display(),
            crate::token::go_quote(name)
        )));
    }
    // Only a context asked for by name narrows the copy: without one, the
    // caller may want every context (a fleet's list, a header's check).
    let mut config = match &context {
        Some(name) if named => only_context(&whole, name),
        _ => Kubeconfig::clone(&whole),
    };
    absolutize_paths(&mut config, path);
    if let Some(name) = &context {
        check_bearer_token(&mut config, name).map_err(|e| {
            ClusterError::Kubeconfig(format!(
                "failed to load admin kubeconfig: {}: {e}",
                path.display()
            ))
        })?;
    }
    Ok(LoadedKubeconfig {
        path: path.to_path_buf(),
        config,
        context,
    })
}

/// The parser's problem without any of the file's text: its first line only
/// (the YAML parser appends a snippet of the lines around the error, which
/// may be the `token:` line), with every double-quoted value it repeats
/// (`invalid type: string "…"`) masked, since a kubeconfig holds credentials.
pub(crate) fn parse_problem(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default().trim_end();
    let mut out = String::with_capacity(line.len());
    let mut quoted = false;
    for c in line.chars() {
        match (c, quoted) {
            ('"', false) => {
                quoted = true;
                out.push_str("\"…");
            }
            ('"', true) => {
                quoted = false;
                out.push('"');
            }
            (c, false) => out.push(c),
            (_, true) => {}
        }
    }
    if quoted {
        out.push('"');
    }
    out
}

/// Relative `certificate-authority` and `tokenFile` paths are relative to
/// the kubeconfig file (client-go `ResolveLocalPaths`).
fn absolutize_paths(config: &mut Kubeconfig, path: &Path) {
    let Some(dir) = path.parent() else { return };
    let absolute = |p: &String| {
        Path::new(p)
            .is_relative()
            .then(|| dir.join(p).display().to_string())
    };
    for named in &mut config.clusters {
        if let Some(c) = &mut named.cluster
            && let Some(ca) = c.certificate_authority.as_ref().and_then(absolute)
        {
            c.certificate_authority = Some(ca);
        }
    }
    for named in &mut config.auth_infos {
        if let Some(a) = &mut named.auth_info
            && let Some(file) = a.token_file.as_ref().and_then(absolute)
        {
            a.token_file = Some(file);
        }
    }
}

/// The bearer token of `context`'s user, inline or in its `tokenFile`, must
/// fit an `Authorization` header: a newline, CR, NUL or other control
/// character is one clear error here (kubectl fails each request with
/// `net/http: invalid header field value for "Authorization"`), never the
/// token itself. The token is remembered as a secret ([`crate::script::redact`]).
///
/// A `tokenFile` is read with the input size cap and trimmed as client-go
/// trims it (kube sends it raw, so the usual trailing newline made every
/// request fail); when trimming changed it, the trimmed token is used inline,
/// which gives up kube's once-a-minute re-read of that file.
fn check_bearer_token(config: &mut Kubeconfig, context: &str) -> Result<(), String> {
    use secrecy::ExposeSecret;
    let Some(user) = config
        .contexts
        .iter()
        .find(|c| c.name == context)
        .and_then(|c| c.context.as_ref())
        .and_then(|c| c.user.clone())
    else {
        return Ok(());
    };
    let Some(auth) = config
        .auth_infos
        .iter_mut()
        .find(|a| a.name == user)
        .and_then(|a| a.auth_info.as_mut())
    else {
        return Ok(());
    };
    let quoted_user = crate::token::go_quote(&user);
    // Basic auth: the password, and the header value it goes out in (a
    // server that echoes the request must not show either).
    if let Some(password) = &auth.password {
        let password = password.expose_secret();
        crate::script::redact::remember(password);
        if let Some(name) = &auth.username {
            use base64::Engine as _;
            let pair = format!("{name}:{password}");
            crate::script::redact::remember(
                &base64::engine::general_purpose::STANDARD.encode(pair),
            );
        }
    }
    if let Some(token) = &auth.token {
        let token = token.expose_secret();
        crate::script::redact::remember(token);
        if let Some(c) = header_breaker(token) {
            return Err(format!(
                "the token of user {quoted_user} contains {c}, which an Authorization header cannot carry"
            ));
        }
        return Ok(());
    }
    let Some(file) = auth.token_file.clone() else {
        return Ok(());
    };
    let raw = crate::input::read_capped_string(Path::new(&file)).map_err(|e| {
        format!(
            "tokenFile of user {quoted_user}: {}",
            go_path_error("open", Path::new(&file), &e)
        )
    })?;
    let token = raw.trim();
    crate::script::redact::remember(token);
    if let Some(c) = header_breaker(token) {
        return Err(format!(
            "the token in {file} (tokenFile of user {quoted_user}) contains {c}, \
             which an Authorization header cannot carry"
        ));
    }
    if token.len() != raw.len() {
        auth.token = Some(token.to_owned().into());
        auth.token_file = None;
    }
    Ok(())
}

/// The first character of `token` that an HTTP header value cannot hold
/// (controls other than tab, and DEL), named for a message.
fn header_breaker(token: &str) -> Option<String> {
    let c = token
        .chars()
        .find(|&c| (c < ' ' && c != '\t') || c == '\u{7f}')?;
    Some(match c {
        '\n' => "a newline".to_owned(),
        '\r' => "a carriage return".to_owned(),
        '\0' => "a NUL character".to_owned(),
        c => format!("the control character U+{:04X}", u32::from(c)),
    })
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
    fn a_syntax_error_repeats_none_of_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        // A syntax error next to the token line; a token where a list belongs.
        for text in [
            "apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    token: s3cr3t-v4lue-0123\n}\n",
            "apiVersion: v1\nkind: Config\nusers: s3cr3t-v4lue-0123\n",
        ] {
            std::fs::write(&path, text).unwrap();
            let shown = load(&path, None).unwrap_err().to_string();
            assert!(!shown.contains("s3cr3t"), "{shown}");
            assert!(!shown.contains('\n'), "{shown}");
            assert!(
                shown.starts_with("failed to load admin kubeconfig: "),
                "{shown}"
            );
        }
    }

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

    fn kubeconfig_with_user(dir: &Path, user: &str) -> PathBuf {
        let p = dir.join("kubeconfig");
        std::fs::write(
            &p,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\n\
                 contexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n\
                 users:\n- name: u\n  user:\n    {user}\n"
            ),
        )
        .unwrap();
        p
    }

    #[test]
    fn a_token_with_a_control_character_is_one_clear_error_without_the_token() {
        let dir = tempfile::tempdir().unwrap();
        for (yaml, what) in [
            (r#"token: "n3wl1n3.s3cr3t\nrest""#, "a newline"),
            (r#"token: "n3wl1n3.s3cr3t\rrest""#, "a carriage return"),
            (r#"token: "n3wl1n3.s3cr3t\0rest""#, "a NUL character"),
            (
                r#"token: "n3wl1n3.s3cr3t\erest""#,
                "the control character U+001B",
            ),
            (r#"token: "n3wl1n3.s3cr3t\n""#, "a newline"),
        ] {
            let p = kubeconfig_with_user(dir.path(), yaml);
            let err = load(&p, None).unwrap_err().to_string();
            assert_eq!(
                err,
                format!(
                    "failed to load admin kubeconfig: {}: the token of user \"u\" contains {what}, \
                     which an Authorization header cannot carry",
                    p.display()
                ),
                "{yaml}"
            );
            assert!(!err.contains("s3cr3t"), "{err}");
        }
        let p = kubeconfig_with_user(dir.path(), "token: \"fine.t0k3n with\ttab\"");
        assert!(load(&p, None).is_ok());
    }

    #[test]
    fn a_token_file_is_read_capped_trimmed_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tf"), "f1l3t0k3n.s3cr3t\n").unwrap();
        let p = kubeconfig_with_user(dir.path(), "tokenFile: tf");
        let loaded = load(&p, None).expect("a trailing newline is trimmed");
        let auth = loaded.config.auth_infos[0].auth_info.as_ref().unwrap();
        assert!(auth.token_file.is_none());
        assert_eq!(
            secrecy::ExposeSecret::expose_secret(auth.token.as_ref().unwrap()),
            "f1l3t0k3n.s3cr3t"
        );

        std::fs::write(dir.path().join("tf"), "f1l3t0k3n\ns3cr3t\n").unwrap();
        let err = load(&p, None).unwrap_err().to_string();
        let file = dir.path().join("tf");
        assert!(
            err.ends_with(&format!(
                "the token in {} (tokenFile of user \"u\") contains a newline, \
                 which an Authorization header cannot carry",
                file.display()
            )),
            "{err}"
        );
        assert!(!err.contains("s3cr3t"), "{err}");

        let p = kubeconfig_with_user(dir.path(), "tokenFile: /dev/zero");
        let err = load(&p, None).unwrap_err().to_string();
        assert!(
            err.ends_with("tokenFile of user \"u\": open /dev/zero: is not a regular file"),
            "{err}"
        );
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
