//! What a flock will do, worked out offline for `botflock check`: posts per round and per day,
//! the cost at pay-per-use prices, and which of X's limits the schedule would break on each
//! tier. Pure: it takes the poems and plans and returns numbers.

use crate::length;
use crate::sandbox::limits::Tier;
use crate::sheep::Plan;
use crate::thread;
use serde::Serialize;
use std::time::Duration;

/// Pay-per-use price of a post, and of a post that contains a URL (x-api.md).
pub const PRICE_PER_POST: f64 = 0.015;
pub const PRICE_PER_URL_POST: f64 = 0.20;

const DAY: f64 = 86_400.0;
const QUARTER_HOUR: f64 = 900.0;

/// One line of a poem as it will be posted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineForecast {
    pub text: String,
    pub weighted_length: usize,
    /// 1, a thread's parts, or 0 when it is skipped.
    pub posts: usize,
    pub has_url: bool,
}

/// A limit a schedule would break.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Breach {
    pub tier: String,
    /// "per user per 15 minutes", "per user per 24 hours" or "per app per 24 hours".
    pub limit: &'static str,
    /// The most posts the schedule makes in such a window.
    pub expected: f64,
    pub allowed: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BotForecast {
    pub name: String,
    pub key_file: String,
    pub lines: Vec<LineForecast>,
    pub posts_per_round: usize,
    pub longest_weighted_length: usize,
    pub round_seconds: f64,
    pub posts_per_day: f64,
    pub cost_per_day_usd: f64,
    /// The most posts in any 15 minutes and any 24 hours.
    pub most_in_15_minutes: f64,
    pub most_in_24_hours: f64,
    pub breaks: Vec<Breach>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppForecast {
    /// The app's bots; the consumer key itself is a credential and is never shown.
    pub bots: Vec<String>,
    pub posts_per_day: f64,
    pub cost_per_day_usd: f64,
    pub breaks: Vec<Breach>,
}

/// The forecast for one bot reciting `poem` on `plan`.
pub fn bot(name: &str, key_file: &str, poem: &[String], plan: &Plan) -> BotForecast {
    let room = thread::room(plan.on_duplicate == crate::keys::OnDuplicate::Stamp);
    let lines: Vec<LineForecast> = poem
        .iter()
        .map(|text| {
            let posts = thread::posts_for(text, plan.long_lines, room);
            LineForecast {
                text: text.clone(),
                weighted_length: length::weighted_length(text),
                has_url: posts.iter().any(|post| length::contains_url(post)),
                posts: posts.len(),
            }
        })
        .collect();
    let posts_per_round: usize = lines.iter().map(|line| line.posts).sum();
    let line_wait = plan.intervals.line.as_secs_f64();
    let round_seconds =
        line_wait * lines.len().saturating_sub(1) as f64 + plan.intervals.poem.as_secs_f64();
    let active = plan
        .active_hours
        .map_or(1.0, |hours| active_fraction(hours.start, hours.end));
    let rounds_per_day = if round_seconds > 0.0 {
        DAY * active / round_seconds
    } else {
        f64::INFINITY
    };
    let cost_per_round: f64 = lines
        .iter()
        .map(|line| {
            let price = if line.has_url {
                PRICE_PER_URL_POST
            } else {
                PRICE_PER_POST
            };
            price * line.posts as f64
        })
        .sum();
    // When each post of a round goes out, from the round's start: a thread's parts together.
    let times: Vec<f64> = lines
        .iter()
        .enumerate()
        .flat_map(|(i, line)| std::iter::repeat_n(i as f64 * line_wait, line.posts))
        .collect();
    let most_in_15_minutes = most_in_window(&times, round_seconds, QUARTER_HOUR);
    let most_in_24_hours = most_in_window(&times, round_seconds, DAY).min(if active < 1.0 {
        posts_per_round as f64 * rounds_per_day.ceil()
    } else {
        f64::INFINITY
    });
    let mut forecast = BotForecast {
        name: name.to_string(),
        key_file: key_file.to_string(),
        longest_weighted_length: lines.iter().map(|l| l.weighted_length).max().unwrap_or(0),
        lines,
        posts_per_round,
        round_seconds,
        posts_per_day: posts_per_round as f64 * rounds_per_day,
        cost_per_day_usd: cost_per_round * rounds_per_day,
        most_in_15_minutes,
        most_in_24_hours,
        breaks: Vec::new(),
    };
    forecast.breaks = user_breaches(&forecast);
    forecast
}

/// The totals of an app's bots, and the app-wide limits they break together.
pub fn app(bots: &[&BotForecast]) -> AppForecast {
    let posts_per_day: f64 = bots.iter().map(|bot| bot.posts_per_day).sum();
    let most_in_24_hours: f64 = bots.iter().map(|bot| bot.most_in_24_hours).sum();
    let breaks = TIERS
        .iter()
        .filter_map(|&tier| {
            let allowed = tier.limits().app_day.max;
            (most_in_24_hours > allowed as f64).then(|| Breach {
                tier: tier.to_string(),
                limit: "per app per 24 hours",
                expected: most_in_24_hours,
                allowed,
            })
        })
        .collect();
    AppForecast {
        bots: bots.iter().map(|bot| bot.name.clone()).collect(),
        posts_per_day,
        cost_per_day_usd: bots.iter().map(|bot| bot.cost_per_day_usd).sum(),
        breaks,
    }
}

const TIERS: [Tier; 4] = [Tier::Free, Tier::Basic, Tier::Pro, Tier::Payg];

fn user_breaches(bot: &BotForecast) -> Vec<Breach> {
    let mut breaks = Vec::new();
    for tier in TIERS {
        let limits = tier.limits();
        let checks = [
            (
                limits.window,
                if limits.window.seconds == 900 {
                    "per user per 15 minutes"
                } else {
                    "per user per 24 hours"
                },
            ),
            (limits.user_day, "per user per 24 hours"),
        ];
        for (limit, name) in checks {
            let expected = if limit.seconds == 900 {
                bot.most_in_15_minutes
            } else {
                bot.most_in_24_hours
            };
            let already = breaks
                .iter()
                .any(|b: &Breach| b.tier == tier.to_string() && b.limit == name);
            if expected > limit.max as f64 && !already {
                breaks.push(Breach {
                    tier: tier.to_string(),
                    limit: name,
                    expected,
                    allowed: limit.max,
                });
            }
        }
    }
    breaks
}

/// The most posts in any window of `window` seconds, for posts at `times` (seconds from a
/// round's start) repeated every `round` seconds.
pub fn most_in_window(times: &[f64], round: f64, window: f64) -> f64 {
    if times.is_empty() {
        return 0.0;
    }
    if round <= 0.0 {
        return f64::INFINITY;
    }
    let whole = (window / round).floor();
    let rest = window - whole * round;
    let per_round = times.len() as f64;
    // The best window starts at a post; past its whole rounds it holds the posts of one round
    // that fall in [start, start + rest), wrapping into the next round.
    let partial = times
        .iter()
        .map(|&start| {
            times
                .iter()
                .filter(|&&t| {
                    let offset = if t >= start {
                        t - start
                    } else {
                        t + round - start
                    };
                    offset < rest
                })
                .count()
        })
        .max()
        .unwrap_or(0);
    whole * per_round + partial as f64
}

/// The fraction of a day between two times of day (the window may cross midnight).
fn active_fraction(start: jiff::civil::Time, end: jiff::civil::Time) -> f64 {
    let seconds = |time: jiff::civil::Time| {
        f64::from(time.hour()) * 3600.0 + f64::from(time.minute()) * 60.0 + f64::from(time.second())
    };
    let (start, end) = (seconds(start), seconds(end));
    let span = if end > start {
        end - start
    } else {
        DAY - start + end
    };
    span / DAY
}

/// A wait as a person reads it.
pub fn describe(seconds: f64) -> String {
    if seconds.is_finite() {
        crate::duration::format(Duration::from_secs_f64(seconds.max(0.0)))
    } else {
        "never".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{LongLines, OnDuplicate};
    use crate::order::Order;
    use crate::schedule::Intervals;

    fn plan(line: u64, poem: u64) -> Plan {
        Plan {
            intervals: Intervals {
                line: Duration::from_secs(line),
                poem: Duration::from_secs(poem),
            },
            order: Order::Sequence,
            jitter: 0.0,
            active_hours: None,
            on_duplicate: OnDuplicate::Skip,
            long_lines: LongLines::Thread,
        }
    }

    fn poem(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn a_round_of_four_lines_a_minute_apart_and_half_an_hour_after() {
        let forecast = bot(
            "ann",
            "keys/ann.json",
            &poem(&["a", "b", "c", "d"]),
            &plan(60, 1800),
        );
        assert_eq!(forecast.posts_per_round, 4);
        assert_eq!(forecast.round_seconds, 1980.0);
        let rounds = 86_400.0 / 1980.0;
        assert!((forecast.posts_per_day - 4.0 * rounds).abs() < 1e-9);
        assert!((forecast.cost_per_day_usd - 4.0 * rounds * 0.015).abs() < 1e-9);
        assert_eq!(forecast.most_in_15_minutes, 4.0);
        // 174.5 posts a day: over the free tier's 17 and basic's 100 per user.
        let tiers: Vec<&str> = forecast.breaks.iter().map(|b| b.tier.as_str()).collect();
        assert_eq!(tiers, ["free", "basic"]);
    }

    #[test]
    fn urls_cost_more_and_long_lines_become_threads() {
        let long = "word ".repeat(100);
        let forecast = bot(
            "ann",
            "k",
            &poem(&["see https://example.com", long.trim()]),
            &plan(60, 3600),
        );
        assert_eq!(forecast.lines[0].posts, 1);
        assert!(forecast.lines[0].has_url);
        assert!(forecast.lines[1].posts >= 2);
        assert_eq!(forecast.longest_weighted_length, 499);
        let rounds = 86_400.0 / 3660.0;
        let per_round = 0.20 + 0.015 * forecast.lines[1].posts as f64;
        assert!((forecast.cost_per_day_usd - per_round * rounds).abs() < 1e-9);
    }

    #[test]
    fn a_fast_bot_breaks_the_fifteen_minute_window() {
        let forecast = bot("ann", "k", &poem(&["a", "b"]), &plan(5, 5));
        assert_eq!(forecast.most_in_15_minutes, 180.0);
        assert!(
            forecast
                .breaks
                .iter()
                .any(|b| b.tier == "payg" && b.limit == "per user per 15 minutes")
        );
    }

    #[test]
    fn windows_count_posts_across_rounds() {
        // Posts at 0 and 10 every 100 s: a 15 s window holds two, a 250 s window six.
        assert_eq!(most_in_window(&[0.0, 10.0], 100.0, 15.0), 2.0);
        assert_eq!(most_in_window(&[0.0, 10.0], 100.0, 250.0), 6.0);
        assert_eq!(most_in_window(&[0.0, 10.0], 100.0, 205.0), 5.0);
        assert_eq!(most_in_window(&[], 100.0, 250.0), 0.0);
    }

    #[test]
    fn an_apps_bots_add_up() {
        let one = bot("ann", "k", &poem(&["a"]), &plan(60, 600));
        let two = bot("ben", "k", &poem(&["a"]), &plan(60, 600));
        let app = app(&[&one, &two]);
        assert!((app.posts_per_day - 288.0).abs() < 1e-9);
        let tiers: Vec<&str> = app.breaks.iter().map(|b| b.tier.as_str()).collect();
        assert_eq!(tiers, ["free"]);
    }
}
