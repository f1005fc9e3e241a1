//! Reading a file the user named (script, kubeconfig, config, template,
//! credential): only a regular file, and at most [`MAX_INPUT`] bytes, so
//! that `/dev/zero`, a FIFO or a runaway file is a clear error instead of a
//! hang or an out-of-memory abort.

use std::io::Read;
use std::path::Path;

/// Larger than any kubeconfig, script or template a person writes.
pub const MAX_INPUT: u64 = 16 << 20;

/// The whole file at `path`. The error reads as the OS's own (`No such file
/// or directory`, `is not a regular file`, `is larger than 16 MiB`), for
/// callers to wrap in their usual message.
pub fn read_capped(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::{Error, ErrorKind};
    // Checked before opening: opening a FIFO blocks until a writer comes.
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(Error::new(ErrorKind::InvalidInput, "is not a regular file"));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_INPUT + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_INPUT {
        return Err(Error::new(
            ErrorKind::InvalidData,
            format!("is larger than {} MiB", MAX_INPUT >> 20),
        ));
    }
    Ok(bytes)
}

/// [`read_capped`] as UTF-8 text (an `InvalidData` error otherwise).
pub fn read_capped_string(path: &Path) -> std::io::Result<String> {
    String::from_utf8(read_capped(path)?)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "is not UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_fifos_are_refused_without_blocking() {
        for p in ["/dev/zero", "/dev/null", "/"] {
            let e = read_capped(Path::new(p)).unwrap_err();
            assert_eq!(e.to_string(), "is not a regular file", "{p}");
        }
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(MAX_INPUT + 1)
            .unwrap();
        assert_eq!(
            read_capped(&big).unwrap_err().to_string(),
            "is larger than 16 MiB"
        );
        let ok = dir.path().join("ok");
        std::fs::write(&ok, "x").unwrap();
        assert_eq!(read_capped_string(&ok).unwrap(), "x");
    }
}
