//! Tab completion: every registered function, the session's variables, and
//! the `:commands` (with function names after `:help `).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};

use super::commands::COMMANDS;

pub struct ReplHelper {
    functions: BTreeSet<String>,
    /// Variable names, refreshed after each input.
    pub variables: Arc<Mutex<BTreeSet<String>>>,
}

impl ReplHelper {
    pub fn new(functions: BTreeSet<String>) -> Self {
        Self {
            functions,
            variables: Arc::default(),
        }
    }

    /// Candidates for the word before `pos`, and where that word starts.
    pub fn candidates(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        let before = &line[..pos];
        if let Some(rest) = before.strip_prefix(":help ") {
            let start = pos - rest.len();
            return (start, self.matching(rest, false));
        }
        if before.starts_with(':') && !before.contains(' ') {
            let cmds = COMMANDS
                .iter()
                .map(|(c, _)| c.to_string())
                .filter(|c| c.starts_with(before))
                .collect();
            return (0, cmds);
        }
        let start = before
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == ':'))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let word = &before[start..];
        if word.is_empty() {
            return (pos, Vec::new());
        }
        // After a `.`, only methods and properties make sense, but the
        // catalog does not know a value's type: offer every plain name.
        (start, self.matching(word, true))
    }

    fn matching(&self, prefix: &str, with_vars: bool) -> Vec<String> {
        let mut out: Vec<String> = self
            .functions
            .iter()
            .filter(|f| f.starts_with(prefix))
            .cloned()
            .collect();
        if with_vars && let Ok(vars) = self.variables.lock() {
            out.extend(vars.iter().filter(|v| v.starts_with(prefix)).cloned());
        }
        out.sort();
        out.dedup();
        out
    }
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, names) = self.candidates(line, pos);
        Ok((
            start,
            names
                .into_iter()
                .map(|n| Pair {
                    display: n.clone(),
                    replacement: n,
                })
                .collect(),
        ))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
}
impl Highlighter for ReplHelper {}
// Multi-line input is handled by the REPL loop itself, which also works
// when stdin is not a terminal.
impl Validator for ReplHelper {}
impl Helper for ReplHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    fn helper() -> ReplHelper {
        let names = ["token::create", "token::list", "to_string", "now"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let h = ReplHelper::new(names);
        h.variables.lock().unwrap().insert("tokens".into());
        h
    }

    #[test]
    fn completes_functions_variables_and_commands() {
        let h = helper();
        assert_eq!(
            h.candidates("let x = token::c", 16),
            (8, vec!["token::create".to_string()])
        );
        assert_eq!(
            h.candidates("to", 2).1,
            ["to_string", "token::create", "token::list", "tokens"]
        );
        assert_eq!(h.candidates(":he", 3), (0, vec![":help".to_string()]));
        assert_eq!(
            h.candidates(":help token::l", 14),
            (6, vec!["token::list".to_string()])
        );
    }
}
