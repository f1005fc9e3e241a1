//! Rhai language-server definition files (`tokensmith definitions DIR`):
//! Rhai's own `Engine::definitions` over the engine scripts run in, so an
//! editor knows every namespace, type, function and the `args` map.

use std::path::Path;

use rhai::{Dynamic, Map, Scope};

use super::host::{ScriptHost, ScriptOptions};

/// The definition files as (file name, content), in Rhai's order.
pub fn files() -> Vec<(String, String)> {
    let host = ScriptHost::new(None, ScriptOptions::default());
    let engine = host.engine();
    let mut scope = Scope::new();
    scope.push_constant("args", Dynamic::from_map(Map::new()));
    engine
        .definitions_with_scope(&scope)
        .with_headers(true)
        .include_standard_packages(true)
        .iter_files()
        .map(|(name, text)| (name, without_unusable(&without_result_wrappers(&text))))
        .collect()
}

/// Fallible functions' metadata says `Result<T, Box<EvalAltResult>>`; a script
/// sees `T` (and a throw), as the reference shows it.
fn without_result_wrappers(text: &str) -> String {
    const OPEN: &str = "Result<";
    const CLOSE: &str = ", Box<EvalAltResult>>";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(OPEN) {
        let after = &rest[i + OPEN.len()..];
        match after.find(CLOSE) {
            Some(j) if !after[..j].contains('\n') => {
                out.push_str(&rest[..i]);
                out.push_str(&after[..j]);
                rest = &after[j + CLOSE.len()..];
            }
            _ => {
                out.push_str(&rest[..i + OPEN.len()]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Drops what a script cannot call as declared: `eval` (disabled), and a
/// second declaration of one signature, which is Rhai's own function that
/// tokensmith's (declared first) replaces: `sleep`, which honours the run's
/// time limit where Rhai's blocks.
fn without_unusable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut docs = String::new();
    let mut seen = std::collections::BTreeSet::new();
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with("///") {
            docs.push_str(line);
            continue;
        }
        if trimmed.starts_with("fn ")
            && (trimmed.starts_with("fn eval(") || !seen.insert(trimmed.to_owned()))
        {
            docs.clear();
            continue;
        }
        out.push_str(&docs);
        docs.clear();
        out.push_str(line);
    }
    out.push_str(&docs);
    out
}

/// Writes [`files`] into `dir`, creating it; returns the names written.
pub fn write(dir: &Path) -> std::io::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let mut names = Vec::new();
    for (name, content) in files() {
        std::fs::write(dir.join(&name), content)?;
        names.push(name);
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::catalog::{FnKind, api_functions};

    #[test]
    fn eval_and_replaced_functions_are_not_declared() {
        let text = "/// ours\nfn sleep(s: int) -> ();\n\n/// eval\nfn eval(s: String) -> ?;\n/// Rhai's\nfn sleep(s: int) -> ();\nfn f() -> int;\n";
        assert_eq!(
            without_unusable(text),
            "/// ours\nfn sleep(s: int) -> ();\n\nfn f() -> int;\n"
        );
        let files: std::collections::BTreeMap<String, String> = files().into_iter().collect();
        assert!(!files["__builtin__.d.rhai"].contains("fn eval("));
        assert_eq!(
            files["__static__.d.rhai"]
                .matches("fn sleep(seconds: int)")
                .count(),
            1
        );
    }

    #[test]
    fn result_wrappers_become_the_value_type() {
        assert_eq!(
            without_result_wrappers("fn f() -> Result<Token, Box<EvalAltResult>>;\nfn g() -> int;"),
            "fn f() -> Token;\nfn g() -> int;"
        );
    }

    /// The definitions and the API reference are read from the same engine;
    /// this keeps them in step: every function the reference documents is
    /// declared in its namespace's file (globals in `__static__`).
    #[test]
    fn every_documented_function_has_a_definition() {
        let files: std::collections::BTreeMap<String, String> = files().into_iter().collect();
        for ns in crate::script::api::NAMESPACES {
            assert!(
                files.contains_key(&format!("{ns}.d.rhai")),
                "no {ns}.d.rhai"
            );
        }
        let host = ScriptHost::new(None, ScriptOptions::default());
        for f in api_functions(&host) {
            let file = if f.namespace.is_empty() {
                "__static__.d.rhai".to_owned()
            } else {
                format!("{}.d.rhai", f.namespace)
            };
            let text = files.get(&file).unwrap_or_else(|| panic!("no {file}"));
            let name = f.name.strip_prefix("get$").unwrap_or(&f.name);
            let decl = match f.kind() {
                FnKind::Property => format!("fn get {name}("),
                FnKind::Operator => format!("op {name}("),
                _ => format!("fn {name}("),
            };
            let declared = text.contains(&decl)
                // Global methods of a namespaced module may land in __static__.
                || files.values().any(|t| t.contains(&decl));
            assert!(
                declared,
                "{} ({decl}) is not in the definitions",
                f.signature()
            );
            assert!(!text.contains("EvalAltResult"), "{file} shows Rust types");
            assert!(!text.contains("ScriptToken"), "{file} shows Rust types");
        }
    }
}
