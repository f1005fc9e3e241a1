//! A `token create|delete|generate|list` command line read as kubeadm's
//! cobra/pflag reads it, before clap sees it: flags in order, each value
//! parsed as it is met, so the first bad flag is the error reported
//! (pflag `FlagSet.parseArgs`, `parseLongArg`, `parseSingleShortArg`), and
//! what pflag takes for a value or a positional argument is what tokensmith
//! takes too. A line pflag accepts is handed to clap rewritten as
//! `--name=value` flags followed by `--` and the positional arguments.

use std::ffi::OsString;

use crate::token::{go_quote, parse_go_duration};

/// How pflag reads a flag's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `BoolVar`: no value needed (`NoOptDefVal` "true"); `=v` is `strconv.ParseBool`.
    Bool,
    /// One of tokensmith's own switches (`--dev`, `-v`, `-q`): no value
    /// needed; anything else about it is clap's to judge.
    Switch,
    String,
    /// `DurationVar`: `time.ParseDuration`.
    Duration,
    /// `StringSliceVar`: each value one CSV record.
    StringSlice,
    /// klog's `--v` Level: `strconv.ParseInt(v, 10, 32)`.
    Level,
}

struct Flag {
    long: &'static str,
    short: Option<u8>,
    kind: Kind,
}

const fn flag(long: &'static str, kind: Kind) -> Flag {
    Flag {
        long,
        short: None,
        kind,
    }
}

/// Flags every `token` subcommand has: kubeadm's persistent ones (`token`'s
/// `--kubeconfig` and `--dry-run`, the root's `--rootfs` and klog's `--v`),
/// cobra's `-h, --help`, and tokensmith's own global options.
const GLOBAL: &[Flag] = &[
    flag("kubeconfig", Kind::String),
    flag("dry-run", Kind::Bool),
    flag("rootfs", Kind::String),
    flag("v", Kind::Level),
    Flag {
        long: "help",
        short: Some(b'h'),
        kind: Kind::Bool,
    },
    flag("context", Kind::String),
    flag("dev", Kind::Switch),
    Flag {
        long: "verbose",
        short: Some(b'v'),
        kind: Kind::Switch,
    },
    Flag {
        long: "quiet",
        short: Some(b'q'),
        kind: Kind::Switch,
    },
    flag("log-format", Kind::String),
];

/// `kubeadm token create`'s own flags.
const CREATE: &[Flag] = &[
    flag("config", Kind::String),
    flag("print-join-command", Kind::Bool),
    flag("certificate-key", Kind::String),
    flag("ttl", Kind::Duration),
    flag("usages", Kind::StringSlice),
    flag("groups", Kind::StringSlice),
    flag("description", Kind::String),
];

/// `kubeadm token list`'s: genericclioptions' print flags.
const LIST: &[Flag] = &[
    Flag {
        long: "output",
        short: Some(b'o'),
        kind: Kind::String,
    },
    flag("template", Kind::String),
    flag("allow-missing-template-keys", Kind::Bool),
    flag("show-managed-fields", Kind::Bool),
];

/// Bool flags clap reads with a value (`--allow-missing-template-keys=false`);
/// the others are clap switches, present or not.
const CLAP_BOOL_WITH_VALUE: &[&str] = &["allow-missing-template-keys"];

fn local_flags(subcommand: &str) -> Option<&'static [Flag]> {
    match subcommand {
        "create" => Some(CREATE),
        "list" => Some(LIST),
        "delete" | "generate" => Some(&[]),
        _ => None,
    }
}

/// What pflag made of a `token` command line.
#[derive(Debug, PartialEq, Eq)]
pub enum Reading {
    /// pflag stops here: its message (without kubeadm's `error: `).
    Error(String),
    /// The same command line, as clap should parse it.
    Rewritten(Vec<OsString>),
}

/// Reads `argv` (program name first) as kubeadm would if it is a
/// `token create|delete|generate|list` command line; `None` for any other
/// line, for one asking for help and nothing wrong before it, and for
/// arguments that are not UTF-8 (clap's own errors cover those).
pub fn read(argv: &[OsString]) -> Option<Reading> {
    let args: Vec<&str> = argv
        .iter()
        .skip(1)
        .map(|a| a.to_str())
        .collect::<Option<_>>()?;
    let (token_at, sub_at) = command_path(&args)?;
    let local = local_flags(args[sub_at])?;
    let rest: Vec<&str> = args
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != token_at && *i != sub_at)
        .map(|(_, a)| *a)
        .collect();
    let lookup = |name: &str| local.iter().chain(GLOBAL).find(|f| f.long == name);
    let lookup_short = |c: u8| local.iter().chain(GLOBAL).find(|f| f.short == Some(c));
    let mut set: Vec<(&Flag, String)> = Vec::new();
    let mut positional: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < rest.len() {
        let s = rest[i];
        i += 1;
        if s.len() < 2 || !s.starts_with('-') {
            positional.push(s);
            continue;
        }
        if let Some(name) = s.strip_prefix("--") {
            if name.is_empty() {
                positional.extend(&rest[i..]);
                break;
            }
            if name.starts_with('-') || name.starts_with('=') {
                return Some(Reading::Error(format!("bad flag syntax: {s}")));
            }
            let (name, inline) = match name.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (name, None),
            };
            let Some(f) = lookup(name) else {
                return Some(Reading::Error(format!("unknown flag: --{name}")));
            };
            let value = match inline {
                Some(v) => v.to_owned(),
                None if f.kind.needs_no_value() => "true".into(),
                None if i < rest.len() => {
                    i += 1;
                    rest[i - 1].to_owned()
                }
                None => return Some(Reading::Error(format!("flag needs an argument: {s}"))),
            };
            if let Err(e) = f.check(&value) {
                return Some(Reading::Error(e));
            }
            set.push((f, value));
            continue;
        }
        // A run of shorthands (`-vvv`, `-ojson`, `-o=json`, `-o json`).
        let mut shorthands = &s[1..];
        while !shorthands.is_empty() {
            let c = shorthands.as_bytes()[0];
            let Some(f) = lookup_short(c) else {
                return Some(Reading::Error(format!(
                    "unknown shorthand flag: {} in -{shorthands}",
                    quote_byte(c)
                )));
            };
            let after = &shorthands[1..];
            let value = if shorthands.len() > 2 && after.starts_with('=') {
                shorthands = "";
                after[1..].to_owned()
            } else if f.kind.needs_no_value() {
                // Byte-wise, as pflag steps; a non-ASCII byte is unknown above.
                shorthands = after;
                "true".into()
            } else if !after.is_empty() {
                // `-o=` is this case: the value is `=`.
                shorthands = "";
                after.to_owned()
            } else if i < rest.len() {
                i += 1;
                shorthands = "";
                rest[i - 1].to_owned()
            } else {
                return Some(Reading::Error(format!(
                    "flag needs an argument: {} in -{shorthands}",
                    quote_byte(c)
                )));
            };
            if let Err(e) = f.check(&value) {
                return Some(Reading::Error(e));
            }
            set.push((f, value));
        }
    }
    // pflag keeps the last value of a flag that is not a slice; tokensmith's
    // switches count (`-vv`).
    let is_last = |k: usize| !set[k + 1..].iter().any(|(g, _)| g.long == set[k].0.long);
    // cobra shows help once the flags parsed (`--help` is a flag like any
    // other there); clap shows it from the line as given.
    if let Some(k) = set.iter().rposition(|(f, _)| f.long == "help")
        && parse_bool(&set[k].1) == Some(true)
    {
        return None;
    }
    let mut out: Vec<OsString> = vec![argv[0].clone(), "token".into(), args[sub_at].into()];
    for (k, (f, value)) in set.iter().enumerate() {
        let keep = matches!(f.kind, Kind::Switch | Kind::StringSlice) || is_last(k);
        if !keep {
            continue;
        }
        let arg = match f.kind {
            Kind::Switch => format!("--{}", f.long),
            Kind::Bool => {
                let on = parse_bool(value) == Some(true);
                if CLAP_BOOL_WITH_VALUE.contains(&f.long) {
                    format!("--{}={on}", f.long)
                } else if on {
                    format!("--{}", f.long)
                } else {
                    // A clap switch that is off is one not given.
                    continue;
                }
            }
            _ => format!("--{}={value}", f.long),
        };
        out.push(arg.into());
    }
    out.push("--".into());
    out.extend(positional.into_iter().map(OsString::from));
    Some(Reading::Rewritten(out))
}

impl Kind {
    fn needs_no_value(self) -> bool {
        matches!(self, Kind::Bool | Kind::Switch)
    }
}

impl Flag {
    /// The value's `Set`, with pflag's message when it fails.
    fn check(&self, value: &str) -> Result<(), String> {
        let cause = match self.kind {
            Kind::Switch | Kind::String => return Ok(()),
            Kind::Bool => match parse_bool(value) {
                Some(_) => return Ok(()),
                None => format!(
                    "strconv.ParseBool: parsing {}: invalid syntax",
                    go_quote(value)
                ),
            },
            Kind::Duration => match parse_go_duration(value) {
                Ok(_) => return Ok(()),
                Err(e) => e.to_string(),
            },
            Kind::StringSlice => match read_csv_record(value) {
                Ok(_) => return Ok(()),
                Err(e) => e,
            },
            Kind::Level => match parse_int32(value) {
                Ok(()) => return Ok(()),
                Err(why) => format!("strconv.ParseInt: parsing {}: {why}", go_quote(value)),
            },
        };
        let name = match self.short {
            Some(c) => format!("-{}, --{}", c as char, self.long),
            None => format!("--{}", self.long),
        };
        Err(format!(
            "invalid argument {} for {} flag: {cause}",
            go_quote(value),
            go_quote(&name)
        ))
    }
}

/// Where `token` and its subcommand are in `args`, found as cobra's
/// `stripFlags` finds a command path: a `--flag` without `=` that needs a
/// value (or is unknown) and a lone `-f` that needs one skip the next word.
fn command_path(args: &[&str]) -> Option<(usize, usize)> {
    let takes_value_long = |name: &str| {
        !GLOBAL
            .iter()
            .chain(CREATE)
            .chain(LIST)
            .any(|f| f.long == name && f.kind.needs_no_value())
    };
    let takes_value_short = |c: &str| {
        !GLOBAL
            .iter()
            .chain(LIST)
            .any(|f| f.short.is_some_and(|s| c.as_bytes() == [s]) && f.kind.needs_no_value())
    };
    let mut words = Vec::new();
    let mut i = 0;
    while i < args.len() && words.len() < 2 {
        let s = args[i];
        i += 1;
        if s == "--" {
            break;
        }
        let skips = (s.starts_with("--") && !s.contains('=') && takes_value_long(&s[2..]))
            || (s.starts_with('-')
                && s.len() == 2
                && !s.contains('=')
                && takes_value_short(&s[1..]));
        if skips {
            if args.len() - i <= 1 {
                break;
            }
            i += 1;
        } else if !s.is_empty() && !s.starts_with('-') {
            words.push(i - 1);
        }
    }
    match words[..] {
        [t, s] if args[t] == "token" => Some((t, s)),
        _ => None,
    }
}

/// Go's `strconv.ParseBool`.
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go's `strconv.ParseInt(s, 10, 32)`, its reason when it fails.
fn parse_int32(s: &str) -> Result<(), &'static str> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("invalid syntax");
    }
    match s.parse::<i32>() {
        Ok(_) => Ok(()),
        Err(_) => Err("value out of range"),
    }
}

/// Go's `%q` of a byte, as pflag names an unknown shorthand: `'x'`.
fn quote_byte(c: u8) -> String {
    match c {
        b'\'' => r"'\''".into(),
        b'"' => "'\"'".into(),
        _ => {
            let q = go_quote(&char::from(c).to_string());
            format!("'{}'", &q[1..q.len() - 1])
        }
    }
}

/// One record as pflag's `readAsCSV` reads a string-slice value: Go's
/// `csv.NewReader(strings.NewReader(s)).Read()` (encoding/csv
/// `readRecord`, default options), with its error text. The empty string
/// is no fields at all.
pub(crate) fn read_csv_record(s: &str) -> Result<Vec<String>, String> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    let mut lines = CsvLines {
        rest: s.as_bytes(),
        read: 0,
    };
    // Empty lines before the record are skipped; none left is io.EOF.
    let mut line = loop {
        match lines.next() {
            None => return Err("EOF".into()),
            Some(l) if l.iter().all(|&b| b == b'\n') => continue,
            Some(l) => break l,
        }
    };
    let rec_line = lines.read;
    let err = |start: usize, line: usize, col: usize, what: &str| {
        if start == line {
            Err(format!("parse error on line {line}, column {col}: {what}"))
        } else {
            Err(format!(
                "record on line {start}; parse error on line {line}, column {col}: {what}"
            ))
        }
    };
    const BARE: &str = "bare \" in non-quoted-field";
    const QUOTE: &str = "extraneous or missing \" in quoted-field";
    let mut fields: Vec<Vec<u8>> = Vec::new();
    let (mut pos_line, mut pos_col) = (rec_line, 1usize);
    loop {
        if line.first() != Some(&b'"') {
            let comma = line.iter().position(|&b| b == b',');
            let field = match comma {
                Some(i) => &line[..i],
                None => &line[..line.len() - usize::from(line.ends_with(b"\n"))],
            };
            if let Some(j) = field.iter().position(|&b| b == b'"') {
                return err(rec_line, lines.read, pos_col + j, BARE);
            }
            fields.push(field.to_vec());
            match comma {
                Some(i) => {
                    line = line[i + 1..].to_vec();
                    pos_col += i + 1;
                }
                None => break,
            }
        } else {
            line = line[1..].to_vec();
            pos_col += 1;
            let mut field = Vec::new();
            loop {
                if let Some(i) = line.iter().position(|&b| b == b'"') {
                    field.extend_from_slice(&line[..i]);
                    line = line[i + 1..].to_vec();
                    pos_col += i + 1;
                    match line.first() {
                        Some(b'"') => {
                            field.push(b'"');
                            line.remove(0);
                            pos_col += 1;
                        }
                        Some(b',') => {
                            line.remove(0);
                            pos_col += 1;
                            fields.push(std::mem::take(&mut field));
                            break;
                        }
                        None | Some(b'\n') if line.len() <= 1 => {
                            fields.push(std::mem::take(&mut field));
                            return Ok(strings(fields));
                        }
                        _ => return err(rec_line, lines.read, pos_col - 1, QUOTE),
                    }
                } else if !line.is_empty() {
                    field.extend_from_slice(&line);
                    pos_col += line.len();
                    match lines.next() {
                        Some(l) => {
                            line = l;
                            pos_line += 1;
                            pos_col = 1;
                        }
                        None => line = Vec::new(),
                    }
                } else {
                    return err(rec_line, pos_line, pos_col, QUOTE);
                }
            }
        }
    }
    Ok(strings(fields))
}

fn strings(fields: Vec<Vec<u8>>) -> Vec<String> {
    fields
        .into_iter()
        .map(|f| String::from_utf8_lossy(&f).into_owned())
        .collect()
}

/// encoding/csv's `readLine`: one line with its `\n` (a `\r\n` read as
/// `\n`, a `\r` before the end dropped), counting lines read.
struct CsvLines<'a> {
    rest: &'a [u8],
    read: usize,
}

impl CsvLines<'_> {
    fn next(&mut self) -> Option<Vec<u8>> {
        if self.rest.is_empty() {
            return None;
        }
        let end = self
            .rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(self.rest.len(), |i| i + 1);
        let mut line = self.rest[..end].to_vec();
        self.rest = &self.rest[end..];
        self.read += 1;
        if self.rest.is_empty() && line.last() == Some(&b'\r') {
            line.pop();
        }
        if line.ends_with(b"\r\n") {
            line.truncate(line.len() - 2);
            line.push(b'\n');
        }
        Some(line)
    }
}

#[cfg(test)]
mod tests;
