//! The `kubeadm join …` line (spec §7, kubeadm `cmd/util/join.go`): endpoint
//! and CA pins from the local kubeconfig, not from cluster-info.

use std::fmt;

use crate::token::BootstrapTokenString;

/// Everything a join line carries. `Debug` and `Display` redact the token;
/// [`JoinCommand::render`] gives the real line.
#[derive(Clone, PartialEq, Eq)]
pub struct JoinCommand {
    /// `server` with every `https://` removed (nothing else is stripped).
    pub endpoint: String,
    pub token: BootstrapTokenString,
    pub ca_pins: Vec<String>,
    /// `Some(key)` for a control-plane join; the key is printed verbatim.
    pub control_plane: Option<String>,
}

impl JoinCommand {
    pub fn new(
        server: &str,
        token: BootstrapTokenString,
        ca_pins: Vec<String>,
        control_plane: Option<String>,
    ) -> Self {
        Self {
            endpoint: server.replace("https://", ""),
            token,
            ca_pins,
            control_plane,
        }
    }

    fn render_with(&self, token: &str) -> String {
        // kubeadm's template, after `token create` strips "\\\n" and tabs:
        // one space after every pin, so a worker line ends in a space.
        let mut s = format!("kubeadm join {} --token {token} ", self.endpoint);
        for pin in &self.ca_pins {
            s.push_str("--discovery-token-ca-cert-hash ");
            s.push_str(pin);
            s.push(' ');
        }
        if let Some(key) = &self.control_plane {
            s.push_str("--control-plane ");
            if !key.is_empty() {
                s.push_str("--certificate-key ");
                s.push_str(&html_escape(key));
            }
        }
        s
    }

    /// The exact one-line command kubeadm prints (without the newline). It holds
    /// the token secret: print or publish it, never log it.
    pub fn render(&self) -> String {
        self.render_with(&self.token.expose())
    }

    /// The same line with the secret replaced by asterisks.
    pub fn redacted(&self) -> String {
        self.render_with(&self.token.redacted())
    }
}

/// Go's html/template escaping of the few characters that can appear in a key.
fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&#39;"),
            '"' => out.push_str("&#34;"),
            '+' => out.push_str("&#43;"),
            c => out.push(c),
        }
    }
    out
}

impl fmt::Display for JoinCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for JoinCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JoinCommand({})", self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok() -> BootstrapTokenString {
        BootstrapTokenString::parse("abcdef.0123456789abcdef").unwrap()
    }

    #[test]
    fn worker_line_has_kubeadms_trailing_space() {
        let j = JoinCommand::new(
            "https://10.0.0.1:6443",
            tok(),
            vec!["sha256:aa".into()],
            None,
        );
        assert_eq!(
            j.render(),
            "kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:aa "
        );
    }

    #[test]
    fn control_plane_line() {
        let j = JoinCommand::new(
            "https://h:6443",
            tok(),
            vec!["sha256:aa".into(), "sha256:bb".into()],
            Some("k3y".into()),
        );
        assert_eq!(
            j.render(),
            "kubeadm join h:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:aa --discovery-token-ca-cert-hash sha256:bb --control-plane --certificate-key k3y"
        );
    }

    #[test]
    fn only_https_is_stripped_and_display_redacts() {
        let j = JoinCommand::new("http://h:1/path", tok(), vec![], None);
        assert!(
            j.render()
                .starts_with("kubeadm join http://h:1/path --token")
        );
        assert!(!j.to_string().contains("0123456789abcdef"));
        assert!(!format!("{j:?}").contains("0123456789abcdef"));
    }
}
