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
    /// Each overload's parameters (`name: Type`), per namespace and name,
    /// for the argument-type check.
    params: BTreeMap<(String, String), Vec<Vec<String>>>,
}

impl Known {
    fn new(engine: &Engine, script: &CompiledScript) -> Self {
        let mut by_ns: BTreeMap<String, BTreeMap<String, BTreeSet<usize>>> = BTreeMap::new();
        let mut params: BTreeMap<(String, String), Vec<Vec<String>>> = BTreeMap::new();
        for f in all_functions(engine) {
            // Properties and methods of API types are callable globally.
            let ns = if f.kind() == FnKind::Function {
                f.namespace.clone()
            } else {
                String::new()
            };
            by_ns
                .entry(ns.clone())
                .or_default()
                .entry(f.name.clone())
                .or_default()
                .insert(f.params.len());
            params
                .entry((ns, f.name.clone()))
                .or_default()
                .push(f.params);
        }
        let mut own: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
        for f in script.ast().iter_functions() {
            own.entry(f.name.to_owned())
                .or_default()
                .insert(f.params.len());
        }
        Self {
            by_ns,
            script: own,
            params,
        }
    }

    /// The parameter lists of `ns::name`'s overloads that take `argc` arguments.
    fn overloads(&self, ns: &str, name: &str, argc: usize) -> Vec<&[String]> {
        self.params
            .get(&(ns.to_owned(), name.to_owned()))
            .map(|all| {
                all.iter()
                    .filter(|p| p.len() == argc)
                    .map(Vec::as_slice)
                    .collect()
            })
            .unwrap_or_default()
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

/// How a problem that does not fail the check starts its message.
pub const WARNING: &str = "warning: ";

/// Most syntax errors `check` reports for one file. Rhai stops at the
/// first, so each failing line is blanked and the text compiled again.
const MAX_SYNTAX_ERRORS: usize = 10;

/// Every problem `check` finds in a compiled script's source: its syntax
/// errors (as many as can be told apart, see [`MAX_SYNTAX_ERRORS`]), then,
/// once what remains compiles, its calls to functions that do not exist.
/// Messages and source lines always come from the original text.
pub fn problems(host: &ScriptHost, name: &str, source: &str) -> Vec<ScriptError> {
    let mut lines: Vec<String> = source.lines().map(str::to_owned).collect();
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
                if errors.len() >= MAX_SYNTAX_ERRORS {
                    errors.push(ScriptError {
                        message: format!(
                            "{WARNING}more syntax errors may follow: `check` reports the first {MAX_SYNTAX_ERRORS}"
                        ),
                        ..e
                    });
                    return errors;
                }
                // A bracket left open on an earlier line: Rhai reports it
                // here, at the first line that cannot be inside it. Report it
                // where it opens, close it, and go on from there.
                if line != 0
                    && let Some((culprit, open)) =
                        super::brackets::unclosed_before(&text, line, e.col.unwrap_or(1))
                    && let Some(repaired) = close_brackets(host, name, &lines, line, &open, &e)
                {
                    let at = rhai::Position::new(
                        u16::try_from(culprit.line).unwrap_or(u16::MAX),
                        u16::try_from(culprit.col).unwrap_or(u16::MAX),
                    );
                    errors.push(ScriptError::at(
                        ErrorKind::Syntax,
                        name,
                        source,
                        at,
                        format!(
                            "`{}` is not closed before line {line} ({} at {line}:{})",
                            culprit.text,
                            e.message,
                            e.col.unwrap_or(1)
                        ),
                    ));
                    blanked.insert(culprit.line);
                    lines = repaired;
                    continue;
                }
                let original = source.lines().nth(line.wrapping_sub(1));
                errors.push(ScriptError {
                    source_line: original.map(super::redact::redact_tokens),
                    ..e
                });
                if line == 0 || line > lines.len() {
                    return errors;
                }
                blanked.insert(line);
                lines[line - 1].clear();
            }
        }
    }
}

/// `lines` with the `open` brackets closed at the end of the last non-blank
/// line before `line` (and a `;` after them when the statement needs one),
/// if that moves the first syntax error past where `was` is.
fn close_brackets(
    host: &ScriptHost,
    name: &str,
    lines: &[String],
    line: usize,
    open: &[super::brackets::Opener],
    was: &ScriptError,
) -> Option<Vec<String>> {
    let first = open.first()?.line;
    let last = (first..line)
        .rev()
        .find(|&n| !lines[n - 1].trim().is_empty())?;
    let closers: String = open.iter().rev().map(|o| o.closer()).collect();
    for end in ["", ";"] {
        let mut repaired = lines.to_vec();
        repaired[last - 1].push_str(&format!("{closers}{end}"));
        match host.compile_str(name, &repaired.join("\n")) {
            Ok(_) => return Some(repaired),
            Err(e) if (e.line, e.col) != (was.line, was.col) => return Some(repaired),
            Err(_) => {}
        }
    }
    None
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
            Some(ASTNode::Stmt(Stmt::Import(x, _))) => {
                imports.insert(x.1.name.to_string());
                // At the path, where `run` reports a refused import.
                if let Expr::StringConstant(path, at) = &x.0 {
                    import_paths.push((x.1.name.to_string(), path.to_string(), *at));
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
        if own.is_some_and(|a| a.contains(&call.args.len())) {
            return true;
        }
        if native.is_some_and(|a| a.contains(&argc)) {
            // The receiver of a method call is not among `call.args`, and
            // not what the script counts as an argument: drop its parameter,
            // so that `x.f(5)` says "argument 1" of 5.
            let types: Vec<Option<super::arg_types::Literal>> =
                call.args.iter().map(super::arg_types::Literal::of).collect();
            let overloads: Vec<&[String]> = known
                .overloads(&ns, name, argc)
                .into_iter()
                .map(|p| if is_method { p.get(1..).unwrap_or_default() } else { p })
                .collect();
            let mut found = Vec::new();
            if let Some(m) = super::arg_types::mismatch(&shown, &types, &overloads) {
                found.push((pos, m));
            } else if !is_method {
                for (i, arg) in call.args.iter().enumerate() {
                    for (at, m) in super::arg_types::option_problems(&shown, i, argc, arg) {
                        found.push((if at.is_none() { pos } else { at }, m));
                    }
                }
            }
            // Inside a `try` the script may be making the call fail on
            // purpose (a test of the error): say so, without failing it.
            let in_try = path
                .iter()
                .any(|n| matches!(n, ASTNode::Stmt(Stmt::TryCatch(..))));
            for (at, m) in found {
                if in_try {
                    report(at, format!("{WARNING}{m} (inside `try`: it throws at run time)"));
                } else {
                    report(at, m);
                }
            }
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
    module_functions_in(engine, resolver, name, &mut Vec::new())
}

/// [`module_functions`], with the modules whose imports are being followed
/// (`run` loads a module's own imports when it loads the module, so a refused
/// import two levels down fails the run as one at the top does).
fn module_functions_in(
    engine: &Engine,
    resolver: &super::resolver::DirResolver,
    name: &str,
    loading: &mut Vec<std::path::PathBuf>,
) -> Result<BTreeMap<String, BTreeSet<usize>>, String> {
    let file = resolver.locate(name)?;
    if loading.contains(&file) {
        return Err(format!(
            "import cycle: module {name:?} imports itself through its imports"
        ));
    }
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
    loading.push(file);
    for inner in constant_imports(&ast) {
        module_functions_in(engine, resolver, &inner, loading)
            .map_err(|m| format!("module {name:?} imports {inner:?}: {m}"))?;
    }
    loading.pop();
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

/// The constant paths a script's `import` statements name.
fn constant_imports(ast: &rhai::AST) -> Vec<String> {
    let mut found = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        if let Some(ASTNode::Stmt(Stmt::Import(x, _))) = path.last()
            && let Expr::StringConstant(p, _) = &x.0
        {
            found.push(p.to_string());
        }
        true
    });
    found
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
    fn literal_arguments_of_the_wrong_type_are_reported() {
        let got = lint(concat!(
            "token::create(5);\n",
            "let t = token::create(#{ ttl: 5, descripton: \"x\" });\n",
            "token::list(#{ published: \"yes\" });\n",
            "duration(90);\n",
            "join::command(t, #{ control_plane: 1 });\n",
            "token::create(#{ ttl: 5, description: t.id });\n",
        ));
        assert_eq!(
            got,
            [
                "t.rhai:1:8: type mismatch: token::create takes map as argument 1, not int",
                // A map of constants is folded into one value: its problems
                // point at the map.
                "t.rhai:2:23: token::create: unknown option \"descripton\" (accepted: ttl, expires, usages, groups, description)",
                "t.rhai:2:23: type mismatch: token::create takes string or Duration as option \"ttl\", not int",
                "t.rhai:3:13: type mismatch: token::list takes bool as option \"published\", not string",
                "t.rhai:4:1: type mismatch: duration takes string as argument 1, not int",
                "t.rhai:5:18: type mismatch: join::command takes bool as option \"control_plane\", not int",
                "t.rhai:6:23: type mismatch: token::create takes string or Duration as option \"ttl\", not int",
            ]
        );
    }

    #[test]
    fn arguments_of_unknown_type_and_valid_literals_pass() {
        let src = r#"
            let opts = #{ ttl: "1h" };
            let t = token::create(opts);
            token::create(#{ ttl: args.ttl ?? "2h", usages: ["signing"], description: `x${1}` });
            token::create(t, #{ ttl: duration("30m"), expires: () });
            token::list(#{ expiring_within: "1h", published: true });
            token::delete([t]); token::delete(t.id); token::get("abcdef");
            log::info(5); print(1.5); [1, 2].contains(1); "abc".sub_string(1, 1);
            token::rotate(#{ name: "nightly", keep: 2, verify: "30s", publish: [] });
        "#;
        assert_eq!(lint(src), Vec::<String>::new());
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
        // At the path, as `run` reports them.
        assert!(
            got[0].starts_with("main.rhai:1:8: import \"../x\" is not allowed"),
            "{got:?}"
        );
        assert!(
            got[1].starts_with("main.rhai:2:8: module \"missing\" not found"),
            "{got:?}"
        );
    }

    #[test]
    fn a_refused_import_inside_an_imported_module_is_reported_at_the_top_import() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("mid.rhai"),
            "import \"../x\" as x;\nfn f() { 1 }\n",
        )
        .unwrap();
        let got = lint_file(d.path(), "import \"mid\" as m;\nm::f();\n");
        assert_eq!(
            got,
            [
                "main.rhai:1:8: module \"mid\" imports \"../x\": import \"../x\" is not allowed: name a module inside the script's directory, without `..` or a leading `/`"
            ],
        );
        // A module that imports a broken one fails the check as `run` fails.
        std::fs::write(
            d.path().join("mid.rhai"),
            "import \"bad\" as b;\nfn f() { 1 }\n",
        )
        .unwrap();
        std::fs::write(d.path().join("bad.rhai"), "fn (").unwrap();
        let got = lint_file(d.path(), "import \"mid\" as m;\nm::f();\n");
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0].contains("module \"mid\" imports \"bad\": module \"bad\" does not compile"),
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
