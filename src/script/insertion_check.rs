//! `--max-map-size` at the statement that inserts. Rhai 1.27 checks a map's
//! size after `m.key = v` but, after `m[key] = v`, only the value assigned;
//! [`super::session`]'s read hook catches the map at its next read. This
//! closes the gap in between: a break-point on each `var[…] = …` of the
//! script (its functions and closures included), and at the statement right
//! after it the variable's size is checked, before anything else runs.
//! Modules a script imports are covered too: the resolver adds each one's
//! break-points as it loads it (see [`Learnt`]), and they are taken in at
//! the statement after the `import`. Scripts without an index assignment or
//! an `import` register nothing and pay nothing.

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

/// Break-points of the modules loaded so far in one session, which the
/// module resolver adds to as it compiles each module.
pub type Learnt = Arc<Mutex<Vec<BreakPoint>>>;

/// Where `ast`'s index assignments and imports are, as break-points.
pub(crate) fn break_points(ast: &AST) -> Vec<BreakPoint> {
    let source: Option<ImmutableString> = ast.source().map(Into::into);
    let mut found = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        if let Some(node @ ASTNode::Stmt(stmt)) = path.last()
            && (indexed_root(stmt).is_some() || matches!(stmt, Stmt::Import(..)))
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

/// [`break_points`] of an imported module: its top level runs under its own
/// source, its functions (called from the importing script) under none.
pub(crate) fn module_break_points(ast: &AST) -> Vec<BreakPoint> {
    let mut points = break_points(ast);
    let unsourced: Vec<BreakPoint> = points
        .iter()
        .filter_map(|bp| match bp {
            BreakPoint::AtPosition { pos, enabled, .. } => Some(BreakPoint::AtPosition {
                source: None,
                pos: *pos,
                enabled: *enabled,
            }),
            _ => None,
        })
        .collect();
    points.extend(unsourced);
    points
}

/// An assignment stopped at, waiting for the next statement: the variable,
/// the call level it lives at, and where to point the error.
type Pending = Vec<(ImmutableString, usize, Position)>;

/// Arms `engine` for `ast` (replacing what an earlier run armed it for).
pub fn arm(engine: &mut Engine, ast: &AST, sizes: SizeCheck, learnt: &Learnt) {
    let points = break_points(ast);
    if points.is_empty() {
        return;
    }
    let pending: Arc<Mutex<Pending>> = Arc::default();
    let (init_learnt, learnt) = (learnt.clone(), learnt.clone());
    #[allow(deprecated)] // "volatile", not deprecated: Rhai's own wording.
    engine.register_debugger(
        move |_, mut debugger| {
            debugger.break_points_mut().extend(points.iter().cloned());
            if let Ok(more) = init_learnt.lock() {
                debugger.break_points_mut().extend(more.iter().cloned());
                // How many of the learnt ones this debugger holds.
                debugger.set_state(more.len() as rhai::INT);
            }
            debugger
        },
        move |mut ctx, event, node, _, _| {
            // Take in the break-points of modules loaded since (an
            // `import` stops here once it has run, see below).
            if let (Ok(more), Some(debugger)) = (learnt.lock(), ctx.debugger_mut()) {
                let taken = usize::try_from(debugger.state().as_int().unwrap_or(0)).unwrap_or(0);
                if more.len() > taken {
                    debugger
                        .break_points_mut()
                        .extend(more[taken..].iter().cloned());
                    debugger.set_state(more.len() as rhai::INT);
                }
            }
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
            // At a break-point, or at the first statement (the run's start
            // event stands in for a break-point there).
            if matches!(event, DebuggerEvent::BreakPoint(_) | DebuggerEvent::Start)
                && let ASTNode::Stmt(stmt) = node
                && (matches!(stmt, Stmt::Import(..)) || indexed_root(stmt).is_some())
            {
                if let Some((var, pos)) = indexed_root(stmt) {
                    pending.push((var, level, pos));
                }
                // Stop again at the next statement, after this one ran.
                return Ok(DebuggerCommand::Next);
            }
            Ok(DebuggerCommand::Continue)
        },
    );
}
