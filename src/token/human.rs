//! apimachinery's `duration.ShortHumanDuration`, used for the TTL column.

use jiff::SignedDuration;

/// `<invalid>` at -2 s or less, `0s` in (-2 s, 0), then the largest whole
/// unit of s, m, h, d, y, truncating as Go's `int(d.Seconds())` does.
pub fn short_human_duration(d: SignedDuration) -> String {
    let secs = d.as_secs(); // truncates toward zero, like Go's int(d.Seconds())
    if secs < -1 {
        return "<invalid>".to_owned();
    }
    if secs < 0 {
        return "0s".to_owned();
    }
    if secs < 60 {
        return format!("{secs}s");
    }
    let minutes = secs / 60;
    if minutes < 60 {
        return format!("{minutes}m");
    }
    let hours = secs / 3600;
    if hours < 24 {
        return format!("{hours}h");
    }
    if hours < 24 * 365 {
        return format!("{}d", hours / 24);
    }
    format!("{}y", hours / 24 / 365)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(d: SignedDuration) -> String {
        short_human_duration(d)
    }

    #[test]
    fn matches_apimachinery() {
        assert_eq!(h(SignedDuration::from_millis(-2000)), "<invalid>");
        assert_eq!(h(SignedDuration::from_millis(-1999)), "0s");
        assert_eq!(h(SignedDuration::from_millis(-1)), "0s");
        assert_eq!(h(SignedDuration::ZERO), "0s");
        assert_eq!(h(SignedDuration::from_secs(59)), "59s");
        assert_eq!(h(SignedDuration::from_secs(60)), "1m");
        assert_eq!(h(SignedDuration::from_secs(3599)), "59m");
        assert_eq!(h(SignedDuration::from_millis(86_399_500)), "23h");
        assert_eq!(h(SignedDuration::from_secs(2 * 86400)), "2d");
        assert_eq!(h(SignedDuration::from_secs(2 * 86400 - 1)), "1d");
        assert_eq!(h(SignedDuration::from_secs(365 * 86400)), "1y");
    }
}
