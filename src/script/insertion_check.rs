//! `--max-map-size` at the statement that inserts. Rhai 1.27 checks a map's
//! size after `m.key = v` but, after `m[key] = v`, only the value assigned;
//! [`super::session`]'s read hook catches the map at its next read. This
//! closes the gap in between: a break-point on each `var[…] = …` of the
//! script (its functions and closures included), and at the statement right
//! after it the variable's size is checked, before anything else runs.
//! Scripts without such a statement register nothing and pay nothing.

use std::sync::{Arc, Mutex};

use rhai::debugger::{BreakPoint, DebuggerCommand, DebuggerEvent};
use rhai::{AST, ASTNode, Engine, Expr, ImmutableString, Position, Stmt};

use super::limits::SizeCheck;

/// The variable an index assignment writes into (`m` of `m[a][b] = v`), and
/// where it is written.
fn indexed_root(stmt: &Stmt) -> Option<(ImmutableString, Position)> {
    let Stmt::Assignment(x) = stmt else {
        return None;
    };
    let mut lhs = &x.1.lhs;
    let mut indexed = false;
    loop {
        match lhs {
            Expr::Index(b, ..) => {
                indexed = true;
                lhs = &b.lhs;
            }
            Expr::Variable(v, _, pos) if indexed => return Some((v.1.clone(), *pos)),
            _ => return None,
        }
    }
}

/// Where `ast`'s index assignments are, as break-points.
fn break_points(ast: &AST) -> Vec<BreakPoint> {
    let source: Option<ImmutableString> = ast.source().map(Into::into);
    let mut found = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        if let Some(node @ ASTNode::Stmt(stmt)) = path.last()
            && indexed_root(stmt).is_some()
        {
            found.push(BreakPoint::AtPosition {
                source: source.clone(),
                pos: node.position(),
                enabled: true,
            });
        }
        true
    });
    found
}

/// An assignment stopped at, waiting for the next statement: the variable,
/// the call level it lives at, and where to point the error.
type Pending = Vec<(ImmutableString, usize, Position)>;

/// Arms `engine` for `ast` (replacing what an earlier run armed it for).
pub fn arm(engine: &mut Engine, ast: &AST, sizes: SizeCheck) {
    let points = break_points(ast);
    if points.is_empty() {
        return;
    }
    let pending: Arc<Mutex<Pending>> = Arc::default();
    #[allow(deprecated)] // "volatile", not deprecated: Rhai's own wording.
    engine.register_debugger(
        move |_, mut debugger| {
            debugger.break_points_mut().extend(points.iter().cloned());
            debugger
        },
        move |ctx, event, node, _, _| {
            let level = ctx.call_level();
            let mut pending = pending.lock().unwrap_or_else(|p| p.into_inner());
            // Deeper levels are functions that have returned: their
            // variables are gone (a returned map is checked by Rhai).
            pending.retain(|(_, at, _)| *at <= level);
            if let Some(i) = pending.iter().rposition(|(_, at, _)| *at == level) {
                let (var, _, pos) = pending.remove(i);
                if let Some(value) = ctx.scope().get(&var) {
                    sizes.check(&var, value).map_err(|mut e| {
                        e.set_position(pos);
                        e
                    })?;
                }
            }
            if let DebuggerEvent::BreakPoint(_) = event
                && let ASTNode::Stmt(stmt) = node
                && let Some((var, pos)) = indexed_root(stmt)
            {
                pending.push((var, level, pos));
                // Stop again at the next statement, after this one ran.
                return Ok(DebuggerCommand::Next);
            }
            Ok(DebuggerCommand::Continue)
        },
    );
}
