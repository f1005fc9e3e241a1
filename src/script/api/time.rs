//! Time: `now()`, `duration("48h")`, `timestamp("…")`, arithmetic and
//! comparisons. Durations use Go's syntax and print as Go does (`24h0m0s`),
//! the same as `--ttl`; timestamps print as RFC 3339 in UTC.

use rhai::plugin::*;

/// Go's RFC 3339 rendering in UTC, whole seconds, as kubeadm writes expirations.
pub fn rfc3339(ts: jiff::Timestamp) -> String {
    crate::token::Expiry::utc(ts).to_rfc3339()
}

#[export_module]
pub mod time_api {
    use jiff::SignedDuration;
    use rhai::{EvalAltResult, INT};

    use crate::script::api::errors::host_error;
    use crate::token::{Expiry, format_go_duration, parse_go_duration};

    /// An instant in time.
    pub type Timestamp = jiff::Timestamp;
    /// A signed length of time, with nanosecond precision.
    pub type Duration = jiff::SignedDuration;

    /// The current time (under `tokensmith test`, the test cluster's clock,
    /// which `clock::advance` moves).
    ///
    /// ```rhai
    /// let started = now();
    /// log::info(`started at ${started}`);
    /// ```
    #[rhai_fn(volatile)]
    pub fn now(ctx: NativeCallContext) -> Timestamp {
        crate::script::context::RunContext::now_of(&ctx)
    }

    /// Parses a duration in Go syntax, as `--ttl` does: `90s`, `1h30m`,
    /// `1.5h`, `-5m`, `0`. Units: ns, us, ms, s, m, h (no `d`).
    ///
    /// ```rhai
    /// let ttl = duration("48h");
    /// print(ttl);          // 48h0m0s
    /// ```
    #[rhai_fn(return_raw)]
    pub fn duration(ctx: NativeCallContext, text: &str) -> Result<Duration, Box<EvalAltResult>> {
        parse_go_duration(text)
            .map_err(|e| host_error("duration", &e.to_string(), ctx.call_position()))
    }

    /// Parses an RFC 3339 time such as `2024-01-02T03:04:05Z` or
    /// `2024-01-02T05:04:05+02:00`, as strictly as Go's `time.Parse`.
    ///
    /// ```rhai
    /// let t = timestamp("2024-01-02T03:04:05Z");
    /// print(t + duration("1h"));   // 2024-01-02T04:04:05Z
    /// ```
    #[rhai_fn(return_raw)]
    pub fn timestamp(ctx: NativeCallContext, text: &str) -> Result<Timestamp, Box<EvalAltResult>> {
        Expiry::parse(text)
            .map(|e| e.timestamp())
            .map_err(|e| host_error("timestamp", &e.to_string(), ctx.call_position()))
    }

    /// The time as RFC 3339 in UTC, whole seconds (`2024-01-02T03:04:05Z`).
    ///
    /// ```rhai
    /// let stamp = now().to_rfc3339();
    /// ```
    #[rhai_fn(global, pure)]
    pub fn to_rfc3339(t: &mut Timestamp) -> String {
        super::rfc3339(*t)
    }

    /// Seconds since 1970-01-01T00:00:00Z.
    ///
    /// ```rhai
    /// let age = now().unix_seconds - timestamp("2024-01-01T00:00:00Z").unix_seconds;
    /// ```
    #[rhai_fn(global, get = "unix_seconds", pure)]
    pub fn unix_seconds(t: &mut Timestamp) -> INT {
        t.as_second()
    }

    /// A timestamp prints as RFC 3339 in UTC.
    ///
    /// ```rhai
    /// print(timestamp("2024-01-02T05:04:05+02:00"));   // 2024-01-02T03:04:05Z
    /// ```
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn timestamp_to_string(t: &mut Timestamp) -> String {
        super::rfc3339(*t)
    }

    /// A duration prints as Go prints it: `24h0m0s`, `1m30s`, `500ms`.
    ///
    /// ```rhai
    /// print(duration("90m"));   // 1h30m0s
    /// ```
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn duration_to_string(d: &mut Duration) -> String {
        format_go_duration(*d)
    }

    /// Whole seconds in the duration (truncated toward zero).
    ///
    /// ```rhai
    /// if token.ttl != () && token.ttl.seconds < 3600 { log::warn("expires within the hour") }
    /// ```
    #[rhai_fn(global, get = "seconds", pure)]
    pub fn seconds(d: &mut Duration) -> INT {
        d.as_secs()
    }

    /// Whole minutes in the duration (truncated toward zero).
    ///
    /// ```rhai
    /// print(duration("2h").minutes);   // 120
    /// ```
    #[rhai_fn(global, get = "minutes", pure)]
    pub fn minutes(d: &mut Duration) -> INT {
        d.as_mins()
    }

    /// Whole hours in the duration (truncated toward zero).
    ///
    /// ```rhai
    /// print(duration("36h").hours);   // 36
    /// ```
    #[rhai_fn(global, get = "hours", pure)]
    pub fn hours(d: &mut Duration) -> INT {
        d.as_hours()
    }

    /// The time `d` after `t`.
    ///
    /// ```rhai
    /// let tomorrow = now() + duration("24h");
    /// ```
    #[rhai_fn(global, name = "+", return_raw)]
    pub fn ts_plus(t: Timestamp, d: Duration) -> Result<Timestamp, Box<EvalAltResult>> {
        t.checked_add(d)
            .map_err(|_| overflow("timestamp + duration"))
    }

    /// The time `d` before `t`.
    ///
    /// ```rhai
    /// let cutoff = now() - duration("168h");
    /// ```
    #[rhai_fn(global, name = "-", return_raw)]
    pub fn ts_minus(t: Timestamp, d: Duration) -> Result<Timestamp, Box<EvalAltResult>> {
        t.checked_sub(d)
            .map_err(|_| overflow("timestamp - duration"))
    }

    /// The duration from `b` to `a` (negative when `a` is earlier).
    ///
    /// ```rhai
    /// let age = now() - timestamp("2024-01-01T00:00:00Z");
    /// ```
    #[rhai_fn(global, name = "-")]
    pub fn ts_diff(a: Timestamp, b: Timestamp) -> Duration {
        a.duration_since(b)
    }

    /// Sum of two durations.
    ///
    /// ```rhai
    /// print(duration("1h") + duration("30m"));   // 1h30m0s
    /// ```
    #[rhai_fn(global, name = "+", return_raw)]
    pub fn dur_plus(a: Duration, b: Duration) -> Result<Duration, Box<EvalAltResult>> {
        a.checked_add(b)
            .ok_or_else(|| overflow("duration + duration"))
    }

    /// Difference of two durations.
    ///
    /// ```rhai
    /// print(duration("1h") - duration("30m"));   // 30m0s
    /// ```
    #[rhai_fn(global, name = "-", return_raw)]
    pub fn dur_minus(a: Duration, b: Duration) -> Result<Duration, Box<EvalAltResult>> {
        a.checked_sub(b)
            .ok_or_else(|| overflow("duration - duration"))
    }

    /// A duration scaled by a whole number.
    ///
    /// ```rhai
    /// print(duration("1h") * 3);   // 3h0m0s
    /// ```
    #[rhai_fn(global, name = "*", return_raw)]
    pub fn dur_times(a: Duration, n: INT) -> Result<Duration, Box<EvalAltResult>> {
        i32::try_from(n)
            .ok()
            .and_then(|n| a.checked_mul(n))
            .ok_or_else(|| overflow("duration * int"))
    }

    /// A whole number times a duration.
    ///
    /// ```rhai
    /// print(2 * duration("90m"));   // 3h0m0s
    /// ```
    #[rhai_fn(global, name = "*", return_raw)]
    pub fn int_times(n: INT, a: Duration) -> Result<Duration, Box<EvalAltResult>> {
        dur_times(a, n)
    }

    /// A duration divided by a whole number.
    ///
    /// ```rhai
    /// print(duration("1h") / 4);   // 15m0s
    /// ```
    #[rhai_fn(global, name = "/", return_raw)]
    pub fn dur_div(a: Duration, n: INT) -> Result<Duration, Box<EvalAltResult>> {
        i32::try_from(n)
            .ok()
            .and_then(|n| a.checked_div(n))
            .ok_or_else(|| overflow("duration / int"))
    }

    /// The negated duration.
    ///
    /// ```rhai
    /// print(-duration("5m"));   // -5m0s
    /// ```
    #[rhai_fn(global, name = "-")]
    pub fn dur_neg(a: Duration) -> Duration {
        a.checked_neg().unwrap_or(SignedDuration::MAX)
    }

    /// Timestamps compare by instant.
    ///
    /// ```rhai
    /// if token.expires != () && token.expires < now() + duration("1h") { log::info("expiring soon") }
    /// ```
    #[rhai_fn(global, name = "<")]
    pub fn ts_lt(a: Timestamp, b: Timestamp) -> bool {
        a < b
    }
    #[rhai_fn(global, name = "<=")]
    pub fn ts_le(a: Timestamp, b: Timestamp) -> bool {
        a <= b
    }
    #[rhai_fn(global, name = ">")]
    pub fn ts_gt(a: Timestamp, b: Timestamp) -> bool {
        a > b
    }
    #[rhai_fn(global, name = ">=")]
    pub fn ts_ge(a: Timestamp, b: Timestamp) -> bool {
        a >= b
    }
    #[rhai_fn(global, name = "==")]
    pub fn ts_eq(a: Timestamp, b: Timestamp) -> bool {
        a == b
    }
    #[rhai_fn(global, name = "!=")]
    pub fn ts_ne(a: Timestamp, b: Timestamp) -> bool {
        a != b
    }

    /// Durations compare by length.
    ///
    /// ```rhai
    /// if duration(args.ttl ?? "24h") > duration("168h") { throw "ttl too long" }
    /// ```
    #[rhai_fn(global, name = "<")]
    pub fn dur_lt(a: Duration, b: Duration) -> bool {
        a < b
    }
    #[rhai_fn(global, name = "<=")]
    pub fn dur_le(a: Duration, b: Duration) -> bool {
        a <= b
    }
    #[rhai_fn(global, name = ">")]
    pub fn dur_gt(a: Duration, b: Duration) -> bool {
        a > b
    }
    #[rhai_fn(global, name = ">=")]
    pub fn dur_ge(a: Duration, b: Duration) -> bool {
        a >= b
    }
    #[rhai_fn(global, name = "==")]
    pub fn dur_eq(a: Duration, b: Duration) -> bool {
        a == b
    }
    #[rhai_fn(global, name = "!=")]
    pub fn dur_ne(a: Duration, b: Duration) -> bool {
        a != b
    }

    fn overflow(what: &str) -> Box<EvalAltResult> {
        host_error(what, "the result is out of range", rhai::Position::NONE)
    }
}
