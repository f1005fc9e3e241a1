//! The REPL's history file: in the user's state directory, mode 0600, and
//! never holding a line with a token secret in it.

use std::path::{Path, PathBuf};

/// `$XDG_STATE_HOME/tokensmith/repl_history`, else `~/.local/state/tokensmith/repl_history`.
pub fn default_path() -> Option<PathBuf> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    Some(state.join("tokensmith").join("repl_history"))
}

/// True when `line` holds a whole token (`[a-z0-9]{6}.[a-z0-9]{16}`).
pub fn holds_secret(line: &str) -> bool {
    crate::script::redact::contains_token(line)
}

/// Creates the directory (0700) and an empty file (0600) if missing, so the
/// file is never readable by others, not even for a moment.
pub fn prepare(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_with_a_token_are_recognised() {
        assert!(holds_secret(
            "token::create(\"abcdef.0123456789abcdef\", #{})"
        ));
        assert!(holds_secret("abcdef.0123456789abcdef"));
        assert!(!holds_secret("token::delete(\"abcdef\")"));
        assert!(!holds_secret(
            "let t = token::create(#{ttl: \"1h\"}); t.value"
        ));
        // Glued to more token characters, a token still counts.
        assert!(holds_secret("xqwerty.neverparsedsecret0"));
        assert!(!holds_secret("kube-system.bootstrap-token-abcdef"));
    }

    #[test]
    fn prepared_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b/history");
        prepare(&p).unwrap();
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}
