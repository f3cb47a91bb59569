//! Durations as people write them in key files and on the command line: a number of seconds
//! (`90`, `0.5`) or a number with a unit (`500ms`, `90s`, `3m`, `1.5h`, `1d`).

use std::fmt;
use std::time::Duration;

/// Why a duration could not be read; the message says what to write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadDuration {
    pub text: String,
}

impl fmt::Display for BadDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot read `{}` as a duration: write a number of seconds or a number with a unit, \
             such as 500ms, 90s, 3m, 1.5h",
            self.text
        )
    }
}

impl std::error::Error for BadDuration {}

/// Parses `90`, `0.5`, `500ms`, `90s`, `3m`, `1.5h` or `1d`.
pub fn parse(text: &str) -> Result<Duration, BadDuration> {
    let bad = || BadDuration {
        text: text.to_string(),
    };
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let seconds_per_unit = match unit.trim() {
        "" | "s" | "sec" | "secs" => 1.0,
        "ms" => 0.001,
        "m" | "min" | "mins" => 60.0,
        "h" | "hr" | "hrs" => 3600.0,
        "d" => 86400.0,
        _ => return Err(bad()),
    };
    let value: f64 = number.parse().map_err(|_| bad())?;
    from_seconds(value * seconds_per_unit).ok_or_else(bad)
}

/// A duration from a number of seconds, if it is finite, not negative and not absurdly large.
pub fn from_seconds(seconds: f64) -> Option<Duration> {
    // A hundred years is far more than any interval a person means; beyond it is a typo.
    const MAX_SECONDS: f64 = 100.0 * 365.0 * 86400.0;
    if seconds.is_finite() && (0.0..=MAX_SECONDS).contains(&seconds) {
        Some(Duration::from_secs_f64(seconds))
    } else {
        None
    }
}

/// Formats a duration the way `parse` reads it, in the largest unit that shows it to a tenth:
/// `250ms`, `45s`, `3m`, `1.5h`, `2d`.
pub fn format(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    if seconds < 1.0 && duration.as_millis() > 0 {
        return format!("{}ms", duration.as_millis());
    }
    let units = [(86400.0, "d"), (3600.0, "h"), (60.0, "m")];
    let (value, unit) = units
        .iter()
        .map(|&(size, unit)| (seconds / size, unit))
        .find(|&(value, _)| value >= 1.0 && (value * 10.0).fract() == 0.0)
        .unwrap_or(((seconds * 10.0).round() / 10.0, "s"));
    if value.fract() == 0.0 {
        format!("{value:.0}{unit}")
    } else {
        format!("{value:.1}{unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_documented_form() {
        assert_eq!(parse("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("3m"), Ok(Duration::from_secs(180)));
        assert_eq!(parse("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("1d"), Ok(Duration::from_secs(86400)));
        assert_eq!(parse(" 2 m "), Ok(Duration::from_secs(120)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
    }

    #[test]
    fn rejects_what_is_not_a_duration() {
        for text in ["", "abc", "5 parsecs", "-3s", "1..2s", "ms", "1e400"] {
            assert!(parse(text).is_err(), "{text:?} should be rejected");
        }
        let message = parse("soon").unwrap_err().to_string();
        assert!(
            message.contains("`soon`") && message.contains("90s"),
            "{message}"
        );
    }

    #[test]
    fn formats_round_trip() {
        for text in ["250ms", "45s", "3m", "1.5h", "2d"] {
            assert_eq!(format(parse(text).unwrap()), text);
        }
        assert_eq!(format(Duration::ZERO), "0s");
    }
}
