//! A [`Session`]: one engine, one variable scope and the functions defined so
//! far. `ScriptHost::run` uses one per run; the REPL keeps one for its life.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rhai::{AST, Dynamic, Engine, Map, Scope};

use super::context::RunContext;
use super::error::ScriptError;
use super::host::CompiledScript;
use super::limits::SizeCheck;

/// Longest string variable read for tokens it holds: a join command or a
/// config file, not a megabyte blob read in a loop.
const LEARN_FROM_STRINGS_UP_TO: usize = 64 << 10;

pub struct Session {
    engine: Engine,
    ctx: Arc<RunContext>,
    scope: Scope<'static>,
    /// Functions defined by earlier REPL inputs.
    functions: AST,
    name: String,
    timeout: Option<Duration>,
    sizes: SizeCheck,
    /// Break-points of the modules loaded in this session.
    learnt: super::insertion_check::Learnt,
}

impl Session {
    pub(crate) fn new(
        mut engine: Engine,
        ctx: Arc<RunContext>,
        name: &str,
        args: &BTreeMap<String, String>,
        timeout: Option<Duration>,
        sizes: SizeCheck,
        learnt: super::insertion_check::Learnt,
    ) -> Self {
        let map: Map = args
            .iter()
            .map(|(k, v)| (k.as_str().into(), Dynamic::from(v.clone())))
            .collect();
        let args_value = Dynamic::from_map(map);
        let mut scope = Scope::new();
        scope.push_constant("args", args_value.clone());
        // Every read of a variable passes here first (Rhai's variable
        // resolver), which is the one place a script's own values can be
        // looked at between its statements.
        let last_scanned: std::sync::Mutex<Option<rhai::ImmutableString>> = Default::default();
        #[allow(deprecated)] // "volatile", not deprecated: Rhai's own wording.
        engine.on_var(move |var, _, mut ctx| {
            let scope = ctx.scope_mut();
            if let Some(value) = scope.get_mut(var) {
                super::typenames::normalize_caught(value);
                sizes.check(var, value)?;
                // A token the script put together from parts is a secret
                // seen from its first read on: hidden in base64 too, then.
                if let Some(s) = value.read_lock::<rhai::ImmutableString>()
                    && s.len() >= 23
                    && s.len() <= LEARN_FROM_STRINGS_UP_TO
                {
                    // A loop reads the same string again and again: scan it once.
                    let mut last = last_scanned.lock().unwrap_or_else(|p| p.into_inner());
                    if !last.as_ref().is_some_and(|l| l.ptr_eq(&s)) {
                        super::redact::learn_tokens(&s);
                        *last = Some(s.clone());
                    }
                }
            } else if var == "args" && !scope.contains("args") {
                // Function bodies do not see the caller's scope; this makes
                // `args` readable in them too, unless the function has its own.
                return Ok(Some(args_value.clone()));
            }
            Ok(None)
        });
        Self {
            engine,
            ctx,
            scope,
            functions: AST::empty(),
            name: name.to_owned(),
            timeout,
            sizes,
            learnt,
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The engine, to route `print`/`debug` elsewhere (`tokensmith test`
    /// keeps each test's output for its report).
    pub fn engine_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }

    pub fn scope(&self) -> &Scope<'static> {
        &self.scope
    }

    /// Functions the session's inputs have defined so far.
    pub fn functions(&self) -> &AST {
        &self.functions
    }

    /// Runs a compiled script in this session.
    pub fn run(
        &mut self,
        script: &CompiledScript,
        deadline: Option<Instant>,
    ) -> Result<Dynamic, ScriptError> {
        self.run_raw(script, deadline)
            .map_err(|e| ScriptError::from_eval(&script.name, &script.source, &e))
    }

    /// [`Session::run`] with Rhai's own error, for a caller that looks inside
    /// it (`tokensmith test` reads a failed assertion's values from it).
    pub fn run_raw(
        &mut self,
        script: &CompiledScript,
        deadline: Option<Instant>,
    ) -> Result<Dynamic, Box<rhai::EvalAltResult>> {
        super::insertion_check::arm(&mut self.engine, &script.ast, self.sizes, &self.learnt);
        self.ctx.start_clock(deadline, self.timeout);
        let result = self
            .engine
            .eval_ast_with_scope::<Dynamic>(&mut self.scope, &script.ast)
            .and_then(|v| self.check_sizes().map(|()| v));
        self.ctx.start_clock(None, None);
        result
    }

    /// The size limits over what the run left in its scope: a collection
    /// grown by its last statement was never read again (see [`SizeCheck`]).
    fn check_sizes(&self) -> Result<(), Box<rhai::EvalAltResult>> {
        for (name, _, value) in self.scope.iter_raw() {
            self.sizes.check(name, value)?;
        }
        Ok(())
    }

    /// Calls `handler(arg)` of a compiled script (an `on:` job's event)
    /// without running its top-level statements: those are what a
    /// `tokensmith run` of the same file does.
    pub fn call_handler(
        &mut self,
        script: &CompiledScript,
        handler: &str,
        arg: Dynamic,
        deadline: Option<Instant>,
    ) -> Result<Dynamic, ScriptError> {
        super::insertion_check::arm(&mut self.engine, &script.ast, self.sizes, &self.learnt);
        self.ctx.start_clock(deadline, self.timeout);
        let opts = rhai::CallFnOptions::new().eval_ast(false);
        let result = self.engine.call_fn_with_options::<Dynamic>(
            opts,
            &mut self.scope,
            &script.ast,
            handler,
            (arg,),
        );
        self.ctx.start_clock(None, None);
        result.map_err(|e| ScriptError::from_eval(&script.name, &script.source, &e))
    }

    /// Compiles and runs one REPL input. Its functions stay defined for the
    /// next inputs; its variables stay in the scope, even when it fails.
    pub fn eval_input(&mut self, source: &str) -> Result<Dynamic, ScriptError> {
        let mut ast = self
            .engine
            .compile_with_scope(&self.scope, source)
            .map_err(|e| ScriptError::from_parse(&self.name, source, &e))?;
        ast.set_source(self.name.clone());
        let combined = self.functions.merge(&ast);
        super::insertion_check::arm(&mut self.engine, &combined, self.sizes, &self.learnt);
        self.ctx.start_clock(None, self.timeout);
        let result = self
            .engine
            .eval_ast_with_scope::<Dynamic>(&mut self.scope, &combined);
        self.ctx.start_clock(None, None);
        self.functions = combined;
        self.functions.clear_statements();
        result.map_err(|e| ScriptError::from_eval(&self.name, source, &e))
    }
}
