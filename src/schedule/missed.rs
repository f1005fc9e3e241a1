//! Ticks that passed while the daemon was down: which one to run late, and
//! how many were missed. Pure; the scheduler logs and counts the result.

use std::time::Duration;

use chrono_tz::Tz;
use jiff::{SignedDuration, Timestamp};

use super::cron::CronSpec;

/// Counting stops here: a per-second job down for a week is "at least".
pub const COUNT_CAP: u32 = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatchUp {
    /// Ticks in `(checked_through, now]`, capped at [`COUNT_CAP`].
    pub ticks_passed: u32,
    /// The latest passed tick.
    pub latest: Option<Timestamp>,
    /// The tick to run now: the latest one, when within the starting deadline.
    pub run: Option<Timestamp>,
}

impl CatchUp {
    /// Passed ticks that will not run.
    pub fn missed(&self) -> u32 {
        self.ticks_passed - u32::from(self.run.is_some())
    }
}

/// Like a Kubernetes CronJob's `startingDeadlineSeconds`: of the ticks missed
/// while down, only the latest may run, and only if it is no older than the
/// deadline. Without a deadline, missed ticks are reported, never run.
pub fn catch_up(
    spec: &CronSpec,
    tz: Tz,
    checked_through: Timestamp,
    now: Timestamp,
    starting_deadline: Option<Duration>,
) -> CatchUp {
    let mut ticks_passed = 0;
    let mut latest = None;
    let mut at = checked_through;
    while ticks_passed < COUNT_CAP {
        match spec.next_after(at, tz) {
            Some(t) if t <= now => {
                ticks_passed += 1;
                latest = Some(t);
                at = t;
            }
            _ => break,
        }
    }
    if ticks_passed == COUNT_CAP {
        // Find the true latest tick by searching only the recent past.
        let window = starting_deadline
            .and_then(|d| SignedDuration::try_from(d).ok())
            .unwrap_or(SignedDuration::from_hours(24));
        let mut at = now.checked_sub(window).unwrap_or(now).max(at);
        while let Some(t) = spec.next_after(at, tz).filter(|t| *t <= now) {
            latest = Some(t);
            at = t;
        }
    }
    let run = latest.filter(|t| {
        starting_deadline
            .is_some_and(|d| SignedDuration::try_from(d).is_ok_and(|d| now.duration_since(*t) <= d))
    });
    CatchUp {
        ticks_passed,
        latest,
        run,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn the_latest_missed_tick_runs_within_the_deadline() {
        let spec = CronSpec::parse("0 3 * * *").expect("spec");
        let c = catch_up(
            &spec,
            Tz::UTC,
            ts("2026-06-01T03:00:00Z"),
            ts("2026-06-03T03:40:00Z"),
            Some(Duration::from_secs(3600)),
        );
        assert_eq!(c.ticks_passed, 2);
        assert_eq!(c.run, Some(ts("2026-06-03T03:00:00Z")));
        assert_eq!(c.missed(), 1);
    }

    #[test]
    fn a_tick_past_the_deadline_or_without_one_is_only_reported() {
        let spec = CronSpec::parse("0 3 * * *").expect("spec");
        let from = ts("2026-06-01T03:00:00Z");
        let now = ts("2026-06-02T05:00:00Z");
        let late = catch_up(&spec, Tz::UTC, from, now, Some(Duration::from_secs(3600)));
        assert_eq!((late.ticks_passed, late.run, late.missed()), (1, None, 1));
        let none = catch_up(&spec, Tz::UTC, from, now, None);
        assert_eq!((none.ticks_passed, none.run), (1, None));
    }

    #[test]
    fn nothing_passed_means_nothing_to_do() {
        let spec = CronSpec::parse("0 3 * * *").expect("spec");
        let c = catch_up(
            &spec,
            Tz::UTC,
            ts("2026-06-01T03:00:00Z"),
            ts("2026-06-02T02:59:59Z"),
            Some(Duration::from_secs(3600)),
        );
        assert_eq!(
            c,
            CatchUp {
                ticks_passed: 0,
                latest: None,
                run: None
            }
        );
    }

    #[test]
    fn long_downtime_of_a_frequent_job_is_capped_but_still_finds_the_latest() {
        let spec = CronSpec::parse("* * * * * *").expect("spec");
        let c = catch_up(
            &spec,
            Tz::UTC,
            ts("2026-06-01T00:00:00Z"),
            ts("2026-06-08T00:00:30Z"),
            Some(Duration::from_secs(60)),
        );
        assert_eq!(c.ticks_passed, COUNT_CAP);
        assert_eq!(c.run, Some(ts("2026-06-08T00:00:30Z")));
    }
}
