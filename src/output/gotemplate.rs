//! `-o go-template` / `template` (and their `-file` forms): kubectl's
//! `GoTemplatePrinter` (cli-runtime printers/template.go) on gtmpl.
//!
//! gtmpl prints lists and maps with Rust's Debug, not Go's `%v`, so every
//! printing action is rewritten to end in `| _gofmt`, and `print`/`println`
//! are replaced by Go-formatting versions. Maps become gtmpl `Map`s (a missing
//! key prints `<no value>`) or, with `--allow-missing-template-keys=false`,
//! `Object`s (a missing key is an error, reported in Go's words).

use std::collections::HashMap;

use gtmpl::{Context, Template, Value as Tv};
use serde_json::Value;

use funcs::{base64decode, exists, go_fmt_value, go_print, go_printf, go_println};

use super::gofmt::go_v;
use super::object::go_json_compact;
use crate::token::go_quote;

pub struct GoTemplatePrinter {
    raw: String,
    template: Template,
    allow_missing_keys: bool,
}

/// What executing the template produced before failing, and why it failed.
pub struct ExecFailure {
    pub partial: Vec<u8>,
    pub message: String,
}

impl GoTemplatePrinter {
    /// `NewGoTemplatePrinter`: on failure, the text after kubectl's
    /// `error parsing template <raw>, ` prefix.
    pub fn new(raw: &str, allow_missing_keys: bool) -> Result<Self, String> {
        let mut template = Template::with_name("output");
        template.add_func("exists", exists);
        template.add_func("base64decode", base64decode);
        template.add_func("print", go_print);
        template.add_func("println", go_println);
        template.add_func("printf", go_printf);
        template.add_func("_gofmt", go_fmt_value);
        // gtmpl's lexer can loop forever on an action left open at the end
        // of the input, so that case is rejected here with Go's message.
        let rewritten = rewrite_print_actions(raw)
            .map_err(|line| format!("template: output:{line}: unclosed action"))?;
        // gtmpl parses and runs nested blocks recursively; bound the nesting
        // so that a hostile template cannot exhaust the stack.
        if block_depth(raw) > MAX_BLOCK_DEPTH {
            return Err(format!(
                "template: output:1: blocks nested deeper than {MAX_BLOCK_DEPTH}"
            ));
        }
        // gtmpl runs `{{template}}` calls without Go's depth limit: a
        // template that calls itself would overflow the stack. Refused with
        // Go's words (Go fails at run time; a recursion that would end is
        // refused too, which no kubectl output template needs).
        if let Some(name) = recursive_template(raw) {
            return Err(format!(
                "template: {name}:1: exceeded maximum template depth (100000)"
            ));
        }
        // gtmpl has panicked on odd input before; a template must never take
        // the process down, so a panic is reported as a parse error.
        let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            template
                .parse(rewritten.as_str())
                .map_err(|e| e.to_string())
        }));
        match parsed {
            Ok(Ok(())) => Ok(Self {
                raw: raw.to_owned(),
                template,
                allow_missing_keys,
            }),
            Ok(Err(e)) => Err(go_parse_error(&e, raw)),
            Err(_) => Err(format!("template: output: cannot parse {}", go_quote(raw))),
        }
    }

    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// Runs the template over the object's JSON form.
    pub fn execute(&self, obj: &Value) -> Result<Vec<u8>, ExecFailure> {
        let data = to_gtmpl(obj, self.allow_missing_keys);
        let mut buf = Vec::new();
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            match self.template.execute(&mut buf, &Context::from(data)) {
                Ok(()) => None,
                Err(gtmpl::error::ExecError::NoFiledFor(key, _)) => {
                    Some(missing_key_message(&self.raw, &key))
                }
                Err(e) => Some(format!("template: output: executing \"output\": {e}")),
            }
        }));
        let message = match run {
            Ok(None) => return Ok(buf),
            Ok(Some(message)) => message,
            Err(_) => "template: output: executing \"output\": internal template error".to_owned(),
        };
        Err(ExecFailure {
            partial: buf,
            message,
        })
    }
}

const MAX_BLOCK_DEPTH: usize = 100;

/// The deepest nesting of `if`/`range`/`with`/`define`/`block` actions, or of
/// parentheses inside one action.
/// The name of a `{{define}}`d template that can reach itself through
/// `{{template}}` calls, if any.
fn recursive_template(src: &str) -> Option<String> {
    use std::collections::BTreeMap;
    let mut calls: BTreeMap<String, Vec<String>> = BTreeMap::new();
    // (name of the define it belongs to, block depth when it opened)
    let mut stack: Vec<(Option<String>, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut rest = src;
    let quoted = |s: &str| -> Option<String> {
        let s = s.trim_start();
        let q = s.chars().next().filter(|c| *c == '"' || *c == '`')?;
        let body = &s[1..];
        body.find(q).map(|end| body[..end].to_owned())
    };
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else { break };
        let action = after[..close].trim_matches(|c: char| c == '-' || c.is_whitespace());
        rest = &after[close + 2..];
        let word = action.split_whitespace().next().unwrap_or("");
        match word {
            "define" | "block" => {
                depth += 1;
                stack.push((quoted(&action[word.len()..]), depth));
                if word == "block"
                    && let Some(n) = quoted(&action[word.len()..])
                {
                    let owner = stack.iter().rev().skip(1).find_map(|(n, _)| n.clone());
                    calls.entry(owner.unwrap_or_default()).or_default().push(n);
                }
            }
            "if" | "range" | "with" => {
                depth += 1;
                stack.push((None, depth));
            }
            "end" => {
                stack.pop();
                depth = depth.saturating_sub(1);
            }
            "template" => {
                if let Some(callee) = quoted(&action[word.len()..]) {
                    let owner = stack.iter().rev().find_map(|(n, _)| n.clone());
                    calls
                        .entry(owner.unwrap_or_default())
                        .or_default()
                        .push(callee);
                }
            }
            _ => {}
        }
    }
    for start in calls.keys().filter(|k| !k.is_empty()) {
        let mut seen = std::collections::BTreeSet::new();
        let mut todo: Vec<&String> = calls
            .get(start)
            .map(|v| v.iter().collect())
            .unwrap_or_default();
        while let Some(n) = todo.pop() {
            if n == start {
                return Some(start.clone());
            }
            if seen.insert(n.clone()) {
                todo.extend(calls.get(n).into_iter().flatten());
            }
        }
    }
    None
}

fn block_depth(src: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    let mut rest = src;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(len) = action_len(after) else { break };
        let inner = after[..len].trim_start_matches('-').trim_start();
        let word: String = inner.chars().take_while(|c| c.is_alphanumeric()).collect();
        match word.as_str() {
            "if" | "range" | "with" | "define" | "block" => depth += 1,
            "end" => depth = depth.saturating_sub(1),
            _ => {}
        }
        let parens = inner.chars().filter(|c| *c == '(').count();
        max = max.max(depth).max(parens);
        rest = &after[len + 2..];
    }
    max
}

/// gtmpl words parse errors as `template: output:<line+1>:<msg>`; Go as
/// `template: output:<line>: <msg>` and quotes unknown function names.
fn go_parse_error(gtmpl_message: &str, raw: &str) -> String {
    let Some(rest) = gtmpl_message.strip_prefix("template: output:") else {
        return gtmpl_message.to_owned();
    };
    let (line, msg) = match rest.split_once(':') {
        Some((n, msg)) if n.chars().all(|c| c.is_ascii_digit()) => {
            (n.parse::<usize>().unwrap_or(1), msg)
        }
        _ => (1, rest),
    };
    let lines = 1 + raw.matches('\n').count();
    let line = line.saturating_sub(1).clamp(1, lines);
    let msg = match msg
        .strip_prefix("function ")
        .and_then(|m| m.strip_suffix(" not defined"))
    {
        Some(name) => format!("function {} not defined", go_quote(name)),
        None => msg.trim().to_owned(),
    };
    format!("template: output:{line}: {msg}")
}

/// Go's `template: output:L:C: executing "output" at <.foo>: map has no
/// entry for key "foo"`. gtmpl does not say where the field was, so the
/// first field chain in the source that names the key is reported.
fn missing_key_message(raw: &str, key: &str) -> String {
    let (line, col, node) = locate_field(raw, key).unwrap_or((1, 0, format!(".{key}")));
    format!(
        "template: output:{line}:{col}: executing \"output\" at <{node}>: map has no entry for key {}",
        go_quote(key)
    )
}

fn locate_field(raw: &str, key: &str) -> Option<(usize, usize, String)> {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let bytes: Vec<(usize, char)> = raw.char_indices().collect();
    let mut i = 0;
    while i < bytes.len() {
        let (pos, c) = bytes[i];
        let starts_chain = (c == '.' || c == '$')
            && (i == 0 || !is_ident(bytes[i - 1].1) && bytes[i - 1].1 != '.');
        if !starts_chain {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < bytes.len() && (is_ident(bytes[j].1) || bytes[j].1 == '.') {
            j += 1;
        }
        let end = bytes.get(j).map_or(raw.len(), |b| b.0);
        let chain = &raw[pos..end];
        if chain.split('.').skip(1).any(|seg| seg == key) {
            let before = &raw[..pos];
            let line = 1 + before.matches('\n').count();
            let col = before.rfind('\n').map_or(pos, |nl| pos - nl - 1);
            return Some((line, col, chain.to_owned()));
        }
        i = j.max(i + 1);
    }
    None
}

/// Appends `| _gofmt` to every action that prints its pipeline (not
/// control words, comments or variable declarations). An action that is
/// never closed is an error carrying the line it starts on.
fn rewrite_print_actions(src: &str) -> Result<String, usize> {
    let mut out = String::with_capacity(src.len() + 16);
    let mut rest = src;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let Some(len) = action_len(after) else {
            let start = src.len() - rest.len() + open;
            return Err(1 + src[..start].matches('\n').count());
        };
        let inner = &after[..len];
        out.push_str("{{");
        out.push_str(&rewrite_action(inner));
        out.push_str("}}");
        rest = &after[len + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Length of an action's text up to its closing `}}`, skipping quoted text.
fn action_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' | b'\'' => {
                let q = b[i];
                i += 1;
                while i < b.len() && b[i] != q {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'`' => {
                i += 1;
                while i < b.len() && b[i] != b'`' {
                    i += 1;
                }
                i += 1;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let end = s[i + 2..].find("*/")?;
                i += end + 4;
            }
            b'}' if b.get(i + 1) == Some(&b'}') => return Some(i),
            _ => i += 1,
        }
    }
    None
}

fn rewrite_action(inner: &str) -> String {
    let (lead, body) = match inner.strip_prefix("- ") {
        Some(b) => ("- ", b),
        None => ("", inner),
    };
    let (body, trail) = match body.strip_suffix(" -") {
        Some(b) => (b, " -"),
        None => (body, ""),
    };
    let t = body.trim_start();
    let word: String = t
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    let control = matches!(
        word.as_str(),
        "if" | "else"
            | "end"
            | "range"
            | "with"
            | "define"
            | "template"
            | "block"
            | "break"
            | "continue"
    );
    if control || t.is_empty() || t.starts_with("/*") || is_declaration(t) {
        return inner.to_owned();
    }
    format!("{lead}{body} | _gofmt{trail}")
}

fn is_declaration(t: &str) -> bool {
    let Some(rest) = t.strip_prefix('$') else {
        return false;
    };
    let rest = rest.trim_start_matches(|c: char| c.is_alphanumeric() || c == '_');
    let rest = rest.trim_start();
    rest.starts_with(":=")
        || (rest.starts_with('=') && !rest.starts_with("=="))
        || rest.starts_with(',')
}

fn to_gtmpl(v: &Value, allow_missing: bool) -> Tv {
    match v {
        Value::Null => Tv::Nil,
        Value::Bool(b) => Tv::Bool(*b),
        Value::Number(n) => Tv::from(n.as_f64().unwrap_or(0.0)),
        Value::String(s) => Tv::String(s.clone()),
        Value::Array(a) => Tv::Array(a.iter().map(|x| to_gtmpl(x, allow_missing)).collect()),
        Value::Object(m) => {
            let map: HashMap<String, Tv> = m
                .iter()
                .map(|(k, x)| (k.clone(), to_gtmpl(x, allow_missing)))
                .collect();
            if allow_missing {
                Tv::Map(map)
            } else {
                Tv::Object(map)
            }
        }
    }
}

/// The debugging text kubectl writes to the output after a failed template
/// (`GoTemplatePrinter.PrintObj`). `obj` must already have its secret redacted.
pub fn debug_dump(err: &str, raw: &str, obj: &Value) -> String {
    format!(
        "Error executing template: {err}. Printing more information for debugging the template:\n\
         \ttemplate was:\n\t\t{raw}\n\
         \traw data was:\n\t\t{}\n\
         \tobject given to template engine was:\n\t\t{}\n\n",
        go_json_compact(obj),
        go_v(obj)
    )
}

mod funcs;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printing_actions_get_go_formatting_and_control_actions_do_not() {
        assert_eq!(rewrite_print_actions("{{.a}}").unwrap(), "{{.a | _gofmt}}");
        assert_eq!(
            rewrite_print_actions("{{- .a -}}").unwrap(),
            "{{- .a | _gofmt -}}"
        );
        assert_eq!(
            rewrite_print_actions("{{range .a}}{{.}}{{end}}").unwrap(),
            "{{range .a}}{{. | _gofmt}}{{end}}"
        );
        assert_eq!(
            rewrite_print_actions("{{$x := .a}}{{/* c */}}").unwrap(),
            "{{$x := .a}}{{/* c */}}"
        );
        assert_eq!(
            rewrite_print_actions(r#"{{"}}" | printf "%s"}}"#).unwrap(),
            r#"{{"}}" | printf "%s" | _gofmt}}"#
        );
        assert_eq!(rewrite_print_actions("x\n{{ .a"), Err(2));
    }

    #[test]
    fn missing_field_position_matches_go() {
        assert_eq!(locate_field("{{.foo}}", "foo"), Some((1, 2, ".foo".into())));
        assert_eq!(
            locate_field("x\n  {{.a.foo}}", "foo"),
            Some((2, 4, ".a.foo".into()))
        );
        assert_eq!(locate_field("{{.token}}", "foo"), None);
    }
}
