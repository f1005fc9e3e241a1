//! One field of a cron expression, checked as the user wrote it and turned
//! into what the `cron` crate reads: `*`, `?`, or the explicit list of the
//! field's values in the crate's numbering. The crate never sees a value it
//! could reject, so no message of its own (with the seconds field it was
//! given, its Sunday-is-1 numbering or an empty reason) reaches the user.

use std::collections::BTreeSet;

/// The fields, in the order of a 7-field expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    Second,
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
    Year,
}

const MONTH_NAMES: &[(&str, u32)] = &[
    ("jan", 1),
    ("january", 1),
    ("feb", 2),
    ("february", 2),
    ("mar", 3),
    ("march", 3),
    ("apr", 4),
    ("april", 4),
    ("may", 5),
    ("jun", 6),
    ("june", 6),
    ("jul", 7),
    ("july", 7),
    ("aug", 8),
    ("august", 8),
    ("sep", 9),
    ("september", 9),
    ("oct", 10),
    ("october", 10),
    ("nov", 11),
    ("november", 11),
    ("dec", 12),
    ("december", 12),
];

/// Crontab's numbering (Sunday 0); the spellings the `cron` crate accepted.
const DAY_NAMES: &[(&str, u32)] = &[
    ("sun", 0),
    ("sunday", 0),
    ("mon", 1),
    ("monday", 1),
    ("tue", 2),
    ("tues", 2),
    ("tuesday", 2),
    ("wed", 3),
    ("wednesday", 3),
    ("thu", 4),
    ("thurs", 4),
    ("thursday", 4),
    ("fri", 5),
    ("friday", 5),
    ("sat", 6),
    ("saturday", 6),
];

/// How much of an item or field a message repeats.
const QUOTE_MAX: usize = 40;

impl Field {
    /// The name the expression's field list uses (`minute hour day-of-month …`).
    fn name(self) -> &'static str {
        match self {
            Field::Second => "second",
            Field::Minute => "minute",
            Field::Hour => "hour",
            Field::DayOfMonth => "day-of-month",
            Field::Month => "month",
            Field::DayOfWeek => "day-of-week",
            Field::Year => "year",
        }
    }

    /// The smallest and largest value a user may write.
    fn bounds(self) -> (u32, u32) {
        match self {
            Field::Second | Field::Minute => (0, 59),
            Field::Hour => (0, 23),
            Field::DayOfMonth => (1, 31),
            Field::Month => (1, 12),
            // 0 and 7 are both Sunday.
            Field::DayOfWeek => (0, 7),
            // The `cron` crate's range.
            Field::Year => (1970, 2100),
        }
    }

    /// What `*` covers (day-of-week: each day once, Sunday as 0).
    fn every(self) -> (u32, u32) {
        match self {
            Field::DayOfWeek => (0, 6),
            f => f.bounds(),
        }
    }

    /// The rule a value out of [`Field::bounds`] breaks, in the user's terms.
    fn limit(self) -> &'static str {
        match self {
            Field::Second => "Seconds must be less than 60",
            Field::Minute => "Minutes must be less than 60",
            Field::Hour => "Hours must be less than 24",
            Field::DayOfMonth => "Day of month must be between 1 and 31",
            Field::Month => "Month must be between 1 and 12",
            Field::DayOfWeek => {
                "Day of week must be between 0 and 7 (0 and 7 are Sunday) or SUN-SAT"
            }
            Field::Year => "Year must be between 1970 and 2100",
        }
    }

    fn names(self) -> Option<(&'static [(&'static str, u32)], &'static str)> {
        match self {
            Field::Month => Some((MONTH_NAMES, "a month name (JAN-DEC)")),
            Field::DayOfWeek => Some((DAY_NAMES, "a day name (SUN-SAT)")),
            _ => None,
        }
    }

    /// `?` ("no specific value") is the crate's, for the two day fields.
    fn allows_any(self) -> bool {
        matches!(self, Field::DayOfMonth | Field::DayOfWeek)
    }

    /// A value in the `cron` crate's numbering (it counts Sunday as 1).
    fn crate_value(self, v: u32) -> u32 {
        match self {
            Field::DayOfWeek => v % 7 + 1,
            _ => v,
        }
    }
}

/// `text` quoted, cut to its first [`QUOTE_MAX`] characters when longer.
pub(super) fn quoted(text: &str, max: usize) -> String {
    if text.chars().count() > max {
        let head: String = text.chars().take(max).collect();
        format!("{head:?}…")
    } else {
        format!("{text:?}")
    }
}

/// Checks `text` as field `field` and returns it as the `cron` crate reads
/// it. The error names the field and the item as written, and the rule broken.
pub(super) fn normalize(field: Field, text: &str) -> Result<String, String> {
    if text == "*" || (text == "?" && field.allows_any()) {
        return Ok(text.to_owned());
    }
    let mut values = BTreeSet::new();
    for item in text.split(',') {
        let fail = |msg: String| {
            if item == text {
                format!("{} field {}: {msg}", field.name(), quoted(text, QUOTE_MAX))
            } else {
                format!(
                    "{} field {}, item {}: {msg}",
                    field.name(),
                    quoted(text, QUOTE_MAX),
                    quoted(item, QUOTE_MAX)
                )
            }
        };
        values.extend(item_values(field, item).map_err(fail)?);
    }
    let crate_values: BTreeSet<u32> = values.into_iter().map(|v| field.crate_value(v)).collect();
    let list: Vec<String> = crate_values.iter().map(u32::to_string).collect();
    Ok(list.join(","))
}

/// The values one comma-separated item stands for, in crontab's numbering.
fn item_values(field: Field, item: &str) -> Result<Vec<u32>, String> {
    if item.is_empty() {
        return Err("an item is empty (two commas in a row, or a comma at an end)".to_owned());
    }
    let (base, step) = match item.split_once('/') {
        Some((base, step)) => (base, Some(parse_step(field, step)?)),
        None => (item, None),
    };
    let (first, last) = if base == "*" || (base == "?" && field.allows_any()) {
        field.every()
    } else if base.is_empty() {
        return Err("a range or * is missing before \"/\"".to_owned());
    } else if let Some((a, b)) = base.split_once('-') {
        if a.is_empty() || b.is_empty() {
            return Err("a range needs a value on both sides of \"-\"".to_owned());
        }
        // Which end is out of bounds, when the item is a range.
        let end = |e: BadValue, v: &str| match e {
            BadValue::OutOfBounds => {
                format!("{} ({} in the range)", field.limit(), quoted(v, QUOTE_MAX))
            }
            BadValue::Unreadable(e) => e,
        };
        let first = value(field, a, false).map_err(|e| end(e, a))?;
        let last = value(field, b, true).map_err(|e| end(e, b))?;
        if first > last {
            return Err(format!(
                "the range {} runs backwards (write the lower value first)",
                quoted(base, QUOTE_MAX)
            ));
        }
        (first, last)
    } else {
        let v = value(field, base, false).map_err(|e| e.message(field))?;
        // `N/S` is N, N+S, … up to the field's end, as the `cron` crate reads it.
        (v, if step.is_some() { field.every().1 } else { v })
    };
    Ok((first..=last).step_by(step.unwrap_or(1) as usize).collect())
}

fn parse_step(field: Field, step: &str) -> Result<u32, String> {
    if step.is_empty() {
        return Err("a step is missing after \"/\"".to_owned());
    }
    let (lo, hi) = field.every();
    let span = hi - lo + 1;
    if !step.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "the step {} is not a number",
            quoted(step, QUOTE_MAX)
        ));
    }
    match step.parse::<u32>() {
        Ok(0) => Err("the step must be at least 1".to_owned()),
        Ok(s) if s <= span => Ok(s),
        _ => Err(format!("the step must be at most {span}")),
    }
}

/// Why one value was refused.
enum BadValue {
    /// A number outside [`Field::bounds`].
    OutOfBounds,
    /// Not a number nor a name the field knows: the message.
    Unreadable(String),
}

impl BadValue {
    fn message(self, field: Field) -> String {
        match self {
            BadValue::OutOfBounds => field.limit().to_owned(),
            BadValue::Unreadable(m) => m,
        }
    }
}

/// One value: a number or (month, day-of-week) a name, within the field's
/// bounds. `range_end`: a day-of-week range may end on SUN, meaning 7.
fn value(field: Field, text: &str, range_end: bool) -> Result<u32, BadValue> {
    let (lo, hi) = field.bounds();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        // Digits too many for a u32 are out of bounds all the same.
        return match text.parse::<u32>() {
            Ok(v) if (lo..=hi).contains(&v) => Ok(v),
            _ => Err(BadValue::OutOfBounds),
        };
    }
    let unreadable = |m: String| Err(BadValue::Unreadable(m));
    let names = field.names();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphabetic()) {
        let Some((table, what)) = names else {
            return unreadable(format!("{} is not a number", quoted(text, QUOTE_MAX)));
        };
        let lower = text.to_ascii_lowercase();
        return match table.iter().find(|(n, _)| *n == lower) {
            Some(&(_, 0)) if range_end && field == Field::DayOfWeek => Ok(7),
            Some(&(_, v)) => Ok(v),
            None => unreadable(format!("{} is not {what}", quoted(text, QUOTE_MAX))),
        };
    }
    unreadable(match names {
        Some((_, what)) => format!("{} is not a number or {what}", quoted(text, QUOTE_MAX)),
        None => format!("{} is not a number", quoted(text, QUOTE_MAX)),
    })
}
