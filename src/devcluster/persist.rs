//! The `--state` files: a snapshot (`<state>`, replaced atomically: temp
//! file, fsync, rename, fsync of the directory) and an append-only log
//! beside it (`<state>.wal`, one JSON line per committed transaction).
//!
//! A write is acknowledged only once its log record is fsynced, so a
//! `kill -9` loses nothing a client saw succeed. The log is zero-filled
//! ahead of its end ([`PREALLOCATE`] at a time), so an append overwrites
//! blocks the file already has: its fdatasync flushes that data alone, with
//! no filesystem journal commit for a new size or extent, which under other
//! I/O costs many times the data flush (PostgreSQL zero-fills its WAL
//! segments for the same reason). Appending keeps a write's
//! cost independent of how much the cluster holds; compaction (a new
//! snapshot, then truncating the log) keeps the log within a small multiple
//! of the live set. On start the log is replayed over the snapshot: a torn
//! last record (a crash mid-append, never acknowledged) is dropped, anything
//! else that does not parse is an error, because silently dropping state
//! would lose tokens.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use serde_json::{Value, json};

use super::objects;
use super::store::Key;

/// etcd's revisions are int64: a resourceVersion above this cannot have
/// come from a real cluster, and counting on from near `u64::MAX` would wrap.
pub const MAX_RESOURCE_VERSION: u64 = i64::MAX as u64;

/// How far ahead of its end the log is zero-filled.
pub const PREALLOCATE: u64 = 4 << 20;

/// Below this the log is never compacted: rewriting a small snapshot is
/// cheap but pointless.
const COMPACT_MIN_LOG_BYTES: u64 = 4 << 20;

/// What the snapshot file holds.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub resource_version: u64,
    pub objects: Vec<Value>,
}

/// The state as found on disk, and the log opened for appending.
pub struct Recovered {
    pub resource_version: u64,
    pub objects: BTreeMap<Key, Arc<objects::Stored>>,
    pub log: Log,
}

/// One change in a log record.
pub enum Op<'a> {
    Put(&'a Value),
    /// The removed object (only its apiVersion, kind and names are written).
    Delete(&'a Value),
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

/// Appends one transaction's record (a JSON line) to `buf`.
pub fn encode_record(buf: &mut Vec<u8>, resource_version: u64, ops: &[Op<'_>]) {
    let ops: Vec<Value> = ops
        .iter()
        .map(|op| match op {
            Op::Put(obj) => json!({ "put": obj }),
            Op::Delete(obj) => json!({ "delete": {
                "apiVersion": obj.get("apiVersion"),
                "kind": obj.get("kind"),
                "metadata": {"namespace": objects::namespace(obj), "name": objects::name(obj)},
            }}),
        })
        .collect();
    let rec = json!({"rv": resource_version.to_string(), "ops": ops});
    // Serializing a Value cannot fail; compact JSON has no raw newline.
    let _ = serde_json::to_writer(&mut *buf, &rec);
    buf.push(b'\n');
}

/// Reads the snapshot. A missing file is an empty cluster; anything that
/// does not parse is an error.
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
    check_limit(rv, path)?;
    let objects = match doc {
        Value::Object(mut m) => match m.remove("objects") {
            Some(Value::Array(a)) => Some(a),
            _ => None,
        },
        _ => None,
    }
    .with_context(|| format!("state file {} is corrupt: no objects list", path.display()))?;
    Ok(Some(Snapshot {
        resource_version: rv,
        objects,
    }))
}

fn check_limit(rv: u64, path: &Path) -> anyhow::Result<()> {
    if rv > MAX_RESOURCE_VERSION {
        anyhow::bail!(
            "state file {} holds resourceVersion {rv}, beyond the limit {MAX_RESOURCE_VERSION}: \
             refusing to start rather than let resourceVersions wrap",
            path.display()
        );
    }
    Ok(())
}

/// The log's path for a state file: `<state>.wal`.
pub fn log_path(state: &Path) -> PathBuf {
    let mut p = state.as_os_str().to_owned();
    p.push(".wal");
    PathBuf::from(p)
}

/// Loads the snapshot, replays the log over it and opens the log for appending.
pub fn recover(path: &Path) -> anyhow::Result<Recovered> {
    let corrupt = || format!("state file {} is corrupt", path.display());
    let mut rv = 0;
    let mut objs = BTreeMap::new();
    let mut snapshot_bytes = 0;
    if let Some(snap) = load(path)? {
        snapshot_bytes = fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        rv = snap.resource_version;
        for obj in snap.objects {
            let key = objects::key_of(&obj).with_context(|| {
                format!("{}: an object without kind, apiVersion or name", corrupt())
            })?;
            objs.insert(key, Arc::new(objects::Stored::new(obj)));
        }
    }
    let wal = log_path(path);
    let mut bytes = match fs::read(&wal) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e).with_context(|| format!("reading state log {}", wal.display())),
    };
    // The zero-filled space past the last record (JSON never holds a NUL).
    bytes.truncate(bytes.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1));
    let snapshot_rv = rv;
    let mut good_len = 0usize;
    let mut lines = bytes.split_inclusive(|b| *b == b'\n').peekable();
    let mut line_no = 0;
    while let Some(line) = lines.next() {
        line_no += 1;
        let last = lines.peek().is_none();
        let complete = line.ends_with(b"\n");
        let parsed = if complete { parse_record(line) } else { None };
        let Some((rec_rv, ops)) = parsed else {
            if last {
                // A crash mid-append: that write was never acknowledged.
                tracing::warn!(file = %wal.display(), "dropping a torn last record in the state log");
                break;
            }
            anyhow::bail!(
                "state log {} is corrupt at record {line_no}: not a valid record",
                wal.display()
            );
        };
        check_limit(rec_rv, &wal)?;
        if rec_rv <= snapshot_rv {
            // Already in the snapshot: a crash between compaction's rename and truncate.
            good_len += line.len();
            continue;
        }
        if rec_rv <= rv {
            anyhow::bail!(
                "state log {} is corrupt at record {line_no}: resourceVersion {rec_rv} after {rv}",
                wal.display()
            );
        }
        for (delete, obj) in ops {
            let key = objects::key_of(&obj).with_context(|| {
                format!(
                    "state log {} is corrupt at record {line_no}: an object without kind, apiVersion or name",
                    wal.display()
                )
            })?;
            if delete {
                objs.remove(&key);
            } else {
                objs.insert(key, Arc::new(objects::Stored::new(obj)));
            }
        }
        rv = rec_rv;
        good_len += line.len();
    }
    let log = Log::open(&wal, good_len as u64, snapshot_bytes)?;
    Ok(Recovered {
        resource_version: rv,
        objects: objs,
        log,
    })
}

fn parse_record(line: &[u8]) -> Option<(u64, Vec<(bool, Value)>)> {
    let Value::Object(mut rec) = serde_json::from_slice::<Value>(line).ok()? else {
        return None;
    };
    let rv = rec.get("rv")?.as_str()?.parse::<u64>().ok()?;
    let Some(Value::Array(ops)) = rec.remove("ops") else {
        return None;
    };
    let mut out = Vec::with_capacity(ops.len());
    for op in ops {
        let Value::Object(mut op) = op else {
            return None;
        };
        match (op.remove("put"), op.remove("delete")) {
            (Some(obj), None) => out.push((false, obj)),
            (None, Some(obj)) => out.push((true, obj)),
            _ => return None,
        }
    }
    Some((rv, out))
}

/// The append-only log, opened for writing.
pub struct Log {
    file: fs::File,
    path: PathBuf,
    /// Bytes of records in the log; the next one is written here.
    size: u64,
    /// The file's length: zeros from `size` to here.
    allocated: u64,
    /// Bytes in the snapshot last written (or found): the live set's size.
    snapshot_size: u64,
}

impl Log {
    fn open(path: &Path, good_len: u64, snapshot_size: u64) -> anyhow::Result<Log> {
        use std::os::unix::fs::OpenOptionsExt;
        // The state holds token secrets, as etcd does: owner-only.
        let file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("opening state log {}", path.display()))?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        if len != good_len {
            // Cut the torn tail so the next append starts on a record boundary.
            file.set_len(good_len)
                .and_then(|()| file.sync_all())
                .with_context(|| format!("truncating state log {}", path.display()))?;
        }
        Ok(Log {
            file,
            path: path.to_path_buf(),
            size: good_len,
            allocated: good_len,
            snapshot_size,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where `n` more bytes go, and how far to zero-fill the file first
    /// when they do not fit in what is already allocated.
    pub fn plan_append(&self, n: u64) -> Append {
        let end = self.size + n;
        Append {
            offset: self.size,
            grow_to: (end > self.allocated).then_some(end + PREALLOCATE),
        }
    }

    /// Writes `bytes` where `plan` says and waits until they are on disk
    /// (blocking). Growing writes the record and the new zeros in one go.
    pub fn append_durably(file: &fs::File, plan: Append, bytes: &[u8]) -> std::io::Result<()> {
        use std::os::unix::fs::FileExt;
        match plan.grow_to {
            Some(end) => {
                let mut buf = bytes.to_vec();
                buf.resize(usize::try_from(end - plan.offset).unwrap_or(buf.len()), 0);
                file.write_all_at(&buf, plan.offset)?;
            }
            None => file.write_all_at(bytes, plan.offset)?,
        }
        file.sync_data()
    }

    pub fn file(&self) -> &fs::File {
        &self.file
    }

    /// After [`Log::append_durably`] of `n` bytes with `plan`.
    pub fn appended(&mut self, plan: Append, n: u64) {
        self.size += n;
        if let Some(end) = plan.grow_to {
            self.allocated = end;
        }
    }

    /// Whether the log has outgrown the live set enough to be worth compacting.
    pub fn wants_compaction(&self) -> bool {
        self.size > COMPACT_MIN_LOG_BYTES.max(2 * self.snapshot_size)
    }

    /// After a snapshot covering everything in the log was made durable.
    pub fn truncate(&mut self, snapshot_size: u64) -> std::io::Result<()> {
        self.file.set_len(0)?;
        self.file.sync_all()?;
        self.size = 0;
        self.allocated = 0;
        self.snapshot_size = snapshot_size;
        Ok(())
    }
}

/// Where one append goes ([`Log::plan_append`]).
#[derive(Debug, Clone, Copy)]
pub struct Append {
    offset: u64,
    grow_to: Option<u64>,
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

    fn secret(name: &str, rv: u64) -> Value {
        json!({"kind": "Secret", "apiVersion": "v1",
               "metadata": {"name": name, "namespace": "ns", "resourceVersion": rv.to_string()}})
    }

    fn names(r: &Recovered) -> Vec<&str> {
        r.objects.keys().map(|k| k.name.as_str()).collect()
    }

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
        recover(&path.with_file_name("other.json")).expect("recover");
        let mode = fs::metadata(log_path(&path.with_file_name("other.json")))
            .expect("stat")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the log is private too");
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

    #[test]
    fn the_log_replays_over_the_snapshot() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.json");
        let a = secret("a", 1);
        write_atomically(&path, &encode(1, &[&a])).expect("snapshot");
        let mut buf = Vec::new();
        // A record already in the snapshot is skipped.
        encode_record(&mut buf, 1, &[Op::Put(&a)]);
        encode_record(&mut buf, 2, &[Op::Put(&secret("b", 2))]);
        encode_record(&mut buf, 4, &[Op::Delete(&a), Op::Put(&secret("c", 4))]);
        fs::write(log_path(&path), &buf).expect("log");
        let r = recover(&path).expect("recover");
        assert_eq!(r.resource_version, 4);
        assert_eq!(names(&r), ["b", "c"]);
    }

    #[test]
    fn a_torn_last_record_is_dropped_and_cut_off() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.json");
        let mut buf = Vec::new();
        encode_record(&mut buf, 1, &[Op::Put(&secret("a", 1))]);
        let good = buf.len();
        encode_record(&mut buf, 2, &[Op::Put(&secret("b", 2))]);
        buf.truncate(buf.len() - 7);
        fs::write(log_path(&path), &buf).expect("log");
        let r = recover(&path).expect("recover");
        assert_eq!(r.resource_version, 1);
        assert_eq!(names(&r), ["a"]);
        drop(r);
        assert_eq!(
            fs::metadata(log_path(&path)).expect("stat").len(),
            good as u64
        );
    }

    #[test]
    fn appends_overwrite_zero_filled_space_and_replay_from_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.json");
        let mut log = recover(&path).expect("recover").log;
        for rv in 1..=3 {
            let mut buf = Vec::new();
            encode_record(&mut buf, rv, &[Op::Put(&secret(&format!("s{rv}"), rv))]);
            let plan = log.plan_append(buf.len() as u64);
            Log::append_durably(log.file(), plan, &buf).expect("append");
            log.appended(plan, buf.len() as u64);
        }
        let len = fs::metadata(log_path(&path)).expect("stat").len();
        assert!(len >= PREALLOCATE, "zero-filled ahead: {len}");
        assert_eq!(log.allocated, len);
        drop(log);
        let r = recover(&path).expect("recover");
        assert_eq!(r.resource_version, 3);
        assert_eq!(names(&r), ["s1", "s2", "s3"]);
        assert_eq!(r.log.size, r.log.allocated, "reopened at the last record");
    }

    #[test]
    fn a_torn_record_in_zero_filled_space_is_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.json");
        let mut buf = Vec::new();
        encode_record(&mut buf, 1, &[Op::Put(&secret("a", 1))]);
        let good = buf.len();
        encode_record(&mut buf, 2, &[Op::Put(&secret("b", 2))]);
        buf.truncate(buf.len() - 7);
        buf.resize(buf.len() + 4096, 0);
        fs::write(log_path(&path), &buf).expect("log");
        let r = recover(&path).expect("recover");
        assert_eq!(names(&r), ["a"]);
        assert_eq!(r.log.size, good as u64);
    }

    #[test]
    fn a_bad_record_before_the_end_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.json");
        let mut buf = b"{\"rv\": \"1\", \"ops\": [{\"put\": 3}]}\n".to_vec();
        encode_record(&mut buf, 2, &[Op::Put(&secret("b", 2))]);
        fs::write(log_path(&path), &buf).expect("log");
        let err = format!("{:#}", recover(&path).err().expect("corrupt"));
        assert!(err.contains("is corrupt at record 1"), "{err}");
    }

    #[test]
    fn a_resource_version_at_the_u64_limit_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.json");
        write_atomically(&path, &encode(u64::MAX, &[])).expect("write");
        let err = format!("{:#}", recover(&path).err().expect("refused"));
        assert!(err.contains("beyond the limit"), "{err}");

        let path = dir.path().join("other.json");
        let mut buf = Vec::new();
        encode_record(&mut buf, u64::MAX, &[Op::Put(&secret("a", 1))]);
        encode_record(&mut buf, 1, &[Op::Put(&secret("b", 1))]);
        fs::write(log_path(&path), &buf).expect("log");
        let err = format!("{:#}", recover(&path).err().expect("refused"));
        assert!(err.contains("beyond the limit"), "{err}");
    }
}
