//! Which `args.KEY`s a script reads, told from its compiled AST, so that
//! `run --arg ttll=2h` can say the script never reads `ttll`.

use std::collections::BTreeSet;

use rhai::{ASTNode, Expr, Stmt};

/// The keys of `args` a script reads, when every use of `args` names its key
/// (`args.KEY`, `args["KEY"]`). `None` when that cannot be told: `args`
/// passed on whole or indexed by a computed key, or a module imported (module
/// code sees `args` too).
pub fn keys_read(ast: &rhai::AST) -> Option<BTreeSet<String>> {
    let mut keys = BTreeSet::new();
    let mut known = true;
    ast.walk(&mut |path: &[ASTNode]| {
        match path.last() {
            Some(ASTNode::Stmt(Stmt::Import(..))) => known = false,
            Some(ASTNode::Expr(Expr::Variable(v, ..))) if v.1 == "args" => {
                match path.len().checked_sub(2).map(|i| &path[i]) {
                    Some(ASTNode::Expr(Expr::Dot(x, ..) | Expr::Index(x, ..)))
                        if matches!(&x.lhs, Expr::Variable(l, ..) if l.1 == "args") =>
                    {
                        match first_key(&x.rhs) {
                            Some(k) => {
                                keys.insert(k);
                            }
                            None => known = false,
                        }
                    }
                    _ => known = false,
                }
            }
            _ => {}
        }
        known
    });
    known.then_some(keys)
}

/// `KEY` of the right-hand side of `args.KEY…` or `args["KEY"]…`.
fn first_key(rhs: &Expr) -> Option<String> {
    match rhs {
        Expr::Property(p, ..) => Some(p.2.to_string()),
        Expr::StringConstant(s, ..) => Some(s.to_string()),
        Expr::Dot(x, ..) | Expr::Index(x, ..) => first_key(&x.lhs),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(src: &str) -> Option<Vec<String>> {
        let ast = rhai::Engine::new().compile(src).expect("compiles");
        keys_read(&ast).map(|k| k.into_iter().collect())
    }

    #[test]
    fn named_keys_are_found_anywhere() {
        assert_eq!(
            keys(r#"let t = args.ttl ?? "1h"; fn f() { args["out"] } if args.x.len() > 0 {}"#),
            Some(vec!["out".into(), "ttl".into(), "x".into()])
        );
        assert_eq!(keys("1 + 1"), Some(vec![]));
    }

    #[test]
    fn other_uses_of_args_are_unknown() {
        assert_eq!(keys("let a = args; a.ttl"), None);
        assert_eq!(keys("let k = \"ttl\"; args[k]"), None);
        assert_eq!(keys("args.keys()"), None);
        assert_eq!(keys("import \"helpers\" as h; args.ttl"), None);
    }
}
