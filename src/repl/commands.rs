//! The REPL's `:commands`.

use std::fmt::Write as _;

use crate::script::Session;
use crate::script::catalog::{FnDoc, FnKind};
use crate::script::render::inline;

/// Every command with its one-line help, in `:help` order.
pub const COMMANDS: [(&str, &str); 5] = [
    (
        ":help",
        "this help; `:help NAME` shows a function's documentation",
    ),
    (":functions", "list tokensmith's functions"),
    (":vars", "list the session's variables"),
    (":quit", "leave (Ctrl-D works too)"),
    (":exit", "same as :quit"),
];

pub enum Outcome {
    Print(String),
    Quit,
}

/// Runs `line` (which starts with `:`).
pub fn run(line: &str, session: &Session, api: &[FnDoc]) -> Outcome {
    let (cmd, arg) = match line.trim().split_once(char::is_whitespace) {
        Some((c, a)) => (c, a.trim()),
        None => (line.trim(), ""),
    };
    match cmd {
        ":quit" | ":exit" | ":q" => Outcome::Quit,
        ":help" | ":h" if arg.is_empty() => Outcome::Print(help()),
        ":help" | ":h" => Outcome::Print(help_for(arg, api)),
        ":functions" => Outcome::Print(functions(api)),
        ":vars" => Outcome::Print(vars(session)),
        other => Outcome::Print(format!(
            "unknown command {other}; commands: {}",
            COMMANDS.map(|(c, _)| c).join(" ")
        )),
    }
}

fn help() -> String {
    let mut s = String::from(
        "Type Rhai statements; an open bracket continues on the next line.\n\
         Tab completes function names. Examples:\n  \
         token::list()\n  \
         let t = token::create(#{ ttl: \"2h\", description: \"try\" })\n  \
         join::command(t)\n\nCommands:\n",
    );
    for (c, h) in COMMANDS {
        let _ = writeln!(s, "  {c:<12} {h}");
    }
    s.pop();
    s
}

fn help_for(name: &str, api: &[FnDoc]) -> String {
    let name = name.trim_end_matches("()");
    let found: Vec<&FnDoc> = api
        .iter()
        .filter(|f| f.qualified_name() == name || f.name == name)
        .collect();
    if found.is_empty() {
        return format!("no function named {name}; `:functions` lists them");
    }
    let mut s = String::new();
    for f in found {
        let _ = writeln!(s, "{}", f.signature());
        for line in f.doc.lines() {
            let _ = writeln!(s, "    {line}");
        }
        s.push('\n');
    }
    s.trim_end().to_owned()
}

fn functions(api: &[FnDoc]) -> String {
    let mut lines: Vec<String> = api
        .iter()
        .filter(|f| {
            f.kind() != FnKind::Operator && !matches!(f.name.as_str(), "to_string" | "to_debug")
        })
        .map(FnDoc::signature)
        .collect();
    lines.sort();
    lines.dedup();
    lines.join("\n")
}

fn vars(session: &Session) -> String {
    let mut lines: Vec<String> = session
        .scope()
        .iter_raw()
        .map(|(name, constant, value)| {
            let kw = if constant { "const" } else { "let" };
            format!("{kw} {name} = {}", inline(value))
        })
        .collect();
    if lines.is_empty() {
        lines.push("(no variables)".to_owned());
    }
    lines.join("\n")
}
