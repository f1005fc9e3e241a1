//! Token expiration times: written as RFC 3339 UTC whole seconds, read back
//! exactly as Go's `time.Parse(time.RFC3339, s)` reads them, keeping the
//! written offset (kubeadm's list text prints it back unchanged).

use std::fmt;

use jiff::{SignedDuration, Timestamp, civil, tz::Offset};

use super::quote::go_quote;

const LAYOUT: &str = "2006-01-02T15:04:05Z07:00";

/// An instant together with the UTC offset it was written with.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Expiry {
    at: Timestamp,
    offset: Offset,
}

/// Go's `time.Parse` error for an RFC 3339 value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseTimeError(String);

impl Expiry {
    /// An instant in UTC.
    pub fn utc(at: Timestamp) -> Self {
        Self {
            at,
            offset: Offset::UTC,
        }
    }

    /// `now + ttl`, truncated to whole seconds as Go's RFC 3339 format does.
    pub fn after(now: Timestamp, ttl: SignedDuration) -> Self {
        let at = now.checked_add(ttl).unwrap_or(Timestamp::MAX);
        Self::utc(truncate_to_seconds(at))
    }

    pub fn timestamp(&self) -> Timestamp {
        self.at
    }

    pub fn offset(&self) -> Offset {
        self.offset
    }

    /// Time left until expiry (negative once past).
    pub fn remaining(&self, now: Timestamp) -> SignedDuration {
        self.at.duration_since(now)
    }

    /// `remaining <= 0`, as `util/secrets.GetExpiration` decides it: the
    /// exact instant already counts as expired.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.remaining(now) <= SignedDuration::ZERO
    }

    /// Go `t.Format(time.RFC3339)`: whole seconds, `Z` for UTC, else `±hh:mm`.
    pub fn to_rfc3339(&self) -> String {
        let dt = self.offset.to_datetime(self.at);
        let mut s = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            dt.year(),
            dt.month(),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second()
        );
        let secs = self.offset.seconds();
        if secs == 0 {
            s.push('Z');
        } else {
            let sign = if secs < 0 { '-' } else { '+' };
            let a = secs.abs();
            s.push_str(&format!("{sign}{:02}:{:02}", a / 3600, (a / 60) % 60));
        }
        s
    }

    /// The same instant in UTC, formatted as Go's metav1.Time marshals it.
    pub fn to_rfc3339_utc(&self) -> String {
        Self::utc(self.at).to_rfc3339()
    }

    /// Parses like Go's `time.Parse(time.RFC3339, s)`: upper-case `T` and `Z`,
    /// optional fractional seconds, `Z` or `±hh:mm`; Go's messages on failure.
    pub fn parse(value: &str) -> Result<Self, ParseTimeError> {
        let mut p = Parser { value, rest: value };
        let year = p.digits(4, "2006")?;
        p.literal("-", "-01-02T15:04:05Z07:00")?;
        let month = p.digits(2, "01")?;
        p.literal("-", "-02T15:04:05Z07:00")?;
        let day = p.digits(2, "02")?;
        p.literal("T", "T15:04:05Z07:00")?;
        let hour = p.digits(2, "15")?;
        p.literal(":", ":04:05Z07:00")?;
        let minute = p.digits(2, "04")?;
        p.literal(":", ":05Z07:00")?;
        let second = p.digits(2, "05")?;
        let mut nanos = 0i64;
        if let Some(rest) = p.rest.strip_prefix(['.', ',']) {
            let n = rest.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return Err(p.cannot_parse("Z07:00"));
            }
            let digits = &rest[..n.min(9)];
            nanos = digits.parse::<i64>().unwrap_or(0) * 10i64.pow(9 - digits.len() as u32);
            p.rest = &rest[n..];
        }
        let offset_secs = if let Some(rest) = p.rest.strip_prefix('Z') {
            p.rest = rest;
            0
        } else {
            let b = p.rest.as_bytes();
            let ok = b.len() >= 6
                && (b[0] == b'+' || b[0] == b'-')
                && b[1..3].iter().all(u8::is_ascii_digit)
                && b[3] == b':'
                && b[4..6].iter().all(u8::is_ascii_digit);
            if !ok {
                return Err(p.cannot_parse("Z07:00"));
            }
            let hh = i32::from(b[1] - b'0') * 10 + i32::from(b[2] - b'0');
            let mm = i32::from(b[4] - b'0') * 10 + i32::from(b[5] - b'0');
            if hh > 24 || mm > 60 {
                return Err(p.range("time zone offset"));
            }
            p.rest = &p.rest[6..];
            let s = hh * 3600 + mm * 60;
            if b[0] == b'-' { -s } else { s }
        };
        if !p.rest.is_empty() {
            return Err(ParseTimeError(format!(
                "parsing time {}: extra text: {}",
                go_quote(value),
                go_quote(p.rest)
            )));
        }
        if !(1..=12).contains(&month) {
            return Err(p.range("month"));
        }
        let date = civil::Date::new(year as i16, month as i8, 1).map_err(|_| p.range("year"))?;
        if day < 1 || day > i32::from(date.days_in_month()) {
            return Err(p.range("day"));
        }
        if hour > 23 {
            return Err(p.range("hour"));
        }
        if minute > 59 {
            return Err(p.range("minute"));
        }
        if second > 59 {
            return Err(p.range("second"));
        }
        let offset = Offset::from_seconds(offset_secs).map_err(|_| p.range("time zone offset"))?;
        let dt = civil::DateTime::new(
            year as i16,
            month as i8,
            day as i8,
            hour as i8,
            minute as i8,
            second as i8,
            nanos as i32,
        )
        .map_err(|_| p.range("day"))?;
        let at = offset.to_timestamp(dt).map_err(|_| p.range("year"))?;
        Ok(Self { at, offset })
    }
}

impl fmt::Display for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// Drops sub-second precision (Go's RFC 3339 format truncates, never rounds).
pub fn truncate_to_seconds(t: Timestamp) -> Timestamp {
    Timestamp::from_second(t.as_second()).unwrap_or(t)
}

struct Parser<'a> {
    value: &'a str,
    rest: &'a str,
}

impl Parser<'_> {
    fn cannot_parse(&self, elem: &str) -> ParseTimeError {
        ParseTimeError(format!(
            "parsing time {} as {}: cannot parse {} as {}",
            go_quote(self.value),
            go_quote(LAYOUT),
            go_quote(self.rest),
            go_quote(elem)
        ))
    }

    fn range(&self, what: &str) -> ParseTimeError {
        ParseTimeError(format!(
            "parsing time {}: {what} out of range",
            go_quote(self.value)
        ))
    }

    fn digits(&mut self, n: usize, elem: &str) -> Result<i32, ParseTimeError> {
        let b = self.rest.as_bytes();
        if b.len() < n || !b[..n].iter().all(u8::is_ascii_digit) {
            return Err(self.cannot_parse(elem));
        }
        let v = self.rest[..n]
            .parse()
            .map_err(|_| self.cannot_parse(elem))?;
        self.rest = &self.rest[n..];
        Ok(v)
    }

    fn literal(&mut self, lit: &str, layout_rest: &str) -> Result<(), ParseTimeError> {
        match self.rest.strip_prefix(lit) {
            Some(r) => {
                self.rest = r;
                Ok(())
            }
            None => Err(self.cannot_parse(layout_rest)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_utc_and_offsets() {
        for s in [
            "2024-01-02T03:04:05Z",
            "2024-01-02T05:04:05+02:00",
            "1999-12-31T23:59:59-07:30",
        ] {
            assert_eq!(Expiry::parse(s).unwrap().to_rfc3339(), s);
        }
        let e = Expiry::parse("2024-01-02T05:04:05+02:00").unwrap();
        assert_eq!(e.to_rfc3339_utc(), "2024-01-02T03:04:05Z");
    }

    #[test]
    fn accepts_fractions_and_truncates_them_on_format() {
        let e = Expiry::parse("2024-01-02T03:04:05.999Z").unwrap();
        assert_eq!(e.to_rfc3339(), "2024-01-02T03:04:05Z");
    }

    #[test]
    fn rejects_what_go_rejects() {
        for bad in [
            "2024-01-02 03:04:05Z",
            "2024-01-02t03:04:05Z",
            "2024-01-02T03:04:05z",
            "2024-01-02T03:04:05",
            "2024-13-02T03:04:05Z",
            "2023-02-29T03:04:05Z",
            "2024-01-02T24:04:05Z",
            "2024-01-02T03:04:60Z",
            "2024-01-02T03:04:05Zjunk",
            "24-01-02T03:04:05Z",
            "",
            "garbage",
        ] {
            assert!(Expiry::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            Expiry::parse("garbage").unwrap_err().to_string(),
            r#"parsing time "garbage" as "2006-01-02T15:04:05Z07:00": cannot parse "garbage" as "2006""#
        );
        assert_eq!(
            Expiry::parse("2024-13-02T03:04:05Z")
                .unwrap_err()
                .to_string(),
            r#"parsing time "2024-13-02T03:04:05Z": month out of range"#
        );
    }

    #[test]
    fn the_exact_instant_is_expired() {
        let e = Expiry::parse("2024-01-02T03:04:05Z").unwrap();
        assert!(e.is_expired(e.timestamp()));
        assert!(!e.is_expired(e.timestamp() - SignedDuration::from_nanos(1)));
    }

    #[test]
    fn after_truncates_sub_seconds() {
        let now: Timestamp = "2024-01-02T03:04:05.7Z".parse().unwrap();
        let e = Expiry::after(now, SignedDuration::from_secs(3600));
        assert_eq!(e.to_rfc3339(), "2024-01-02T04:04:05Z");
    }
}
