//! `import "name"` resolves only to `name.rhai` inside the importing
//! script's own directory: no absolute paths, no `..`, and no symlink that
//! leads outside it. Rhai's stock file resolver would load any path.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use super::api::errors::host_error;
use rhai::{Engine, EvalAltResult, Module, ModuleResolver, Position, Scope, Shared};

/// The last source of each module file that compiled, shared by every run of
/// one host: the watch daemon's jobs keep importing a helper's last good
/// version while a broken edit of it is on disk, as they keep their own.
pub type ModuleMemory = std::sync::Arc<Mutex<BTreeMap<PathBuf, String>>>;

/// Loads modules from one directory. Each run gets its own resolver, so a
/// module is evaluated at most once per run and edits show on the next run.
pub struct DirResolver {
    /// The directory, canonicalized; `None` when the script has no directory
    /// (a script given as a string), which makes every import fail.
    dir: Option<PathBuf>,
    memory: Option<ModuleMemory>,
    /// Where each loaded module's index assignments are, for the session's
    /// `--max-map-size` check ([`super::insertion_check`]).
    break_points: Option<super::insertion_check::Learnt>,
    cache: Mutex<BTreeMap<PathBuf, Shared<Module>>>,
    /// Modules being loaded, to report an import cycle instead of recursing.
    loading: Mutex<Vec<PathBuf>>,
}

impl DirResolver {
    pub fn new(dir: Option<&Path>) -> Self {
        Self {
            dir: dir.and_then(|d| d.canonicalize().ok()),
            memory: None,
            break_points: None,
            cache: Mutex::default(),
            loading: Mutex::default(),
        }
    }

    /// The file `name` refers to, or why it is refused.
    /// Falls back to (and keeps up to date) `memory` when a module does not compile.
    pub fn with_memory(mut self, memory: ModuleMemory) -> Self {
        self.memory = Some(memory);
        self
    }

    /// Adds each module's break-points to `learnt` as it is loaded.
    pub fn with_break_points(mut self, learnt: super::insertion_check::Learnt) -> Self {
        self.break_points = Some(learnt);
        self
    }

    pub fn locate(&self, name: &str) -> Result<PathBuf, String> {
        let Some(dir) = &self.dir else {
            return Err("imports need a script file: this script has no directory".to_owned());
        };
        let rel = Path::new(name);
        let plain = !name.is_empty() && rel.components().all(|c| matches!(c, Component::Normal(_)));
        if !plain {
            return Err(format!(
                "import {name:?} is not allowed: name a module inside the script's directory, without `..` or a leading `/`"
            ));
        }
        let file = dir.join(format!("{name}.rhai"));
        let real = file
            .canonicalize()
            .map_err(|e| format!("module {name:?} not found at {}: {e}", file.display()))?;
        if !real.starts_with(dir) {
            return Err(format!(
                "import {name:?} is not allowed: {} leads outside the script's directory",
                file.display()
            ));
        }
        Ok(real)
    }

    fn load(
        &self,
        engine: &Engine,
        name: &str,
        pos: Position,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        // A host error, not Rhai's `ErrorModuleNotFound`, which would
        // replace the reason with the bare module name.
        let fail = |m: String| -> Box<EvalAltResult> { host_error("import", &m, pos) };
        let path = self.locate(name).map_err(fail)?;
        if let Some(m) = self.cache.lock().ok().and_then(|c| c.get(&path).cloned()) {
            return Ok(m);
        }
        {
            let mut loading = self
                .loading
                .lock()
                .map_err(|_| fail("resolver state poisoned".into()))?;
            if loading.contains(&path) {
                return Err(fail("import cycle".to_owned()));
            }
            loading.push(path.clone());
        }
        let result = (|| {
            let bytes = crate::input::read_capped(&path)
                .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
            let source = String::from_utf8(bytes)
                .map_err(|_| fail(format!("{} is not valid UTF-8", path.display())))?;
            // Errors inside the module name its file, so the diagnostic can
            // point at the module's own line instead of the `import`.
            let id = path.display().to_string();
            let in_module = |e: Box<EvalAltResult>| -> Box<EvalAltResult> {
                EvalAltResult::ErrorInModule(id.clone(), e, pos).into()
            };
            super::redact::learn_tokens(&source);
            let mut ast = match engine.compile(&source) {
                Ok(ast) => {
                    remember(self.memory.as_ref(), &path, &source);
                    ast
                }
                Err(e) => {
                    let good = self
                        .memory
                        .as_ref()
                        .and_then(|m| m.lock().ok().and_then(|m| m.get(&path).cloned()));
                    match good.and_then(|g| engine.compile(&g).ok()) {
                        Some(ast) => {
                            tracing::warn!(
                                "{}:{}:{}: {}: the module does not compile; importing its last good version",
                                path.display(),
                                e.1.line().unwrap_or(0),
                                e.1.position().unwrap_or(1),
                                e.0
                            );
                            ast
                        }
                        None => {
                            return Err(in_module(EvalAltResult::ErrorParsing(*e.0, e.1).into()));
                        }
                    }
                }
            };
            ast.set_source(id.clone());
            if let Some(learnt) = &self.break_points
                && let Ok(mut learnt) = learnt.lock()
            {
                learnt.extend(super::insertion_check::module_break_points(&ast));
            }
            let module = Module::eval_ast_as_new(Scope::new(), &ast, engine).map_err(in_module)?;
            Ok::<_, Box<EvalAltResult>>(Shared::new(module))
        })();
        if let Ok(mut loading) = self.loading.lock() {
            loading.retain(|p| p != &path);
        }
        let module = result?;
        if let Ok(mut c) = self.cache.lock() {
            c.insert(path, module.clone());
        }
        Ok(module)
    }
}

/// Records `source` as the last good version of the module at `path`.
pub fn remember(memory: Option<&ModuleMemory>, path: &Path, source: &str) {
    if let Some(m) = memory
        && let Ok(mut m) = m.lock()
    {
        m.insert(path.to_path_buf(), source.to_owned());
    }
}

impl ModuleResolver for DirResolver {
    fn resolve(
        &self,
        engine: &Engine,
        _source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        self.load(engine, path, pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_paths_that_leave_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("lib.rhai"), "fn f() { 1 }").unwrap();
        let r = DirResolver::new(Some(dir.path()));
        assert!(r.locate("lib").is_ok());
        for bad in ["../lib", "/etc/passwd", "a/../lib", "", "./lib"] {
            let e = r.locate(bad).unwrap_err();
            assert!(e.contains("not allowed"), "{bad}: {e}");
        }
        assert!(r.locate("missing").unwrap_err().contains("not found"));
    }

    #[test]
    fn refuses_a_symlink_out_of_the_directory() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.rhai"), "1").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("secret.rhai"),
            dir.path().join("link.rhai"),
        )
        .unwrap();
        let r = DirResolver::new(Some(dir.path()));
        assert!(r.locate("link").unwrap_err().contains("leads outside"));
    }

    #[test]
    fn no_directory_means_no_imports() {
        let r = DirResolver::new(None);
        assert!(r.locate("x").unwrap_err().contains("no directory"));
    }
}
