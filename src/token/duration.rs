//! Go's `time.ParseDuration` and `time.Duration.String`, which kubeadm's
//! `--ttl` flag and its messages use. Durations are nanoseconds in an `i64`,
//! exactly as Go holds them.

use jiff::SignedDuration;

use super::quote::go_quote;

/// A string that Go's `time.ParseDuration` rejects, with Go's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("time: invalid duration {}", go_quote(.0))]
    Invalid(String),
    #[error("time: missing unit in duration {}", go_quote(.0))]
    MissingUnit(String),
    #[error("time: unknown unit {} in duration {}", go_quote(.unit), go_quote(.input))]
    UnknownUnit { unit: String, input: String },
}

fn unit_nanos(unit: &str) -> Option<u64> {
    Some(match unit {
        "ns" => 1,
        "us" | "µs" | "μs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    })
}

/// Parses `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+` as Go does (`90s`, `1h30m`,
/// `1.5h`, `-5m`, `0`; no `d`), returning Go's exact error text otherwise.
///
/// ```
/// use tokensmith::token::{format_go_duration, parse_go_duration};
///
/// let d = parse_go_duration("1h30m").unwrap();
/// assert_eq!(format_go_duration(d), "1h30m0s");
/// assert_eq!(
///     parse_go_duration("1d").unwrap_err().to_string(),
///     r#"time: unknown unit "d" in duration "1d""#
/// );
/// ```
pub fn parse_go_duration(input: &str) -> Result<SignedDuration, DurationError> {
    let invalid = || DurationError::Invalid(input.to_owned());
    let mut s = input;
    let mut neg = false;
    if let Some(rest) = s.strip_prefix('-') {
        neg = true;
        s = rest;
    } else if let Some(rest) = s.strip_prefix('+') {
        s = rest;
    }
    if s == "0" {
        return Ok(SignedDuration::ZERO);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !s.is_empty() {
        let first = s.as_bytes()[0];
        if !(first == b'.' || first.is_ascii_digit()) {
            return Err(invalid());
        }
        // Integer part.
        let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
        let mut v: u64 = 0;
        for b in s[..int_len].bytes() {
            v = v
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(b - b'0')))
                .filter(|v| *v <= 1 << 63)
                .ok_or_else(invalid)?;
        }
        let pre = int_len > 0;
        s = &s[int_len..];
        // Fraction.
        let mut frac: u64 = 0;
        let mut scale: f64 = 1.0;
        let mut post = false;
        if let Some(rest) = s.strip_prefix('.') {
            s = rest;
            let frac_len = s.bytes().take_while(u8::is_ascii_digit).count();
            let mut overflow = false;
            for b in s[..frac_len].bytes() {
                if overflow {
                    continue;
                }
                match frac
                    .checked_mul(10)
                    .and_then(|f| f.checked_add(u64::from(b - b'0')))
                {
                    Some(f) if f <= 1 << 63 => {
                        frac = f;
                        scale *= 10.0;
                    }
                    _ => overflow = true,
                }
            }
            post = frac_len > 0;
            s = &s[frac_len..];
        }
        if !pre && !post {
            return Err(invalid());
        }
        // Unit.
        let unit_len = s
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map_or(s.len(), |(i, _)| i);
        if unit_len == 0 {
            return Err(DurationError::MissingUnit(input.to_owned()));
        }
        let unit = &s[..unit_len];
        s = &s[unit_len..];
        let per = unit_nanos(unit).ok_or_else(|| DurationError::UnknownUnit {
            unit: unit.to_owned(),
            input: input.to_owned(),
        })?;
        if v > (1 << 63) / per {
            return Err(invalid());
        }
        v *= per;
        if frac > 0 {
            v = v
                .checked_add((frac as f64 * (per as f64 / scale)) as u64)
                .filter(|v| *v <= 1 << 63)
                .ok_or_else(invalid)?;
        }
        total = total
            .checked_add(v)
            .filter(|t| *t <= 1 << 63)
            .ok_or_else(invalid)?;
    }
    if neg {
        Ok(SignedDuration::from_nanos(
            (total as i128).wrapping_neg() as i64
        ))
    } else if total > i64::MAX as u64 {
        Err(invalid())
    } else {
        Ok(SignedDuration::from_nanos(total as i64))
    }
}

/// Go's `Duration.String`: `24h0m0s`, `1m30s`, `1.5s`, `500ms`, `0s`.
pub fn format_go_duration(d: SignedDuration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".to_owned();
    }
    let neg = nanos < 0;
    let u = nanos.unsigned_abs();
    let sign = if neg { "-" } else { "" };
    if u < 1_000_000_000 {
        let (unit, div) = if u < 1_000 {
            ("ns", 1)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        return format!("{sign}{}{unit}", fixed(u, div));
    }
    let secs = u / 1_000_000_000;
    let sub = u % 1_000_000_000;
    let h = secs / 3600;
    let m = (secs / 60) % 60;
    let s = secs % 60;
    let sec_part = fixed(s * 1_000_000_000 + sub, 1_000_000_000);
    if h > 0 {
        format!("{sign}{h}h{m}m{sec_part}s")
    } else if m > 0 {
        format!("{sign}{m}m{sec_part}s")
    } else {
        format!("{sign}{sec_part}s")
    }
}

/// `v / div` with the fraction's trailing zeros dropped, as Go's `fmtFrac`.
fn fixed(v: u128, div: u128) -> String {
    let int = v / div;
    let frac = v % div;
    if frac == 0 {
        return int.to_string();
    }
    let width = div.ilog10() as usize;
    let digits = format!("{frac:0width$}");
    format!("{int}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: i64) -> SignedDuration {
        SignedDuration::from_secs(s)
    }

    #[test]
    fn parses_go_syntax() {
        assert_eq!(parse_go_duration("24h0m0s").unwrap(), secs(86400));
        assert_eq!(parse_go_duration("90s").unwrap(), secs(90));
        assert_eq!(parse_go_duration("1h30m").unwrap(), secs(5400));
        assert_eq!(parse_go_duration("1.5h").unwrap(), secs(5400));
        assert_eq!(parse_go_duration("-5m").unwrap(), secs(-300));
        assert_eq!(parse_go_duration("+5m").unwrap(), secs(300));
        assert_eq!(parse_go_duration("0").unwrap(), secs(0));
        assert_eq!(parse_go_duration("-0").unwrap(), secs(0));
        assert_eq!(
            parse_go_duration(".5s").unwrap(),
            SignedDuration::from_millis(500)
        );
        assert_eq!(parse_go_duration("1.s").unwrap(), secs(1));
        assert_eq!(
            parse_go_duration("300ms").unwrap(),
            SignedDuration::from_millis(300)
        );
        assert_eq!(
            parse_go_duration("1µs1us").unwrap(),
            SignedDuration::from_micros(2)
        );
        assert_eq!(
            parse_go_duration("2h45m30.5s").unwrap(),
            SignedDuration::from_millis(9_930_500)
        );
        assert_eq!(
            parse_go_duration("9223372036854775807ns").unwrap(),
            SignedDuration::from_nanos(i64::MAX)
        );
    }

    #[test]
    fn rejects_with_gos_messages() {
        let msg = |s: &str| parse_go_duration(s).unwrap_err().to_string();
        assert_eq!(msg("1d"), r#"time: unknown unit "d" in duration "1d""#);
        assert_eq!(msg("abc"), r#"time: invalid duration "abc""#);
        assert_eq!(msg(""), r#"time: invalid duration """#);
        assert_eq!(msg("1"), r#"time: missing unit in duration "1""#);
        assert_eq!(msg("."), r#"time: invalid duration ".""#);
        assert_eq!(msg("-"), r#"time: invalid duration "-""#);
        assert_eq!(msg("1h "), r#"time: unknown unit "h " in duration "1h ""#);
        assert_eq!(
            msg("9223372036854775808ns"),
            r#"time: invalid duration "9223372036854775808ns""#
        );
        assert_eq!(msg("3000000h"), r#"time: invalid duration "3000000h""#);
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(format_go_duration(secs(86400)), "24h0m0s");
        assert_eq!(format_go_duration(secs(90)), "1m30s");
        assert_eq!(format_go_duration(secs(0)), "0s");
        assert_eq!(
            format_go_duration(SignedDuration::from_millis(1500)),
            "1.5s"
        );
        assert_eq!(
            format_go_duration(SignedDuration::from_millis(500)),
            "500ms"
        );
        assert_eq!(
            format_go_duration(SignedDuration::from_nanos(1200)),
            "1.2µs"
        );
        assert_eq!(format_go_duration(secs(-300)), "-5m0s");
        assert_eq!(
            format_go_duration(SignedDuration::from_nanos(i64::MIN)),
            "-2562047h47m16.854775808s"
        );
    }
}
