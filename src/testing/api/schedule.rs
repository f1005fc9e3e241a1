//! `schedule::`: when a job would run, read from its header the way the
//! daemon reads it (cron in its time zone, across daylight-saving changes).

use rhai::plugin::*;

/// Most ticks one call lists: enough for a year of `*/5 * * * *`.
const MAX_TICKS: usize = 200_000;

#[export_module]
pub mod schedule_api {
    use rhai::{Array, Dynamic, EvalAltResult};

    use crate::schedule::{CronSpec, ScriptHeader};
    use crate::script::api::errors::host_error;
    use crate::testing::api::{timestamp_arg, world};

    /// The instants at which a job would run from `from` (included) to `to`
    /// (excluded), as Timestamps. `job` is a script path (relative to the
    /// test file), header text (`"//! schedule: 30 2 * * *\n//! timezone:
    /// Europe/Berlin"`) or a bare cron expression (UTC). `from` and `to` are
    /// Timestamps or RFC 3339 strings. Time zones and daylight-saving changes
    /// follow the daemon: a fixed-hour time in a spring-forward gap runs
    /// once, shifted by the gap; one in a fall-back overlap runs once, at
    /// its first occurrence. Jitter is not applied.
    ///
    /// ```rhai
    /// let ticks = schedule::ticks("//! schedule: 30 2 * * *\n//! timezone: Europe/Berlin",
    ///     "2024-03-30T00:00:00Z", "2024-04-01T00:00:00Z");
    /// assert_eq(ticks, [timestamp("2024-03-30T01:30:00Z"), timestamp("2024-03-31T01:30:00Z")]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn ticks(
        ctx: NativeCallContext,
        job: &str,
        from: Dynamic,
        to: Dynamic,
    ) -> Result<Array, Box<EvalAltResult>> {
        const F: &str = "schedule::ticks";
        let pos = ctx.call_position();
        let fail = |m: String| host_error(F, &m, pos);
        let from = timestamp_arg(&ctx, "from", &from)?;
        let to = timestamp_arg(&ctx, "to", &to)?;
        let header = if job.contains("//!") {
            ScriptHeader::parse(job).map_err(|e| fail(e.to_string()))?
        } else if job.trim_end().ends_with(".rhai") {
            let path = world(&ctx)?.dir.join(job.trim());
            let source = std::fs::read_to_string(&path)
                .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
            ScriptHeader::parse(&source).map_err(|e| fail(format!("{}: {e}", path.display())))?
        } else {
            ScriptHeader {
                schedule: Some(CronSpec::parse(job).map_err(|e| fail(e.to_string()))?),
                ..ScriptHeader::default()
            }
        };
        let Some(spec) = header.schedule else {
            return Err(fail(format!("{job:?} has no `//! schedule:` line")));
        };
        let mut out = Array::new();
        let mut after = from
            .checked_sub(jiff::SignedDuration::from_nanos(1))
            .map_err(|_| fail("from is out of range".to_owned()))?;
        while let Some(t) = spec.next_after(after, header.timezone) {
            if t >= to {
                break;
            }
            if out.len() == super::MAX_TICKS {
                return Err(fail(format!(
                    "more than {} ticks between {from} and {to}: ask for a shorter span",
                    super::MAX_TICKS
                )));
            }
            out.push(Dynamic::from(t));
            after = t;
        }
        Ok(out)
    }

    /// `t` as RFC 3339 in time zone `tz` (an IANA name), to read ticks as
    /// local times: `2024-03-31T03:30:00+02:00`.
    ///
    /// ```rhai
    /// assert_eq(schedule::local(timestamp("2024-03-31T01:30:00Z"), "Europe/Berlin"), "2024-03-31T03:30:00+02:00");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn local(
        ctx: NativeCallContext,
        t: jiff::Timestamp,
        tz: &str,
    ) -> Result<String, Box<EvalAltResult>> {
        let zone: chrono_tz::Tz = tz.parse().map_err(|_| {
            host_error(
                "schedule::local",
                &format!("unknown time zone {tz:?} (an IANA name such as UTC or Europe/Berlin)"),
                ctx.call_position(),
            )
        })?;
        let utc = chrono::DateTime::from_timestamp(t.as_second(), 0).ok_or_else(|| {
            host_error(
                "schedule::local",
                "the time is out of range",
                ctx.call_position(),
            )
        })?;
        Ok(utc
            .with_timezone(&zone)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    }
}
