//! The template functions: Go's `print`, `println` and `printf` (gtmpl's
//! differ from Go's on lists, maps, `%q` and `%%`), kubectl's `exists` and
//! `base64decode`, and `_gofmt`, which every printing action ends in.

use gtmpl::{FuncError, Value as Tv};
use serde_json::Value;

use super::super::gofmt::{go_float, go_v};
use crate::token::go_quote;

fn from_gtmpl(v: &Tv) -> Value {
    match v {
        Tv::NoValue | Tv::Nil | Tv::Function(_) => Value::Null,
        Tv::Bool(b) => Value::Bool(*b),
        Tv::String(s) => Value::String(s.clone()),
        Tv::Number(n) => n
            .as_f64()
            .or_else(|| n.as_i64().map(|i| i as f64))
            .or_else(|| n.as_u64().map(|u| u as f64))
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Null, Value::Number),
        Tv::Array(a) => Value::Array(a.iter().map(from_gtmpl).collect()),
        Tv::Object(m) | Tv::Map(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), from_gtmpl(&m[k])))
                    .collect(),
            )
        }
    }
}

/// Go's `%v` of one template value.
pub(super) fn fmt_one(v: &Tv) -> String {
    match v {
        Tv::NoValue => "<no value>".to_owned(),
        Tv::Nil => "<nil>".to_owned(),
        Tv::String(s) => s.clone(),
        Tv::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (_, _, Some(f)) => go_float(f),
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            _ => n.to_string(),
        },
        Tv::Bool(b) => b.to_string(),
        Tv::Function(_) => "<func>".to_owned(),
        other => go_v(&from_gtmpl(other)),
    }
}

pub(super) fn go_fmt_value(args: &[Tv]) -> Result<Tv, FuncError> {
    match args {
        [v] => Ok(match v {
            Tv::String(_) => v.clone(),
            other => Tv::String(fmt_one(other)),
        }),
        _ => Err(FuncError::ExactlyXArgs("_gofmt".into(), 1)),
    }
}

/// `fmt.Sprint`: spaces between operands when neither is a string.
pub(super) fn go_print(args: &[Tv]) -> Result<Tv, FuncError> {
    let mut s = String::new();
    for (i, a) in args.iter().enumerate() {
        let is_str = matches!(a, Tv::String(_));
        if i > 0 && !is_str && !matches!(args[i - 1], Tv::String(_)) {
            s.push(' ');
        }
        s.push_str(&fmt_one(a));
    }
    Ok(Tv::String(s))
}

/// `fmt.Sprintln`: always spaces, then a newline.
pub(super) fn go_println(args: &[Tv]) -> Result<Tv, FuncError> {
    let parts: Vec<String> = args.iter().map(fmt_one).collect();
    Ok(Tv::String(format!("{}\n", parts.join(" "))))
}

/// `fmt.Sprintf` through gtmpl's, with lists and maps already rendered as
/// Go's `%v` (gtmpl prints maps unsorted and objects not at all) and `%q`
/// of a string done here (gtmpl leaves the quotes off).
/// gtmpl hands a verb's width and precision to Rust's formatter, which
/// panics above `u16::MAX` ("Formatting argument out of range"); Go fails
/// such a verb too (`%!(BADWIDTH)`), so it is an error here.
fn check_widths(format: &str) -> Result<(), FuncError> {
    let mut number = String::new();
    let mut in_verb = false;
    for c in format.chars() {
        if !in_verb {
            in_verb = c == '%';
            continue;
        }
        if c.is_ascii_digit() {
            number.push(c);
            if number.len() > 5 || number.parse::<u32>().unwrap_or(0) > u32::from(u16::MAX) {
                return Err(FuncError::Generic(format!(
                    "printf: width or precision {number}… is too large (at most {})",
                    u16::MAX
                )));
            }
            continue;
        }
        number.clear();
        // Flags, '.', and '*' keep the verb open; a letter (or `%`) ends it.
        in_verb = matches!(c, '+' | '-' | '#' | ' ' | '0' | '.' | '*' | '[' | ']');
    }
    Ok(())
}

pub(super) fn go_printf(args: &[Tv]) -> Result<Tv, FuncError> {
    let Some((Tv::String(format), rest)) = args.split_first() else {
        return gtmpl::funcs::printf(args);
    };
    check_widths(format)?;
    let mut rest: Vec<Tv> = rest
        .iter()
        .map(|a| match a {
            Tv::Array(_) | Tv::Map(_) | Tv::Object(_) => Tv::String(fmt_one(a)),
            other => other.clone(),
        })
        .collect();
    let mut new_format = String::with_capacity(format.len());
    let mut chars = format.chars().peekable();
    let mut arg = 0;
    while let Some(c) = chars.next() {
        new_format.push(c);
        if c != '%' {
            continue;
        }
        if chars.peek() == Some(&'%') {
            // gtmpl copies `%%` through unchanged; a private-use sentinel
            // stands in for it and becomes `%` after formatting.
            new_format.pop();
            new_format.push(PERCENT_SENTINEL);
            chars.next();
            continue;
        }
        while let Some(&f) = chars.peek() {
            if f.is_ascii_alphabetic() || f == '[' {
                break;
            }
            new_format.push(f);
            chars.next();
        }
        match chars.next() {
            Some('q') => {
                if let Some(Tv::String(s)) = rest.get(arg) {
                    rest[arg] = Tv::String(go_quote(s));
                    new_format.push('s');
                } else {
                    new_format.push('q');
                }
            }
            Some(v) => new_format.push(v),
            None => {}
        }
        arg += 1;
    }
    let mut all = vec![Tv::String(new_format)];
    all.extend(rest);
    match gtmpl::funcs::printf(&all)? {
        Tv::String(out) => Ok(Tv::String(out.replace(PERCENT_SENTINEL, "%"))),
        other => Ok(other),
    }
}

const PERCENT_SENTINEL: char = '\u{10FFFD}';

/// kubectl's `base64decode`.
pub(super) fn base64decode(args: &[Tv]) -> Result<Tv, FuncError> {
    use base64::Engine;
    let [Tv::String(s)] = args else {
        return Err(FuncError::Generic(
            "base64decode requires one string argument".into(),
        ));
    };
    match base64::engine::general_purpose::STANDARD.decode(s) {
        Ok(bytes) => Ok(Tv::String(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) => {
            let at = match e {
                base64::DecodeError::InvalidByte(i, _) => i,
                base64::DecodeError::InvalidLastSymbol { offset, .. } => offset,
                _ => s.len(),
            };
            Err(FuncError::Generic(format!(
                "base64 decode failed: illegal base64 data at input byte {at}"
            )))
        }
    }
}

/// kubectl's `exists item idx...`: could `index` reach this element?
pub(super) fn exists(args: &[Tv]) -> Result<Tv, FuncError> {
    let Some((first, indices)) = args.split_first() else {
        return Err(FuncError::AtLeastXArgs("exists".into(), 1));
    };
    let mut cur = first.clone();
    for idx in indices {
        let next = match (&cur, idx) {
            (Tv::Map(m) | Tv::Object(m), Tv::String(k)) => m.get(k).cloned().unwrap_or(Tv::Nil),
            (Tv::Array(a), Tv::Number(n)) => match n.as_i64().and_then(|i| usize::try_from(i).ok())
            {
                Some(i) if i < a.len() => a[i].clone(),
                _ => return Ok(Tv::Bool(false)),
            },
            _ => return Ok(Tv::Bool(false)),
        };
        cur = next;
    }
    Ok(Tv::Bool(!matches!(cur, Tv::Nil | Tv::NoValue)))
}
