//! What each outcome of a post does: the one table, as a pure function of the answer, the
//! failures so far and the time. The Sheep only carries out what `decide` says.
//!
//! | outcome                                | action                                               |
//! |----------------------------------------|------------------------------------------------------|
//! | 2xx with a post id                     | counted; next line                                   |
//! | network error, timeout, dropped        | same line again, linear backoff +1 s a try, max 16 s |
//! | 5xx, 408, 2xx without an id            | same line again, exponential from 5 s, max 320 s     |
//! | 429                                    | same line at the latest reset whose quota is spent;  |
//! |                                        | with no usable header exponential from 60 s (max 16m)|
//! | 429 with the app's 24-hour quota spent | every bot of the app pauses until its reset          |
//! | 2xx showing the app's quota spent      | counted; every bot of the app pauses until its reset |
//! | 402 out of credit, usage capped        | every bot of the app pauses until restarted          |
//! | 401                                    | this bot stops: credentials rejected                 |
//! | 404, 405, 410                          | this bot stops: the API base is wrong                |
//! | 403 duplicate content                  | already on the account: counted; next line           |
//! | other 403, 400 and other 4xx           | the line can never post: skipped, loudly             |

use crate::client::{PostError, Posted, RateLimits};
use std::time::Duration;

/// What to do after a post attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The line is on the account; go on. `not_before` (Unix seconds) holds the next post back
    /// when the answer said a quota is already spent; `pause_app` (Unix seconds) holds every bot
    /// of the app back when that quota is the app's, so none of them spends a request on a 429.
    Advance {
        already_there: bool,
        not_before: Option<u64>,
        pause_app: Option<u64>,
    },
    /// Try the same line again after `wait`.
    Retry { wait: Duration },
    /// This line can never be posted; go on to the next.
    Skip,
    /// This bot cannot go on until a person fixes something.
    StopBot,
    /// Every bot of this app must wait: until `until` (Unix seconds), or until restarted.
    PauseApp { until: Option<u64> },
}

/// Kinds of failure that back off; each has its own curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trouble {
    Network,
    Server,
    RateLimited,
}

/// Consecutive failures of one kind. A success, or a failure of another kind, starts over.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tries {
    pub trouble: Option<Trouble>,
    pub count: u32,
}

impl Tries {
    fn after(self, trouble: Trouble) -> Tries {
        let count = if self.trouble == Some(trouble) {
            self.count.saturating_add(1)
        } else {
            1
        };
        Tries {
            trouble: Some(trouble),
            count,
        }
    }
}

/// The wait before try number `count + 1` after `count` consecutive failures of one kind.
pub fn backoff(trouble: Trouble, count: u32) -> Duration {
    let count = count.max(1);
    let doubling = |first: u64, max: u64| {
        let factor = 1u64.checked_shl(count - 1).unwrap_or(u64::MAX);
        Duration::from_secs(first.saturating_mul(factor).min(max))
    };
    match trouble {
        Trouble::Network => Duration::from_secs(u64::from(count).min(16)),
        Trouble::Server => doubling(5, 320),
        Trouble::RateLimited => doubling(60, 960),
    }
}

/// Decides what follows an attempt, given the failures before it and the time (Unix seconds).
/// `unit` scales the backoff curves (one second in use; tests shrink it); waits for a reset X
/// announced are real time and never scaled.
pub fn decide(
    result: &Result<Posted, PostError>,
    tries: Tries,
    now: u64,
    unit: Duration,
) -> (Action, Tries) {
    let retry = |trouble: Trouble| {
        let tries = tries.after(trouble);
        let wait = backoff(trouble, tries.count).mul_f64(unit.as_secs_f64());
        (Action::Retry { wait }, tries)
    };
    let error = match result {
        Ok(posted) => {
            let action = Action::Advance {
                already_there: false,
                not_before: spent_until(&posted.limits, now),
                pause_app: app_spent_until(&posted.limits, now),
            };
            return (action, Tries::default());
        }
        Err(error) => error,
    };
    let (status, problem, limits) = match error {
        PostError::Network { .. } => return retry(Trouble::Network),
        PostError::Unconfirmed { .. } => return retry(Trouble::Server),
        // Only while stopping, which ends the wait for the retry at once.
        PostError::Cancelled => {
            return (
                Action::Retry {
                    wait: Duration::ZERO,
                },
                tries,
            );
        }
        PostError::Status {
            status,
            problem,
            limits,
        } => (*status, problem, limits),
    };
    match status {
        429 => {
            if limits.app_day.remaining == Some(0) {
                // Without a reset ahead, until restarted.
                let until = app_spent_until(limits, now);
                return (
                    Action::PauseApp { until },
                    tries.after(Trouble::RateLimited),
                );
            }
            match spent_until(limits, now) {
                Some(reset) => {
                    // One second past the reset, so the retry does not land a moment early.
                    let wait = Duration::from_secs(reset - now + 1);
                    (Action::Retry { wait }, tries.after(Trouble::RateLimited))
                }
                None => retry(Trouble::RateLimited),
            }
        }
        402 => (Action::PauseApp { until: None }, tries),
        403 if problem.is_type("/2/problems/usage-capped") => {
            (Action::PauseApp { until: None }, tries)
        }
        403 if problem.mentions("duplicate content") => (
            Action::Advance {
                already_there: true,
                not_before: None,
                pause_app: None,
            },
            Tries::default(),
        ),
        401 | 404 | 405 | 410 => (Action::StopBot, tries),
        408 | 500..=599 => retry(Trouble::Server),
        _ => (Action::Skip, Tries::default()),
    }
}

/// The app's 24-hour reset, when its quota shows nothing remaining and the reset is ahead.
fn app_spent_until(limits: &RateLimits, now: u64) -> Option<u64> {
    let app = limits.app_day;
    app.reset
        .filter(|&reset| app.remaining == Some(0) && reset > now)
}

/// The latest future reset among the quotas that show nothing remaining.
fn spent_until(limits: &RateLimits, now: u64) -> Option<u64> {
    [limits.window, limits.user_day, limits.app_day]
        .iter()
        .filter(|quota| quota.remaining == Some(0))
        .filter_map(|quota| quota.reset)
        .filter(|&reset| reset > now)
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{Problem, Quota};

    const NOW: u64 = 1_700_000_000;
    const SECOND: Duration = Duration::from_secs(1);

    fn status(status: u16, detail: &str, limits: RateLimits) -> Result<Posted, PostError> {
        Err(PostError::Status {
            status,
            problem: Problem {
                title: None,
                detail: Some(detail.to_string()),
                kind: None,
                errors: Vec::new(),
            },
            limits: Box::new(limits),
        })
    }

    fn network() -> Result<Posted, PostError> {
        Err(PostError::Network {
            message: "connection refused".into(),
        })
    }

    /// The waits of `n` consecutive identical failures.
    fn waits(result: &Result<Posted, PostError>, n: usize) -> Vec<u64> {
        let mut tries = Tries::default();
        (0..n)
            .map(|_| {
                let (action, next) = decide(result, tries, NOW, SECOND);
                tries = next;
                match action {
                    Action::Retry { wait } => wait.as_secs(),
                    other => panic!("expected a retry, got {other:?}"),
                }
            })
            .collect()
    }

    #[test]
    fn network_errors_back_off_linearly_to_16_seconds() {
        assert_eq!(
            waits(&network(), 18),
            [
                1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 16, 16
            ]
        );
    }

    #[test]
    fn server_errors_back_off_exponentially_from_5_to_320_seconds() {
        let answer = status(503, "Service Unavailable", RateLimits::default());
        assert_eq!(waits(&answer, 9), [5, 10, 20, 40, 80, 160, 320, 320, 320]);
        let unconfirmed = Err(PostError::Unconfirmed { status: 200 });
        assert_eq!(waits(&unconfirmed, 2), [5, 10]);
    }

    #[test]
    fn rate_limits_wait_for_the_latest_spent_reset() {
        let limits = RateLimits {
            window: Quota {
                limit: Some(100),
                remaining: Some(0),
                reset: Some(NOW + 300),
            },
            user_day: Quota {
                limit: Some(100),
                remaining: Some(0),
                reset: Some(NOW + 5000),
            },
            // Not spent, so its later reset does not count.
            app_day: Quota {
                limit: Some(10_000),
                remaining: Some(7),
                reset: Some(NOW + 80_000),
            },
        };
        assert_eq!(waits(&status(429, "Too Many Requests", limits), 1), [5001]);
    }

    #[test]
    fn rate_limits_without_usable_headers_back_off_from_60_seconds() {
        let stale = RateLimits {
            window: Quota {
                limit: None,
                remaining: Some(0),
                reset: Some(NOW - 10),
            },
            ..RateLimits::default()
        };
        assert_eq!(
            waits(&status(429, "", stale), 6),
            [60, 120, 240, 480, 960, 960]
        );
    }

    #[test]
    fn the_unit_scales_backoff_but_not_announced_resets() {
        let tenth = Duration::from_millis(100);
        let (action, _) = decide(&network(), Tries::default(), NOW, tenth);
        assert_eq!(action, Action::Retry { wait: tenth });
        let limits = RateLimits {
            window: Quota {
                limit: Some(100),
                remaining: Some(0),
                reset: Some(NOW + 30),
            },
            ..RateLimits::default()
        };
        let (action, _) = decide(&status(429, "", limits), Tries::default(), NOW, tenth);
        assert_eq!(
            action,
            Action::Retry {
                wait: Duration::from_secs(31)
            }
        );
    }

    #[test]
    fn backoff_starts_over_after_a_success_or_another_kind_of_failure() {
        let (_, tries) = decide(&network(), Tries::default(), NOW, SECOND);
        let (_, tries) = decide(&network(), tries, NOW, SECOND);
        assert_eq!(tries.count, 2);
        let server = status(500, "", RateLimits::default());
        let (action, tries) = decide(&server, tries, NOW, SECOND);
        assert_eq!(
            action,
            Action::Retry {
                wait: Duration::from_secs(5)
            }
        );
        let ok = Ok(Posted {
            id: "1".into(),
            limits: RateLimits::default(),
        });
        let (_, tries) = decide(&ok, tries, NOW, SECOND);
        assert_eq!(tries, Tries::default());
    }

    #[test]
    fn the_apps_quota_or_credit_pauses_the_whole_app() {
        let limits = RateLimits {
            app_day: Quota {
                limit: Some(17),
                remaining: Some(0),
                reset: Some(NOW + 3600),
            },
            ..RateLimits::default()
        };
        let (action, _) = decide(&status(429, "", limits), Tries::default(), NOW, SECOND);
        assert_eq!(
            action,
            Action::PauseApp {
                until: Some(NOW + 3600)
            }
        );
        let credits = status(402, "does not have any credits", RateLimits::default());
        let (action, _) = decide(&credits, Tries::default(), NOW, SECOND);
        assert_eq!(action, Action::PauseApp { until: None });
    }

    #[test]
    fn client_errors_stop_skip_or_count_as_posted() {
        let decide_status = |code, detail| {
            decide(
                &status(code, detail, RateLimits::default()),
                Tries::default(),
                NOW,
                SECOND,
            )
            .0
        };
        assert_eq!(decide_status(401, "Unauthorized"), Action::StopBot);
        assert_eq!(decide_status(404, "Not Found"), Action::StopBot);
        assert_eq!(
            decide_status(
                403,
                "You are not allowed to create a Tweet with duplicate content."
            ),
            Action::Advance {
                already_there: true,
                not_before: None,
                pause_app: None
            }
        );
        assert_eq!(
            decide_status(403, "You are not permitted to perform this action."),
            Action::Skip
        );
        assert_eq!(
            decide_status(400, "Your Tweet text is too long."),
            Action::Skip
        );
        assert_eq!(
            decide_status(408, "Request Timeout"),
            Action::Retry {
                wait: Duration::from_secs(5)
            }
        );
    }

    #[test]
    fn a_success_that_spends_a_quota_holds_the_next_post_back() {
        let limits = RateLimits {
            window: Quota {
                limit: Some(100),
                remaining: Some(0),
                reset: Some(NOW + 120),
            },
            ..RateLimits::default()
        };
        let ok = Ok(Posted {
            id: "1".into(),
            limits,
        });
        assert_eq!(
            decide(&ok, Tries::default(), NOW, SECOND).0,
            Action::Advance {
                already_there: false,
                not_before: Some(NOW + 120),
                pause_app: None
            }
        );
    }

    /// The post that spends the app's daily quota pauses the app at once: its other bots would
    /// otherwise each learn it from a 429.
    #[test]
    fn a_success_that_spends_the_apps_quota_pauses_the_app() {
        let spent = |remaining, reset| RateLimits {
            app_day: Quota {
                limit: Some(17),
                remaining: Some(remaining),
                reset: Some(reset),
            },
            ..RateLimits::default()
        };
        let ok = |limits| {
            Ok(Posted {
                id: "1".into(),
                limits,
            })
        };
        let decided = |limits| decide(&ok(limits), Tries::default(), NOW, SECOND).0;
        assert_eq!(
            decided(spent(0, NOW + 600)),
            Action::Advance {
                already_there: false,
                not_before: Some(NOW + 600),
                pause_app: Some(NOW + 600)
            }
        );
        assert_eq!(
            decided(spent(1, NOW + 600)),
            Action::Advance {
                already_there: false,
                not_before: None,
                pause_app: None
            }
        );
        // A reset already past is no reason to wait.
        assert_eq!(
            decided(spent(0, NOW - 1)),
            Action::Advance {
                already_there: false,
                not_before: None,
                pause_app: None
            }
        );
    }
}
