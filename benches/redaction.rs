//! `cargo bench --bench redaction`: the secret redactor with 1, 100 and
//! 10 000 remembered secrets, against the linear scan it replaced (one
//! `str::find` pass per secret and base64 window, longest first), on the
//! same log lines. Prints microseconds per line for both; a plain main.

use std::time::{Duration, Instant};

use tokensmith::script::redact;

/// Deterministic secrets of the token alphabet (a xorshift, no RNG crate).
fn secrets(from: usize, to: usize) -> Vec<String> {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    (from..to)
        .map(|i| {
            let mut x = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            (0..16)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    ALPHABET[(x % ALPHABET.len() as u64) as usize] as char
                })
                .collect()
        })
        .collect()
}

/// The redaction before the automaton: every needle searched in turn.
fn linear_redact(needles: &[String], text: &str) -> String {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for needle in needles {
        let mut from = 0;
        while let Some(i) = text[from..].find(needle.as_str()) {
            let (s, e) = (from + i, from + i + needle.len());
            if !spans.iter().any(|&(a, b)| s < b && a < e) {
                spans.push((s, e));
            }
            from = e;
        }
    }
    spans.sort_unstable();
    let mut out = text.to_owned();
    for (s, e) in spans.into_iter().rev() {
        out.replace_range(s..e, &"*".repeat(e - s));
    }
    out
}

/// Log lines like the daemon's, one in ten holding a known secret.
fn lines(known: &[String]) -> Vec<String> {
    (0..200)
        .map(|i| {
            let base = format!(
                "2026-06-01T03:00:{:02}Z  INFO tokensmith::watch: job rotate.rhai run {i} finished in 412ms",
                i % 60
            );
            if i % 10 == 0 {
                format!("{base}; saw {}", known[i % known.len()])
            } else {
                base
            }
        })
        .collect()
}

/// Mean time per line, over enough rounds to fill `budget`.
fn per_line(budget: Duration, lines: &[String], mut f: impl FnMut(&str) -> String) -> f64 {
    let start = Instant::now();
    let mut rounds = 0u32;
    while rounds == 0 || start.elapsed() < budget {
        for l in lines {
            std::hint::black_box(f(l));
        }
        rounds += 1;
    }
    start.elapsed().as_secs_f64() * 1e6 / (f64::from(rounds) * lines.len() as f64)
}

fn main() {
    let budget = Duration::from_millis(500);
    let mut known: Vec<String> = Vec::new();
    let mut needles: Vec<String> = Vec::new();
    println!("secrets  needles  linear µs/line  automaton µs/line  speed-up");
    for n in [1usize, 100, 10_000] {
        let learn = Instant::now();
        for s in secrets(known.len(), n) {
            redact::remember(&s);
            needles.extend(redact::hidden_forms(&s));
            known.push(s);
        }
        // The first search builds the automata: time it apart.
        let _ = redact::redact_tokens("warm-up");
        let learnt = learn.elapsed();
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        let lines = lines(&known);
        for l in &lines {
            let (old, new) = (linear_redact(&needles, l), redact::redact_tokens(l));
            assert_eq!(old, new, "both hide the same text");
        }
        let linear = per_line(budget, &lines, |l| linear_redact(&needles, l));
        let automaton = per_line(budget, &lines, redact::redact_tokens);
        println!(
            "{n:>7}  {:>7}  {linear:>14.2}  {automaton:>17.2}  {:>7.1}x   (remember + build: {learnt:.1?})",
            needles.len(),
            linear / automaton
        );
    }
}
