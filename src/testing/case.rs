//! One test: a fresh [`World`], the file's top-level code, its `setup()`,
//! then the test function, on a thread of its own so that a panic of the
//! host is this test's failure and nobody else's.

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rhai::{Dynamic, EvalAltResult};

use crate::script::error::innermost;
use crate::script::host::SCRIPT_STACK;
use crate::script::{
    CompiledScript, ErrorKind, RunControl, ScriptError, ScriptHost, ScriptOptions,
};

use super::api::assert::AssertionFailure;
use super::world::{Output, Secrets, World};

/// A test file, compiled once for all its tests.
pub struct TestFile {
    pub path: PathBuf,
    /// The path as the report shows it.
    pub display: String,
    pub script: Option<CompiledScript>,
    pub has_setup: bool,
}

/// One entry of the run: a test to run, or a failure known before running
/// (a file that does not compile, a test function with parameters).
pub struct Case {
    pub file: Arc<TestFile>,
    /// The test function; empty for a failure of the whole file.
    pub name: String,
    pub known_failure: Option<CaseFailure>,
}

impl Case {
    /// `path::test_name`, or the path alone for a file-level failure.
    pub fn full_name(&self) -> String {
        if self.name.is_empty() {
            self.file.display.clone()
        } else {
            format!("{}::{}", self.file.display, self.name)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    Assertion,
    Error,
    Timeout,
    Compile,
    Panic,
}

impl FailureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Assertion => "assertion",
            FailureKind::Error => "error",
            FailureKind::Timeout => "timeout",
            FailureKind::Compile => "compile",
            FailureKind::Panic => "panic",
        }
    }
}

/// Why a test failed, secrets already hidden.
#[derive(Debug, Clone)]
pub struct CaseFailure {
    pub kind: FailureKind,
    /// `file:line:col: message`.
    pub headline: String,
    /// The headline, the source line with a caret, and the assertion's values.
    pub text: String,
}

impl CaseFailure {
    pub fn plain(kind: FailureKind, text: String) -> Self {
        Self {
            kind,
            headline: text.lines().next().unwrap_or_default().to_owned(),
            text,
        }
    }
}

pub struct Outcome {
    pub failure: Option<CaseFailure>,
    pub output: Vec<String>,
    pub elapsed: Duration,
}

/// How a script run on its own thread ended badly.
pub enum RunFailure {
    Script(Box<EvalAltResult>),
    Panic(String),
}

/// Runs `script` in a fresh session of `host` on a thread with the script
/// stack, `print`/`debug` going to `output`; a panic on that thread is
/// caught and returned.
pub fn run_script(
    host: &ScriptHost,
    script: &CompiledScript,
    ctl: &RunControl,
    output: &Output,
) -> Result<Dynamic, RunFailure> {
    let ran = on_test_thread(|| {
        let _capturing = output.capture_thread();
        let mut session = host.session(
            script.name(),
            script.dir.as_deref(),
            ctl.cancel.clone(),
            &ctl.args,
        );
        output.capture(session.engine_mut());
        session.run_raw(script, ctl.deadline)
    });
    match ran {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(RunFailure::Script(e)),
        Err(panic) => Err(RunFailure::Panic(panic)),
    }
}

/// Runs `f` on a [`TEST_THREAD`] with the script stack; a panic in it is
/// caught and comes back as its message.
fn on_test_thread<T: Send>(f: impl FnOnce() -> T + Send) -> Result<T, String> {
    std::thread::scope(|scope| {
        let runner = std::thread::Builder::new()
            .name(TEST_THREAD.to_owned())
            .stack_size(SCRIPT_STACK)
            .spawn_scoped(scope, || std::panic::catch_unwind(AssertUnwindSafe(f)));
        match runner {
            Ok(handle) => match handle.join() {
                Ok(Ok(v)) => Ok(v),
                Ok(Err(payload)) | Err(payload) => Err(panic_message(&payload)),
            },
            Err(e) => Err(format!("cannot start the test thread: {e}")),
        }
    })
}

/// The name of the threads tests run on (the panic hook keeps them quiet).
pub const TEST_THREAD: &str = "tokensmith-test";

fn panic_message(payload: &Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// The file's program with the calls of one test appended:
/// top-level code, `setup()` if the file has one, then the test. The calls
/// are placed below the file's last line, so that an error reported at a
/// call (a limit hit inside the test) is told apart from one in the file.
fn program(
    host: &ScriptHost,
    file: &TestFile,
    script: &CompiledScript,
    test: &str,
) -> Result<CompiledScript, String> {
    let below = "\n".repeat(script.source().lines().count() + 1);
    let calls = if file.has_setup {
        format!("{below}setup();\n{test}();")
    } else {
        format!("{below}{test}();")
    };
    let snippet = host.engine().compile(&calls).map_err(|e| e.to_string())?;
    let mut ast = script.ast().merge(&snippet);
    ast.set_source(script.name());
    Ok(CompiledScript {
        name: script.name().to_owned(),
        source: script.source.clone(),
        dir: script.dir.clone(),
        ast: Arc::new(ast),
    })
}

/// Runs one case to its outcome.
pub fn run_case(rt: &tokio::runtime::Handle, opts: &ScriptOptions, case: &Case) -> Outcome {
    let started = Instant::now();
    let done = |failure: Option<CaseFailure>, output: Vec<String>| Outcome {
        failure,
        output,
        elapsed: started.elapsed(),
    };
    if let Some(f) = &case.known_failure {
        return done(Some(f.clone()), Vec::new());
    }
    let Some(script) = &case.file.script else {
        return done(
            Some(CaseFailure::plain(
                FailureKind::Error,
                format!("{}: not compiled", case.file.display),
            )),
            Vec::new(),
        );
    };
    let dir = script.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let (world, cluster) = match World::start(rt, &dir, opts) {
        Ok(w) => w,
        Err(e) => {
            return done(
                Some(CaseFailure::plain(
                    FailureKind::Error,
                    format!(
                        "{}: cannot start the test's dev cluster: {e:#}",
                        case.full_name()
                    ),
                )),
                Vec::new(),
            );
        }
    };
    let host = {
        let _entered = rt.enter();
        ScriptHost::for_tests(Some(cluster), opts.clone(), Some(world.clone()))
    };
    let result = match program(&host, &case.file, script, &case.name) {
        Ok(p) => run_script(&host, &p, &RunControl::default(), &world.output),
        Err(e) => Err(RunFailure::Panic(format!("cannot call {}: {e}", case.name))),
    };
    world.collect_secrets();
    let secrets = world.secrets.clone();
    let failure = match result {
        Ok(_) => None,
        Err(RunFailure::Script(e)) => Some(describe(&e, script, &secrets)),
        Err(RunFailure::Panic(m)) => Some(CaseFailure::plain(
            FailureKind::Panic,
            secrets.redact(&format!(
                "{}: the test panicked the host: {m}",
                case.full_name()
            )),
        )),
    };
    let output = world
        .output
        .lines()
        .iter()
        .map(|l| secrets.redact(l))
        .collect();
    drop(host);
    world.stop();
    done(failure, output)
}

/// A failed run as the report shows it: where, the line and a caret, and
/// for an assertion both of its values.
pub fn describe(e: &EvalAltResult, script: &CompiledScript, secrets: &Secrets) -> CaseFailure {
    let (inner, mut pos) = innermost(e, script.name());
    if pos
        .line()
        .is_some_and(|l| l > script.source().lines().count())
    {
        // At one of the calls `program` appended: no line of the file to show.
        pos = rhai::Position::NONE;
    }
    let assertion = match inner {
        EvalAltResult::ErrorRuntime(v, _) => v.read_lock::<AssertionFailure>().map(|a| a.clone()),
        _ => None,
    };
    let (kind, error, values) = match assertion {
        Some(a) => {
            let error = ScriptError::at(
                ErrorKind::Runtime,
                script.name(),
                script.source(),
                pos,
                a.message.clone(),
            );
            let values = match (a.left, a.right) {
                (Some(l), Some(r)) => format!("\n  left: {l}\n right: {r}"),
                _ => String::new(),
            };
            (FailureKind::Assertion, error, values)
        }
        None => {
            let mut error = ScriptError::from_eval(script.name(), script.source(), e);
            if pos.is_none() {
                error = ScriptError::at(
                    error.kind,
                    script.name(),
                    script.source(),
                    pos,
                    error.message,
                );
            }
            let kind = match error.kind {
                ErrorKind::Timeout => FailureKind::Timeout,
                _ => FailureKind::Error,
            };
            (kind, error, String::new())
        }
    };
    CaseFailure {
        kind,
        headline: secrets.redact(&error.headline()),
        text: secrets.redact(&format!("{error}{values}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_on_the_test_thread_is_caught_with_its_message() {
        let caught = on_test_thread(|| -> u8 { panic!("host function blew up") });
        assert_eq!(caught, Err("host function blew up".to_owned()));
        assert_eq!(on_test_thread(|| 7), Ok(7));
    }
}
