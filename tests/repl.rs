//! The REPL through a pseudo-terminal, as a person uses it: completion,
//! multi-line input, `:help`, errors that leave the session alive, and the
//! history file (mode 0600, no token secrets).

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use rexpect::session::{PtySession, spawn_command};
use support::TestCluster;

const PROMPT: &str = "tokensmith> ";

fn start(state: &Path, kubeconfig: &Path) -> PtySession {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tokensmith"));
    cmd.arg("repl")
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LOG")
        .env("TERM", "xterm")
        .env("HOME", state.join("home"))
        .env("XDG_STATE_HOME", state.join("xdg"))
        .env("KUBECONFIG", kubeconfig)
        .current_dir(state);
    let mut p = spawn_command(cmd, Some(20_000)).expect("spawn the REPL in a pty");
    p.exp_string("tokensmith REPL").expect("banner");
    p.exp_string(PROMPT).expect("first prompt");
    p
}

fn history_file(state: &Path) -> std::path::PathBuf {
    state.join("xdg/tokensmith/repl_history")
}

#[test]
fn a_session_against_the_dev_cluster() {
    let c = TestCluster::start();
    let state = c.dir();
    let mut p = start(state, c.kubeconfig_path());

    // Values print readably; tokens redacted; a token list as a table.
    p.send_line(r#"let t = token::create(#{ ttl: "1h", description: "from the repl" })"#)
        .unwrap();
    p.exp_string(PROMPT).unwrap();
    p.send_line("t").unwrap();
    p.exp_string(".****************").unwrap();
    p.exp_string(PROMPT).unwrap();
    p.send_line("token::list()").unwrap();
    p.exp_string("TOKEN").unwrap();
    p.exp_string("EXTRA GROUPS").unwrap();
    p.exp_string("from the repl").unwrap();
    p.exp_string(PROMPT).unwrap();

    // Multi-line input while a block is open.
    p.send_line("fn double(x) {").unwrap();
    p.exp_string("...> ").unwrap();
    p.send_line("  x * 2").unwrap();
    p.exp_string("...> ").unwrap();
    p.send_line("}").unwrap();
    p.exp_string(PROMPT).unwrap();
    p.send_line("double(21) + 1000").unwrap();
    p.exp_string("1042").unwrap();
    p.exp_string(PROMPT).unwrap();

    // An error shows a caret; the session and its variables survive.
    p.send_line("let y = nope(1);").unwrap();
    p.exp_string("Function not found: nope").unwrap();
    p.exp_string("^").unwrap();
    p.exp_string(PROMPT).unwrap();
    p.send_line("`${t.description.len()}/${double(50)}`")
        .unwrap();
    p.exp_string("13/100").unwrap();
    p.exp_string(PROMPT).unwrap();

    // Tab completion of a registered function.
    p.send("token::gene").unwrap();
    p.send("\t").unwrap();
    p.send_line("().id.len() * 7").unwrap();
    p.exp_string("42").unwrap();
    p.exp_string(PROMPT).unwrap();

    // :help NAME shows the function's documentation; :vars the variables.
    p.send_line(":help token::create").unwrap();
    p.exp_string("token::create(options: Map) -> Token")
        .unwrap();
    p.exp_string("Creates a new random token").unwrap();
    p.exp_string(PROMPT).unwrap();
    p.send_line(":vars").unwrap();
    p.exp_string("let t = ").unwrap();
    p.exp_string(PROMPT).unwrap();

    // A line holding a literal token must not reach the history.
    p.send_line(r#"token::create("abcdef.0123456789abcdef", #{}).id"#)
        .unwrap();
    p.exp_string("abcdef").unwrap();
    p.exp_string(PROMPT).unwrap();

    p.send_line(":quit").unwrap();
    p.exp_eof().unwrap();

    let path = history_file(state);
    let mode = std::fs::metadata(&path)
        .expect("history file")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let history = std::fs::read_to_string(&path).expect("read history");
    assert!(history.contains("double(21) + 1000"), "{history}");
    assert!(history.contains(":help token::create"), "{history}");
    assert!(history.contains("fn double(x) {"), "{history}");
    assert!(!history.contains("0123456789abcdef"), "{history}");
}

#[test]
fn help_functions_and_command_completion_without_a_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = start(dir.path(), &dir.path().join("no-kubeconfig"));

    p.send_line(":help").unwrap();
    p.exp_string(":functions").unwrap();
    p.exp_string(":quit").unwrap();
    p.exp_string(PROMPT).unwrap();

    p.send_line(":functions").unwrap();
    p.exp_string("join::command(token: Token or String) -> String")
        .unwrap();
    p.exp_string(PROMPT).unwrap();

    // `:fu<TAB>` completes the command.
    p.send(":fu").unwrap();
    p.send("\t").unwrap();
    p.send_line("").unwrap();
    p.exp_string("log::warn(message: any)").unwrap();
    p.exp_string(PROMPT).unwrap();

    // Cluster calls fail with a catchable error; the session goes on.
    p.send_line("token::list()").unwrap();
    p.exp_string("token::list: no cluster").unwrap();
    p.exp_string(PROMPT).unwrap();
    p.send_line("duration(\"90m\")").unwrap();
    p.exp_string("1h30m0s").unwrap();
    p.exp_string(PROMPT).unwrap();

    // Ctrl-C stops a runaway input; the session goes on.
    // (The echo of the typed line shows the template, not the word "running".)
    p.send_line(r#"let kept = 7; print(`run${"ning"}`); loop { }"#)
        .unwrap();
    p.exp_string("running").unwrap();
    p.send_control('c').unwrap();
    p.exp_string("the script was cancelled").unwrap();
    p.exp_string(PROMPT).unwrap();
    p.send_line("kept * 6").unwrap();
    p.exp_string("42").unwrap();
    p.exp_string(PROMPT).unwrap();

    // Ctrl-D leaves.
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
    let path = history_file(dir.path());
    let history = std::fs::read_to_string(path).unwrap();
    assert!(history.contains("duration(\"90m\")"), "{history}");
}

/// Every line of `:functions` reads as a script author writes a call: Rhai's
/// type names, alternatives spelled out, no `&mut` receiver, no Rust path.
#[test]
fn functions_render_signatures_in_rhai_names() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = start(dir.path(), &dir.path().join("no-kubeconfig"));
    p.send_line(":functions").unwrap();
    // The listing ends with the next prompt; the echoed command line and
    // the line editor's escape sequences come before it.
    let listing = p.exp_string(PROMPT).unwrap().replace('\r', "");
    let lines: Vec<&str> = listing
        .lines()
        .filter(|l| !l.is_empty() && !l.contains(":functions") && !l.contains('\u{1b}'))
        .collect();
    assert!(lines.len() > 60, "{listing}");
    for want in [
        "token::create() -> Token",
        "token::create(options: Map) -> Token",
        "token::create(token: Token or String, options: Map) -> Token",
        "token::delete(what: String or Token or Array) -> () or Array",
        "token::get(id: String or Token) -> Token or ()",
        "token::current(rotation: String) -> Token or ()",
        "Token.expires_within(d: Duration or String) -> bool",
        "Token.expires -> Timestamp or ()",
        "Token.to_map() -> Map",
        "Duration.seconds -> int",
        "sleep(seconds: float)",
        "log::info(message: any)",
    ] {
        assert!(lines.contains(&want), "{want} not in:\n{listing}");
    }
    let shape = |l: &str| {
        let (call, ret) = l.split_once(" -> ").unwrap_or((l, ""));
        let parens_ok = match call.find('(') {
            Some(i) => call.ends_with(')') && !call[..i].contains(' '),
            None => !call.contains(' ') && call.contains('.'),
        };
        parens_ok && !ret.contains("->")
    };
    for l in &lines {
        for rust in [
            "&mut",
            "&str",
            "rhai::",
            "tokensmith::",
            "ImmutableString",
            "i64",
            "f64",
            "INT",
            "FLOAT",
            "Dynamic",
            "Result<",
            "EvalAltResult",
            "get$",
            "set$",
        ] {
            assert!(!l.contains(rust), "{rust} in `{l}`");
        }
        assert!(shape(l), "not a signature: `{l}`");
    }
    p.send_line(":quit").unwrap();
    p.exp_eof().unwrap();
}
