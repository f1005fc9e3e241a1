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
        let global = by_ns.entry(String::new()).or_default();
        for f in script.ast().iter_functions() {
            // Called as `x.f()`, a script function's `this` is the extra argument.
            let arities = global.entry(f.name.to_owned()).or_default();
            arities.insert(f.params.len());
            arities.insert(f.params.len() + 1);
        }
        Self { by_ns }
    }

    fn arities(&self, ns: &str, name: &str) -> Option<&BTreeSet<usize>> {
        self.by_ns.get(ns).and_then(|m| m.get(name))
    }

    /// The closest known name in `ns`, for a "did you mean" hint.
    fn suggest(&self, ns: &str, name: &str) -> Option<String> {
        let names = self.by_ns.get(ns)?;
        names
            .keys()
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

/// Every call in `script` to a function that does not exist. Calls through
/// modules the script imports are not checked (their functions are only
/// known once the module runs).
pub fn unknown_calls(engine: &Engine, script: &CompiledScript) -> Vec<ScriptError> {
    let known = Known::new(engine, script);
    let mut variables = BTreeSet::new();
    let mut imports = BTreeSet::new();
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
            Some(ASTNode::Stmt(Stmt::Import(x, ..))) => {
                imports.insert(x.1.name.to_string());
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
        } else if imports.contains(&ns) || ns == "global" {
            return true;
        } else if !NAMESPACES.contains(&ns.as_str()) {
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
        match known.arities(&ns, name) {
            Some(arities) if arities.contains(&argc) => {}
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
                "t.rhai:3:6: unknown module `foo` in `foo::bar` (built in: token, join, publish, log, dev; or `import` it)",
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

    #[test]
    fn calls_into_imported_modules_are_not_guessed() {
        assert!(lint("import \"lib\" as lib; lib::anything(1)").is_empty());
    }
}
