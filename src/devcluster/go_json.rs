//! Go `encoding/json`'s syntax errors, which kube-apiserver's messages
//! carry (`couldn't get version/kind; json parse error: invalid character
//! 'n' looking for beginning of object key string`): the scanner of
//! encoding/json/scanner.go, run over a body as `json.Unmarshal`'s
//! `checkValid` runs it before decoding anything. Pure.

/// Where the scanner is, as scanner.go's `step` functions.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    BeginValue,
    BeginValueOrEmpty,
    BeginStringOrEmpty,
    BeginString,
    EndValue,
    EndTop,
    InString,
    InStringEsc,
    /// `\u` with this many hex digits read.
    InStringEscU(u8),
    Neg,
    One,
    Zero,
    Dot,
    Dot0,
    E,
    ESign,
    E0,
    /// Inside `true`, `false` or `null`: the rest still expected.
    Literal(&'static str, &'static [u8]),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Parse {
    ObjectKey,
    ObjectValue,
    ArrayValue,
}

/// encoding/json's `maxNestingDepth`.
const MAX_DEPTH: usize = 10_000;

/// The `SyntaxError` message `json.Unmarshal` gives for `body`, or `None`
/// when the body is well-formed JSON.
pub fn syntax_error(body: &[u8]) -> Option<String> {
    let mut s = Scanner {
        step: Step::BeginValue,
        stack: Vec::new(),
        end_top: false,
    };
    for &c in body {
        if let Err(e) = s.step(c) {
            return Some(e);
        }
    }
    // scanner.eof: one more space ends a number or reports what is missing.
    if s.end_top {
        return None;
    }
    if let Err(e) = s.step(b' ') {
        return Some(e);
    }
    if s.end_top {
        None
    } else {
        Some("unexpected end of JSON input".into())
    }
}

/// The parse error `json.Unmarshal` reports for `body`: Go's syntax error
/// when there is one, else `fallback` (serde's words for a type mismatch).
pub fn unmarshal_error(body: &[u8], fallback: impl std::fmt::Display) -> String {
    syntax_error(body).unwrap_or_else(|| fallback.to_string())
}

struct Scanner {
    step: Step,
    stack: Vec<Parse>,
    end_top: bool,
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// scanner.go `quoteChar`: the byte as a Go character literal.
fn quote_char(c: u8) -> String {
    match c {
        b'\'' => r"'\''".into(),
        b'"' => "'\"'".into(),
        // strconv.Quote(string(rune(c))) escapes what Go cannot print.
        0xa0 | 0xad => format!("'\\u{c:04x}'"),
        _ => {
            let q = crate::token::go_quote(&char::from(c).to_string());
            format!("'{}'", &q[1..q.len() - 1])
        }
    }
}

fn error(c: u8, context: &str) -> Result<(), String> {
    Err(format!("invalid character {} {context}", quote_char(c)))
}

impl Scanner {
    fn push(&mut self, c: u8, p: Parse, next: Step) -> Result<(), String> {
        self.stack.push(p);
        if self.stack.len() > MAX_DEPTH {
            return error(c, "exceeded max depth");
        }
        self.step = next;
        Ok(())
    }

    fn pop(&mut self) {
        self.stack.pop();
        if self.stack.is_empty() {
            self.step = Step::EndTop;
            self.end_top = true;
        } else {
            self.step = Step::EndValue;
        }
    }

    fn step(&mut self, c: u8) -> Result<(), String> {
        match self.step {
            Step::BeginValueOrEmpty if c == b']' => self.end_value(c),
            Step::BeginValueOrEmpty => self.begin_value(c),
            Step::BeginValue => self.begin_value(c),
            Step::BeginStringOrEmpty if is_space(c) => Ok(()),
            Step::BeginStringOrEmpty if c == b'}' => {
                *self.stack.last_mut().expect("inside an object") = Parse::ObjectValue;
                self.end_value(c)
            }
            Step::BeginStringOrEmpty | Step::BeginString => {
                if is_space(c) {
                    Ok(())
                } else if c == b'"' {
                    self.step = Step::InString;
                    Ok(())
                } else {
                    error(c, "looking for beginning of object key string")
                }
            }
            Step::EndValue => self.end_value(c),
            Step::EndTop => {
                if is_space(c) {
                    Ok(())
                } else {
                    error(c, "after top-level value")
                }
            }
            Step::InString => match c {
                b'"' => {
                    self.step = Step::EndValue;
                    Ok(())
                }
                b'\\' => {
                    self.step = Step::InStringEsc;
                    Ok(())
                }
                c if c < 0x20 => error(c, "in string literal"),
                _ => Ok(()),
            },
            Step::InStringEsc => match c {
                b'b' | b'f' | b'n' | b'r' | b't' | b'\\' | b'/' | b'"' => {
                    self.step = Step::InString;
                    Ok(())
                }
                b'u' => {
                    self.step = Step::InStringEscU(0);
                    Ok(())
                }
                _ => error(c, "in string escape code"),
            },
            Step::InStringEscU(n) => {
                if c.is_ascii_hexdigit() {
                    self.step = if n == 3 {
                        Step::InString
                    } else {
                        Step::InStringEscU(n + 1)
                    };
                    Ok(())
                } else {
                    error(c, "in \\u hexadecimal character escape")
                }
            }
            Step::Neg => match c {
                b'0' => {
                    self.step = Step::Zero;
                    Ok(())
                }
                b'1'..=b'9' => {
                    self.step = Step::One;
                    Ok(())
                }
                _ => error(c, "in numeric literal"),
            },
            Step::One if c.is_ascii_digit() => Ok(()),
            Step::One | Step::Zero => match c {
                b'.' => {
                    self.step = Step::Dot;
                    Ok(())
                }
                b'e' | b'E' => {
                    self.step = Step::E;
                    Ok(())
                }
                _ => self.end_value(c),
            },
            Step::Dot => {
                if c.is_ascii_digit() {
                    self.step = Step::Dot0;
                    Ok(())
                } else {
                    error(c, "after decimal point in numeric literal")
                }
            }
            Step::Dot0 => match c {
                b'0'..=b'9' => Ok(()),
                b'e' | b'E' => {
                    self.step = Step::E;
                    Ok(())
                }
                _ => self.end_value(c),
            },
            Step::E if c == b'+' || c == b'-' => {
                self.step = Step::ESign;
                Ok(())
            }
            Step::E | Step::ESign => {
                if c.is_ascii_digit() {
                    self.step = Step::E0;
                    Ok(())
                } else {
                    error(c, "in exponent of numeric literal")
                }
            }
            Step::E0 if c.is_ascii_digit() => Ok(()),
            Step::E0 => self.end_value(c),
            Step::Literal(word, rest) => {
                if c == rest[0] {
                    self.step = if rest.len() == 1 {
                        Step::EndValue
                    } else {
                        Step::Literal(word, &rest[1..])
                    };
                    Ok(())
                } else {
                    error(
                        c,
                        &format!("in literal {word} (expecting {})", quote_char(rest[0])),
                    )
                }
            }
        }
    }

    fn begin_value(&mut self, c: u8) -> Result<(), String> {
        self.step = match c {
            c if is_space(c) => return Ok(()),
            b'{' => return self.push(c, Parse::ObjectKey, Step::BeginStringOrEmpty),
            b'[' => return self.push(c, Parse::ArrayValue, Step::BeginValueOrEmpty),
            b'"' => Step::InString,
            b'-' => Step::Neg,
            b'0' => Step::Zero,
            b'1'..=b'9' => Step::One,
            b't' => Step::Literal("true", b"rue"),
            b'f' => Step::Literal("false", b"alse"),
            b'n' => Step::Literal("null", b"ull"),
            _ => return error(c, "looking for beginning of value"),
        };
        Ok(())
    }

    fn end_value(&mut self, c: u8) -> Result<(), String> {
        let Some(&top) = self.stack.last() else {
            self.step = Step::EndTop;
            self.end_top = true;
            return self.step(c);
        };
        if is_space(c) {
            self.step = Step::EndValue;
            return Ok(());
        }
        match (top, c) {
            (Parse::ObjectKey, b':') => {
                *self.stack.last_mut().expect("non-empty") = Parse::ObjectValue;
                self.step = Step::BeginValue;
                Ok(())
            }
            (Parse::ObjectKey, _) => error(c, "after object key"),
            (Parse::ObjectValue, b',') => {
                *self.stack.last_mut().expect("non-empty") = Parse::ObjectKey;
                self.step = Step::BeginString;
                Ok(())
            }
            (Parse::ObjectValue, b'}') | (Parse::ArrayValue, b']') => {
                self.pop();
                Ok(())
            }
            (Parse::ObjectValue, _) => error(c, "after object key:value pair"),
            (Parse::ArrayValue, b',') => {
                self.step = Step::BeginValue;
                Ok(())
            }
            (Parse::ArrayValue, _) => error(c, "after array element"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::syntax_error;

    fn err(s: &str) -> String {
        syntax_error(s.as_bytes()).unwrap_or_else(|| panic!("{s:?} is valid"))
    }

    #[test]
    fn well_formed_json_has_no_error() {
        for s in [
            "{}",
            " {\"a\": [1, -2.5e+3, true, false, null, \"x\\u00e9\\n\"]} ",
            "[]",
            "0",
            "\"s\"",
            "{\"a\":{}}",
        ] {
            assert_eq!(syntax_error(s.as_bytes()), None, "{s}");
        }
    }

    #[test]
    fn errors_read_as_go_encoding_json_words_them() {
        let cases = [
            (
                "{not json",
                "invalid character 'n' looking for beginning of object key string",
            ),
            ("", "unexpected end of JSON input"),
            ("{\"a\":1", "unexpected end of JSON input"),
            ("{\"a\" 1}", "invalid character '1' after object key"),
            (
                "{\"a\":1 \"b\"}",
                "invalid character '\"' after object key:value pair",
            ),
            ("[1 2]", "invalid character '2' after array element"),
            ("{} x", "invalid character 'x' after top-level value"),
            (
                "nul",
                "invalid character ' ' in literal null (expecting 'l')",
            ),
            (
                "tRue",
                "invalid character 'R' in literal true (expecting 'r')",
            ),
            (
                "1.",
                "invalid character ' ' after decimal point in numeric literal",
            ),
            ("-x", "invalid character 'x' in numeric literal"),
            ("1e", "invalid character ' ' in exponent of numeric literal"),
            ("01", "invalid character '1' after top-level value"),
            ("\"a\\x\"", "invalid character 'x' in string escape code"),
            (
                "\"\\u12g\"",
                "invalid character 'g' in \\u hexadecimal character escape",
            ),
            ("\"a\tb\"", "invalid character '\\t' in string literal"),
            (
                "{'a':1}",
                "invalid character '\\'' looking for beginning of object key string",
            ),
            (
                "[,]",
                "invalid character ',' looking for beginning of value",
            ),
            (
                "\u{e9}",
                "invalid character 'Ã' looking for beginning of value",
            ),
            (
                "{\"a\":1,}",
                "invalid character '}' looking for beginning of object key string",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(err(input), want, "{input:?}");
        }
        assert_eq!(
            err(&"[".repeat(10_001)),
            "invalid character '[' exceeded max depth"
        );
    }
}
