//! Secrets in anything tokensmith writes to a log, an error or a history
//! file: found and hidden, whatever a script printed, threw or typed.
//!
//! Two nets. By value: every secret the process has seen (a token parsed,
//! generated or listed, a webhook `Authorization` value) is remembered in
//! one process-wide registry, and it is hidden bare, inside longer text and
//! base64-encoded at any byte alignment. By shape: any whole
//! `[a-z0-9]{6}.[a-z0-9]{16}` is hidden too, so a token typed as a literal
//! that was never parsed still does not reach a log.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock, RwLock};

use aho_corasick::AhoCorasick;
use base64::Engine as _;

/// What the registry holds: the secrets seen, and the texts to hide (each
/// secret and its base64 windows) in Aho-Corasick automata, so that one
/// pass over a line finds them all however many there are.
///
/// New texts wait in `pending` until the next search, which builds them an
/// automaton of their own after absorbing every level on top that is less
/// than twice their number (as a binary counter carries): each level is at
/// least twice the one above it, so there are O(log n) levels to search and
/// each text is rebuilt into an automaton O(log n) times, even when secrets
/// are learnt one at a time between log lines.
struct Registry {
    seen: HashSet<String>,
    needles: HashSet<Needle>,
    pending: Vec<Needle>,
    levels: Vec<Arc<Level>>,
}

struct Level {
    needles: Vec<Needle>,
    automaton: AhoCorasick,
}

/// A text to hide. A base64 window stops short of the characters that mix
/// the secret's first or last bits with its neighbours' (`lead`, `trail`):
/// where it does, the base64 character beside a match is hidden too, so
/// none of the secret's bits show.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Needle {
    text: String,
    lead: bool,
    trail: bool,
}

static REGISTRY: LazyLock<RwLock<Registry>> = LazyLock::new(|| {
    RwLock::new(Registry {
        seen: HashSet::new(),
        needles: HashSet::new(),
        pending: Vec::new(),
        levels: Vec::new(),
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
    for needle in needles_for(secret) {
        if reg.needles.insert(needle.clone()) {
            reg.pending.push(needle);
        }
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

impl Registry {
    /// Gives the pending texts an automaton (see [`Registry`]).
    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut needles = std::mem::take(&mut self.pending);
        while self
            .levels
            .last()
            .is_some_and(|l| l.needles.len() < 2 * needles.len())
        {
            let absorbed = self.levels.pop().expect("checked just above");
            needles.extend(absorbed.needles.iter().cloned());
        }
        // Standard match kind: every occurrence, overlapping ones too. A
        // contiguous NFA: a DFA (the default for small sets) costs more to
        // build than these short texts save on search.
        let automaton = AhoCorasick::builder()
            .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
            .build(needles.iter().map(|n| &n.text))
            .expect("an automaton holds any set of secrets that fits in memory");
        self.levels.push(Arc::new(Level { needles, automaton }));
    }

    fn automata(&self) -> Vec<Arc<Level>> {
        self.levels.clone()
    }
}

/// The automata to search, with every remembered text in one of them.
fn automata() -> Vec<Arc<Level>> {
    {
        let reg = read_registry();
        if reg.pending.is_empty() {
            return reg.automata();
        }
    }
    let mut reg = REGISTRY.write().unwrap_or_else(|p| p.into_inner());
    reg.flush();
    reg.automata()
}

/// Every text that stands for `secret` and is hidden once it is
/// remembered: the secret itself and its base64 windows.
pub fn hidden_forms(secret: &str) -> Vec<String> {
    needles_for(secret).into_iter().map(|n| n.text).collect()
}

/// [`hidden_forms`], each with the sides on which a match is widened.
fn needles_for(secret: &str) -> Vec<Needle> {
    let mut out = vec![Needle {
        text: secret.to_owned(),
        lead: false,
        trail: false,
    }];
    for w in base64_windows(secret.as_bytes()) {
        if !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

/// The base64 text that `secret` becomes inside any longer base64 stream:
/// one window per byte alignment (0, 1 or 2 bytes before it), keeping only
/// the characters made from the secret's own bits, and saying on which
/// side a character holds some of its bits and some of a neighbour's.
fn base64_windows(secret: &[u8]) -> Vec<Needle> {
    let std = base64::engine::general_purpose::STANDARD_NO_PAD;
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut out: Vec<Needle> = Vec::new();
    for k in 0..3usize {
        let mut bytes = vec![0u8; k];
        bytes.extend_from_slice(secret);
        let bits_before = 8 * k;
        let bits_to_end = 8 * (k + secret.len());
        let first = bits_before.div_ceil(6);
        let last = bits_to_end / 6; // exclusive: chars wholly inside
        for engine in [&std, &url] {
            let enc = engine.encode(&bytes);
            if let Some(window) = enc.get(first..last.min(enc.len()))
                && window.len() >= MIN_SECRET_LEN
                && !out.iter().any(|w| w.text == window)
            {
                out.push(Needle {
                    text: window.to_owned(),
                    lead: !bits_before.is_multiple_of(6),
                    trail: !bits_to_end.is_multiple_of(6),
                });
            }
        }
    }
    out
}

/// A character of either base64 alphabet (standard or URL-safe).
fn is_base64_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_')
}

/// Byte ranges covered by remembered secrets (or base64 windows) in `text`:
/// every occurrence, overlapping ones merged, sorted.
fn value_spans(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut found: Vec<(usize, usize)> = Vec::new();
    for level in automata() {
        found.extend(level.automaton.find_overlapping_iter(text).map(|m| {
            let needle = &level.needles[m.pattern().as_usize()];
            let (mut start, mut end) = (m.start(), m.end());
            if needle.lead && start > 0 && is_base64_char(b[start - 1]) {
                start -= 1;
            }
            if needle.trail && end < b.len() && is_base64_char(b[end]) {
                end += 1;
            }
            (start, end)
        }));
    }
    found.sort_unstable();
    let mut spans: Vec<(usize, usize)> = Vec::with_capacity(found.len());
    for (s, e) in found {
        match spans.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => spans.push((s, e)),
        }
    }
    spans
}

/// Byte ranges of tokens in `text`: six token characters, a dot, sixteen
/// more, also when more token characters are glued on either side
/// (`"x" + token` in a thrown message): the six before the dot and the
/// sixteen after it are the token's shape, and hiding too much is safe.
fn token_spans(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let tok = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(dot) = b[from..].iter().position(|&c| c == b'.').map(|i| from + i) {
        from = dot + 1;
        if dot < 6 || dot + 17 > b.len() || (spans.last().is_some_and(|&(_, end)| dot < end + 6)) {
            continue;
        }
        if b[dot - 6..dot].iter().all(tok) && b[dot + 1..dot + 17].iter().all(tok) {
            spans.push((dot - 6, dot + 17));
            from = dot + 17;
        }
    }
    spans
}

/// Remembers the secret of every token in `text` (a value a script or
/// the REPL built from parts, which no parser has seen).
pub fn learn_tokens(text: &str) {
    for (start, end) in token_spans(text) {
        remember(&text[start + 7..end]);
    }
}

/// True when `text` holds a whole token or a remembered secret.
pub fn contains_token(text: &str) -> bool {
    !token_spans(text).is_empty() || automata().iter().any(|l| l.automaton.is_match(text))
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
    let spans = value_spans(&out);
    if spans.is_empty() {
        return out;
    }
    let mut hidden = String::with_capacity(out.len());
    let mut at = 0;
    for (start, end) in spans {
        hidden.push_str(&out[at..start]);
        hidden.extend(std::iter::repeat_n('*', end - start));
        at = end;
    }
    hidden.push_str(&out[at..]);
    hidden
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_hides_whole_tokens_only() {
        assert!(contains_token("create(\"abcdef.0123456789abcdef\")"));
        assert!(!contains_token("abcdef"));
        // Glued to more token characters, the shape still shows.
        assert!(contains_token("xqwerty.neverparsedsecret0"));
        assert_eq!(
            redact_tokens("uncaught exception: xabcdef.0123456789abcdef"),
            "uncaught exception: xabcdef.****************"
        );
        assert_eq!(
            redact_tokens("\"abcdef.0123456789abcdefx\" was not of the form"),
            "\"abcdef.****************x\" was not of the form"
        );
        assert!(!contains_token("v1.37.2 and kube-system.bootstrap-token"));
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
                assert!(!shown.contains(&w.text), "{prefix:?}: {shown}");
            }
        }
        assert!(!contains_token("an ordinary line"));
    }

    #[test]
    fn no_base64_character_with_a_bit_of_the_secret_shows() {
        use base64::Engine as _;
        let secret = "3dg3b1tss3cr3t00";
        remember(secret);
        for engine in [
            &base64::engine::general_purpose::STANDARD,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ] {
            for prefix in ["", "a", "ab", "abc", "abcd"] {
                for suffix in ["", "z", "zz", "zzz!"] {
                    let b64 = engine.encode(format!("{prefix}{secret}{suffix}"));
                    let shown = redact_tokens(&b64);
                    // Characters carrying any of the secret's bits.
                    let first = 8 * prefix.len() / 6;
                    let end = (8 * (prefix.len() + secret.len())).div_ceil(6);
                    assert!(
                        shown[first..end].bytes().all(|c| c == b'*'),
                        "{prefix:?}+{suffix:?}: {b64} shown as {shown}"
                    );
                    // And nothing that holds only its neighbours' bits is hidden.
                    assert!(!shown[..first].contains('*'), "{b64} -> {shown}");
                    assert!(!shown[end..].contains('*'), "{b64} -> {shown}");
                }
            }
        }
    }

    #[test]
    fn overlapping_secrets_are_hidden_whole() {
        // Two secrets sharing 8 characters, written run together: neither
        // half may show (one pass per secret, longest first, left the
        // second one's tail visible).
        remember("0verl4pAAAAmiddle");
        remember("AAAAmiddleZZZZt4il");
        let shown = redact_tokens("x 0verl4pAAAAmiddleZZZZt4il y");
        assert_eq!(shown, format!("x {} y", "*".repeat(25)));
    }

    #[test]
    fn a_thousand_secrets_learnt_one_by_one_are_all_hidden() {
        // Interleaved as a token list and its log lines interleave them.
        let secret = |i: usize| format!("m4ny{i:012}");
        for i in 0..1000 {
            remember(&secret(i));
            if i % 7 == 0 {
                assert!(!redact_tokens(&format!("saw {}", secret(i))).contains("m4ny"));
            }
        }
        for i in (0..1000).step_by(37) {
            let line = format!("a {} b", secret(i));
            assert_eq!(
                redact_tokens(&line),
                format!("a {} b", "*".repeat(16)),
                "{i}"
            );
            assert!(contains_token(&line));
        }
        let levels = read_registry().levels.len();
        assert!(levels <= 16, "{levels} automata");
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
