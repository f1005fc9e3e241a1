//! The registered functions as data: names, signatures and `///` docs, read
//! back from the engine itself. The API reference, the REPL's `:help`,
//! `:functions` and completion, and `check` all use this one list, so none of
//! them can drift from what scripts can actually call.

use std::collections::BTreeSet;

use rhai::Engine;

use super::host::ScriptHost;

/// One registered function (one overload).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FnDoc {
    /// `token`, `join`, `log`, or empty for a global function.
    pub namespace: String,
    /// As registered: `create`, `get$id` for a property, `+` for an operator.
    pub name: String,
    /// `name: Type` for each parameter.
    pub params: Vec<String>,
    pub returns: String,
    /// The doc comment, without the `///` markers.
    pub doc: String,
}

/// What a function is, for grouping in the reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FnKind {
    Function,
    Property,
    Method,
    Operator,
}

impl FnDoc {
    pub fn kind(&self) -> FnKind {
        if self.name.starts_with("get$") {
            FnKind::Property
        } else if !self
            .name
            .starts_with(|c: char| c.is_alphabetic() || c == '_')
        {
            FnKind::Operator
        } else if self.params.first().is_some_and(|p| p.contains("&mut ")) {
            FnKind::Method
        } else {
            FnKind::Function
        }
    }

    /// `token::create` or `now`; a property's name without `get$`.
    pub fn qualified_name(&self) -> String {
        let name = self.name.strip_prefix("get$").unwrap_or(&self.name);
        if self.namespace.is_empty() || self.kind() != FnKind::Function {
            name.to_owned()
        } else {
            format!("{}::{name}", self.namespace)
        }
    }

    /// The type a method, property or operator belongs to (its first parameter).
    pub fn receiver(&self) -> Option<String> {
        match self.kind() {
            FnKind::Function => None,
            _ => self.params.first().map(|p| param_type(p)),
        }
    }

    /// A readable signature: `token::create(options: Map) -> Token`,
    /// `Token.id -> String`, `Timestamp + Duration -> Timestamp`.
    pub fn signature(&self) -> String {
        let ret = &self.returns;
        let arrow = if ret == "()" {
            String::new()
        } else {
            format!(" -> {ret}")
        };
        match self.kind() {
            FnKind::Property => format!(
                "{}.{}{arrow}",
                self.receiver().unwrap_or_default(),
                self.qualified_name()
            ),
            FnKind::Operator => match self.params.as_slice() {
                [a] => format!("{}{}{arrow}", self.name, param_type(a)),
                [a, b] => format!("{} {} {}{arrow}", param_type(a), self.name, param_type(b)),
                _ => format!("{}({}){arrow}", self.name, self.params.join(", ")),
            },
            FnKind::Method => format!(
                "{}.{}({}){arrow}",
                self.receiver().unwrap_or_default(),
                self.name,
                self.params[1..].join(", ")
            ),
            FnKind::Function => {
                format!(
                    "{}({}){arrow}",
                    self.qualified_name(),
                    self.params.join(", ")
                )
            }
        }
    }
}

/// The type half of `name: Type`.
fn param_type(p: &str) -> String {
    let t = p.split_once(": ").map_or(p, |(_, t)| t);
    t.trim_start_matches("&mut ").to_owned()
}

/// Functions that take or return `Dynamic` say what they really accept.
fn refine(f: &mut FnDoc) {
    let returns = match (f.namespace.as_str(), f.name.as_str()) {
        (_, "get$expires" | "get$created") => Some("Timestamp or ()"),
        (_, "get$ttl") => Some("Duration or ()"),
        ("token", "get" | "current") => Some("Token or ()"),
        ("token", "delete") => Some("() or Array"),
        (_, "get$rotation") => Some("String or ()"),
        ("cluster", "context") => Some("String or ()"),
        ("", "env") => Some("String or ()"),
        _ => None,
    };
    if let Some(r) = returns {
        f.returns = r.to_owned();
    }
    for p in &mut f.params {
        let better = match p.as_str() {
            "token: any" => "token: Token or String",
            "id: any" => "id: String or Token",
            "what: any" => "what: String or Token or Array",
            "sink: any" => "sink: Map",
            "d: any" => "d: Duration or String",
            _ => continue,
        };
        *p = better.to_owned();
    }
}

/// Rust spellings in the metadata, as a script author reads them.
fn script_type(t: &str) -> String {
    let t = t.trim().trim_start_matches("&mut ").trim_start_matches('&');
    let t = t
        .strip_prefix("Result<")
        .and_then(|r| r.strip_suffix(", Box<EvalAltResult>>"))
        .unwrap_or(t);
    match t {
        "str" | "String" | "ImmutableString" => "String",
        "INT" | "i64" => "int",
        "FLOAT" | "f64" => "float",
        "Dynamic" => "any",
        "" => "()",
        other => other,
    }
    .to_owned()
}

fn clean_param(p: &str) -> String {
    match p.split_once(": ") {
        Some((name, ty)) => {
            let by_ref = ty.starts_with("&mut ");
            let t = script_type(ty);
            if by_ref {
                format!("{name}: &mut {t}")
            } else {
                format!("{name}: {t}")
            }
        }
        None => p.to_owned(),
    }
}

/// `///` lines joined into Markdown text.
fn clean_doc(comments: &[impl AsRef<str>]) -> String {
    comments
        .iter()
        .flat_map(|c| c.as_ref().lines().map(str::to_owned).collect::<Vec<_>>())
        .map(|l| {
            let l = l.trim_start();
            let l = l.strip_prefix("///").unwrap_or(l);
            l.strip_prefix(' ').unwrap_or(l).to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn collect(engine: &Engine, include_standard: bool) -> Vec<FnDoc> {
    let mut all = engine.collect_fn_metadata(
        None,
        |info| {
            Some(FnDoc {
                namespace: info.namespace.to_string(),
                name: info.metadata.name.to_string(),
                params: info
                    .metadata
                    .params_info
                    .iter()
                    .map(|p| clean_param(p))
                    .collect(),
                returns: script_type(&info.metadata.return_type),
                doc: clean_doc(&info.metadata.comments),
            })
        },
        include_standard,
    );
    all.iter_mut().for_each(refine);
    all.sort();
    all.dedup();
    all
}

/// tokensmith's own functions, without Rhai's standard library.
pub fn api_functions(host: &ScriptHost) -> Vec<FnDoc> {
    collect(&host.api_engine(), true)
}

/// Every function a script can call, Rhai's standard library included.
pub fn all_functions(engine: &Engine) -> Vec<FnDoc> {
    collect(engine, true)
}

/// Language keywords that look like function calls but are not registered.
pub const KEYWORD_FUNCTIONS: [&str; 10] = [
    "print",
    "debug",
    "type_of",
    "Fn",
    "call",
    "curry",
    "is_shared",
    "is_def_fn",
    "is_def_var",
    "eval",
];

/// Names to complete in the REPL: `token::create`, `now`, `to_rfc3339`, …
pub fn completion_names(engine: &Engine) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = all_functions(engine)
        .iter()
        .filter(|f| f.kind() != FnKind::Operator)
        .map(FnDoc::qualified_name)
        .filter(|n| !n.is_empty())
        .collect();
    names.extend(
        KEYWORD_FUNCTIONS
            .iter()
            .filter(|k| **k != "eval")
            .map(|k| k.to_string()),
    );
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::ScriptOptions;

    fn api() -> Vec<FnDoc> {
        api_functions(&ScriptHost::new(None, ScriptOptions::default()))
    }

    #[test]
    fn every_api_function_has_a_doc_with_a_rhai_example() {
        let missing: Vec<String> = api()
            .iter()
            .filter(|f| f.kind() != FnKind::Operator || f.name == "+" || f.name == "-")
            .filter(|f| !f.doc.contains("```rhai"))
            .map(FnDoc::signature)
            .collect();
        assert!(missing.is_empty(), "undocumented: {missing:#?}");
    }

    #[test]
    fn signatures_read_as_script_authors_write_them() {
        let sigs: Vec<String> = api().iter().map(FnDoc::signature).collect();
        for want in [
            "token::create(options: Map) -> Token",
            "token::generate() -> Token",
            "Token.id -> String",
            "Timestamp + Duration -> Timestamp",
            "log::info(message: any)",
            "duration(text: String) -> Duration",
        ] {
            assert!(sigs.iter().any(|s| s == want), "{want} not in {sigs:#?}");
        }
    }

    #[test]
    fn completion_knows_api_and_standard_names() {
        let h = ScriptHost::new(None, ScriptOptions::default());
        let names = completion_names(&h.engine());
        for n in [
            "token::create",
            "join::command",
            "log::debug",
            "now",
            "len",
            "print",
            "to_rfc3339",
        ] {
            assert!(names.contains(n), "{n}");
        }
    }
}
