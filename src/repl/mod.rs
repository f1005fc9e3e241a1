//! `tokensmith repl`: an interactive session on the script engine, with
//! history, completion, multi-line input and caret-marked errors.
//!
//! The loop runs on the calling thread (never a runtime worker): host
//! functions wait on the cluster from here.

pub mod commands;
pub mod helper;
pub mod history;
pub mod input;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{CompletionType, Config, Editor};

use crate::script::{ScriptHost, catalog, render};
use commands::Outcome;
use helper::ReplHelper;

const PROMPT: &str = "tokensmith> ";
const CONTINUE: &str = "...> ";

// Everything the REPL shows passes the redactor: a value, `:vars`, an error.
fn out(text: &str) {
    let text = crate::script::redact::redact_tokens(text);
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

fn err(text: &str) {
    let text = crate::script::redact::redact_tokens(text);
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// Runs the REPL until `:quit` or end of input. `history` is the history
/// file, or `None` to keep none.
pub fn run(host: &ScriptHost, history: Option<PathBuf>) -> Result<(), String> {
    let cancel = Arc::new(AtomicBool::new(false));
    interrupt_on_ctrl_c(&cancel);
    let mut session = host.session(
        "<repl>",
        Some(Path::new(".")),
        cancel.clone(),
        &BTreeMap::new(),
    );
    let api = catalog::api_functions(host);
    let helper = ReplHelper::new(catalog::completion_names(session.engine()));
    let variables = helper.variables.clone();
    let config = Config::builder()
        .auto_add_history(false)
        .completion_type(CompletionType::List)
        .build();
    let mut editor: Editor<ReplHelper, FileHistory> =
        Editor::with_config(config).map_err(|e| format!("cannot start the line editor: {e}"))?;
    editor.set_helper(Some(helper));
    let history = history.and_then(|p| match history::prepare(&p) {
        Ok(()) => {
            // A missing or unreadable history is not worth refusing to start.
            let _ = editor.load_history(&p);
            Some(p)
        }
        Err(e) => {
            err(&format!(
                "warning: history disabled: cannot use {}: {e}",
                p.display()
            ));
            None
        }
    });

    out("tokensmith REPL: Rhai with the tokensmith API. :help for help, :quit to leave.");
    let mut pending = String::new();
    loop {
        let prompt = if pending.is_empty() { PROMPT } else { CONTINUE };
        let line = match editor.readline(prompt) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => {
                pending.clear();
                continue;
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(format!("cannot read input: {e}")),
        };
        if pending.is_empty() && line.trim_start().starts_with(':') {
            remember(&mut editor, history.as_deref(), &line);
            match commands::run(&line, &session, &api) {
                Outcome::Print(text) => out(&text),
                Outcome::Quit => break,
            }
            continue;
        }
        if !pending.is_empty() {
            pending.push('\n');
        }
        pending.push_str(&line);
        if !input::is_complete(&pending) {
            continue;
        }
        let source = std::mem::take(&mut pending);
        if source.trim().is_empty() {
            continue;
        }
        cancel.store(false, Ordering::Relaxed);
        let result = session.eval_input(&source);
        // A token assembled from parts is a secret once it exists: learn it
        // before the input that built it is considered for the history.
        if let Ok(value) = &result
            && let Some(text) = render::render(value)
        {
            crate::script::redact::learn_tokens(&text);
        }
        remember(&mut editor, history.as_deref(), &source);
        match result {
            Ok(value) => {
                if let Some(text) = render::render(&value) {
                    out(&text);
                }
            }
            Err(e) => err(&e.to_string()),
        }
        if let Ok(mut vars) = variables.lock() {
            *vars = session
                .scope()
                .iter_raw()
                .map(|(n, _, _)| n.to_owned())
                .collect();
        }
    }
    Ok(())
}

/// Ctrl-C while an input runs stops that input, not the REPL. (While a line
/// is being edited, the terminal is in raw mode and the editor reads Ctrl-C
/// as a key instead.) Needs the tokio runtime the host was made in.
fn interrupt_on_ctrl_c(cancel: &Arc<AtomicBool>) {
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let cancel = cancel.clone();
    rt.spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            cancel.store(true, Ordering::Relaxed);
        }
    });
}

/// Adds an input to the history and saves it at once, unless it holds a
/// secret. Earlier entries that hold a secret learnt since (a part of a
/// token typed before the token was built) are dropped before the save.
fn remember(editor: &mut Editor<ReplHelper, FileHistory>, path: Option<&Path>, input: &str) {
    use rustyline::history::History;
    let stale = editor.history().iter().any(|e| history::holds_secret(e));
    if stale {
        let kept: Vec<String> = editor
            .history()
            .iter()
            .filter(|e| !history::holds_secret(e))
            .cloned()
            .collect();
        let _ = editor.clear_history();
        for e in kept {
            let _ = editor.history_mut().add_owned(e);
        }
    }
    if history::holds_secret(input) {
        if stale && let Some(p) = path {
            let _ = editor.save_history(p);
        }
        return;
    }
    let _ = editor.add_history_entry(input);
    if let Some(p) = path {
        if let Err(e) = editor.save_history(p) {
            err(&format!(
                "warning: cannot save history to {}: {e}",
                p.display()
            ));
        }
        let _ = history::prepare(p);
    }
}
