//! What each bot has done and is doing, as the Shepherd learns it from reports: the status table
//! logged every `--status-every` and printed at exit.

use crate::event::{Event, StopWhy, WaitWhy, clock};
use std::fmt;
use std::time::SystemTime;

/// What a bot is doing now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Doing {
    Posting,
    Waiting {
        until: SystemTime,
        why: WaitWhy,
    },
    Retrying {
        at: SystemTime,
    },
    Paused {
        why: String,
    },
    Stopped(StopWhy),
    /// Its key file was removed from the keys folder.
    Removed,
}

impl fmt::Display for Doing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Doing::Posting => f.write_str("posting"),
            Doing::Waiting { until, why } => {
                let reason = match why {
                    WaitWhy::NextLine => "next line",
                    WaitWhy::NextPoem { .. } => "next round",
                    WaitWhy::RateLimit => "rate limit",
                    WaitWhy::ActiveHours => "active hours",
                };
                write!(f, "waiting until {} ({reason})", clock(*until))
            }
            Doing::Retrying { at } => write!(f, "retrying at {}", clock(*at)),
            Doing::Paused { why } => write!(f, "paused: {why}"),
            Doing::Stopped(why) => write!(f, "stopped: {why}"),
            Doing::Removed => f.write_str("stopped: key file removed"),
        }
    }
}

/// One bot's counts and state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    pub name: String,
    /// Posts X confirmed (or, in a dry run, lines that would have posted).
    pub posted: u64,
    /// Lines X said were already on the account (duplicate content).
    pub already: u64,
    pub failed: u64,
    pub skipped: u64,
    pub doing: Doing,
}

impl Tally {
    pub fn new(name: &str) -> Tally {
        Tally {
            name: name.to_string(),
            posted: 0,
            already: 0,
            failed: 0,
            skipped: 0,
            doing: Doing::Posting,
        }
    }

    pub fn count(&mut self, event: &Event) {
        match event {
            Event::Posted { .. } | Event::DryRun { .. } => self.posted += 1,
            Event::AlreadyPosted { .. } => self.already += 1,
            Event::Retrying { at, .. } => {
                self.failed += 1;
                self.doing = Doing::Retrying { at: *at };
            }
            Event::Panicked { restart_at, .. } => {
                self.failed += 1;
                self.doing = Doing::Retrying { at: *restart_at };
            }
            Event::Skipped { .. } => {
                self.failed += 1;
                self.skipped += 1;
            }
            Event::Waiting { until, why } => {
                self.doing = Doing::Waiting {
                    until: *until,
                    why: *why,
                }
            }
            Event::AppPaused { error, until } => {
                self.doing = Doing::Paused {
                    why: paused_why(error, *until),
                }
            }
            Event::Stopped { why } => self.doing = Doing::Stopped(why.clone()),
            Event::Started { .. } => self.doing = Doing::Posting,
            Event::StateNotSaved { .. } => {}
        }
    }

    /// Counts `event` for a bot whose app may be paused (`app_paused`, asked only when it
    /// matters). While the pause lasts the bot keeps showing it through its own waits and
    /// retries: it posts nothing before the pause ends, and the reports of two bots of the app
    /// (one meeting the pause, the other learning of its own wait) arrive in either order.
    pub fn count_while(&mut self, event: &Event, app_paused: impl FnOnce() -> bool) {
        let keeps_pause = matches!(event, Event::Waiting { .. } | Event::Retrying { .. })
            && matches!(self.doing, Doing::Paused { .. })
            && app_paused();
        if keeps_pause {
            let pause = std::mem::replace(&mut self.doing, Doing::Posting);
            self.count(event);
            self.doing = pause;
        } else {
            self.count(event);
        }
    }

    /// Whether this bot ended in a way a person must look at.
    pub fn failed_for_good(&self) -> bool {
        match &self.doing {
            Doing::Stopped(why) => why.is_failure(),
            Doing::Removed => false,
            _ => true,
        }
    }
}

/// Why an app is paused, for every bot of it.
pub fn paused_why(error: &str, until: Option<SystemTime>) -> String {
    match until {
        Some(until) => format!("app paused until {} ({error})", clock(until)),
        None => format!("app paused until restarted ({error})"),
    }
}

/// Every bot's tally, in the order the bots started.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub bots: Vec<Tally>,
}

impl Summary {
    pub fn any_bot_failed(&self) -> bool {
        self.bots.iter().any(Tally::failed_for_good)
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .bots
            .iter()
            .map(|tally| tally.name.chars().count())
            .chain([3])
            .max()
            .unwrap_or(3);
        writeln!(
            f,
            "{:<width$}  {:>7}  {:>7}  {:>7}  {:>7}  state",
            "bot", "posted", "already", "failed", "skipped"
        )?;
        for tally in &self.bots {
            writeln!(
                f,
                "{:<width$}  {:>7}  {:>7}  {:>7}  {:>7}  {}",
                tally.name, tally.posted, tally.already, tally.failed, tally.skipped, tally.doing
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::LineNo;

    #[test]
    fn a_bot_of_a_paused_app_shows_the_pause_through_its_own_waits() {
        let until = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
        let waiting = Event::Waiting {
            until,
            why: crate::event::WaitWhy::RateLimit,
        };
        let retrying = Event::Retrying {
            line: LineNo::whole(0, 2),
            error: "timeout".into(),
            tries: 1,
            at: until,
        };
        let paused = || {
            let mut tally = Tally::new("ann");
            tally.count(&Event::AppPaused {
                error: "http status 429".into(),
                until: Some(until),
            });
            tally
        };
        let mut tally = paused();
        tally.count_while(&waiting, || true);
        tally.count_while(&retrying, || true);
        assert!(
            matches!(tally.doing, Doing::Paused { .. }),
            "{}",
            tally.doing
        );
        assert_eq!(tally.failed, 1, "a retry is still counted");
        // The pause is over: the bot's own wait shows.
        let mut tally = paused();
        tally.count_while(&waiting, || false);
        assert!(
            matches!(tally.doing, Doing::Waiting { .. }),
            "{}",
            tally.doing
        );
        // A stop always shows.
        let mut tally = paused();
        tally.count_while(
            &Event::Stopped {
                why: crate::event::StopWhy::Requested,
            },
            || true,
        );
        assert!(matches!(tally.doing, Doing::Stopped(_)), "{}", tally.doing);
    }

    #[test]
    fn the_table_counts_each_kind_of_event_and_shows_the_state() {
        let mut tally = Tally::new("ann");
        let line = LineNo::whole(0, 2);
        tally.count(&Event::Posted {
            line,
            id: "1".into(),
            text: "a".into(),
        });
        tally.count(&Event::AlreadyPosted { line });
        tally.count(&Event::Skipped {
            line,
            error: "400".into(),
        });
        tally.count(&Event::Stopped {
            why: StopWhy::Requested,
        });
        let table = Summary {
            bots: vec![tally.clone()],
        }
        .to_string();
        assert!(
            table.starts_with("bot   posted  already   failed  skipped  state\n"),
            "{table}"
        );
        assert!(
            table.contains("ann        1        1        1        1  stopped: as asked"),
            "{table}"
        );
        assert!(!tally.failed_for_good());
    }
}
