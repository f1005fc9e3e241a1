use std::str::FromStr;

use chrono::TimeZone;
use chrono_tz::Tz;
use jiff::Timestamp;

use super::CronSpec;

fn ts(s: &str) -> Timestamp {
    s.parse().expect("test timestamp")
}

fn ticks(expr: &str, tz: Tz, from: &str, n: usize) -> Vec<String> {
    let spec = CronSpec::parse(expr).expect("valid expression");
    let mut at = ts(from);
    let mut out = Vec::new();
    for _ in 0..n {
        at = spec.next_after(at, tz).expect("a next tick");
        out.push(at.to_string());
    }
    out
}

#[test]
fn five_fields_get_minute_precision_in_utc() {
    assert_eq!(
        ticks("*/15 * * * *", Tz::UTC, "2026-06-01T12:07:30Z", 3),
        [
            "2026-06-01T12:15:00Z",
            "2026-06-01T12:30:00Z",
            "2026-06-01T12:45:00Z"
        ]
    );
}

#[test]
fn the_next_tick_is_strictly_after_the_given_instant() {
    assert_eq!(
        ticks("0 3 * * *", Tz::UTC, "2026-06-01T03:00:00Z", 1),
        ["2026-06-02T03:00:00Z"]
    );
}

#[test]
fn six_and_seven_fields_carry_seconds_and_years() {
    assert_eq!(
        ticks("*/20 * * * * *", Tz::UTC, "2026-06-01T12:00:05Z", 2),
        ["2026-06-01T12:00:20Z", "2026-06-01T12:00:40Z"]
    );
    assert_eq!(
        ticks("0 0 12 1 1 * 2030", Tz::UTC, "2026-06-01T00:00:00Z", 1),
        ["2030-01-01T12:00:00Z"]
    );
    let once = CronSpec::parse("0 0 12 1 1 * 2020").expect("valid");
    assert_eq!(once.next_after(ts("2026-06-01T00:00:00Z"), Tz::UTC), None);
}

#[test]
fn macros_expand_to_their_crontab_meaning() {
    // 2026-06-01 is a Monday.
    let from = "2026-06-01T10:20:00Z";
    assert_eq!(ticks("@hourly", Tz::UTC, from, 1), ["2026-06-01T11:00:00Z"]);
    assert_eq!(ticks("@daily", Tz::UTC, from, 1), ["2026-06-02T00:00:00Z"]);
    assert_eq!(
        ticks("@midnight", Tz::UTC, from, 1),
        ["2026-06-02T00:00:00Z"]
    );
    assert_eq!(ticks("@weekly", Tz::UTC, from, 1), ["2026-06-07T00:00:00Z"]);
    assert_eq!(
        ticks("@monthly", Tz::UTC, from, 1),
        ["2026-07-01T00:00:00Z"]
    );
    assert_eq!(ticks("@yearly", Tz::UTC, from, 1), ["2027-01-01T00:00:00Z"]);
    assert_eq!(
        ticks("@annually", Tz::UTC, from, 1),
        ["2027-01-01T00:00:00Z"]
    );
}

#[test]
fn day_of_week_numbers_follow_crontab_with_sunday_as_0_and_7() {
    // 2026-06-01 is a Monday; the next Sunday is 06-07.
    let from = "2026-06-01T10:00:00Z";
    assert_eq!(
        ticks("0 3 * * 0", Tz::UTC, from, 1),
        ["2026-06-07T03:00:00Z"]
    );
    assert_eq!(
        ticks("0 3 * * 7", Tz::UTC, from, 1),
        ["2026-06-07T03:00:00Z"]
    );
    assert_eq!(
        ticks("0 3 * * 1", Tz::UTC, from, 1),
        ["2026-06-08T03:00:00Z"]
    );
    assert_eq!(
        ticks("0 3 * * 1-5", Tz::UTC, "2026-06-05T10:00:00Z", 2),
        ["2026-06-08T03:00:00Z", "2026-06-09T03:00:00Z"]
    );
    assert_eq!(
        ticks("0 3 * * 6-7", Tz::UTC, "2026-06-01T10:00:00Z", 3),
        [
            "2026-06-06T03:00:00Z",
            "2026-06-07T03:00:00Z",
            "2026-06-13T03:00:00Z"
        ]
    );
    assert_eq!(
        ticks("0 3 * * MON-FRI", Tz::UTC, "2026-06-06T10:00:00Z", 1),
        ["2026-06-08T03:00:00Z"]
    );
}

#[test]
fn bad_expressions_say_what_is_accepted() {
    let err = CronSpec::parse("0 3 * *").expect_err("4 fields");
    assert!(err.to_string().contains("4 fields; expected 5"), "{err}");
    let err = CronSpec::parse("@fortnightly").expect_err("unknown macro");
    assert!(err.to_string().contains("@hourly"), "{err}");
    let err = CronSpec::parse("0 3 * * 8").expect_err("day 8");
    assert!(err.to_string().contains("between 0 and 7"), "{err}");
    assert!(CronSpec::parse("61 * * * *").is_err());
    assert!(CronSpec::parse("").is_err());
}

/// The reason part of the message for `expr`, which must be rejected.
fn reason(expr: &str) -> String {
    let err = CronSpec::parse(expr).expect_err(expr);
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!("invalid cron expression {:?}: ", expr.trim())),
        "{shown}"
    );
    assert!(!err.reason.is_empty(), "{expr:?}: empty reason");
    err.reason
}

#[test]
fn each_field_names_its_real_limit_and_the_item_as_written() {
    let cases = [
        (
            "60 * * * *",
            "minute field \"60\": Minutes must be less than 60",
        ),
        (
            "* 24 * * *",
            "hour field \"24\": Hours must be less than 24",
        ),
        (
            "* * 0 * *",
            "day-of-month field \"0\": Day of month must be between 1 and 31",
        ),
        (
            "* * 32 * *",
            "day-of-month field \"32\": Day of month must be between 1 and 31",
        ),
        (
            "* * * 13 *",
            "month field \"13\": Month must be between 1 and 12",
        ),
        (
            "* * * 0 *",
            "month field \"0\": Month must be between 1 and 12",
        ),
        (
            "* * * * 8",
            "day-of-week field \"8\": Day of week must be between 0 and 7 (0 and 7 are Sunday) or SUN-SAT",
        ),
        (
            "60 * * * * *",
            "second field \"60\": Seconds must be less than 60",
        ),
        (
            "0 0 0 * * * 1969",
            "year field \"1969\": Year must be between 1970 and 2100",
        ),
        // A value in a list or a range: the field and the item, as written.
        (
            "1,2,75 * * * *",
            "minute field \"1,2,75\", item \"75\": Minutes must be less than 60",
        ),
        (
            "* 20-25 * * *",
            "hour field \"20-25\": Hours must be less than 24 (\"25\" in the range)",
        ),
        (
            "99999999999999999999 * * * *",
            "minute field \"99999999999999999999\": Minutes must be less than 60",
        ),
    ];
    for (expr, want) in cases {
        assert_eq!(reason(expr), want, "{expr}");
    }
}

#[test]
fn steps_ranges_lists_names_and_numbers_are_checked_before_the_crate_sees_them() {
    let cases = [
        (
            "*/0 * * * *",
            "minute field \"*/0\": the step must be at least 1",
        ),
        (
            "* 1-5/0 * * *",
            "hour field \"1-5/0\": the step must be at least 1",
        ),
        (
            "*/61 * * * *",
            "minute field \"*/61\": the step must be at most 60",
        ),
        (
            "*/ * * * *",
            "minute field \"*/\": a step is missing after \"/\"",
        ),
        (
            "/5 * * * *",
            "minute field \"/5\": a range or * is missing before \"/\"",
        ),
        (
            "*/x * * * *",
            "minute field \"*/x\": the step \"x\" is not a number",
        ),
        (
            "5-1 * * * *",
            "minute field \"5-1\": the range \"5-1\" runs backwards (write the lower value first)",
        ),
        (
            "* * * * FRI-MON",
            "day-of-week field \"FRI-MON\": the range \"FRI-MON\" runs backwards (write the lower value first)",
        ),
        (
            "1,,2 * * * *",
            "minute field \"1,,2\", item \"\": an item is empty (two commas in a row, or a comma at an end)",
        ),
        (
            "1, * * * *",
            "minute field \"1,\", item \"\": an item is empty (two commas in a row, or a comma at an end)",
        ),
        (
            "* * * FOO *",
            "month field \"FOO\": \"FOO\" is not a month name (JAN-DEC)",
        ),
        (
            "* * * * FUN",
            "day-of-week field \"FUN\": \"FUN\" is not a day name (SUN-SAT)",
        ),
        (
            "abc * * * *",
            "minute field \"abc\": \"abc\" is not a number",
        ),
        ("1x * * * *", "minute field \"1x\": \"1x\" is not a number"),
        (
            "-1 * * * *",
            "minute field \"-1\": a range needs a value on both sides of \"-\"",
        ),
        (
            "* * * * MON-FUN",
            "day-of-week field \"MON-FUN\": \"FUN\" is not a day name (SUN-SAT)",
        ),
        (
            "* * * 1.5 *",
            "month field \"1.5\": \"1.5\" is not a number or a month name (JAN-DEC)",
        ),
        ("? * * * *", "minute field \"?\": \"?\" is not a number"),
        (
            "5#3 * * * *",
            "minute field \"5#3\": \"5#3\" is not a number",
        ),
    ];
    for (expr, want) in cases {
        assert_eq!(reason(expr), want, "{expr}");
    }
}

#[test]
fn no_message_shows_the_rewritten_expression() {
    // The crate is given a seconds field, Sunday-as-1 numbers and explicit
    // lists; none of that may show.
    for expr in ["* * * * 8", "61 * * * *", "* * * * MON-FUN", "0 3 * * 0,8"] {
        let shown = CronSpec::parse(expr).expect_err(expr).to_string();
        assert!(!shown.contains("0 61"), "{shown}");
        assert!(!shown.contains("SUN,"), "{shown}");
        assert!(!shown.contains("0 0 3"), "{shown}");
        assert_eq!(shown.matches(expr).count(), 1, "{shown}");
    }
}

#[test]
fn a_huge_field_is_quoted_by_its_first_characters_only() {
    let huge = format!("{} * * * *", "1".repeat(10_000));
    let shown = CronSpec::parse(&huge).expect_err("huge").to_string();
    assert!(shown.len() < 300, "{} bytes: {shown}", shown.len());
    assert!(shown.contains("Minutes must be less than 60"), "{shown}");
    let many = format!("{}77 * * * *", "1,".repeat(5_000));
    let shown = CronSpec::parse(&many).expect_err("many").to_string();
    assert!(shown.len() < 300, "{} bytes: {shown}", shown.len());
}

#[test]
fn names_lists_steps_and_question_marks_still_schedule() {
    // 2026-06-01 is a Monday.
    let from = "2026-06-01T10:00:00Z";
    assert_eq!(
        ticks("0 3 * JUN,jul sat-sun", Tz::UTC, from, 3),
        [
            "2026-06-06T03:00:00Z",
            "2026-06-07T03:00:00Z",
            "2026-06-13T03:00:00Z"
        ]
    );
    assert_eq!(
        ticks("0 3 * * FRI-SUN", Tz::UTC, from, 3),
        [
            "2026-06-05T03:00:00Z",
            "2026-06-06T03:00:00Z",
            "2026-06-07T03:00:00Z"
        ]
    );
    assert_eq!(
        ticks("0 0 */2 * *", Tz::UTC, from, 2),
        ["2026-06-03T00:00:00Z", "2026-06-05T00:00:00Z"]
    );
    assert_eq!(
        ticks("10/20 * * * *", Tz::UTC, from, 3),
        [
            "2026-06-01T10:10:00Z",
            "2026-06-01T10:30:00Z",
            "2026-06-01T10:50:00Z"
        ]
    );
    assert_eq!(
        ticks("0 0 12 ? * 1-5/2", Tz::UTC, from, 2),
        ["2026-06-01T12:00:00Z", "2026-06-03T12:00:00Z"]
    );
    assert_eq!(
        ticks("0 3 * * */3", Tz::UTC, from, 2),
        ["2026-06-03T03:00:00Z", "2026-06-06T03:00:00Z"]
    );
}

#[test]
fn berlin_spring_forward_runs_a_0230_job_once_at_0330_cest() {
    // 2026-03-29: 02:00 CET jumps to 03:00 CEST, so 02:30 does not exist.
    assert_eq!(
        ticks(
            "30 2 * * *",
            chrono_tz::Europe::Berlin,
            "2026-03-28T01:30:00Z",
            3
        ),
        [
            "2026-03-29T01:30:00Z", // 03:30 CEST: the missing 02:30, shifted by the gap
            "2026-03-30T00:30:00Z", // 02:30 CEST
            "2026-03-31T00:30:00Z",
        ]
    );
}

#[test]
fn berlin_fall_back_runs_a_0230_job_once_at_its_first_occurrence() {
    // 2026-10-25: 03:00 CEST falls back to 02:00 CET, so 02:30 happens twice.
    assert_eq!(
        ticks(
            "30 2 * * *",
            chrono_tz::Europe::Berlin,
            "2026-10-24T00:30:00Z",
            3
        ),
        [
            "2026-10-25T00:30:00Z", // 02:30 CEST, the first pass only
            "2026-10-26T01:30:00Z", // 02:30 CET
            "2026-10-27T01:30:00Z",
        ]
    );
}

#[test]
fn asking_from_inside_the_overlap_does_not_repeat_the_first_pass() {
    // The daemon asks again at 02:45 CET (second pass): 02:30 already ran.
    assert_eq!(
        ticks(
            "30 2 * * *",
            chrono_tz::Europe::Berlin,
            "2026-10-25T01:45:00Z",
            1
        ),
        ["2026-10-26T01:30:00Z"]
    );
}

#[test]
fn new_york_spring_forward_and_fall_back_run_once_each() {
    let ny = chrono_tz::America::New_York;
    // 2026-03-08: 02:00 EST jumps to 03:00 EDT.
    assert_eq!(
        ticks("30 2 * * *", ny, "2026-03-07T07:30:00Z", 2),
        ["2026-03-08T07:30:00Z", "2026-03-09T06:30:00Z"]
    );
    // 2026-11-01: 02:00 EDT falls back to 01:00 EST, so 01:30 happens twice.
    assert_eq!(
        ticks("30 1 * * *", ny, "2026-10-31T05:30:00Z", 2),
        ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"]
    );
    // 02:30 is unambiguous on that day (EST).
    assert_eq!(
        ticks("30 2 * * *", ny, "2026-10-31T06:30:00Z", 2),
        ["2026-11-01T07:30:00Z", "2026-11-02T07:30:00Z"]
    );
}

#[test]
fn hourly_jobs_keep_their_real_time_cadence_across_both_transitions() {
    let berlin = chrono_tz::Europe::Berlin;
    assert_eq!(
        ticks("0 * * * *", berlin, "2026-03-28T23:30:00Z", 3),
        [
            "2026-03-29T00:00:00Z",
            "2026-03-29T01:00:00Z",
            "2026-03-29T02:00:00Z"
        ]
    );
    assert_eq!(
        ticks("0 * * * *", berlin, "2026-10-24T23:30:00Z", 3),
        [
            "2026-10-25T00:00:00Z", // 02:00 CEST
            "2026-10-25T01:00:00Z", // 02:00 CET
            "2026-10-25T02:00:00Z", // 03:00 CET
        ]
    );
    assert_eq!(
        ticks("*/30 * * * *", berlin, "2026-10-25T00:40:00Z", 3),
        [
            "2026-10-25T01:00:00Z",
            "2026-10-25T01:30:00Z",
            "2026-10-25T02:00:00Z"
        ]
    );
}

/// Pins why this module maps civil times itself: the `cron` crate alone skips
/// the spring-forward run and doubles the fall-back one.
#[test]
fn the_cron_crate_alone_gets_both_transitions_wrong() {
    let berlin = chrono_tz::Europe::Berlin;
    let raw = cron::Schedule::from_str("0 30 2 * * *").expect("valid");
    let spring: Vec<_> = raw
        .after(&berlin.with_ymd_and_hms(2026, 3, 28, 12, 0, 0).unwrap())
        .take(1)
        .map(|t| t.to_rfc3339())
        .collect();
    assert_eq!(spring, ["2026-03-30T02:30:00+02:00"]);
    let fall: Vec<_> = raw
        .after(&berlin.with_ymd_and_hms(2026, 10, 24, 12, 0, 0).unwrap())
        .take(2)
        .map(|t| t.to_rfc3339())
        .collect();
    assert_eq!(
        fall,
        ["2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00"]
    );
}

#[test]
fn display_is_the_expression_as_written() {
    let spec = CronSpec::parse("  0 3 * * 1-5 ").expect("valid");
    assert_eq!(spec.to_string(), "0 3 * * 1-5");
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Any input is parsed or rejected, never a panic.
        #[test]
        fn parsing_never_panics(input in "\\PC{0,40}") {
            let _ = CronSpec::parse(&input);
        }

        /// Ticks strictly increase and a fixed-hour job runs at most once per
        /// civil date, through both 2026 transitions in both zones.
        #[test]
        fn fixed_hour_ticks_increase_and_run_once_a_day(
            minute in 0u8..60,
            hour in 0u8..24,
            zone in prop::sample::select(vec![chrono_tz::Europe::Berlin, chrono_tz::America::New_York]),
            start in prop::sample::select(vec!["2026-03-05T00:00:00Z", "2026-10-22T00:00:00Z"]),
        ) {
            let spec = CronSpec::parse(&format!("{minute} {hour} * * *")).expect("valid");
            let mut at = ts(start);
            let mut days = Vec::new();
            for _ in 0..14 {
                let next = spec.next_after(at, zone).expect("a tick");
                prop_assert!(next > at);
                let day = chrono::DateTime::from_timestamp(next.as_second(), 0)
                    .expect("in range")
                    .with_timezone(&zone)
                    .date_naive();
                prop_assert!(!days.contains(&day), "two runs on {day}");
                days.push(day);
                at = next;
            }
            // Consecutive days: none skipped, not even the transition day.
            for w in days.windows(2) {
                prop_assert_eq!(w[0].succ_opt().expect("date"), w[1]);
            }
        }
    }
}
