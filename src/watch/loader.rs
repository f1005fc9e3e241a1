//! Reading the script directory: every `*.rhai` file, its header, its
//! compiled form. A script that stops loading keeps its last good version;
//! its error is logged once per change of the file and counted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::schedule::metrics::Metrics;
use crate::schedule::runner::JobDefinition;
use crate::schedule::{JobExecutor, ScriptHeader};

struct Entry<J> {
    /// The source last tried, loaded or not: an unchanged file is not retried.
    tried: String,
    /// The last version that loaded.
    good: Option<JobDefinition<J>>,
}

/// What one rescan found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rescan {
    /// The directory could be listed.
    pub directory_ok: bool,
    /// The set of loaded versions differs from before the rescan.
    pub changed: bool,
}

/// A header the daemon cannot honour (a `contexts:` name not in the
/// kubeconfig) is the script's load error.
pub type HeaderCheck = Box<dyn Fn(&ScriptHeader) -> Result<(), String> + Send>;

pub struct Loader<E: JobExecutor> {
    dir: PathBuf,
    executor: Arc<E>,
    metrics: Metrics,
    check: Option<HeaderCheck>,
    scripts: BTreeMap<String, Entry<E::Job>>,
    directory_was_ok: Option<bool>,
}

impl<E: JobExecutor> Loader<E> {
    pub fn new(dir: PathBuf, executor: Arc<E>, metrics: Metrics) -> Self {
        Self {
            dir,
            executor,
            metrics,
            check: None,
            scripts: BTreeMap::new(),
            directory_was_ok: None,
        }
    }

    pub fn with_header_check(mut self, check: HeaderCheck) -> Self {
        self.check = Some(check);
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every script's last good version, for the scheduler.
    pub fn definitions(&self) -> Vec<JobDefinition<E::Job>> {
        self.scripts
            .values()
            .filter_map(|e| e.good.clone())
            .collect()
    }

    /// Lists the directory and (re)loads what changed. Blocking: file reads
    /// and compilation.
    pub fn rescan(&mut self) -> Rescan {
        let found = match list_scripts(&self.dir) {
            Ok(found) => found,
            Err(e) => {
                // Kept scheduled: a vanished directory is usually a volume
                // being remounted, and it is retried until it is back.
                if self.directory_was_ok != Some(false) {
                    tracing::warn!(
                        dir = %self.dir.display(),
                        error = %e,
                        loaded = self.scripts.len(),
                        "cannot read the script directory; keeping the loaded scripts and retrying"
                    );
                }
                self.directory_was_ok = Some(false);
                self.metrics.reloaded(self.loaded(), false);
                return Rescan {
                    directory_ok: false,
                    changed: false,
                };
            }
        };
        if self.directory_was_ok == Some(false) {
            tracing::info!(dir = %self.dir.display(), "the script directory is readable again");
        }
        self.directory_was_ok = Some(true);
        let mut changed = false;
        let gone: Vec<String> = self
            .scripts
            .keys()
            .filter(|name| !found.iter().any(|(n, _)| n == *name))
            .cloned()
            .collect();
        for name in gone {
            tracing::info!(script = %name, "script removed");
            self.metrics.script_removed(&name);
            changed |= self.scripts.remove(&name).is_some_and(|e| e.good.is_some());
        }
        for (name, path) in found {
            changed |= self.load_one(&name, &path);
        }
        self.metrics.reloaded(self.loaded(), true);
        Rescan {
            directory_ok: true,
            changed,
        }
    }

    fn loaded(&self) -> usize {
        self.scripts.values().filter(|e| e.good.is_some()).count()
    }

    /// Loads one script if its file changed; returns whether its loaded
    /// version changed.
    fn load_one(&mut self, name: &str, path: &Path) -> bool {
        let source = match crate::input::read_capped_string(path) {
            Ok(s) => s,
            Err(e) => {
                // Not remembered as tried: a transient read error is retried.
                self.failed(name, format!("cannot read {}: {e}", path.display()));
                return false;
            }
        };
        if self.scripts.get(name).is_some_and(|e| e.tried == source) {
            return false;
        }
        let check = |header: ScriptHeader| match &self.check {
            Some(check) => check(&header).map(|()| header),
            None => Ok(header),
        };
        let loaded = ScriptHeader::parse(&source)
            .map_err(|e| e.to_string())
            .and_then(check)
            .map_err(|e| format!("{}: {e}", path.display()))
            .and_then(|header| {
                // The executor's errors name the file themselves. A compiler
                // panic is this script's load error, not the daemon's end.
                let compiled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    self.executor.compile(path, &source)
                }))
                .unwrap_or_else(|_| {
                    Err(format!(
                        "{}: the compiler panicked on this script",
                        path.display()
                    ))
                });
                compiled.map(|job| (header, job))
            });
        let entry = self.scripts.entry(name.to_owned()).or_insert(Entry {
            tried: String::new(),
            good: None,
        });
        entry.tried = source;
        match loaded {
            Ok((header, job)) => {
                entry.good = Some(JobDefinition {
                    name: name.to_owned(),
                    header,
                    job,
                });
                self.metrics.script_loaded(name);
                tracing::info!(script = %name, "script loaded");
                true
            }
            Err(error) => {
                self.failed(name, error);
                false
            }
        }
    }

    fn failed(&self, name: &str, error: String) {
        let kept = self.scripts.get(name).is_some_and(|e| e.good.is_some());
        self.metrics.script_failed_to_load(name);
        if kept {
            tracing::warn!(script = %name, error = %error, "script failed to load; its last good version stays in use");
        } else {
            tracing::warn!(script = %name, error = %error, "script failed to load; it is not scheduled");
        }
    }
}

/// `(job name, path)` of every `*.rhai` file, symlinks followed. Hidden names
/// are skipped: a ConfigMap volume's `..data` and `..2024_…` entries.
pub(crate) fn list_scripts(dir: &Path) -> std::io::Result<Vec<(String, PathBuf)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        if file_name.starts_with('.') {
            continue;
        }
        let Some(stem) = file_name.strip_suffix(".rhai") else {
            continue;
        };
        let path = entry.path();
        // Follows the symlink: a dangling one (mid-swap) is skipped.
        if std::fs::metadata(&path).is_ok_and(|m| m.is_file()) && !stem.is_empty() {
            found.push((stem.to_owned(), path));
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::test_executor::TestExecutor;

    fn loader(dir: &Path) -> (Loader<TestExecutor>, Metrics) {
        let metrics = Metrics::default();
        (
            Loader::new(dir.to_path_buf(), Arc::new(TestExecutor), metrics.clone()),
            metrics,
        )
    }

    fn render(m: &Metrics) -> String {
        let mut out = String::new();
        m.render(&mut out);
        out
    }

    #[test]
    fn a_broken_script_keeps_its_last_good_version_and_is_reported_once_per_change() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("job.rhai");
        std::fs::write(&file, "//! schedule: @daily\nfail v1\n").expect("write");
        let (mut l, m) = loader(dir.path());
        assert!(l.rescan().changed);
        std::fs::write(&file, "//! schedule: @hourly\nbogus\n").expect("write");
        assert!(!l.rescan().changed);
        assert!(
            !l.rescan().changed,
            "an unchanged broken file is not retried"
        );
        let defs = l.definitions();
        assert_eq!(defs.len(), 1);
        assert_eq!(
            defs[0].header.schedule.as_ref().map(|s| s.source()),
            Some("@daily")
        );
        let text = render(&m);
        assert!(
            text.contains("tokensmith_script_load_errors_total{script=\"job\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("tokensmith_script_load_failing{script=\"job\"} 1\n"),
            "{text}"
        );

        std::fs::write(&file, "//! schedule: @hourly\nfail v2\n").expect("write");
        assert!(l.rescan().changed);
        assert_eq!(
            l.definitions()[0]
                .header
                .schedule
                .as_ref()
                .map(|s| s.source()),
            Some("@hourly")
        );
        assert!(render(&m).contains("tokensmith_script_load_failing{script=\"job\"} 0\n"));
    }

    #[test]
    fn only_visible_rhai_files_are_scripts() {
        let dir = tempfile::tempdir().expect("tempdir");
        for name in ["a.rhai", ".hidden.rhai", "notes.txt", "..data"] {
            std::fs::write(dir.path().join(name), "").expect("write");
        }
        std::fs::create_dir(dir.path().join("sub.rhai")).expect("mkdir");
        std::os::unix::fs::symlink("missing.rhai", dir.path().join("dangling.rhai"))
            .expect("symlink");
        let (mut l, _) = loader(dir.path());
        l.rescan();
        let names: Vec<String> = l.definitions().into_iter().map(|d| d.name).collect();
        assert_eq!(names, ["a"]);
    }

    #[test]
    fn a_missing_directory_keeps_what_was_loaded() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("scripts");
        std::fs::create_dir(&dir).expect("mkdir");
        std::fs::write(dir.join("a.rhai"), "//! schedule: @daily\n").expect("write");
        let (mut l, m) = loader(&dir);
        l.rescan();
        std::fs::remove_dir_all(&dir).expect("rm");
        let scan = l.rescan();
        assert!(!scan.directory_ok && !scan.changed);
        assert_eq!(l.definitions().len(), 1);
        assert!(render(&m).contains("tokensmith_script_directory_up 0\n"));
    }
}
