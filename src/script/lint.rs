//! `check`'s static pass: every call to a function that does not exist,
//! found by walking the compiled AST against the engine's own function list
//! and the script's own `fn`s. Rhai itself only notices at run time.

use std::collections::{BTreeMap, BTreeSet};

use rhai::{ASTNode, Engine, Expr, Stmt};

use super::api::NAMESPACES;
use super::catalog::{FnKind, KEYWORD_FUNCTIONS, all_functions};
use super::error::{ErrorKind, ScriptError};
use super::host::{CompiledScript, ScriptHost};

/// Function names and the argument counts they accept, per namespace
/// (`""` for global functions, which includes methods and properties).
struct Known {
    by_ns: BTreeMap<String, BTreeMap<String, BTreeSet<usize>>>,
    /// The script's own `fn`s and their parameter counts. Called as
    /// `x.f(a)`, a script function binds `x` to `this` and takes `a` alone,
    /// so both call forms pass exactly as many arguments as it has parameters.
    script: BTreeMap<String, BTreeSet<usize>>,
}

impl Known {
    fn new(engine: &Engine, script: &CompiledScript) -> Self {
        let mut by_ns: BTreeMap<String, BTreeMap<String, BTreeSet<usize>>> = BTreeMap::new();
        for f in all_functions(engine) {
            // Properties and methods of API types are callable globally.
            let ns = if f.kind() == FnKind::Function {
                f.namespace.clone()
            } else {
                String::new()
            };
            by_ns
                .entry(ns)
                .or_default()
                .entry(f.name.clone())
                .or_default()
                .insert(f.params.len());
        }
        let mut own: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
        for f in script.ast().iter_functions() {
            own.entry(f.name.to_owned())
                .or_default()
                .insert(f.params.len());
        }
        Self { by_ns, script: own }
    }

    fn arities(&self, ns: &str, name: &str) -> Option<&BTreeSet<usize>> {
        self.by_ns.get(ns).and_then(|m| m.get(name))
    }

    /// The closest known name in `ns`, for a "did you mean" hint.
    fn suggest(&self, ns: &str, name: &str) -> Option<String> {
        let names = self.by_ns.get(ns)?;
        let own = if ns.is_empty() {
            Some(&self.script)
        } else {
            None
        };
        names
            .keys()
            .chain(own.into_iter().flat_map(|m| m.keys()))
            .filter(|k| k.starts_with(|c: char| c.is_alphabetic()))
            .map(|k| (edit_distance(k, name), k))
            .filter(|(d, k)| *d <= (k.len().max(name.len()) / 3).max(1))
            .min()
            .map(|(_, k)| {
                if ns.is_empty() {
                    k.clone()
                } else {
                    format!("{ns}::{k}")
                }
            })
    }
}

/// Most syntax errors `check` reports for one file. Rhai stops at the
/// first, so each failing line is blanked and the text compiled again.
const MAX_SYNTAX_ERRORS: usize = 10;

/// Every problem `check` finds in a compiled script's source: its syntax
/// errors (as many as can be told apart, see [`MAX_SYNTAX_ERRORS`]), then,
/// once what remains compiles, its calls to functions that do not exist.
/// Messages and source lines always come from the original text.
pub fn problems(host: &ScriptHost, name: &str, source: &str) -> Vec<ScriptError> {
    let mut lines: Vec<&str> = source.lines().collect();
    let mut errors: Vec<ScriptError> = Vec::new();
    let mut blanked = BTreeSet::new();
    loop {
        let text = lines.join("\n");
        match host.compile_str(name, &text) {
            Ok(compiled) => {
                // Lint the blanked text, report against the original.
                let script = CompiledScript {
                    source: source.into(),
                    ..compiled
                };
                errors.extend(unknown_calls(&host.engine(), &script));
                return errors;
            }
            Err(e) => {
                let line = e.line.unwrap_or(0);
                // An error on a line already blanked is the previous one
                // cascading (an unclosed block reaching the end): stop.
                if line != 0 && blanked.contains(&line) {
                    return errors;
                }
                let original = source.lines().nth(line.wrapping_sub(1));
                errors.push(ScriptError {
                    source_line: original.map(super::redact::redact_tokens),
                    ..e
                });
                if line == 0 || line > lines.len() || errors.len() >= MAX_SYNTAX_ERRORS {
                    return errors;
                }
                blanked.insert(line);
                lines[line - 1] = "";
            }
        }
    }
}

/// Every call in `script` to a function that does not exist or with the
/// wrong number of arguments, and every constant `import` that `run` would
/// refuse. Calls into an imported module are checked against the `fn`s its
/// file defines.
pub fn unknown_calls(engine: &Engine, script: &CompiledScript) -> Vec<ScriptError> {
    let known = Known::new(engine, script);
    let mut variables = BTreeSet::new();
    let mut imports = BTreeSet::new();
    // Constant import paths, with where they are written, to check as `run` would.
    let mut import_paths: Vec<(String, String, rhai::Position)> = Vec::new();
    // Property names: `obj.action()` may call a closure stored in a map.
    let mut properties = BTreeSet::new();
    for f in script.ast().iter_functions() {
        variables.extend(f.params.iter().map(|p| p.to_string()));
    }
    script.ast().walk(&mut |path: &[ASTNode]| {
        match path.last() {
            Some(ASTNode::Stmt(Stmt::Var(x, ..))) => {
                variables.insert(x.0.name.to_string());
            }
            Some(ASTNode::Stmt(Stmt::Import(x, pos))) => {
                imports.insert(x.1.name.to_string());
                if let Expr::StringConstant(path, _) = &x.0 {
                    import_paths.push((x.1.name.to_string(), path.to_string(), *pos));
                }
            }
            Some(ASTNode::Expr(Expr::Map(x, ..))) => {
                properties.extend(x.0.iter().map(|(k, _)| k.name.to_string()));
            }
            // A map literal of constants is folded into one value at compile time.
            Some(ASTNode::Expr(Expr::DynamicConstant(d, ..))) => {
                if let Some(m) = d.read_lock::<rhai::Map>() {
                    properties.extend(m.keys().map(|k| k.to_string()));
                }
            }
            Some(ASTNode::Expr(Expr::Property(x, ..))) => {
                properties.insert(x.2.to_string());
            }
            _ => {}
        }
        true
    });

    let mut errors = Vec::new();
    let mut report = |pos: rhai::Position, message: String| {
        errors.push(ScriptError::at(
            ErrorKind::Syntax,
            script.name(),
            script.source(),
            pos,
            message,
        ));
    };
    // What each imported module exports, when its file can be read and compiled.
    let resolver = super::resolver::DirResolver::new(script.dir.as_deref());
    let mut modules: BTreeMap<String, BTreeMap<String, BTreeSet<usize>>> = BTreeMap::new();
    for (alias, path, pos) in &import_paths {
        match module_functions(engine, &resolver, path) {
            Ok(fns) => {
                modules.insert(alias.clone(), fns);
            }
            Err(m) => report(*pos, m),
        }
    }
    script.ast().walk(&mut |path: &[ASTNode]| {
        let (call, pos, is_method) = match path.last() {
            Some(ASTNode::Expr(Expr::FnCall(x, pos))) => (&**x, *pos, false),
            Some(ASTNode::Stmt(Stmt::FnCall(x, pos))) => (&**x, *pos, false),
            Some(ASTNode::Expr(Expr::MethodCall(x, pos))) => (&**x, *pos, true),
            _ => return true,
        };
        let name = call.name.as_str();
        if call.op_token.is_some() || !name.starts_with(|c: char| c.is_alphabetic() || c == '_') {
            return true; // operators
        }
        let argc = call.args.len() + usize::from(is_method);
        let ns = if call.namespace.is_empty() {
            String::new()
        } else {
            call.namespace.root().to_owned()
        };
        if ns.is_empty() {
            if KEYWORD_FUNCTIONS.contains(&name)
                || variables.contains(name)
                || (is_method && properties.contains(name))
            {
                // Language keywords; calls through a function-pointer
                // variable or a closure-holding property.
                return true;
            }
        } else if let Some(fns) = modules.get(&ns) {
            match fns.get(name) {
                Some(counts) if counts.contains(&call.args.len()) => {}
                Some(counts) => report(
                    pos,
                    format!(
                        "{ns}::{name} takes {} argument{}, not {}",
                        join_counts(counts, false),
                        if counts.len() == 1 && counts.contains(&1) { "" } else { "s" },
                        call.args.len()
                    ),
                ),
                None => {
                    let hint = fns
                        .keys()
                        .map(|k| (edit_distance(k, name), k))
                        .filter(|(d, k)| *d <= (k.len().max(name.len()) / 3).max(1))
                        .min()
                        .map(|(_, k)| format!(" (did you mean `{ns}::{k}`?)"))
                        .unwrap_or_default();
                    report(
                        pos,
                        format!("function not found: {ns}::{name} (the module `{ns}` has no such public fn){hint}"),
                    );
                }
            }
            return true;
        } else if imports.contains(&ns) || ns == "global" {
            return true;
        } else if !NAMESPACES.contains(&ns.as_str()) && !known.by_ns.contains_key(ns.as_str()) {
            // (The engine's own namespaces count too: a test host has `clock::` and more.)
            report(
                pos,
                format!(
                    "unknown module `{ns}` in `{ns}::{name}` (built in: {}; or `import` it)",
                    NAMESPACES.join(", ")
                ),
            );
            return true;
        }
        let shown = if ns.is_empty() {
            name.to_owned()
        } else {
            format!("{ns}::{name}")
        };
        let own = if ns.is_empty() {
            known.script.get(name)
        } else {
            None
        };
        let native = known.arities(&ns, name);
        if own.is_some_and(|a| a.contains(&call.args.len()))
            || native.is_some_and(|a| a.contains(&argc))
        {
            return true;
        }
        if let Some(params) = own.filter(|_| native.is_none()) {
            let takes = join_counts(params, false);
            let plural = if params.len() == 1 && params.contains(&1) { "" } else { "s" };
            let given = call.args.len();
            let message = if is_method {
                format!(
                    "fn {name} takes {takes} argument{plural}, not {given} (called as `x.{name}(…)`, `x` is its `this`, not an argument)"
                )
            } else {
                format!("fn {name} takes {takes} argument{plural}, not {given}")
            };
            report(pos, message);
            return true;
        }
        match native {
            Some(arities) => report(
                pos,
                format!(
                    "{shown} takes {} argument{}, not {}",
                    join_counts(arities, is_method),
                    if arities.len() == 1 && arities.contains(&(1 + usize::from(is_method))) {
                        ""
                    } else {
                        "s"
                    },
                    argc - usize::from(is_method)
                ),
            ),
            None => {
                let hint = known
                    .suggest(&ns, name)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                report(pos, format!("function not found: {shown}{hint}"));
            }
        }
        true
    });
    errors
}

/// The public functions of the module `import name` loads, by parameter
/// count; or why `run` would refuse the import (outside the directory, not
/// found, not compiling).
fn module_functions(
    engine: &Engine,
    resolver: &super::resolver::DirResolver,
    name: &str,
) -> Result<BTreeMap<String, BTreeSet<usize>>, String> {
    let file = resolver.locate(name)?;
    let source = std::fs::read_to_string(&file)
        .map_err(|e| format!("cannot read module {name:?} at {}: {e}", file.display()))?;
    let ast = engine.compile(&source).map_err(|e| {
        format!(
            "module {name:?} does not compile: {}:{}:{}: {}",
            file.display(),
            e.1.line().unwrap_or(0),
            e.1.position().unwrap_or(1),
            e.0
        )
    })?;
    let mut fns: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    for f in ast.iter_functions() {
        if f.access != rhai::FnAccess::Private {
            fns.entry(f.name.to_owned())
                .or_default()
                .insert(f.params.len());
        }
    }
    Ok(fns)
}

/// `0, 1 or 2`, counting a method's receiver out.
fn join_counts(arities: &BTreeSet<usize>, is_method: bool) -> String {
    let v: Vec<String> = arities
        .iter()
        .filter_map(|a| a.checked_sub(usize::from(is_method)))
        .map(|a| a.to_string())
        .collect();
    match v.as_slice() {
        [] => "no".to_owned(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::{ScriptHost, ScriptOptions};

    fn lint(src: &str) -> Vec<String> {
        let h = ScriptHost::new(None, ScriptOptions::default());
        let s = h.compile_str("t.rhai", src).unwrap();
        unknown_calls(&h.engine(), &s)
            .iter()
            .map(|e| e.headline())
            .collect()
    }

    #[test]
    fn known_calls_pass() {
        let src = r#"
            fn helper(x) { x * 2 }
            let f = |x| x + 1;
            let t = token::generate();
            print(t.id); debug(t); log::debug("x"); log::info(`${t}`);
            let d = duration("1h") + duration("2m");
            let s = now().to_rfc3339();
            let a = [1, 2].map(|x| helper(x));
            f(1); f.call(2); type_of(a); a.len(); "x".len(); s.to_upper();
            fn bump() { this += 1 } let n = 1; n.bump();
            let obj = #{ act: |x| x }; obj.act(1);
        "#;
        assert_eq!(lint(src), Vec::<String>::new());
    }

    #[test]
    fn unknown_functions_are_each_reported_with_a_hint() {
        let got = lint("token::craete(#{});\nnoww();\nfoo::bar();\nlet x = 1; x.frobnicate();");
        assert_eq!(
            got,
            [
                "t.rhai:1:8: function not found: token::craete (did you mean `token::create`?)",
                "t.rhai:2:1: function not found: noww (did you mean `now`?)",
                "t.rhai:3:6: unknown module `foo` in `foo::bar` (built in: token, join, publish, log, cluster, dev; or `import` it)",
                "t.rhai:4:14: function not found: frobnicate",
            ]
        );
    }

    #[test]
    fn wrong_argument_counts_are_reported() {
        let got = lint("token::create(1, 2, 3)");
        assert_eq!(
            got,
            ["t.rhai:1:8: token::create takes 0, 1 or 2 arguments, not 3"]
        );
    }

    fn all_problems(src: &str) -> Vec<String> {
        let h = ScriptHost::new(None, ScriptOptions::default());
        problems(&h, "t.rhai", src)
            .iter()
            .map(|e| e.to_string())
            .collect()
    }

    #[test]
    fn several_syntax_errors_and_unknown_calls_are_all_reported() {
        let got = all_problems("let a = (1 + ;\nlet ok = 1;\nlet b = [1, 2;\nnope(1);\n");
        assert_eq!(
            got,
            [
                "t.rhai:1:14: Unexpected ';'\n 1 | let a = (1 + ;\n   |              ^",
                "t.rhai:3:14: Expecting ',' to separate the items of this array literal\n 3 | let b = [1, 2;\n   |              ^",
                "t.rhai:4:1: function not found: nope\n 4 | nope(1);\n   | ^",
            ]
        );
    }

    #[test]
    fn an_unclosed_block_is_reported_once() {
        let got = all_problems("fn f() {\n  let x = 1;\n");
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].starts_with("t.rhai:2:13: Expecting '}'"), "{got:?}");
    }

    fn lint_file(dir: &std::path::Path, src: &str) -> Vec<String> {
        let p = dir.join("main.rhai");
        std::fs::write(&p, src).unwrap();
        let h = ScriptHost::new(None, ScriptOptions::default());
        let s = h.compile_file(&p).unwrap();
        unknown_calls(&h.engine(), &s)
            .iter()
            .map(|e| e.headline().replace(&format!("{}/", dir.display()), ""))
            .collect()
    }

    #[test]
    fn calls_into_imported_modules_are_checked_against_the_module() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("lib.rhai"),
            "fn f(x) { x }\nprivate fn g() { 1 }\n",
        )
        .unwrap();
        assert!(lint_file(d.path(), "import \"lib\" as lib; lib::f(1)").is_empty());
        assert_eq!(
            lint_file(
                d.path(),
                "import \"lib\" as lib;\nlib::f(1, 2);\nlib::g();\nlib::ff(1);"
            ),
            [
                "main.rhai:2:6: lib::f takes 1 argument, not 2",
                "main.rhai:3:6: function not found: lib::g (the module `lib` has no such public fn) (did you mean `lib::f`?)",
                "main.rhai:4:6: function not found: lib::ff (the module `lib` has no such public fn) (did you mean `lib::f`?)",
            ]
        );
    }

    #[test]
    fn imports_run_would_refuse_are_reported() {
        let d = tempfile::tempdir().unwrap();
        let got = lint_file(
            d.path(),
            "import \"../x\" as x;\nimport \"missing\" as m;\n",
        );
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(
            got[0].starts_with("main.rhai:1:1: import \"../x\" is not allowed"),
            "{got:?}"
        );
        assert!(
            got[1].starts_with("main.rhai:2:1: module \"missing\" not found"),
            "{got:?}"
        );
    }

    #[test]
    fn script_function_arity_is_exact_in_both_call_forms() {
        let got = lint(
            "fn two(a, b) { a + b }\nfn one(a) { this + a }\ntwo(1);\ntwo(1, 2, 3);\n5.one(1);\n5.one();\ntwo(1, 2);",
        );
        assert_eq!(
            got,
            [
                "t.rhai:3:1: fn two takes 2 arguments, not 1",
                "t.rhai:4:1: fn two takes 2 arguments, not 3",
                "t.rhai:6:3: fn one takes 1 argument, not 0 (called as `x.one(…)`, `x` is its `this`, not an argument)",
            ]
        );
    }
}
