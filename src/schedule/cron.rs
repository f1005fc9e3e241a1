//! Cron expressions as users write them, and the next tick in a time zone.
//!
//! Accepted: crontab's 5 fields (minute precision), 6 or 7 fields (a leading
//! seconds field, an optional trailing year), and `@hourly @daily @midnight
//! @weekly @monthly @yearly @annually`. Day-of-week numbers are crontab's
//! `0-7` (0 and 7 are Sunday) in every form; names (`MON-FRI`) work too.
//!
//! The `cron` crate wants a seconds field and numbers Sunday 1, so each field
//! is checked and rewritten first (`cron_fields.rs`): a bad field is reported
//! as written, with crontab's limits, never as the crate saw it. Its own iterator is not used for time zones:
//! it skips a local time that falls in a spring-forward gap and yields one in a
//! fall-back overlap twice. Ticks are computed in civil (wall-clock) time
//! instead and mapped to instants here, with the rules of Vixie cron:
//!
//! * a schedule with a fixed hour (`30 2 * * *`) runs once per civil time: a
//!   time in the overlap runs at its first occurrence, a time in the gap runs
//!   shifted forward by the gap's length (02:30 becomes 03:30 CEST);
//! * a schedule whose hour field is `*` (`*/15 * * * *`, `@hourly`) keeps its
//!   cadence in real time: times in a gap do not exist and are skipped, times
//!   in an overlap run on both passes.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, LocalResult, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use cron::TimeUnitSpec;
use jiff::Timestamp;

use self::fields::Field;

#[path = "cron_fields.rs"]
mod fields;

/// A parsed cron schedule; displays as the user wrote it.
#[derive(Clone)]
pub struct CronSpec {
    source: String,
    schedule: cron::Schedule,
    hours_wildcard: bool,
}

/// Why a cron expression was rejected: the expression as written (its
/// first characters when long) and the rule it breaks, in crontab's terms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cron expression {}: {reason}", fields::quoted(.expression, 80))]
pub struct CronError {
    pub expression: String,
    pub reason: String,
}

const FIVE_FIELDS: [Field; 5] = [
    Field::Minute,
    Field::Hour,
    Field::DayOfMonth,
    Field::Month,
    Field::DayOfWeek,
];

const SEVEN_FIELDS: [Field; 7] = [
    Field::Second,
    Field::Minute,
    Field::Hour,
    Field::DayOfMonth,
    Field::Month,
    Field::DayOfWeek,
    Field::Year,
];

const MACROS: &[(&str, &str)] = &[
    ("@yearly", "0 0 0 1 1 *"),
    ("@annually", "0 0 0 1 1 *"),
    ("@monthly", "0 0 0 1 * *"),
    ("@weekly", "0 0 0 * * SUN"),
    ("@daily", "0 0 0 * * *"),
    ("@midnight", "0 0 0 * * *"),
    ("@hourly", "0 0 * * * *"),
];

/// How far back in civil time a tick can lie behind the instant it follows:
/// the widest daylight-saving shift in the tz database is 2 h (Antarctica/Troll).
const MAX_SHIFT_SECS: i64 = 3 * 3600;

/// Bounds the search so that a pathological schedule cannot spin.
const MAX_CANDIDATES: usize = 100_000;

impl CronSpec {
    /// Parses a cron expression (see the module docs for the accepted forms).
    pub fn parse(input: &str) -> Result<CronSpec, CronError> {
        let source = input.trim().to_owned();
        let err = |reason: String| CronError {
            expression: source.clone(),
            reason,
        };
        let expanded = if source.starts_with('@') {
            MACROS
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(&source))
                .map(|(_, fields)| (*fields).to_owned())
                .ok_or_else(|| {
                    err(format!(
                        "unknown macro (accepted: {})",
                        MACROS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(" ")
                    ))
                })?
        } else {
            let parts: Vec<&str> = source.split_whitespace().collect();
            let kinds: &[Field] = match parts.len() {
                5 => &FIVE_FIELDS,
                6 => &SEVEN_FIELDS[..6],
                7 => &SEVEN_FIELDS,
                n => {
                    return Err(err(format!(
                        "{n} fields; expected 5 (minute hour day-of-month month day-of-week), \
                         6 or 7 (with seconds first and an optional year last), or a macro such as @daily"
                    )));
                }
            };
            let mut normalized = Vec::with_capacity(7);
            if parts.len() == 5 {
                normalized.push("0".to_owned());
            }
            for (kind, text) in kinds.iter().zip(&parts) {
                normalized.push(fields::normalize(*kind, text).map_err(err)?);
            }
            normalized.join(" ")
        };
        // Every field was checked above; should the crate still refuse, the
        // message is about what the user wrote, not the rewritten fields.
        let schedule = cron::Schedule::from_str(&expanded).map_err(|_| {
            err("the fields are valid one by one but cannot be scheduled together".to_owned())
        })?;
        let hours_wildcard = schedule.hours().is_all();
        Ok(CronSpec {
            source,
            schedule,
            hours_wildcard,
        })
    }

    /// The expression as the user wrote it.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The first tick strictly after `after`, in time zone `tz`; `None` when
    /// the schedule has no more ticks (a 7-field expression with past years).
    pub fn next_after(&self, after: Timestamp, tz: Tz) -> Option<Timestamp> {
        let after_utc = to_chrono(after)?;
        let slack = if self.hours_wildcard {
            // Only a fall-back ahead can put a later tick at an earlier civil time.
            let now_off = offset_secs(tz, after_utc);
            let later_off = offset_secs(tz, after_utc + chrono::Duration::seconds(MAX_SHIFT_SECS));
            (now_off - later_off).max(0)
        } else {
            // A gap-shifted tick can also lie behind (02:30 runs at 03:30).
            MAX_SHIFT_SECS
        };
        let civil_start =
            after_utc.with_timezone(&tz).naive_local() - chrono::Duration::seconds(slack);
        // Iterate civil times with UTC standing in for "a zone without DST".
        // `after` is exclusive, so step back one second to include civil_start.
        let from = Utc.from_utc_datetime(&(civil_start - chrono::Duration::seconds(1)));
        let mut best: Option<DateTime<Utc>> = None;
        for candidate in self.schedule.after(&from).take(MAX_CANDIDATES) {
            let civil = candidate.naive_utc();
            let (instants, settled) = self.instants(civil, tz);
            for at in instants.into_iter().flatten() {
                if at > after_utc && best.is_none_or(|b| at < b) {
                    best = Some(at);
                }
            }
            // Every civil time after a settled candidate maps to a later instant.
            if settled && instants[0].is_some_and(|first| first > after_utc) {
                break;
            }
        }
        best.and_then(from_chrono)
    }

    /// The instants at which civil time `civil` runs, and whether no later
    /// civil time can map to an earlier instant (true outside a gap).
    fn instants(&self, civil: NaiveDateTime, tz: Tz) -> ([Option<DateTime<Utc>>; 2], bool) {
        match tz.from_local_datetime(&civil) {
            LocalResult::Single(t) => ([Some(t.with_timezone(&Utc)), None], true),
            LocalResult::Ambiguous(first, second) => {
                let second = self.hours_wildcard.then(|| second.with_timezone(&Utc));
                ([Some(first.with_timezone(&Utc)), second], true)
            }
            LocalResult::None if self.hours_wildcard => ([None, None], false),
            LocalResult::None => ([shifted_over_gap(civil, tz), None], false),
        }
    }
}

/// A civil time inside a spring-forward gap, read with the offset in force
/// before the gap: 02:30 on a CET→CEST day is 01:30 UTC, i.e. 03:30 CEST.
/// This is what jiff's and Java's "compatible" disambiguation do.
fn shifted_over_gap(civil: NaiveDateTime, tz: Tz) -> Option<DateTime<Utc>> {
    // Find the end of the gap (gaps are at most a day long, on minute steps).
    let mut probe = civil;
    for _ in 0..(26 * 60) {
        probe += chrono::Duration::minutes(1);
        if let Some(gap_end) = tz.from_local_datetime(&probe).earliest() {
            let before = gap_end.with_timezone(&Utc) - chrono::Duration::seconds(1);
            let offset = offset_secs(tz, before);
            return Some(Utc.from_utc_datetime(&(civil - chrono::Duration::seconds(offset))));
        }
    }
    None
}

fn offset_secs(tz: Tz, at: DateTime<Utc>) -> i64 {
    i64::from(
        tz.offset_from_utc_datetime(&at.naive_utc())
            .fix()
            .local_minus_utc(),
    )
}

fn to_chrono(t: Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.as_second(), u32::try_from(t.subsec_nanosecond()).ok()?)
}

fn from_chrono(t: DateTime<Utc>) -> Option<Timestamp> {
    Timestamp::new(
        t.timestamp(),
        i32::try_from(t.timestamp_subsec_nanos()).ok()?,
    )
    .ok()
}

impl fmt::Display for CronSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl fmt::Debug for CronSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CronSpec({:?})", self.source)
    }
}

impl PartialEq for CronSpec {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for CronSpec {}

#[cfg(test)]
#[path = "cron_tests.rs"]
mod tests;
