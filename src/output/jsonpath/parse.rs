//! kubectl's JSONPath template parser (client-go `util/jsonpath/parser.go`):
//! text, `{…}` actions and their steps, `range` bodies nested up to `end`.

use jsonpath_rust::JsonPath;
use serde_json::Value;

use super::{MAX_RANGE_DEPTH, Node, Param, Step};

/// The template as nodes, ranges nested.
pub(super) fn parse(raw: &str) -> Result<Vec<Node>, String> {
    let flat = parse_flat(raw)?;
    let mut it = flat.into_iter();
    nest(&mut it, 0)
}

/// Builds the nested node list; `range` opens a body that `end` closes.
/// `depth` is the number of open ranges; it is bounded so that a hostile
/// template cannot exhaust the stack.
fn nest(it: &mut std::vec::IntoIter<Node>, depth: usize) -> Result<Vec<Node>, String> {
    let mut out = Vec::new();
    while let Some(node) = it.next() {
        match node {
            Node::Action(steps) if steps.first() == Some(&Step::Range) => {
                if depth >= MAX_RANGE_DEPTH {
                    return Err(format!("range nested deeper than {MAX_RANGE_DEPTH}"));
                }
                let body = nest(it, depth + 1)?;
                out.push(Node::Range(steps, body));
            }
            Node::Action(steps) if steps.first() == Some(&Step::End) => {
                if depth == 0 {
                    return Err("not in range, nothing to end".to_owned());
                }
                return Ok(out);
            }
            n => out.push(n),
        }
    }
    Ok(out)
}

/// Splits the template into text and actions (`Parser.parseText`,
/// `parseLeftDelim`, `parseInsideAction`).
fn parse_flat(raw: &str) -> Result<Vec<Node>, String> {
    let mut nodes = Vec::new();
    let mut p = Cursor { s: raw, pos: 0 };
    loop {
        let rest = &raw[p.pos..];
        let Some(open) = rest.find('{') else {
            if !rest.is_empty() {
                nodes.push(Node::Text(rest.to_owned()));
            }
            return Ok(nodes);
        };
        if open > 0 {
            nodes.push(Node::Text(rest[..open].to_owned()));
        }
        p.pos += open + 1;
        nodes.push(Node::Action(parse_action(&mut p, true)?));
    }
}

struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl Cursor<'_> {
    fn rest(&self) -> &str {
        &self.s[self.pos..]
    }
    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }
    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }
}

fn is_terminator(c: char) -> bool {
    matches!(c, ' ' | '.' | ',' | '[' | ']' | '$' | '@' | '{' | '}')
}

/// Parses the inside of one action up to its `}` (or, for a nested
/// expression such as a union member, to the end of the input).
fn parse_action(p: &mut Cursor, delimited: bool) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    loop {
        let rest = p.rest();
        if delimited && rest.starts_with('}') {
            p.pos += 1;
            return Ok(steps);
        }
        if rest.starts_with("[?(") {
            p.pos += 3;
            steps.push(parse_filter(p)?);
            continue;
        }
        if rest.starts_with("..") {
            // client-go's parseRecursive: `....` is refused, not walked twice.
            if steps.last() == Some(&Step::Recursive) {
                return Err("invalid multiple recursive descent".to_owned());
            }
            p.pos += 2;
            steps.push(Step::Recursive);
            if p.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                steps.push(parse_field(p));
            }
            continue;
        }
        let Some(c) = p.bump() else {
            if delimited {
                return Err("unclosed action".to_owned());
            }
            return Ok(steps);
        };
        match c {
            '\r' | '\n' => return Err("unclosed action".to_owned()),
            ' ' | '@' | '$' => {}
            '[' => steps.push(parse_array(p)?),
            '"' | '\'' => steps.push(Step::Text(parse_quote(p, c)?)),
            '.' => steps.push(parse_field(p)),
            c if c == '+' || c == '-' || c.is_ascii_digit() => {
                let start = p.pos - 1;
                while p
                    .peek()
                    .is_some_and(|c| c.is_ascii_digit() || c == '.' || c == 'e')
                {
                    p.bump();
                }
                let text = &p.s[start..p.pos];
                let n = text
                    .parse::<i64>()
                    .map_err(|_| format!("cannot parse number {text}"))?;
                steps.push(Step::Int(n));
            }
            c if c.is_alphanumeric() || c == '_' => {
                let start = p.pos - c.len_utf8();
                while p.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    p.bump();
                }
                let word = &p.s[start..p.pos];
                steps.push(match word {
                    "range" => Step::Range,
                    "end" => Step::End,
                    "true" => Step::Bool(true),
                    "false" => Step::Bool(false),
                    w => return Err(format!("unrecognized identifier {w}")),
                });
            }
            c => return Err(format!("unrecognized character in action: {}", go_rune(c))),
        }
    }
}

/// Go's `%#U`: `U+0027 '''`.
fn go_rune(c: char) -> String {
    format!("U+{:04X} '{c}'", c as u32)
}

/// `parseField`: up to the next unescaped terminator; backslashes dropped.
fn parse_field(p: &mut Cursor) -> Step {
    let start = p.pos;
    while let Some(c) = p.peek() {
        if c == '\\' {
            p.bump();
            p.bump();
        } else if is_terminator(c) {
            break;
        } else {
            p.bump();
        }
    }
    let value = &p.s[start..p.pos];
    if value == "*" {
        Step::Wildcard
    } else {
        Step::Field(value.replace('\\', ""))
    }
}

/// `parseQuote`: a Go-quoted literal, unquoted.
fn parse_quote(p: &mut Cursor, quote: char) -> Result<String, String> {
    let start = p.pos;
    loop {
        match p.bump() {
            None => return Err("unterminated quoted string".to_owned()),
            Some('\\') => {
                if p.bump().is_none() {
                    return Err("unterminated quoted string".to_owned());
                }
            }
            Some(c) if c == quote => break,
            Some(_) => {}
        }
    }
    let body = &p.s[start..p.pos - quote.len_utf8()];
    go_unquote(body)
        .ok_or_else(|| format!("unquote string {quote}{body}{quote} error: invalid syntax"))
}

fn go_unquote(body: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = chars.next()?;
        let hex = |chars: &mut std::str::Chars, n: usize| -> Option<u32> {
            let s: String = chars.by_ref().take(n).collect();
            if s.len() != n {
                return None;
            }
            u32::from_str_radix(&s, 16).ok()
        };
        match e {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'v' => out.push('\u{b}'),
            '\\' | '"' | '\'' => out.push(e),
            'x' => out.push(char::from_u32(hex(&mut chars, 2)?)?),
            'u' => out.push(char::from_u32(hex(&mut chars, 4)?)?),
            'U' => out.push(char::from_u32(hex(&mut chars, 8)?)?),
            '0'..='7' => {
                let rest: String = chars.by_ref().take(2).collect();
                let v = u32::from_str_radix(&format!("{e}{rest}"), 8).ok()?;
                out.push(char::from_u32(v)?);
            }
            _ => return None,
        }
    }
    Some(out)
}

/// `parseArray`: `[*]`, `[n]`, `[a:b:c]`, `['key']`, unions `[a,b]`.
fn parse_array(p: &mut Cursor) -> Result<Step, String> {
    let start = p.pos;
    loop {
        match p.bump() {
            None | Some('\n') => return Err("unterminated array".to_owned()),
            Some(']') => break,
            Some(_) => {}
        }
    }
    let mut text = p.s[start..p.pos - 1].to_owned();
    if text == "*" {
        text = ":".to_owned();
    }
    let parts: Vec<&str> = text.split(',').collect();
    if parts.len() > 1 {
        let mut branches = Vec::new();
        for part in parts {
            let sub = format!("[{}]", part.trim_matches(' '));
            let mut c = Cursor { s: &sub, pos: 0 };
            branches.push(parse_action(&mut c, false)?);
        }
        return Ok(Step::Union(branches));
    }
    if text.len() >= 2
        && text.starts_with('\'')
        && text.ends_with('\'')
        && !text[1..text.len() - 1].contains('\'')
    {
        // kubectl parses a dict key as `.key`, so dots in it split the path.
        let sub = format!(".{}", &text[1..text.len() - 1]);
        let mut c = Cursor { s: &sub, pos: 0 };
        let steps = parse_action(&mut c, false)?;
        return Ok(if steps.len() == 1 {
            steps.into_iter().next().unwrap_or(Step::Union(vec![]))
        } else {
            Step::Union(vec![steps])
        });
    }
    parse_slice(&text)
}

/// `^(-?[\d]*)(:-?[\d]*)?(:-?[\d]*)?$`
fn parse_slice(text: &str) -> Result<Step, String> {
    let invalid = || format!("invalid array index {text}");
    let pieces: Vec<&str> = text.split(':').collect();
    if pieces.len() > 3 {
        return Err(invalid());
    }
    let valid = |s: &str| {
        let d = s.strip_prefix('-').unwrap_or(s);
        d.chars().all(|c| c.is_ascii_digit())
    };
    if !pieces.iter().all(|s| valid(s)) {
        return Err(invalid());
    }
    let mut params = [Param::default(); 3];
    for i in 0..3 {
        match pieces.get(i) {
            Some(s) if !s.is_empty() => {
                let v = s
                    .parse::<i64>()
                    .map_err(|_| format!("array index {s} is not a number"))?;
                params[i] = Param {
                    known: true,
                    value: v,
                    derived: false,
                };
            }
            Some(_) if i > 0 => params[i] = Param::default(),
            Some(_) if pieces.len() == 1 => {
                return Err(format!("array index {text} is not a number"));
            }
            _ if i == 1 => {
                params[1] = Param {
                    known: true,
                    value: params[0].value.saturating_add(1),
                    derived: true,
                };
            }
            _ => params[i] = Param::default(),
        }
    }
    Ok(Step::Array(params))
}

/// `parseFilter`: up to `)]`, quotes respected; checked with jsonpath-rust
/// now so that a bad filter is a parse error, as in kubectl.
fn parse_filter(p: &mut Cursor) -> Result<Step, String> {
    let start = p.pos;
    let (mut begin, mut end, mut pair) = (false, false, '"');
    loop {
        let Some(c) = p.bump() else {
            return Err("unterminated filter".to_owned());
        };
        match c {
            '\n' => return Err("unterminated filter".to_owned()),
            '"' | '\'' => {
                if !begin {
                    begin = true;
                    pair = c;
                    continue;
                }
                if c == pair && !p.s[..p.pos - 1].ends_with('\\') {
                    end = true;
                }
            }
            ')' if begin == end => break,
            _ => {}
        }
    }
    if p.bump() != Some(']') {
        return Err("unclosed array expect ]".to_owned());
    }
    let expr = p.s[start..p.pos - 2].to_owned();
    Value::Null
        .query(&format!("$[?({expr})]"))
        .map_err(|e| format!("invalid filter {expr}: {e}"))?;
    Ok(Step::Filter(expr))
}
