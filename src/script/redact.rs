//! Secrets in anything tokensmith writes to a log, an error or a history
//! file: found and hidden, whatever a script printed, threw or typed.
//!
//! Two nets. By value: every secret the process has seen (a token parsed,
//! generated or listed, a webhook `Authorization` value) is remembered in
//! one process-wide registry, and it is hidden bare, inside longer text and
//! base64-encoded at any byte alignment. By shape: any whole
//! `[a-z0-9]{6}.[a-z0-9]{16}` is hidden too, so a token typed as a literal
//! that was never parsed still does not reach a log.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashSet};
use std::sync::{LazyLock, RwLock};

use base64::Engine as _;

/// What the registry holds: the texts to hide (each secret and its base64
/// windows), deduplicated, longest first so a longer match wins. Ordered on
/// insert: a list of 1,000 tokens must not re-sort and re-scan the registry
/// once per token (that was most of `token list`'s time).
struct Registry {
    seen: HashSet<String>,
    needles: BTreeSet<(Reverse<usize>, String)>,
}

static REGISTRY: LazyLock<RwLock<Registry>> = LazyLock::new(|| {
    RwLock::new(Registry {
        seen: HashSet::new(),
        needles: BTreeSet::new(),
    })
});

/// Shorter values (a `Bearer x` header) are too likely to be ordinary words
/// to hide everywhere.
const MIN_SECRET_LEN: usize = 8;

/// Remembers `secret` so that every later redaction hides it. Cheap when the
/// secret is already known (token lists re-parse the same tokens).
pub fn remember(secret: &str) {
    let secret = secret.trim();
    if secret.len() < MIN_SECRET_LEN {
        return;
    }
    if read_registry().seen.contains(secret) {
        return;
    }
    let mut reg = REGISTRY.write().unwrap_or_else(|p| p.into_inner());
    if !reg.seen.insert(secret.to_owned()) {
        return;
    }
    let mut new = vec![secret.to_owned()];
    new.extend(base64_windows(secret.as_bytes()));
    for n in new {
        reg.needles.insert((Reverse(n.len()), n));
    }
}

/// An `Authorization` header value: the whole value and its credential part
/// (after `Bearer `/`Basic `), so either one is hidden wherever it shows.
pub fn remember_authorization(value: &str) {
    remember(value);
    if let Some((_, credential)) = value.trim().split_once(' ') {
        remember(credential);
    }
}

fn read_registry() -> std::sync::RwLockReadGuard<'static, Registry> {
    REGISTRY.read().unwrap_or_else(|p| p.into_inner())
}

/// The base64 text that `secret` becomes inside any longer base64 stream:
/// one window per byte alignment (0, 1 or 2 bytes before it), keeping only
/// the characters made from the secret's own bits.
fn base64_windows(secret: &[u8]) -> Vec<String> {
    let std = base64::engine::general_purpose::STANDARD_NO_PAD;
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut out = Vec::new();
    for k in 0..3usize {
        let mut bytes = vec![0u8; k];
        bytes.extend_from_slice(secret);
        let first = (8 * k).div_ceil(6);
        let last = 8 * (k + secret.len()) / 6; // exclusive: chars wholly inside
        for engine in [&std, &url] {
            let enc = engine.encode(&bytes);
            if let Some(window) = enc.get(first..last.min(enc.len()))
                && window.len() >= MIN_SECRET_LEN
                && !out.iter().any(|w| w == window)
            {
                out.push(window.to_owned());
            }
        }
    }
    out
}

/// Byte ranges of every remembered secret (or base64 window) in `text`.
fn value_spans(text: &str) -> Vec<(usize, usize)> {
    let reg = read_registry();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for (_, needle) in &reg.needles {
        let mut from = 0;
        while let Some(i) = text[from..].find(needle.as_str()) {
            let (s, e) = (from + i, from + i + needle.len());
            if !spans.iter().any(|&(a, b)| s < b && a < e) {
                spans.push((s, e));
            }
            from = e;
        }
    }
    spans
}

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

/// Remembers the secret of every whole token in `text` (a value a script or
/// the REPL built from parts, which no parser has seen).
pub fn learn_tokens(text: &str) {
    for (start, end) in token_spans(text) {
        remember(&text[start + 7..end]);
    }
}

/// True when `text` holds a whole token or a remembered secret.
pub fn contains_token(text: &str) -> bool {
    !token_spans(text).is_empty() || !value_spans(text).is_empty()
}

/// `text` with every secret hidden: a whole token's secret by 16 `*` (the
/// id stays, to say which token), a remembered secret or its base64 by as
/// many `*` as it has characters, so a caret under a later column still
/// lines up.
pub fn redact_tokens(text: &str) -> String {
    let mut out = text.to_owned();
    for (start, end) in token_spans(text).into_iter().rev() {
        out.replace_range(start + 7..end, &"*".repeat(16));
    }
    let mut spans = value_spans(&out);
    spans.sort_unstable();
    for (start, end) in spans.into_iter().rev() {
        out.replace_range(start..end, &"*".repeat(end - start));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_hides_whole_tokens_only() {
        assert!(contains_token("create(\"abcdef.0123456789abcdef\")"));
        assert!(!contains_token("abcdef"));
        assert!(!contains_token("xqwerty.neverparsedsecret0"));
        assert_eq!(
            redact_tokens("--token abcdef.0123456789abcdef --x a1b2c3.zzzzzzzzzzzzzzzz"),
            "--token abcdef.**************** --x a1b2c3.****************"
        );
        assert_eq!(
            redact_tokens("né abcdef.0123456789abcdef"),
            "né abcdef.****************"
        );
    }

    #[test]
    fn a_remembered_secret_is_hidden_bare_inside_text_and_in_base64() {
        use base64::Engine as _;
        let secret = "h1dd3nv4lu3s3cr3";
        assert!(!contains_token(&format!("x{secret}y")));
        remember(secret);
        assert_eq!(
            redact_tokens(&format!("x{secret}y")),
            format!("x{}y", "*".repeat(16))
        );
        for prefix in ["", "a", "ab", "abc"] {
            let b64 = base64::engine::general_purpose::STANDARD
                .encode(format!("{prefix}{secret}, and more"));
            let shown = redact_tokens(&format!("body: {b64}"));
            assert!(contains_token(&b64), "{prefix:?}: {b64}");
            for w in base64_windows(secret.as_bytes()) {
                assert!(!shown.contains(&w), "{prefix:?}: {shown}");
            }
        }
        assert!(!contains_token("an ordinary line"));
    }

    #[test]
    fn an_authorization_value_and_its_credential_are_remembered() {
        remember_authorization("Bearer s3cr3t-hook-credential");
        assert_eq!(
            redact_tokens("sent s3cr3t-hook-credential"),
            format!("sent {}", "*".repeat("s3cr3t-hook-credential".len()))
        );
        remember_authorization("short");
        assert_eq!(redact_tokens("short"), "short");
    }
}
