//! `docs/rhai-api.md`, generated from the registered functions and their
//! `///` docs, so the reference cannot drift from the API. A test compares
//! the committed file with a fresh rendering; `UPDATE_DOCS=1 cargo test
//! --lib script::docs` rewrites it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::api::NAMESPACES;
use super::catalog::{FnDoc, FnKind};

const INTRO: &str = "\
# Rhai API reference

<!-- Generated from the functions tokensmith registers (src/script/api/).
     Do not edit: run `UPDATE_DOCS=1 cargo test --lib script::docs`. -->

Everything a tokensmith script can call beyond the Rhai language and its
standard library (strings, arrays, maps, math: see <https://rhai.rs/book/>).
The user guide (`docs/guide.md`) shows how the pieces fit together.

## The script's surroundings

- **`args`**: a map of the `--arg KEY=VALUE` pairs given to `tokensmith run`
  (values are strings). A missing key reads as `()`, so `args.ttl ?? \"24h\"`
  gives a default. It is visible inside functions too.
- **`print(x)`** and **`debug(x)`**: written to tokensmith's log (target
  `tokensmith::script`, with the script's path in the `script` field), at
  info and debug level. `run` and `repl` also show them on stdout and stderr.
  Any whole token in a log line or an error message is shown as
  `abcdef.****************`.
- **The result**: `tokensmith run` prints the value of the script's last
  expression unless it is `()`. An array of tokens prints as a table.
- **Errors**: a failing tokensmith function throws a `HostError` that
  `try { … } catch (e) { … }` can catch; `type_of(e) == \"HostError\"`
  tells it from a script's own `throw`, and `e.message` says what failed
  and where. No message ever contains a token secret. An uncaught error
  stops the script: `run` prints `file:line:col: message`, the line and a
  caret (in the file that failed, an imported module's too), then the calls
  that led there, and exits 1.
- **Editor support**: `tokensmith definitions DIR` writes Rhai
  language-server definition files for everything listed here.
- **Limits**: operations (`--max-operations`, default 20,000,000, which
  stops a runaway loop within seconds), call depth (`--max-call-depth`, 64),
  string size (`--max-string-size`, 1 MiB), array and map sizes
  (`--max-array-size` 100,000, `--max-map-size` 10,000), calls to the API
  server (`--max-api-calls`, 10,000, which stops a polling loop; not
  catchable) and wall time (`--timeout`, default 5m; `0` for none). Each
  limit's message names its flag. Scripts have no file, process or
  network access except through the functions below; `eval` is disabled.
- **Modules**: `import \"name\" as m;` loads `name.rhai` from the script's own
  directory only (no `..`, no absolute paths, no symlinks leading out).
";

/// The script-visible types the reference documents, in order.
const TYPES: [&str; 4] = ["Token", "Timestamp", "Duration", "HostError"];

/// The whole reference as Markdown.
pub fn render(functions: &[FnDoc]) -> String {
    let mut out = String::from(INTRO);
    let mut by_ns: BTreeMap<&str, Vec<&FnDoc>> = BTreeMap::new();
    let mut by_type: BTreeMap<String, Vec<&FnDoc>> = BTreeMap::new();
    for f in functions {
        match f.kind() {
            FnKind::Function => by_ns.entry(f.namespace.as_str()).or_default().push(f),
            // `int * Duration` belongs with Duration, not with int.
            FnKind::Operator => {
                let ty = f
                    .params
                    .iter()
                    .map(|p| {
                        p.rsplit(": ")
                            .next()
                            .unwrap_or(p)
                            .trim_start_matches("&mut ")
                    })
                    .find(|t| TYPES.contains(t))
                    .unwrap_or_default()
                    .to_owned();
                by_type.entry(ty).or_default().push(f);
            }
            _ => by_type
                .entry(f.receiver().unwrap_or_default())
                .or_default()
                .push(f),
        }
    }
    for ns in NAMESPACES {
        if let Some(fns) = by_ns.get(ns) {
            let _ = write!(out, "\n## `{ns}::`\n");
            functions_section(&mut out, fns);
        }
    }
    if let Some(fns) = by_ns.get("") {
        out.push_str("\n## Global functions\n");
        functions_section(&mut out, fns);
    }
    for ty in TYPES {
        if let Some(fns) = by_type.get(ty) {
            let _ = write!(out, "\n## Type `{ty}`\n");
            type_section(&mut out, fns);
        }
    }
    out
}

const TESTING_INTRO: &str = "
## Test-only functions (`tokensmith test`)

Only `*_test.rhai` files run by `tokensmith test` can call these (see
\"Testing your scripts\" in `docs/guide.md`). Each `fn test_*()` runs
against its own fresh dev cluster; `setup()`, when the file has one, runs
before each test. A failed assertion stops the test and is reported with
its file, line, column and both values.
";

/// The reference with the test-only section: `functions` are the whole
/// API, `with_tests` the API of a test host (its extra functions are the
/// test-only ones).
pub fn render_all(functions: &[FnDoc], with_tests: &[FnDoc]) -> String {
    let mut out = render(functions);
    let extra: Vec<&FnDoc> = with_tests
        .iter()
        .filter(|f| !functions.contains(f))
        .collect();
    if extra.is_empty() {
        return out;
    }
    out.push_str(TESTING_INTRO);
    let mut by_ns: BTreeMap<&str, Vec<&FnDoc>> = BTreeMap::new();
    let mut by_type: BTreeMap<String, Vec<&FnDoc>> = BTreeMap::new();
    for f in extra {
        match f.kind() {
            FnKind::Function => by_ns.entry(f.namespace.as_str()).or_default().push(f),
            _ => by_type
                .entry(f.receiver().unwrap_or_default())
                .or_default()
                .push(f),
        }
    }
    if let Some(fns) = by_ns.get("") {
        out.push_str("\n## Test-only: assertions and jobs\n");
        functions_section(&mut out, fns);
    }
    for ns in crate::testing::api::TEST_NAMESPACES {
        if let Some(fns) = by_ns.get(ns) {
            let _ = write!(out, "\n## Test-only: `{ns}::`\n");
            functions_section(&mut out, fns);
        }
    }
    for (ty, fns) in &by_type {
        let _ = write!(out, "\n## Test-only type `{ty}`\n");
        type_section(&mut out, fns);
    }
    out
}

/// One `###` per name, each overload's signature and doc beneath it.
fn functions_section(out: &mut String, fns: &[&FnDoc]) {
    let mut by_name: BTreeMap<String, Vec<&FnDoc>> = BTreeMap::new();
    for f in fns {
        by_name.entry(f.qualified_name()).or_default().push(f);
    }
    for (name, overloads) in by_name {
        let _ = write!(out, "\n### `{name}`\n");
        for f in overloads {
            let _ = write!(out, "\n```\n{}\n```\n", f.signature());
            if !f.doc.is_empty() {
                let _ = write!(out, "\n{}\n", f.doc.trim_end());
            }
        }
    }
}

fn type_section(out: &mut String, fns: &[&FnDoc]) {
    let doc_of = |kind: FnKind| -> Vec<&&FnDoc> {
        let mut v: Vec<&&FnDoc> = fns.iter().filter(|f| f.kind() == kind).collect();
        v.sort_by_key(|f| f.signature());
        v
    };
    let props = doc_of(FnKind::Property);
    if !props.is_empty() {
        out.push_str("\n### Properties\n");
        for f in props {
            let _ = write!(out, "\n#### `{}`\n", f.signature());
            if !f.doc.is_empty() {
                let _ = write!(out, "\n{}\n", f.doc.trim_end());
            }
        }
    }
    let methods = doc_of(FnKind::Method);
    if !methods.is_empty() {
        out.push_str("\n### Methods\n");
        for f in methods {
            let _ = write!(out, "\n#### `{}`\n", f.signature());
            if !f.doc.is_empty() {
                let _ = write!(out, "\n{}\n", f.doc.trim_end());
            }
        }
    }
    let ops = doc_of(FnKind::Operator);
    if !ops.is_empty() {
        out.push_str("\n### Operators\n\n");
        for f in &ops {
            let _ = writeln!(out, "- `{}`", f.signature());
        }
        for f in ops.iter().filter(|f| !f.doc.is_empty()) {
            let _ = write!(out, "\n`{}`: {}\n", f.signature(), f.doc.trim_end());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::{ScriptHost, ScriptOptions, catalog};

    const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rhai-api.md");

    #[test]
    fn committed_api_reference_is_current() {
        let host = ScriptHost::new(None, ScriptOptions::default());
        let tests = ScriptHost::for_tests(None, ScriptOptions::default(), None);
        let fresh = render_all(
            &catalog::api_functions(&host),
            &catalog::api_functions(&tests),
        );
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(PATH, &fresh).expect("write docs/rhai-api.md");
            return;
        }
        let committed = std::fs::read_to_string(PATH).unwrap_or_default();
        assert!(
            committed == fresh,
            "docs/rhai-api.md is stale: run `UPDATE_DOCS=1 cargo test --lib script::docs` and commit it"
        );
    }

    #[test]
    fn every_example_in_the_reference_compiles() {
        let host = ScriptHost::for_tests(None, ScriptOptions::default(), None);
        for f in catalog::api_functions(&host) {
            for block in f.doc.split("```rhai").skip(1) {
                let code = block.split("```").next().unwrap_or_default();
                if let Err(e) = host.compile_str(&f.signature(), code) {
                    panic!("example of {} does not compile: {e}", f.signature());
                }
            }
        }
    }
}
