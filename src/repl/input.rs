//! When a REPL input is complete: every `(`, `[` and `{` closed outside
//! strings and comments. Until then the REPL keeps reading lines, so a
//! function or a block can be typed over several lines.

/// True when `src` has no unclosed bracket, string or block comment.
pub fn is_complete(src: &str) -> bool {
    let mut depth: i64 = 0;
    let mut chars = src.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            '"' | '`' => {
                let mut closed = false;
                while let Some(s) = chars.next() {
                    if s == '\\' {
                        chars.next();
                    } else if s == c {
                        closed = true;
                        break;
                    }
                }
                if !closed {
                    return false;
                }
            }
            '/' if chars.peek() == Some(&'/') => {
                for s in chars.by_ref() {
                    if s == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut closed = false;
                let mut prev = ' ';
                for s in chars.by_ref() {
                    if prev == '*' && s == '/' {
                        closed = true;
                        break;
                    }
                    prev = s;
                }
                if !closed {
                    return false;
                }
            }
            _ => {}
        }
    }
    // More closers than openers is a syntax error the parser reports; waiting
    // for more input would never fix it.
    depth <= 0
}

#[cfg(test)]
mod tests {
    use super::is_complete;

    #[test]
    fn open_blocks_wait_for_more_lines() {
        for open in [
            "fn f() {",
            "let a = [1,",
            "if x {\n let y = (",
            "let s = \"abc",
            "/* note",
            "let s = `a ${",
        ] {
            assert!(!is_complete(open), "{open:?}");
        }
        for done in [
            "1 + 1",
            "fn f() { 1 }",
            "let s = \"{\";",
            "// {",
            "let a = [1, 2]; }",
            "let s = \"a\\\"{\";",
        ] {
            assert!(is_complete(done), "{done:?}");
        }
    }
}
