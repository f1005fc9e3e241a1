//! [`ScriptHost`]: the one engine factory. `run`, `check`, `repl`, the watch
//! daemon and the tests all build their engines here, so every caller gets
//! the same API, limits and sandbox.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rhai::{AST, Dynamic, Engine};

use super::api::Api;
use super::cluster::Cluster;
use super::context::RunContext;
use super::error::ScriptError;
use super::limits::Limits;
use super::session::Session;

/// Stack size of the thread a script runs on.
pub const SCRIPT_STACK: usize = 16 << 20;

/// How scripts run: limits, what they may read, where `print` goes.
#[derive(Debug, Clone, Default)]
pub struct ScriptOptions {
    pub limits: Limits,
    /// Environment variables `env(name)` may read (`--allow-env NAME`).
    pub allow_env: BTreeSet<String>,
    /// `dry_run()` when there is no cluster; with one, the cluster's own flag.
    pub dry_run: bool,
    /// Also write `print`/`debug` output to stdout/stderr, not only to the
    /// log: what a person at a terminal expects from `run` and `repl`.
    pub echo_print: bool,
    /// Why there is no cluster (a failed connect), for the message token
    /// functions give; scripts that never touch the cluster still run.
    pub cluster_error: Option<String>,
    /// Runs under `watch`: stdout is the daemon's log, so the `stdout` sink
    /// (a join command, a secret) is refused there.
    pub daemon: bool,
}

/// Cancellation, deadline and arguments of one run.
#[derive(Debug, Clone, Default)]
pub struct RunControl {
    /// Set to stop the run at its next operation.
    pub cancel: Arc<AtomicBool>,
    /// The run fails with a timeout at this instant. The host's own
    /// `limits.timeout` applies as well; the earlier one wins.
    pub deadline: Option<Instant>,
    /// `--arg key=value` pairs, seen by the script as the `args` map.
    pub args: BTreeMap<String, String>,
}

/// A compiled script: cheap to clone and to send to another thread.
#[derive(Clone)]
pub struct CompiledScript {
    pub(crate) name: String,
    pub(crate) source: Arc<str>,
    pub(crate) dir: Option<PathBuf>,
    pub(crate) ast: Arc<AST>,
}

impl CompiledScript {
    /// The name diagnostics use: the path as given, or the name passed to `compile_str`.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn ast(&self) -> &AST {
        &self.ast
    }
}

impl std::fmt::Debug for CompiledScript {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledScript")
            .field("name", &self.name)
            .finish()
    }
}

/// Why the progress callback stopped a run; carried in Rhai's
/// `ErrorTerminated` so that diagnostics can tell a timeout from a cancel.
#[derive(Debug, Clone)]
pub enum Stop {
    Timeout(jiff::SignedDuration),
    Cancelled,
    /// The run used up its API-call budget (`--max-api-calls`).
    ApiCalls(u64),
}

/// The engine factory and the context every script shares.
#[derive(Clone)]
pub struct ScriptHost {
    inner: Arc<Inner>,
}

struct Inner {
    cluster: Option<Cluster>,
    opts: ScriptOptions,
    api: Api,
    runtime: Option<tokio::runtime::Handle>,
    modules: super::resolver::ModuleMemory,
    test: Option<Arc<crate::testing::World>>,
}

impl ScriptHost {
    /// A host for `cluster` (or none: token and join functions then fail with
    /// a clear, catchable error). Call it inside the tokio runtime that owns
    /// the cluster client, so host functions can reach it.
    pub fn new(cluster: Option<Cluster>, opts: ScriptOptions) -> Self {
        Self {
            inner: Arc::new(Inner {
                cluster,
                opts,
                api: Api::new(),
                runtime: tokio::runtime::Handle::try_current().ok(),
                modules: Default::default(),
                test: None,
            }),
        }
    }

    /// A host with the test-only API as well (assertions, `clock::`,
    /// `faults::`, `webhook::`, `schedule::`, `run_job`), for `tokensmith
    /// test`; `world` is the test's own. Without a world the test functions
    /// are there to compile and document, and fail when called.
    pub fn for_tests(
        cluster: Option<Cluster>,
        opts: ScriptOptions,
        world: Option<Arc<crate::testing::World>>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                cluster,
                opts,
                api: Api::with_test_modules(),
                runtime: tokio::runtime::Handle::try_current().ok(),
                modules: Default::default(),
                test: world,
            }),
        }
    }

    /// The same host against another cluster (a `watch` job's context): the
    /// same API, options and remembered modules, so a script compiled by one
    /// runs unchanged on the other.
    pub fn with_cluster(&self, cluster: Option<Cluster>, cluster_error: Option<String>) -> Self {
        let inner = &self.inner;
        Self {
            inner: Arc::new(Inner {
                cluster,
                opts: ScriptOptions {
                    cluster_error,
                    ..inner.opts.clone()
                },
                api: inner.api.clone(),
                runtime: tokio::runtime::Handle::try_current()
                    .ok()
                    .or_else(|| inner.runtime.clone()),
                modules: inner.modules.clone(),
                test: inner.test.clone(),
            }),
        }
    }

    pub fn options(&self) -> &ScriptOptions {
        &self.inner.opts
    }

    /// An engine with the API, limits and sandbox, but no run attached:
    /// what compiling, checking and documentation need.
    pub fn engine(&self) -> Engine {
        let mut engine = Engine::new_raw();
        self.inner.api.register(&mut engine);
        self.inner.opts.limits.apply(&mut engine);
        // `eval` would compile code the checker never saw.
        engine.disable_symbol("eval");
        // No module can be loaded without a run's directory resolver.
        engine.set_module_resolver(super::resolver::DirResolver::new(None));
        allow_keyword_names_after_namespace(&mut engine);
        engine
    }

    /// An engine with tokensmith's functions only, for the API reference.
    pub fn api_engine(&self) -> Engine {
        let mut engine = Engine::new_raw();
        self.inner.api.register_own(&mut engine);
        engine
    }

    /// Reads and compiles a script file. Missing and non-UTF-8 files are
    /// `Io` errors; parse errors carry their position.
    pub fn compile_file(&self, path: &Path) -> Result<CompiledScript, ScriptError> {
        let name = path.display().to_string();
        let bytes = crate::input::read_capped(path).map_err(|e| {
            ScriptError::io(&name, format!("cannot read the script: {}", io_reason(&e)))
        })?;
        let source = String::from_utf8(bytes).map_err(|e| {
            ScriptError::io(
                &name,
                format!(
                    "the script is not UTF-8 text (invalid byte at offset {})",
                    e.utf8_error().valid_up_to()
                ),
            )
        })?;
        let dir = path
            .parent()
            .map(|p| {
                if p.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    p
                }
            })
            .map(Path::to_path_buf);
        self.compile_named(name, source, dir)
    }

    /// Compiles source text; `name` is what diagnostics call it. Imports fail:
    /// there is no directory to resolve them in.
    /// Records a script that compiled as the last good version of the module
    /// it is when another script imports it (the watch daemon calls this for
    /// every file it loads).
    pub fn remember_module(&self, script: &CompiledScript) {
        if let Ok(path) = Path::new(&script.name).canonicalize() {
            super::resolver::remember(Some(&self.inner.modules), &path, &script.source);
        }
    }

    pub fn compile_str(&self, name: &str, source: &str) -> Result<CompiledScript, ScriptError> {
        self.compile_named(name.to_owned(), source.to_owned(), None)
    }

    fn compile_named(
        &self,
        name: String,
        source: String,
        dir: Option<PathBuf>,
    ) -> Result<CompiledScript, ScriptError> {
        let source = match source.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_owned(),
            None => source,
        };
        // A token written in the script is a secret seen (a literal, or the
        // pieces of one: the whole shows once they are put together, below).
        super::redact::learn_tokens(&source);
        let mut ast = self
            .engine()
            .compile(without_shebang(&source).as_ref())
            .map_err(|e| ScriptError::from_parse(&name, &source, &e))?;
        ast.set_source(name.clone());
        Ok(CompiledScript {
            name,
            source: source.into(),
            dir,
            ast: Arc::new(ast),
        })
    }

    /// Runs a compiled script to completion. Blocking: call it from a
    /// blocking thread (`spawn_blocking`), never from an async task.
    ///
    /// The script runs on its own thread with a [`SCRIPT_STACK`] stack: a
    /// debug build needs about 40 KiB per Rhai call level, so the default
    /// call-depth limit would overflow a 2 MiB blocking-pool thread.
    pub fn run(&self, script: &CompiledScript, ctl: &RunControl) -> Result<Dynamic, ScriptError> {
        self.run_with(script, ctl, None)
    }

    /// Runs an `on:` job's handler with the event as its one argument.
    pub fn run_handler(
        &self,
        script: &CompiledScript,
        ctl: &RunControl,
        handler: &str,
        event: &serde_json::Value,
    ) -> Result<Dynamic, ScriptError> {
        self.run_with(script, ctl, Some((handler, event)))
    }

    fn run_with(
        &self,
        script: &CompiledScript,
        ctl: &RunControl,
        handler: Option<(&str, &serde_json::Value)>,
    ) -> Result<Dynamic, ScriptError> {
        let span = tracing::Span::current();
        std::thread::scope(|scope| {
            let runner = std::thread::Builder::new()
                .name("rhai-script".to_owned())
                .stack_size(SCRIPT_STACK)
                .spawn_scoped(scope, || {
                    let _entered = span.enter();
                    self.run_here(script, ctl, handler)
                });
            match runner {
                Ok(handle) => handle.join().unwrap_or_else(|_| {
                    Err(ScriptError::internal(
                        &script.name,
                        "the script thread panicked",
                    ))
                }),
                Err(e) => Err(ScriptError::internal(
                    &script.name,
                    format!("cannot start the script thread: {e}"),
                )),
            }
        })
    }

    /// [`ScriptHost::run`] on the calling thread, which must have been
    /// started with a [`SCRIPT_STACK`] stack (a fleet run's members are: a
    /// thread each is one thread fewer to start per context).
    pub fn run_on_this_thread(
        &self,
        script: &CompiledScript,
        ctl: &RunControl,
    ) -> Result<Dynamic, ScriptError> {
        // As `run` turns a panicking script thread into an error, so that one
        // member's failure never takes the fleet down.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.run_here(script, ctl, None)
        }))
        .unwrap_or_else(|_| Err(ScriptError::internal(&script.name, "the script panicked")))
    }

    fn run_here(
        &self,
        script: &CompiledScript,
        ctl: &RunControl,
        handler: Option<(&str, &serde_json::Value)>,
    ) -> Result<Dynamic, ScriptError> {
        let mut session = self.session(
            &script.name,
            script.dir.as_deref(),
            ctl.cancel.clone(),
            &ctl.args,
        );
        match handler {
            None => session.run(script, ctl.deadline),
            Some((name, event)) => {
                let arg = rhai::serde::to_dynamic(event)
                    .map_err(|e| ScriptError::internal(&script.name, format!("the event: {e}")))?;
                session.call_handler(script, name, arg, ctl.deadline)
            }
        }
    }

    /// A session: one engine and one variable scope for several evaluations
    /// (the REPL), or for one run.
    pub fn session(
        &self,
        name: &str,
        dir: Option<&Path>,
        cancel: Arc<AtomicBool>,
        args: &BTreeMap<String, String>,
    ) -> Session {
        let inner = &self.inner;
        let dry_run = inner
            .cluster
            .as_ref()
            .map_or(inner.opts.dry_run, Cluster::dry_run);
        let ctx = Arc::new(RunContext {
            script: name.to_owned(),
            cluster: inner.cluster.clone(),
            runtime: inner.runtime.clone(),
            dry_run,
            allow_env: inner.opts.allow_env.clone(),
            cluster_error: inner.opts.cluster_error.clone(),
            daemon: inner.opts.daemon,
            cancel,
            clock: Mutex::new(None),
            api_calls: Default::default(),
            max_api_calls: inner.opts.limits.max_api_calls,
            test: inner.test.clone(),
        });
        let mut engine = self.engine();
        engine.set_default_tag(ctx.into_tag());
        let learnt = super::insertion_check::Learnt::default();
        engine.set_module_resolver(
            super::resolver::DirResolver::new(dir)
                .with_memory(inner.modules.clone())
                .with_break_points(learnt.clone()),
        );
        install_hooks(&mut engine, &ctx, inner.opts.echo_print);
        Session::new(
            engine,
            ctx,
            name,
            args,
            inner.opts.limits.timeout,
            inner.opts.limits.size_check(),
            learnt,
        )
    }
}

thread_local! {
    /// Whether the previous token the tokenizer produced on this thread was
    /// `::`. Tokenizing is sequential per thread, so a thread-local is exact.
    static AFTER_NAMESPACE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Rhai reserves `print` and `debug`, so `log::debug(…)` would not parse.
/// After `::` they can only be a function name, so they are handed to the
/// parser as plain identifiers there; a bare `debug(x)` is unchanged.
fn allow_keyword_names_after_namespace(engine: &mut Engine) {
    #[allow(deprecated)] // "volatile", not deprecated: Rhai's own wording.
    engine.on_parse_token(|token, _, _| {
        let after = AFTER_NAMESPACE.with(|c| c.replace(matches!(token, rhai::Token::DoubleColon)));
        match token {
            rhai::Token::Reserved(name) if after && matches!(name.as_str(), "debug" | "print") => {
                rhai::Token::Identifier(name)
            }
            other => other,
        }
    });
}

/// Progress (cancel and wall time) and the print/debug routing.
fn install_hooks(engine: &mut Engine, ctx: &Arc<RunContext>, echo: bool) {
    let progress = Arc::clone(ctx);
    engine.on_progress(move |ops| {
        if progress.cancelled() {
            return Some(Dynamic::from(Stop::Cancelled));
        }
        // Reading the clock costs more than the operation itself; every 64th
        // operation still notices the deadline within microseconds.
        if ops % 64 == 0 {
            return progress.stop_reason(Instant::now()).map(Dynamic::from);
        }
        None
    });
    let script = ctx.script.clone();
    engine.on_print(move |text| {
        // Echoed prints already reach the user on stdout: log them at debug
        // so the default (info) log does not show them twice.
        let level = if echo {
            tracing::Level::DEBUG
        } else {
            tracing::Level::INFO
        };
        super::api::log::emit(level, &script, text);
        if echo {
            use std::io::Write;
            let text = super::redact::redact_tokens(text);
            let _ = writeln!(std::io::stdout().lock(), "{text}");
        }
    });
    let script = ctx.script.clone();
    engine.on_debug(move |text, _source, pos| {
        let line = match pos.line() {
            Some(l) => format!("[{l}:{}] {text}", pos.position().unwrap_or(1)),
            None => text.to_owned(),
        };
        super::api::log::emit(tracing::Level::DEBUG, &script, &line);
        if echo {
            use std::io::Write;
            let line = super::redact::redact_tokens(&line);
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        }
    });
}

/// A leading `#!` line (to run a script as `./rotate.rhai`) becomes an empty
/// line: Rhai rejects `#!`, and line numbers must stay those of the file.
fn without_shebang(source: &str) -> std::borrow::Cow<'_, str> {
    if source.starts_with("#!") {
        let rest = source.find('\n').map_or("", |i| &source[i..]);
        std::borrow::Cow::Owned(rest.to_owned())
    } else {
        std::borrow::Cow::Borrowed(source)
    }
}

/// `No such file or directory`, without Rust's `(os error 2)` suffix.
fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}
