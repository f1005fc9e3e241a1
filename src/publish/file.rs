//! The file sink: an atomic replace (temp file in the same directory, fsync,
//! rename, fsync of the directory), created mode 0600 because the text holds
//! a token secret. A reader sees the old content or the new, never a part.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::PublishError;

/// Writes `text` to `path` atomically with mode 0600.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), PublishError> {
    let fail = |what: &str, e: std::io::Error| PublishError::File {
        path: path.to_path_buf(),
        reason: format!("{what}: {e}"),
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| {
        fail(
            "not a file path",
            std::io::Error::from(std::io::ErrorKind::InvalidInput),
        )
    })?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{}",
        name.to_string_lossy(),
        std::process::id(),
        rand::random::<u32>()
    ));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| fail("create a temporary file beside it", e))?;
        f.write_all(text.as_bytes()).map_err(|e| fail("write", e))?;
        f.sync_all().map_err(|e| fail("fsync", e))?;
        drop(f);
        fs::rename(&tmp, path).map_err(|e| fail("rename into place", e))?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn replaces_atomically_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("join.sh");
        fs::write(&p, "old").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        write_atomic(&p, "new line\n").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "new line\n");
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left behind"
        );
    }

    #[test]
    fn a_missing_directory_is_a_clear_error_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("nope").join("join.sh");
        let e = write_atomic(&p, "x").unwrap_err().to_string();
        assert!(
            e.contains("nope/join.sh") && e.contains("temporary file"),
            "{e}"
        );
    }
}
