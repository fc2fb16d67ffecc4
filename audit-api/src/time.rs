//! Time helpers: `--since 1h`, `since=2024-05-01T10:00:00Z`, `--retention 30d`.

use jiff::{SignedDuration, Span, SpanRelativeTo, Timestamp};

/// A time or duration that did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid time {input:?}: expected an RFC 3339 timestamp (2024-05-01T10:00:00Z) or a duration such as 90s, 30m, 1h, 2d, 1w (or combined: 1h30m)"
)]
pub struct TimeError {
    /// The text that failed.
    pub input: String,
}

/// A duration that did not parse, with what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid duration {input:?}: {reason}; write a number with a unit such as 500ms, 90s, 30m, 1h30m, 2d (24 h) or 1w"
)]
pub struct DurationError {
    /// The text that failed.
    pub input: String,
    /// What was wrong with it.
    pub reason: String,
}

/// Parses a duration: numbers with units, `ms`, `s`, `m`, `h`, `d` (24 h),
/// `w` (7 × 24 h), combinable (`1h30m`, `1d 12h`) and fractional in the
/// smallest unit (`1.5h`), with jiff's friendly format (which also reads
/// Go's `1h30m0s` and ISO 8601's `PT1H`). Negative durations, calendar units
/// (months, years: their length varies) and values too large for jiff are
/// errors, never a panic or a wrap-around. A bare number has no unit and is
/// refused here; [`parse_flag_duration`] reads it as seconds.
pub fn parse_duration(input: &str) -> Result<SignedDuration, DurationError> {
    let err = |reason: &str| DurationError {
        input: input.to_string(),
        reason: reason.to_string(),
    };
    let s = input.trim();
    if s.is_empty() {
        return Err(err("it is empty"));
    }
    let span: Span = s.parse().map_err(|e: jiff::Error| {
        if s.bytes().all(|b| b.is_ascii_digit()) {
            err("a number needs a unit")
        } else {
            err(&e.to_string())
        }
    })?;
    if span.is_negative() {
        return Err(err("it is negative"));
    }
    span.to_duration(SpanRelativeTo::days_are_24_hours())
        .map_err(|_| err("months and years have no fixed length, use days or weeks"))
}

/// Parses a command-line duration flag, kubectl style: a bare number is
/// seconds (`0`, `15`), anything else is read by [`parse_duration`]. Every
/// duration flag of every binary goes through here.
pub fn parse_flag_duration(input: &str) -> Result<std::time::Duration, DurationError> {
    let s = input.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s
            .parse::<u64>()
            .map(std::time::Duration::from_secs)
            .map_err(|_| DurationError {
                input: input.to_string(),
                reason: "the number is too large".into(),
            });
    }
    parse_duration(s).map(SignedDuration::unsigned_abs)
}

/// Parses an instant: RFC 3339 (`2024-05-01T10:00:00Z`, offsets allowed),
/// `now`, or a duration before `now` (`1h` means one hour ago).
pub fn parse_time(input: &str, now: Timestamp) -> Result<Timestamp, TimeError> {
    let s = input.trim();
    if s == "now" {
        return Ok(now);
    }
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    let d = parse_duration(s).map_err(|_| TimeError {
        input: input.to_string(),
    })?;
    now.checked_sub(d).map_err(|_| TimeError {
        input: input.to_string(),
    })
}

/// Formats a duration the way [`parse_duration`] reads it (`1d2h`, `30m`).
pub fn format_duration(d: SignedDuration) -> String {
    let mut secs = d.as_secs().abs();
    if secs == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, len) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if secs >= len {
            out.push_str(&format!("{}{unit}", secs / len));
            secs %= len;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s").unwrap().as_secs(), 90);
        assert_eq!(parse_duration("30m").unwrap().as_secs(), 1800);
        assert_eq!(parse_duration("1h30m").unwrap().as_secs(), 5400);
        assert_eq!(parse_duration("2d").unwrap().as_secs(), 172_800);
        assert_eq!(parse_duration("1w").unwrap().as_secs(), 604_800);
        assert_eq!(parse_duration("500ms").unwrap().as_millis(), 500);
        assert_eq!(parse_duration("1.5h").unwrap().as_secs(), 5400);
        assert_eq!(parse_duration("1d 12h").unwrap().as_secs(), 129_600);
        assert_eq!(parse_duration("1h30m0s").unwrap().as_secs(), 5400);
        for bad in ["", "h", "10", "1x", "-1h", "1h ago", "1mo", "1y"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        let e = parse_duration("10").unwrap_err();
        assert!(e.to_string().contains("needs a unit"), "{e}");
        let e = parse_duration("2mo").unwrap_err();
        assert!(e.to_string().contains("no fixed length"), "{e}");
    }

    #[test]
    fn huge_durations_are_errors_not_panics_or_wrap_around() {
        for huge in [
            "99999999999999999999999s",
            "9223372036854775807w",
            "9223372036854775807d",
            "18446744073709551616",
            "9223372036854775807h9223372036854775807h",
        ] {
            assert!(parse_duration(huge).is_err(), "{huge}");
            assert!(parse_flag_duration(huge).is_err(), "{huge}");
        }
        // The largest a flag takes as bare seconds still fits.
        assert_eq!(
            parse_flag_duration("18446744073709551615")
                .unwrap()
                .as_secs(),
            u64::MAX
        );
    }

    #[test]
    fn flag_durations_read_bare_numbers_as_seconds() {
        use std::time::Duration;
        assert_eq!(parse_flag_duration("0").unwrap(), Duration::ZERO);
        assert_eq!(
            parse_flag_duration(" 15 ").unwrap(),
            Duration::from_secs(15)
        );
        assert_eq!(
            parse_flag_duration("2d").unwrap(),
            Duration::from_secs(172_800)
        );
        assert_eq!(
            parse_flag_duration("1w").unwrap(),
            Duration::from_secs(604_800)
        );
        assert_eq!(
            parse_flag_duration("500ms").unwrap(),
            Duration::from_millis(500)
        );
        for bad in ["", "-5", "-1s", "5x", "1.5", "m"] {
            assert!(parse_flag_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(
            format_duration(SignedDuration::from_secs(93_784)),
            "1d2h3m4s"
        );
    }

    #[test]
    fn times() {
        let now: Timestamp = "2024-05-01T12:00:00Z".parse().unwrap();
        assert_eq!(
            parse_time("1h", now).unwrap(),
            "2024-05-01T11:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(
            parse_time("2024-05-01T10:00:00+02:00", now).unwrap(),
            "2024-05-01T08:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(parse_time("now", now).unwrap(), now);
        let e = parse_time("yesterday", now).unwrap_err();
        assert!(e.to_string().contains("RFC 3339"));
    }
}
