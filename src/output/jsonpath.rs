//! `-o jsonpath` / `jsonpath-as-json` / `jsonpath-file`: kubectl's template
//! layer (client-go `util/jsonpath`: parser.go and jsonpath.go) — literal
//! text, `{…}` actions, `{range}…{end}`, quoted literals such as `{"\n"}`,
//! space-joined results, JSON for lists and maps, and kubectl's errors.
//! Filters (`[?(@.x == "y")]`) are evaluated by jsonpath-rust; field,
//! index, slice, wildcard, union and recursive steps are walked here because
//! kubectl's missing-key and bounds errors depend on each step.

use jsonpath_rust::JsonPath;
use serde_json::Value;

use super::gofmt::go_float;
use super::object::{go_json_compact, go_json_indent};

const MAX_RANGE_DEPTH: usize = 100;

/// One step of a path inside an action.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    Field(String),
    Wildcard,
    Recursive,
    Array([Param; 3]),
    Union(Vec<Vec<Step>>),
    Filter(String),
    Text(String),
    Int(i64),
    Bool(bool),
    Range,
    End,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Param {
    known: bool,
    value: i64,
    derived: bool,
}

/// A parsed template: text and actions, with `range` bodies nested.
#[derive(Clone, Debug, PartialEq)]
enum Node {
    Text(String),
    Action(Vec<Step>),
    Range(Vec<Step>, Vec<Node>),
}

#[derive(Debug)]
pub struct JsonPathTemplate {
    nodes: Vec<Node>,
    allow_missing_keys: bool,
    as_json: bool,
}

impl JsonPathTemplate {
    /// `NewJSONPathPrinter`: on failure, the reason kubectl puts after
    /// `error parsing jsonpath <raw>, `.
    pub fn parse(raw: &str, allow_missing_keys: bool, as_json: bool) -> Result<Self, String> {
        let nodes = parse::parse(raw)?;
        Ok(Self {
            nodes,
            allow_missing_keys,
            as_json,
        })
    }

    /// `JSONPath.Execute`: all results are found first, so a failure
    /// prints nothing.
    pub fn execute(&self, data: &Value) -> Result<String, String> {
        let mut out = String::new();
        self.run(&self.nodes, data, &mut out)?;
        Ok(out)
    }

    fn run(&self, nodes: &[Node], root: &Value, out: &mut String) -> Result<(), String> {
        for node in nodes {
            match node {
                Node::Text(t) => self.print(&[Value::String(t.clone())], out),
                Node::Action(steps) => {
                    let results = self.eval_list(vec![root.clone()], steps)?;
                    self.print(&results, out);
                }
                Node::Range(steps, body) => {
                    for value in self.eval_list(vec![root.clone()], steps)? {
                        self.run(body, &value, out)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// `PrintResults`.
    fn print(&self, results: &[Value], out: &mut String) {
        if self.as_json {
            out.push_str(&go_json_indent(&Value::Array(results.to_vec())));
            out.push('\n');
            return;
        }
        for (i, r) in results.iter().enumerate() {
            match r {
                Value::Array(_) | Value::Object(_) => out.push_str(&go_json_compact(r)),
                Value::String(s) => out.push_str(s),
                // `fmt.Fprint` of a nil interface.
                Value::Null => out.push_str("<nil>"),
                Value::Bool(b) => out.push_str(&b.to_string()),
                Value::Number(n) => out.push_str(&match n.as_i64() {
                    Some(i) if !n.is_f64() => i.to_string(),
                    _ => go_float(n.as_f64().unwrap_or(0.0)),
                }),
            }
            if i + 1 != results.len() {
                out.push(' ');
            }
        }
    }

    fn eval_list(&self, mut cur: Vec<Value>, steps: &[Step]) -> Result<Vec<Value>, String> {
        for step in steps {
            cur = self.eval(cur, step)?;
        }
        Ok(cur)
    }

    fn eval(&self, input: Vec<Value>, step: &Step) -> Result<Vec<Value>, String> {
        Ok(match step {
            Step::Range | Step::End => input,
            Step::Text(t) => vec![Value::String(t.clone())],
            Step::Int(i) => vec![Value::from(*i)],
            Step::Bool(b) => vec![Value::Bool(*b)],
            Step::Field(name) => {
                if input.is_empty() {
                    return Ok(input);
                }
                if name.is_empty() {
                    return Ok(input);
                }
                let results: Vec<Value> = input
                    .iter()
                    .filter_map(|v| v.as_object().and_then(|m| m.get(name)).cloned())
                    .collect();
                if results.is_empty() && !self.allow_missing_keys {
                    return Err(format!("{name} is not found"));
                }
                results
            }
            Step::Wildcard => input
                .iter()
                .flat_map(|v| match v {
                    Value::Object(m) => m.values().cloned().collect(),
                    _ => Vec::new(),
                })
                .collect(),
            Step::Recursive => {
                let mut out = Vec::new();
                for v in &input {
                    recurse(v, &mut out);
                }
                out
            }
            Step::Array(params) => eval_array(input, params)?,
            Step::Union(branches) => {
                let mut out = Vec::new();
                for b in branches {
                    out.extend(self.eval_list(input.clone(), b)?);
                }
                out
            }
            Step::Filter(expr) => {
                let mut out = Vec::new();
                for v in &input {
                    if !v.is_array() {
                        return Err(format!(
                            "{} is not array or slice and cannot be filtered",
                            go_type(v)
                        ));
                    }
                    let found = v
                        .query(&format!("$[?({expr})]"))
                        .map_err(|e| format!("unable to evaluate filter {expr}: {e}"))?;
                    out.extend(found.into_iter().cloned());
                }
                out
            }
        })
    }
}

/// `evalRecursive`: the value itself (when it has children), then its
/// descendants, depth first.
fn recurse(v: &Value, out: &mut Vec<Value>) {
    let children: Vec<&Value> = match v {
        Value::Object(m) => m.values().collect(),
        Value::Array(a) => a.iter().collect(),
        _ => return,
    };
    if children.is_empty() {
        return;
    }
    out.push(v.clone());
    for c in children {
        recurse(c, out);
    }
}

fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Object(_) => "map[string]interface {}",
        Value::Array(_) => "[]interface {}",
        Value::String(_) => "string",
        Value::Number(_) => "float64",
        Value::Bool(_) => "bool",
        Value::Null => "interface {}",
    }
}

/// `evalArray`, bounds errors included.
fn eval_array(input: Vec<Value>, params: &[Param; 3]) -> Result<Vec<Value>, String> {
    let mut result = Vec::new();
    for value in &input {
        let Value::Array(arr) = value else {
            if value.is_null() {
                continue;
            }
            return Err(format!("{} is not array or slice", go_type(value)));
        };
        let len = arr.len() as i64;
        let mut p = *params;
        if !p[0].known {
            p[0].value = 0;
        }
        // Indexes come from the user: saturate rather than overflow.
        if p[0].value < 0 {
            p[0].value = p[0].value.saturating_add(len);
        }
        if !p[1].known {
            p[1].value = len;
        }
        if p[1].value < 0 || (p[1].value == 0 && p[1].derived) {
            p[1].value = p[1].value.saturating_add(len);
        }
        if p[1].value == p[0].value {
            return Ok(result);
        }
        if p[0].value >= len || p[0].value < 0 {
            return Err(format!(
                "array index out of bounds: index {}, length {len}",
                p[0].value
            ));
        }
        if p[1].value > len || p[1].value < 0 {
            return Err(format!(
                "array index out of bounds: index {}, length {len}",
                p[1].value.saturating_sub(1)
            ));
        }
        if p[0].value > p[1].value {
            return Err(format!(
                "starting index {} is greater than ending index {}",
                p[0].value, p[1].value
            ));
        }
        let step = if p[2].known {
            if p[2].value <= 0 {
                return Err("step must be > 0".to_owned());
            }
            p[2].value as usize
        } else {
            1
        };
        result.extend(
            arr[p[0].value as usize..p[1].value as usize]
                .iter()
                .step_by(step)
                .cloned(),
        );
    }
    Ok(result)
}

mod parse;

#[cfg(test)]
mod tests;
