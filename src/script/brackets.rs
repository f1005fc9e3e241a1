//! Where a script's brackets open and close, read the way Rhai's tokenizer
//! reads them (strings, character literals, comments and backtick strings'
//! `${…}` parts told apart), for `check` to name the bracket a syntax error
//! really comes from: Rhai reports an unclosed `#{` or `{` at the first line
//! that cannot belong inside it, not where it was opened.

/// One opening bracket: `(`, `[`, `{` or `#{`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opener {
    pub text: &'static str,
    /// 1-based, in characters, as Rhai counts positions.
    pub line: usize,
    pub col: usize,
    /// Where its closing bracket is; `None` when the text never closes it.
    pub closed_at: Option<(usize, usize)>,
}

impl Opener {
    pub fn closer(&self) -> char {
        match self.text {
            "(" => ')',
            "[" => ']',
            _ => '}',
        }
    }

    /// Open at `(line, col)`: opened before it and not closed before it.
    fn open_at(&self, at: (usize, usize)) -> bool {
        (self.line, self.col) < at && self.closed_at.is_none_or(|c| c >= at)
    }
}

enum Mode {
    /// Code; inside a backtick string's `${…}`, how many `{` it has open.
    Code {
        interpolation: Option<usize>,
    },
    Backtick,
}

/// Every opening bracket of `text`, in order.
pub fn openers(text: &str) -> Vec<Opener> {
    let chars: Vec<char> = text.chars().collect();
    let mut found: Vec<Opener> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    let mut modes = vec![Mode::Code {
        interpolation: None,
    }];
    let (mut line, mut col) = (1usize, 1usize);
    let mut i = 0;
    // Advances over one character, keeping the position.
    let step = |i: &mut usize, line: &mut usize, col: &mut usize| {
        if chars.get(*i) == Some(&'\n') {
            *line += 1;
            *col = 1;
        } else {
            *col += 1;
        }
        *i += 1;
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match modes.last_mut() {
            Some(Mode::Backtick) => {
                if c == '`' {
                    modes.pop();
                } else if c == '$' && next == Some('{') {
                    step(&mut i, &mut line, &mut col);
                    modes.push(Mode::Code {
                        interpolation: Some(0),
                    });
                }
                step(&mut i, &mut line, &mut col);
            }
            Some(Mode::Code { interpolation }) => {
                match (c, next) {
                    ('/', Some('/')) => {
                        while i < chars.len() && chars[i] != '\n' {
                            step(&mut i, &mut line, &mut col);
                        }
                        continue;
                    }
                    ('/', Some('*')) => {
                        let mut depth = 0usize;
                        while i < chars.len() {
                            if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                                depth += 1;
                                step(&mut i, &mut line, &mut col);
                            } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                                depth -= 1;
                                step(&mut i, &mut line, &mut col);
                                if depth == 0 {
                                    step(&mut i, &mut line, &mut col);
                                    break;
                                }
                            }
                            step(&mut i, &mut line, &mut col);
                        }
                        continue;
                    }
                    ('"' | '\'', _) => {
                        // To the closing quote, or the end of the line: a
                        // string left open is Rhai's error to report.
                        step(&mut i, &mut line, &mut col);
                        while i < chars.len() && chars[i] != c && chars[i] != '\n' {
                            if chars[i] == '\\' {
                                step(&mut i, &mut line, &mut col);
                            }
                            step(&mut i, &mut line, &mut col);
                        }
                    }
                    ('`', _) => modes.push(Mode::Backtick),
                    ('#', Some('{')) | ('(' | '[' | '{', _) => {
                        let text = match c {
                            '#' => "#{",
                            '(' => "(",
                            '[' => "[",
                            _ => "{",
                        };
                        if text.ends_with('{')
                            && let Some(depth) = interpolation
                        {
                            *depth += 1;
                        }
                        stack.push(found.len());
                        found.push(Opener {
                            text,
                            line,
                            col,
                            closed_at: None,
                        });
                        if c == '#' {
                            step(&mut i, &mut line, &mut col);
                        }
                    }
                    ('}', _) if *interpolation == Some(0) => {
                        // The end of a `${…}`: back in the string.
                        modes.pop();
                    }
                    (')' | ']' | '}', _) => {
                        if c == '}'
                            && let Some(depth) = interpolation
                        {
                            *depth = depth.saturating_sub(1);
                        }
                        // It closes the innermost bracket of its kind; any
                        // opened inside that one stay unclosed (`{ (1 + ; }`).
                        // One of no open kind is Rhai's error; it closes nothing.
                        if let Some(k) = stack.iter().rposition(|&o| found[o].closer() == c) {
                            found[stack[k]].closed_at = Some((line, col));
                            stack.truncate(k);
                        }
                    }
                    _ => {}
                }
                step(&mut i, &mut line, &mut col);
            }
            None => break,
        }
    }
    found
}

/// The bracket a syntax error at `(line, col)` most likely comes from: the
/// innermost bracket opened on an earlier line that is still open there and
/// never closed at all, when the error's line is indented no deeper than the
/// bracket's (so it reads as the next statement, not as part of the
/// bracket's contents). With it, every bracket opened after it and still open
/// at the error, innermost last: what needs closing.
pub fn unclosed_before(text: &str, line: usize, col: usize) -> Option<(Opener, Vec<Opener>)> {
    let all = openers(text);
    let open: Vec<&Opener> = all.iter().filter(|o| o.open_at((line, col))).collect();
    let indent = |n: usize| {
        text.lines()
            .nth(n.saturating_sub(1))
            .map_or(0, |l| l.chars().take_while(|c| c.is_whitespace()).count())
    };
    let i = open
        .iter()
        .rposition(|o| o.line < line && o.closed_at.is_none() && indent(line) <= indent(o.line))?;
    let culprit = open[i].clone();
    // Brackets opened before the culprit on its own line close with it (the
    // call around `#{` in `f(#{ a: 1` at the end of a statement).
    let first = open[..i]
        .iter()
        .position(|o| o.line == culprit.line && o.closed_at.is_none())
        .unwrap_or(i);
    Some((
        culprit,
        open[first..].iter().map(|o| (*o).clone()).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_comments_and_interpolations_hold_no_brackets() {
        let text =
            "let a = \"({[\"; // {\n/* ( /* [ */ */ let b = `x${ #{ k: 1 }.k }(`;\nlet c = '{';";
        assert_eq!(
            openers(text)
                .iter()
                .map(|o| (o.text, o.line, o.col, o.closed_at))
                .collect::<Vec<_>>(),
            [("#{", 2, 30, Some((2, 38)))]
        );
    }

    #[test]
    fn an_unclosed_map_literal_is_found_where_it_opens() {
        let text = "let r = token::rotate(#{ name: \"n\", ttl: \"48h\"\nlet n = 1;\n";
        let (culprit, close) = unclosed_before(text, 2, 1).expect("found");
        assert_eq!((culprit.text, culprit.line, culprit.col), ("#{", 1, 23));
        assert_eq!(
            close.iter().map(|o| o.text).collect::<Vec<_>>(),
            ["(", "#{"]
        );
    }

    #[test]
    fn a_bracket_closed_later_or_an_indented_line_inside_it_is_not_the_cause() {
        // The error is inside a body that closes later.
        assert_eq!(
            unclosed_before("fn f() {\nlet x = (1 + ;\n}\n", 2, 13),
            None
        );
        // An indented line reads as part of the block.
        assert_eq!(
            unclosed_before("fn f() {\n    let x = (1 + ;\n", 2, 17),
            None
        );
        // The same line: Rhai's position is already right.
        assert_eq!(unclosed_before("let b = (2 + ;\n", 1, 14), None);
    }
}
