//! The `--state` file: every acknowledged write lands on disk atomically
//! (temp file in the same directory, fsync, rename, fsync of the directory),
//! so a `kill -9` loses nothing that a client saw succeed.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::{Value, json};

/// What the state file holds.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub resource_version: u64,
    pub objects: Vec<Value>,
}

pub fn encode(resource_version: u64, objects: &[&Value]) -> Vec<u8> {
    let doc = json!({
        "kind": "TokensmithDevClusterState",
        "resourceVersion": resource_version.to_string(),
        "objects": objects,
    });
    // Serializing a Value built from Values cannot fail.
    serde_json::to_vec(&doc).unwrap_or_default()
}

/// Reads the state file. A missing file is an empty cluster; anything that
/// does not parse is an error: silently dropping state would lose tokens.
pub fn load(path: &Path) -> anyhow::Result<Option<Snapshot>> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading state file {}", path.display())),
    };
    let doc: Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("state file {} is corrupt", path.display()))?;
    let rv = doc
        .get("resourceVersion")
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<u64>().ok())
        .with_context(|| {
            format!(
                "state file {} is corrupt: no valid resourceVersion",
                path.display()
            )
        })?;
    let objects = doc
        .get("objects")
        .and_then(Value::as_array)
        .cloned()
        .with_context(|| format!("state file {} is corrupt: no objects list", path.display()))?;
    Ok(Some(Snapshot {
        resource_version: rv,
        objects,
    }))
}

/// Replaces `path` with `bytes` so that a reader sees either the old or the
/// new content, never a mix, even across a crash.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = parent_dir(path);
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".to_string());
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    {
        use std::os::unix::fs::OpenOptionsExt;
        // The state holds token secrets, as etcd does: owner-only.
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    // The rename is durable only once the directory entry is.
    fs::File::open(&dir)?.sync_all()
}

pub fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_state_loads_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.json");
        let obj = json!({"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "a"}});
        write_atomically(&path, &encode(7, &[&obj])).expect("write");
        let snap = load(&path).expect("load").expect("present");
        assert_eq!(snap.resource_version, 7);
        assert_eq!(snap.objects, vec![obj]);
    }

    #[test]
    fn the_state_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.json");
        write_atomically(&path, b"{}").expect("write");
        let mode = fs::metadata(&path).expect("stat").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_corrupt_state_file_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.json");
        fs::write(&path, b"{\"resourceVersion\": \"3\", \"objects\": [").expect("write");
        let err = load(&path).expect_err("corrupt");
        assert!(format!("{err:#}").contains("is corrupt"), "{err:#}");
    }

    #[test]
    fn a_missing_state_file_is_an_empty_cluster() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(load(&dir.path().join("nope.json")).expect("ok").is_none());
    }
}
