//! Watching the script directory (not its files) for any change.
//!
//! The directory itself is watched, never the files in it, so that editors'
//! write-and-rename saves and a Kubernetes ConfigMap volume's atomic swap of
//! its `..data` symlink are seen: every event means "rescan". Events are
//! debounced by the daemon on tokio.
//!
//! notify-debouncer-full is not used: its thread wakes every tick (a quarter
//! of the debounce time) even when nothing happens, and a rescan of the whole
//! directory needs none of its per-file event stitching. A raw inotify
//! watcher costs nothing while idle.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use notify::event::{AccessKind, AccessMode, EventKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;

pub struct DirWatcher {
    dir: PathBuf,
    events: mpsc::UnboundedSender<()>,
    watcher: Option<RecommendedWatcher>,
    /// Device and inode of the directory being watched: a directory deleted
    /// and created again under the same name needs a new watch.
    watched: Option<(u64, u64)>,
}

impl DirWatcher {
    pub fn new(dir: PathBuf, events: mpsc::UnboundedSender<()>) -> Self {
        Self {
            dir,
            events,
            watcher: None,
            watched: None,
        }
    }

    /// Makes sure the directory, as it is now, is watched. Returns false
    /// when it cannot be (missing, unreadable); the caller retries later.
    pub fn ensure(&mut self) -> bool {
        let id = match std::fs::metadata(&self.dir) {
            Ok(m) if m.is_dir() => (m.dev(), m.ino()),
            _ => {
                self.watcher = None;
                self.watched = None;
                return false;
            }
        };
        if self.watcher.is_some() && self.watched == Some(id) {
            return true;
        }
        let events = self.events.clone();
        let made = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            let rescan = match &res {
                Ok(event) => changes_content(&event.kind),
                Err(e) => {
                    tracing::debug!(error = %e, "watch error; rescanning");
                    true
                }
            };
            if rescan {
                let _ = events.send(());
            }
        })
        .and_then(|mut w| w.watch(&self.dir, RecursiveMode::NonRecursive).map(|()| w));
        match made {
            Ok(w) => {
                tracing::debug!(dir = %self.dir.display(), "watching the script directory");
                self.watcher = Some(w);
                self.watched = Some(id);
                true
            }
            Err(e) => {
                tracing::warn!(dir = %self.dir.display(), error = %e, "cannot watch the script directory; retrying");
                self.watcher = None;
                self.watched = None;
                false
            }
        }
    }
}

/// Opening or reading a file is not a change: notify's inotify backend
/// reports opens, and the rescan's own reads would otherwise trigger the
/// next rescan forever. Closing a file written in place is a change.
fn changes_content(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_do_not_trigger_a_rescan_but_writes_do() {
        use notify::event::{CreateKind, ModifyKind, RemoveKind, RenameMode};
        assert!(!changes_content(&EventKind::Access(AccessKind::Open(
            AccessMode::Any
        ))));
        assert!(!changes_content(&EventKind::Access(AccessKind::Close(
            AccessMode::Read
        ))));
        assert!(changes_content(&EventKind::Access(AccessKind::Close(
            AccessMode::Write
        ))));
        assert!(changes_content(&EventKind::Create(CreateKind::Any)));
        assert!(changes_content(&EventKind::Modify(ModifyKind::Name(
            RenameMode::Both
        ))));
        assert!(changes_content(&EventKind::Remove(RemoveKind::Folder)));
    }
}
