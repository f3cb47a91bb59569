//! Active hours such as `08:00-22:00`, in local time: outside them a bot waits. A window may
//! cross midnight (`22:00-06:00`). Pure: the local time is an argument.

use jiff::civil::Time;
use jiff::{Span, Zoned};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveHours {
    pub start: Time,
    pub end: Time,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadHours {
    pub text: String,
}

impl fmt::Display for BadHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot read `{}` as active hours: write them like 08:00-22:00 (local time, 24-hour clock)",
            self.text
        )
    }
}

impl std::error::Error for BadHours {}

impl ActiveHours {
    pub fn parse(text: &str) -> Result<ActiveHours, BadHours> {
        let bad = || BadHours {
            text: text.to_string(),
        };
        let (start, end) = text.split_once('-').ok_or_else(bad)?;
        let time = |part: &str| -> Result<Time, BadHours> {
            let (hour, minute) = part.trim().split_once(':').ok_or_else(bad)?;
            let hour: i8 = hour.parse().map_err(|_| bad())?;
            let minute: i8 = minute.parse().map_err(|_| bad())?;
            // 24:00 means the end of the day.
            if hour == 24 && minute == 0 {
                return Ok(Time::MAX);
            }
            Time::new(hour, minute, 0, 0).map_err(|_| bad())
        };
        let hours = ActiveHours {
            start: time(start)?,
            end: time(end)?,
        };
        if hours.start == hours.end {
            return Err(bad());
        }
        Ok(hours)
    }

    /// Whether `time` of day is inside the window.
    pub fn contains(&self, time: Time) -> bool {
        if self.start < self.end {
            self.start <= time && time < self.end
        } else {
            time >= self.start || time < self.end
        }
    }

    /// When the window next opens, if `now` is outside it.
    pub fn next_open(&self, now: &Zoned) -> Option<Zoned> {
        if self.contains(now.time()) {
            return None;
        }
        let today = now.date().to_datetime(self.start);
        let zone = now.time_zone().clone();
        let opens = today.to_zoned(zone.clone()).ok()?;
        if opens > *now {
            Some(opens)
        } else {
            let tomorrow = today.checked_add(Span::new().days(1)).ok()?;
            tomorrow.to_zoned(zone).ok()
        }
    }
}

impl fmt::Display for ActiveHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = if self.end == Time::MAX {
            "24:00".to_string()
        } else {
            self.end.strftime("%H:%M").to_string()
        };
        write!(f, "{}-{end}", self.start.strftime("%H:%M"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::time;
    use jiff::tz::TimeZone;

    #[test]
    fn reads_windows_and_refuses_nonsense() {
        let day = ActiveHours::parse("08:00-22:00").unwrap();
        assert_eq!(day.to_string(), "08:00-22:00");
        assert!(ActiveHours::parse("22:00-06:30").is_ok());
        assert!(ActiveHours::parse("00:00-24:00").is_ok());
        for bad in ["8-22", "08:00", "25:00-26:00", "08:00-08:00", "soon"] {
            assert!(ActiveHours::parse(bad).is_err(), "{bad}");
        }
        assert!(
            ActiveHours::parse("x")
                .unwrap_err()
                .to_string()
                .contains("08:00-22:00")
        );
    }

    #[test]
    fn windows_contain_their_hours_even_across_midnight() {
        let day = ActiveHours::parse("08:00-22:00").unwrap();
        assert!(day.contains(time(8, 0, 0, 0)) && day.contains(time(21, 59, 0, 0)));
        assert!(!day.contains(time(22, 0, 0, 0)) && !day.contains(time(7, 59, 0, 0)));
        let night = ActiveHours::parse("22:00-06:00").unwrap();
        assert!(night.contains(time(23, 0, 0, 0)) && night.contains(time(5, 0, 0, 0)));
        assert!(!night.contains(time(12, 0, 0, 0)));
    }

    #[test]
    fn outside_the_window_the_bot_waits_for_the_next_opening() {
        let day = ActiveHours::parse("08:00-22:00").unwrap();
        let zone = TimeZone::UTC;
        let at = |text: &str| {
            text.parse::<jiff::civil::DateTime>()
                .unwrap()
                .to_zoned(zone.clone())
                .unwrap()
        };
        assert_eq!(day.next_open(&at("2026-11-21T12:00")), None);
        assert_eq!(
            day.next_open(&at("2026-11-21T06:30")),
            Some(at("2026-11-21T08:00"))
        );
        assert_eq!(
            day.next_open(&at("2026-11-21T23:15")),
            Some(at("2026-11-22T08:00"))
        );
    }
}
