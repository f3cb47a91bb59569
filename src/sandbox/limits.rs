//! The sandbox's rate limits: X's posting quotas per access tier, and fixed-window counters.
//! Pure: time is an argument (Unix seconds).

use std::fmt;

/// X's API access tiers, by their posting limits (see x-api.md "Posting limits and prices").
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Tier {
    /// Legacy Free: 17 posts a day per user and per app.
    Free,
    /// Legacy Basic: 100 a day per user, 1,667 a day per app.
    Basic,
    /// Legacy Pro: 100 per 15 minutes per user, 10,000 a day per app.
    Pro,
    /// Pay-per-use, today's default: as Pro.
    Payg,
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tier::Free => "free",
            Tier::Basic => "basic",
            Tier::Pro => "pro",
            Tier::Payg => "payg",
        })
    }
}

/// At most `max` in any window of `seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u64,
    pub seconds: u64,
}

const DAY: u64 = 24 * 3600;
const QUARTER_HOUR: u64 = 15 * 60;

/// The three quotas X reports on a posting answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierLimits {
    /// `x-rate-limit-*`: the endpoint's window per user.
    pub window: Limit,
    /// `x-user-limit-24hour-*`: the user's posts per 24 hours.
    pub user_day: Limit,
    /// `x-app-limit-24hour-*`: the app's posts per 24 hours, all its users together.
    pub app_day: Limit,
}

impl Tier {
    pub fn limits(self) -> TierLimits {
        let day = |max| Limit { max, seconds: DAY };
        match self {
            // On these tiers the endpoint's own window is the day.
            Tier::Free => TierLimits {
                window: day(17),
                user_day: day(17),
                app_day: day(17),
            },
            Tier::Basic => TierLimits {
                window: day(100),
                user_day: day(100),
                app_day: day(1_667),
            },
            // X's rules cap every account at 2,400 posts a day whatever the tier.
            Tier::Pro | Tier::Payg => TierLimits {
                window: Limit {
                    max: 100,
                    seconds: QUARTER_HOUR,
                },
                user_day: day(2_400),
                app_day: day(10_000),
            },
        }
    }
}

/// A fixed window that opens at its first use and resets when its time is up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counter {
    opened: u64,
    used: u64,
}

/// A counter as the headers show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shown {
    pub limit: u64,
    pub remaining: u64,
    /// Unix seconds.
    pub reset: u64,
}

impl Counter {
    fn current(&self, limit: Limit, now: u64) -> Counter {
        if self.used == 0 || now >= self.opened + limit.seconds {
            Counter {
                opened: now,
                used: 0,
            }
        } else {
            *self
        }
    }

    pub fn shown(&self, limit: Limit, now: u64) -> Shown {
        let current = self.current(limit, now);
        Shown {
            limit: limit.max,
            remaining: limit.max.saturating_sub(current.used),
            reset: current.opened + limit.seconds,
        }
    }

    pub fn is_spent(&self, limit: Limit, now: u64) -> bool {
        self.shown(limit, now).remaining == 0
    }

    pub fn spend(&mut self, limit: Limit, now: u64) {
        let mut current = self.current(limit, now);
        current.used += 1;
        *self = current;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000;

    #[test]
    fn a_window_fills_then_resets_when_its_time_is_up() {
        let limit = Limit {
            max: 3,
            seconds: 900,
        };
        let mut counter = Counter::default();
        for i in 0..3 {
            assert!(!counter.is_spent(limit, NOW + i));
            counter.spend(limit, NOW + i);
        }
        assert!(counter.is_spent(limit, NOW + 10));
        assert_eq!(
            counter.shown(limit, NOW + 10),
            Shown {
                limit: 3,
                remaining: 0,
                reset: NOW + 900
            }
        );
        assert!(!counter.is_spent(limit, NOW + 900));
        assert_eq!(counter.shown(limit, NOW + 900).remaining, 3);
    }

    #[test]
    fn an_unused_window_shows_a_full_quota() {
        let limit = Tier::Free.limits().user_day;
        let shown = Counter::default().shown(limit, NOW);
        assert_eq!(shown.remaining, 17);
        assert_eq!(shown.reset, NOW + DAY);
    }

    #[test]
    fn tiers_match_xs_published_limits() {
        assert_eq!(Tier::Free.limits().app_day.max, 17);
        assert_eq!(Tier::Basic.limits().user_day.max, 100);
        assert_eq!(Tier::Basic.limits().app_day.max, 1_667);
        assert_eq!(
            Tier::Payg.limits().window,
            Limit {
                max: 100,
                seconds: 900
            }
        );
        assert_eq!(Tier::Pro.limits().app_day.max, 10_000);
    }
}
