//! Time helpers: `--since 1h`, `since=2024-05-01T10:00:00Z`, `--retention 30d`.

use jiff::{SignedDuration, Timestamp};

/// A time or duration that did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid time {input:?}: expected an RFC 3339 timestamp (2024-05-01T10:00:00Z) or a duration such as 90s, 30m, 1h, 2d, 1w (or combined: 1h30m)"
)]
pub struct TimeError {
    /// The text that failed.
    pub input: String,
}

/// Parses a duration made of `<number><unit>` parts, units `s`, `m`, `h`,
/// `d` (24 h), `w` (7 d): `90s`, `30m`, `1h30m`, `2d`.
pub fn parse_duration(input: &str) -> Result<SignedDuration, TimeError> {
    let err = || TimeError {
        input: input.to_string(),
    };
    let s = input.trim();
    if s.is_empty() {
        return Err(err());
    }
    let mut total: i64 = 0;
    let mut digits = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit: i64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return Err(err()),
        };
        if digits.is_empty() {
            return Err(err());
        }
        let n: i64 = digits.parse().map_err(|_| err())?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(err)?;
        digits.clear();
    }
    if !digits.is_empty() {
        return Err(err());
    }
    Ok(SignedDuration::from_secs(total))
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
    let d = parse_duration(s)?;
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
        for bad in ["", "h", "10", "1x", "-1h", "1.5h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
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
