//! Each job's last handled tick, persisted so that a restart knows which
//! ticks it missed. One JSON file, replaced atomically (write, fsync, rename).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// What is remembered about one job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct JobRecord {
    /// Every tick at or before this instant has been handled (run, skipped,
    /// or reported missed); set when the job is first scheduled.
    pub checked_through: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success: Option<Timestamp>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct StateFile {
    jobs: BTreeMap<String, JobRecord>,
}

/// The state directory's `state.json`, or memory only without a directory.
#[derive(Debug)]
pub struct StateStore {
    path: Option<PathBuf>,
    file: StateFile,
}

/// A state file that could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("reading state file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("state file {path} is not valid (starting with empty state): {source}")]
    Corrupt {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("writing state file {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

pub const STATE_FILE: &str = "state.json";

impl StateStore {
    /// In memory only: nothing survives a restart.
    pub fn in_memory() -> Self {
        Self {
            path: None,
            file: StateFile::default(),
        }
    }

    /// Loads `dir/state.json`, creating `dir` if needed. A missing file is an
    /// empty state; an unreadable or corrupt one is reported alongside an
    /// empty state, because a daemon must start anyway.
    pub fn open(dir: &Path) -> (Self, Option<StateError>) {
        let path = dir.join(STATE_FILE);
        let mut store = Self {
            path: Some(path.clone()),
            file: StateFile::default(),
        };
        if let Err(source) = std::fs::create_dir_all(dir) {
            return (store, Some(StateError::Write { path, source }));
        }
        match std::fs::read(&path) {
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(file) => store.file = file,
                Err(source) => return (store, Some(StateError::Corrupt { path, source })),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return (store, Some(StateError::Read { path, source })),
        }
        (store, None)
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub fn get(&self, job: &str) -> Option<&JobRecord> {
        self.file.jobs.get(job)
    }

    /// Records that `job` handled every tick through `at`.
    pub fn checked(&mut self, job: &str, at: Timestamp) {
        self.file
            .jobs
            .entry(job.to_owned())
            .and_modify(|r| r.checked_through = r.checked_through.max(at))
            .or_insert(JobRecord {
                checked_through: at,
                last_success: None,
            });
    }

    pub fn succeeded(&mut self, job: &str, at: Timestamp) {
        if let Some(r) = self.file.jobs.get_mut(job) {
            r.last_success = Some(at);
        }
    }

    /// Writes the file atomically: a reader sees the old or the new state.
    pub fn save(&self) -> Result<(), StateError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let write = || -> std::io::Result<()> {
            let tmp = path.with_extension("json.tmp");
            let mut f = std::fs::File::create(&tmp)?;
            let bytes = serde_json::to_vec_pretty(&self.file).map_err(std::io::Error::other)?;
            f.write_all(&bytes)?;
            f.write_all(b"\n")?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        };
        write().map_err(|source| StateError::Write {
            path: path.clone(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_survives_a_reopen_and_never_moves_backwards() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut store, warning) = StateStore::open(dir.path());
        assert!(warning.is_none());
        let t1: Timestamp = "2026-06-01T03:00:00Z".parse().expect("ts");
        let t0: Timestamp = "2026-06-01T02:00:00Z".parse().expect("ts");
        store.checked("rotate", t1);
        store.checked("rotate", t0);
        store.succeeded("rotate", t1);
        store.save().expect("save");
        let (again, warning) = StateStore::open(dir.path());
        assert!(warning.is_none());
        assert_eq!(
            again.get("rotate"),
            Some(&JobRecord {
                checked_through: t1,
                last_success: Some(t1)
            })
        );
    }

    #[test]
    fn a_corrupt_state_file_is_reported_and_replaced_by_empty_state() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(STATE_FILE), "{not json").expect("write");
        let (store, warning) = StateStore::open(dir.path());
        assert!(matches!(warning, Some(StateError::Corrupt { .. })));
        assert!(store.get("rotate").is_none());
    }
}
