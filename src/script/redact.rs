//! Token-shaped text (`[a-z0-9]{6}.[a-z0-9]{16}`) in anything tokensmith
//! writes to a log, an error or a history file: found and hidden, whatever
//! a script printed, threw or typed.

/// Byte ranges of whole tokens in `text` (not inside a longer run of
/// token characters).
fn token_spans(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let tok = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let mut spans = Vec::new();
    let mut i = 0;
    while i + 23 <= b.len() {
        let whole = (i == 0 || !tok(b[i - 1]))
            && b[i..i + 6].iter().all(|&c| tok(c))
            && b[i + 6] == b'.'
            && b[i + 7..i + 23].iter().all(|&c| tok(c))
            && (i + 23 == b.len() || !tok(b[i + 23]));
        if whole {
            spans.push((i, i + 23));
            i += 23;
        } else {
            i += 1;
        }
    }
    spans
}

/// True when `text` holds a whole token.
pub fn contains_token(text: &str) -> bool {
    !token_spans(text).is_empty()
}

/// `text` with each token's secret replaced by 16 `*`, keeping its length
/// (so a caret under a later column still lines up).
pub fn redact_tokens(text: &str) -> String {
    let spans = token_spans(text);
    if spans.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (start, end) in spans {
        out.push_str(&text[last..start + 7]);
        out.push_str(&"*".repeat(16));
        last = end;
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_hides_whole_tokens_only() {
        assert!(contains_token("create(\"abcdef.0123456789abcdef\")"));
        assert!(!contains_token("abcdef"));
        assert!(!contains_token("xabcdef.0123456789abcdef0"));
        assert_eq!(
            redact_tokens("--token abcdef.0123456789abcdef --x a1b2c3.zzzzzzzzzzzzzzzz"),
            "--token abcdef.**************** --x a1b2c3.****************"
        );
        assert_eq!(
            redact_tokens("né abcdef.0123456789abcdef"),
            "né abcdef.****************"
        );
    }
}
