//! When a Sheep posts: the pure arithmetic of its place in the poem and its next slot.
//! Time is always an argument, so every rule here is tested without sleeping.

use std::time::{Duration, Instant};

/// The waits between posts: after a line, and after the last line of the poem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Intervals {
    pub line: Duration,
    pub poem: Duration,
}

/// Where a Sheep is: the next line to post (0-based) and how many times it finished the poem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Place {
    pub line: usize,
    pub cycle: u64,
}

impl Place {
    /// The place after `self.line` is dealt with in a poem of `len` lines.
    pub fn advance(self, len: usize) -> Place {
        if self.line + 1 >= len {
            Place {
                line: 0,
                cycle: self.cycle + 1,
            }
        } else {
            Place {
                line: self.line + 1,
                cycle: self.cycle,
            }
        }
    }

    /// The wait that follows this line: the poem interval after the last line, else the line interval.
    pub fn wait_after(self, len: usize, intervals: Intervals) -> Duration {
        if self.line + 1 >= len {
            intervals.poem
        } else {
            intervals.line
        }
    }
}

/// The slot after the one at `due`, `interval` later.
///
/// Measured from the scheduled time, not from when the post returned, so intervals do not drift.
/// Slots already in the past at `now` (after an outage or a slow retry) are dropped rather than
/// posted in a burst: the schedule resumes at the first slot that is not yet over.
pub fn next_slot(due: Instant, interval: Duration, now: Instant) -> Instant {
    let next = due + interval;
    if next >= now {
        return next;
    }
    if interval.is_zero() {
        return now;
    }
    let behind = now - next;
    let missed = behind.as_nanos().div_ceil(interval.as_nanos());
    let missed = u32::try_from(missed).unwrap_or(u32::MAX);
    next + interval.saturating_mul(missed)
}

/// `wait` varied by up to `fraction` of itself either way; `roll` is uniform in [0, 1).
pub fn jitter(wait: Duration, fraction: f64, roll: f64) -> Duration {
    let fraction = fraction.clamp(0.0, 1.0);
    wait.mul_f64(1.0 + fraction * (2.0 * roll - 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: Duration = Duration::from_secs(60);

    #[test]
    fn places_walk_the_poem_and_count_cycles() {
        let mut place = Place::default();
        let mut seen = Vec::new();
        for _ in 0..7 {
            seen.push((place.line, place.cycle));
            place = place.advance(3);
        }
        assert_eq!(
            seen,
            [(0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (2, 1), (0, 2)]
        );
    }

    #[test]
    fn the_last_line_is_followed_by_the_poem_interval() {
        let intervals = Intervals {
            line: LINE,
            poem: Duration::from_secs(1800),
        };
        let wait = |line| Place { line, cycle: 0 }.wait_after(3, intervals);
        assert_eq!(wait(0), LINE);
        assert_eq!(wait(1), LINE);
        assert_eq!(wait(2), Duration::from_secs(1800));
        assert_eq!(Place::default().wait_after(1, intervals), intervals.poem);
    }

    #[test]
    fn a_slow_post_does_not_shift_the_schedule() {
        let start = Instant::now();
        let returned = start + Duration::from_secs(7);
        assert_eq!(next_slot(start, LINE, returned), start + LINE);
    }

    #[test]
    fn missed_slots_are_dropped_not_burst() {
        let start = Instant::now();
        let after_outage = start + Duration::from_secs(60 * 4 + 10);
        assert_eq!(
            next_slot(start, LINE, after_outage),
            start + Duration::from_secs(300)
        );
        let exactly_on_a_slot = start + Duration::from_secs(120);
        assert_eq!(next_slot(start, LINE, exactly_on_a_slot), exactly_on_a_slot);
    }

    #[test]
    fn jitter_stays_within_its_fraction() {
        let wait = Duration::from_secs(100);
        assert_eq!(jitter(wait, 0.2, 0.0), Duration::from_secs(80));
        assert_eq!(jitter(wait, 0.2, 0.5), wait);
        assert!(jitter(wait, 0.2, 0.999_999) <= Duration::from_secs(120));
        assert_eq!(jitter(wait, 0.0, 0.9), wait);
    }

    #[test]
    fn a_zero_interval_posts_now() {
        let start = Instant::now();
        let later = start + Duration::from_secs(3);
        assert_eq!(next_slot(start, Duration::ZERO, later), later);
    }
}
