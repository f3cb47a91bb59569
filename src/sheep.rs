//! A Sheep: one bot's thread. It recites its poem line by line on its schedule, carries out what
//! `policy` decides after each post, and reports every event to the Shepherd. It shares only the
//! HTTP client, its app's pause, the stop signal and the report channel.

use crate::app_pause::{AppPause, Until};
use crate::client::{Client, PostError, Posted};
use crate::event::{Event, LineNo, Report, StopWhy, WaitWhy};
use crate::keys::Credentials;
use crate::poem::Poem;
use crate::policy::{self, Action, Tries, Trouble};
use crate::schedule::{self, Intervals, Place};
use crate::stop::{Stop, Waited};
use crossbeam_channel::Sender;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How a Sheep posts.
#[derive(Clone)]
pub enum Poster {
    /// Logs each line instead of posting it; no network at all.
    DryRun,
    Live(Arc<Client>),
}

pub struct Sheep {
    pub name: Arc<str>,
    pub key_file: PathBuf,
    pub poem: Poem,
    pub intervals: Intervals,
    pub credentials: Credentials,
    pub poster: Poster,
    pub app_pause: Arc<AppPause>,
    pub reports: Sender<Report>,
    pub stop: Stop,
}

impl Sheep {
    /// Recites from `start` until stopped. A panic is reported and the recital starts again
    /// at the same place after a backoff, so one bad bot never takes the flock down.
    pub fn run(self, start: Place) {
        let mut place = start;
        let mut crashes = 0;
        loop {
            let recital = panic::catch_unwind(AssertUnwindSafe(|| self.recite(&mut place)));
            let why = match recital {
                Ok(why) => why,
                Err(payload) => {
                    crashes += 1;
                    let wait = policy::backoff(Trouble::Server, crashes);
                    self.report(Event::Panicked {
                        message: panic_message(payload.as_ref()),
                        restart_at: SystemTime::now() + wait,
                    });
                    match self.stop.wait_until(Instant::now() + wait) {
                        Waited::Elapsed => continue,
                        Waited::Stopped => StopWhy::Requested,
                    }
                }
            };
            self.report(Event::Stopped { why });
            return;
        }
    }

    fn recite(&self, place: &mut Place) -> StopWhy {
        let len = self.poem.len();
        self.report(Event::Started {
            lines: len,
            next: LineNo {
                index: place.line,
                of: len,
            },
            cycle: place.cycle,
        });
        let mut slot = Instant::now();
        let mut wake = slot;
        let mut tries = Tries::default();
        loop {
            if self.stop.wait_until(wake) == Waited::Stopped {
                return StopWhy::Requested;
            }
            let now = Instant::now();
            match self.app_pause.paused(now) {
                Some(Until::Instant(end)) => {
                    wake = end;
                    continue;
                }
                // Until restarted: only a stop ends this wait; looking again hourly costs nothing.
                Some(Until::Restart) => {
                    wake = now + Duration::from_secs(3600);
                    continue;
                }
                None => {}
            }
            let line = LineNo {
                index: place.line,
                of: len,
            };
            let text = &self.poem.lines()[place.line];
            let (action, error) = match &self.poster {
                Poster::DryRun => {
                    self.report(Event::DryRun {
                        line,
                        text: text.clone(),
                    });
                    let posted = Action::Advance {
                        already_there: false,
                        not_before: None,
                    };
                    (posted, None)
                }
                Poster::Live(client) => {
                    let result = client.post(&self.credentials, text, None);
                    let (action, next_tries) = policy::decide(&result, tries, unix_now());
                    tries = next_tries;
                    if let Some(event) = outcome_event(line, text, &result, action, tries) {
                        self.report(event);
                    }
                    (action, result.err())
                }
            };
            match action {
                Action::Advance { not_before, .. } => {
                    (slot, wake) = self.next_line(place, slot, not_before.map(instant_at));
                }
                Action::Skip => (slot, wake) = self.next_line(place, slot, None),
                Action::Retry { wait } => wake = Instant::now() + wait,
                Action::StopBot => return self.stop_why(error),
                Action::PauseApp { until } => {
                    let until = until.map_or(Until::Restart, |at| Until::Instant(instant_at(at)));
                    if self.app_pause.pause(until, Instant::now()) {
                        self.report(Event::AppPaused {
                            until: match until {
                                Until::Instant(at) => Some(wall_clock(at)),
                                Until::Restart => None,
                            },
                            error: error.map(|e| e.to_string()).unwrap_or_default(),
                        });
                    }
                }
            }
        }
    }

    /// Moves past the current line; returns the next slot and when to wake for it.
    fn next_line(
        &self,
        place: &mut Place,
        slot: Instant,
        held_until: Option<Instant>,
    ) -> (Instant, Instant) {
        let len = self.poem.len();
        let wait = place.wait_after(len, self.intervals);
        let finished = *place;
        *place = place.advance(len);
        let mut slot = schedule::next_slot(slot, wait, Instant::now());
        let mut why = if place.cycle > finished.cycle {
            WaitWhy::NextPoem { cycle: place.cycle }
        } else {
            WaitWhy::NextLine
        };
        if let Some(held) = held_until.filter(|&held| held > slot) {
            slot = held;
            why = WaitWhy::RateLimit;
        }
        self.report(Event::Waiting {
            until: wall_clock(slot),
            why,
        });
        (slot, slot)
    }

    fn stop_why(&self, error: Option<PostError>) -> StopWhy {
        let error_text = error.as_ref().map(ToString::to_string).unwrap_or_default();
        match error {
            Some(PostError::Status { status: 401, .. }) => StopWhy::CredentialsRejected {
                key_file: self.key_file.clone(),
                error: error_text,
            },
            _ => StopWhy::WrongEndpoint { error: error_text },
        }
    }

    fn report(&self, event: Event) {
        // A closed channel means the Shepherd is gone; there is nobody left to tell.
        let _ = self.reports.send(Report {
            bot: Arc::clone(&self.name),
            event,
        });
    }
}

/// The report for a live post's outcome; stops and app pauses are reported by the caller.
fn outcome_event(
    line: LineNo,
    text: &str,
    result: &Result<Posted, PostError>,
    action: Action,
    tries: Tries,
) -> Option<Event> {
    let error = || match result {
        Ok(_) => String::new(),
        Err(error) => error.to_string(),
    };
    match (action, result) {
        (
            Action::Advance {
                already_there: false,
                ..
            },
            Ok(posted),
        ) => Some(Event::Posted {
            line,
            id: posted.id.clone(),
            text: text.to_string(),
        }),
        (Action::Advance { .. }, _) => Some(Event::AlreadyPosted { line }),
        (Action::Retry { wait }, _) => Some(Event::Retrying {
            line,
            error: error(),
            tries: tries.count,
            at: SystemTime::now() + wait,
        }),
        (Action::Skip, _) => Some(Event::Skipped {
            line,
            error: error(),
        }),
        (Action::StopBot | Action::PauseApp { .. }, _) => None,
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text.to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "panic".to_string()
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// The monotonic instant of a Unix time X gave (a reset), for waiting on.
fn instant_at(unix_seconds: u64) -> Instant {
    Instant::now() + Duration::from_secs(unix_seconds.saturating_sub(unix_now()))
}

/// The wall-clock time of a monotonic instant, for people to read.
fn wall_clock(at: Instant) -> SystemTime {
    SystemTime::now() + at.saturating_duration_since(Instant::now())
}
