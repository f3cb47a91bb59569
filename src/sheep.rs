//! A Sheep: one bot's thread. It recites its poem line by line on its schedule (each line one
//! post, or a thread when it is long), carries out what `policy` decides after each post, saves
//! its place, and reports every event to the Shepherd. It shares only the HTTP client, its app's
//! pause, its stop signal and the report channel.

use crate::active_hours::ActiveHours;
use crate::app_pause::{AppPause, Until};
use crate::client::{Client, PostError, Posted};
use crate::event::{Event, LineNo, Report, StopWhy, WaitWhy};
use crate::keys::{Credentials, LongLines, OnDuplicate};
use crate::order::{self, Order};
use crate::poem::Poem;
use crate::policy::{self, Action, Tries, Trouble};
use crate::schedule::{self, Intervals, Place};
use crate::state::{BotState, Slot};
use crate::stop::{Stop, Waited};
use crate::thread;
use crossbeam_channel::Sender;
use rand::RngExt;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Something that posts a line: the X client, or a test's stand-in.
pub trait Post: Send + Sync {
    fn post(
        &self,
        credentials: &Credentials,
        text: &str,
        reply_to: Option<&str>,
    ) -> Result<Posted, PostError>;
}

impl Post for Client {
    fn post(
        &self,
        credentials: &Credentials,
        text: &str,
        reply_to: Option<&str>,
    ) -> Result<Posted, PostError> {
        Client::post(self, credentials, text, reply_to)
    }
}

/// How a Sheep posts.
#[derive(Clone)]
pub enum Poster {
    /// Logs each line instead of posting it; no network at all.
    DryRun,
    Live(Arc<dyn Post>),
}

/// Where a Sheep keeps its place between runs.
pub struct Memory {
    pub slot: Slot,
    /// Of the poem this Sheep recites.
    pub fingerprint: String,
    /// False in a dry run: nothing was posted, so the place must not move on disk.
    pub save: bool,
}

/// What each line of `poem` is posted as under `plan`: one post, a thread, or nothing.
pub fn posts_for(poem: &Poem, plan: &Plan) -> Vec<Vec<String>> {
    let room = thread::room(plan.on_duplicate == OnDuplicate::Stamp);
    poem.lines()
        .iter()
        .map(|line| thread::posts_for(line, plan.long_lines, room))
        .collect()
}

/// A bot's schedule, its key file's settings over the command line's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    pub intervals: Intervals,
    pub order: Order,
    /// Each wait varies by up to this fraction either way.
    pub jitter: f64,
    pub active_hours: Option<ActiveHours>,
    pub on_duplicate: OnDuplicate,
    pub long_lines: LongLines,
}

/// Where a Sheep is: its place in the poem, and within a line posted as a thread, the next part
/// and the id it replies to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Position {
    pub place: Place,
    pub part: usize,
    pub reply_to: Option<String>,
    /// Saved just before a post that a restart may re-send (see `BotState::in_flight`).
    pub in_flight: bool,
}

pub struct Sheep {
    pub name: Arc<str>,
    pub key_file: PathBuf,
    /// What each line of the poem is posted as (`posts_for`), worked out before the thread
    /// starts so the thread's own stack stays small. The poem itself is not kept.
    pub posts: Vec<Vec<String>>,
    pub plan: Plan,
    pub credentials: Credentials,
    pub poster: Poster,
    pub app_pause: Arc<AppPause>,
    pub reports: Sender<Report>,
    pub stop: Stop,
    pub memory: Option<Memory>,
    /// One second in use: scales the backoff curves, so tests can run them fast.
    pub backoff_unit: Duration,
}

/// A recital's working state between posts.
struct Recital {
    /// The line's slot on the schedule, which the next wait counts from.
    slot: Instant,
    wake: Instant,
    tries: Tries,
    /// The line is being re-sent with a timestamp, because X had it already.
    stamped: bool,
    /// The post in flight at the last stop is being re-sent (see `BotState::in_flight`).
    resent: bool,
    last_post: Option<(String, SystemTime)>,
    /// The saved record, kept and updated in place so a save allocates nothing.
    record: BotState,
}

impl Sheep {
    /// Recites from `start` until stopped; returns where it stopped. A panic is reported and
    /// the recital starts again at the same place after a backoff, so one bad bot never takes
    /// the flock down. Boxed, so the thread's start-up frames pass a pointer, not the Sheep.
    pub fn run(self: Box<Self>, start: Position) -> Position {
        let mut position = start;
        let mut crashes = 0;
        let why = loop {
            match panic::catch_unwind(AssertUnwindSafe(|| self.recite(&mut position))) {
                Ok(why) => break why,
                Err(payload) => {
                    crashes += 1;
                    if let Waited::Stopped = self.crashed(payload, crashes) {
                        break StopWhy::Requested;
                    }
                }
            }
        };
        self.report(Event::Stopped { why });
        position
    }

    /// Reports a panic and waits out the backoff before the recital starts again.
    #[cold]
    #[inline(never)]
    fn crashed(&self, payload: Box<dyn std::any::Any + Send>, crashes: u32) -> Waited {
        let wait =
            policy::backoff(Trouble::Server, crashes).mul_f64(self.backoff_unit.as_secs_f64());
        self.report(Event::Panicked {
            message: panic_message(payload.as_ref()),
            restart_at: SystemTime::now() + wait,
        });
        self.stop.wait_until(Instant::now() + wait)
    }

    /// The recital: waits for each post's time, then takes one step. The loop's own frame is
    /// small and each step's temporaries are gone before the next wait, so a Sheep's stack stays
    /// within a few pages in each of ten thousand threads.
    #[inline(never)]
    fn recite(&self, position: &mut Position) -> StopWhy {
        // Boxed: the loop's frame is under every call a Sheep makes.
        let mut recital = self.begin(position);
        loop {
            if self.stop.wait_until(recital.wake) == Waited::Stopped {
                return StopWhy::Requested;
            }
            if let Some(why) = self.step(position, &mut recital) {
                return why;
            }
        }
    }

    #[inline(never)]
    fn begin(&self, position: &mut Position) -> Box<Recital> {
        let fingerprint = self
            .memory
            .as_ref()
            .map(|memory| memory.fingerprint.clone())
            .unwrap_or_default();
        let len = self.posts.len();
        let next = self.line_at(position.place, &fingerprint);
        self.report(Event::Started {
            lines: len,
            next: LineNo::whole(next, len),
            cycle: position.place.cycle,
        });
        let now = Instant::now();
        Box::new(Recital {
            slot: now,
            wake: now,
            tries: Tries::default(),
            stamped: false,
            // A post sent just before a crash and re-sent now is a duplicate of itself: with
            // `stamp`, that one is counted, not stamped and posted again.
            resent: std::mem::take(&mut position.in_flight),
            last_post: None,
            record: BotState {
                next_line: 0,
                cycle: 0,
                last_post_id: None,
                last_post_at: None,
                poem_fingerprint: fingerprint,
                next_part: 0,
                reply_to: None,
                in_flight: false,
            },
        })
    }

    /// The poem line (index into `posts`) at `place`, in the plan's order. Inlined: a frame
    /// of its own here would deepen every Sheep's stack.
    #[inline(always)]
    fn line_at(&self, place: Place, fingerprint: &str) -> usize {
        order::line_at(
            self.plan.order,
            self.posts.len(),
            place.line,
            place.cycle,
            fingerprint,
        )
    }

    /// One step at the time the recital woke for: posts the line (or part) that is due, or
    /// learns when to wake instead. Returns why the Sheep stops, if it does.
    #[inline(never)]
    fn step(&self, position: &mut Position, recital: &mut Recital) -> Option<StopWhy> {
        if let Some(wake) = self.held_until() {
            recital.wake = wake;
            return None;
        }
        let len = self.posts.len();
        let index = self.line_at(position.place, &recital.record.poem_fingerprint);
        let parts = &self.posts[index];
        let Some(part) = parts.get(position.part) else {
            self.skip_too_long(position, recital, index);
            return None;
        };
        let line = LineNo {
            index,
            of: len,
            part: position.part,
            parts: parts.len(),
        };
        let stamps = self.plan.on_duplicate == OnDuplicate::Stamp;
        // Borrowed unless stamped: a copy a post would be freed in this thread, and ten
        // thousand threads each keep a cache of what they freed.
        let text: std::borrow::Cow<str> = if recital.stamped {
            thread::stamp(part, &jiff::Zoned::now()).into()
        } else {
            part.as_str().into()
        };
        if stamps && !recital.stamped && !position.in_flight {
            position.in_flight = true;
            self.remember(position, recital);
        }
        // One slot for the answer, filled in place: a Sheep's frame is under every call it makes.
        let mut result: Option<Result<Posted, PostError>> = None;
        let action = match &self.poster {
            Poster::DryRun => {
                self.report(Event::DryRun {
                    line,
                    text: text.into_owned(),
                });
                Action::Advance {
                    already_there: false,
                    not_before: None,
                    pause_app: None,
                }
            }
            Poster::Live(client) => {
                let answer = result.insert(client.post(
                    &self.credentials,
                    &text,
                    position.reply_to.as_deref(),
                ));
                if matches!(answer, Err(PostError::Cancelled)) {
                    return Some(StopWhy::Requested);
                }
                let (action, tries) =
                    policy::decide(answer, recital.tries, unix_now(), self.backoff_unit);
                recital.tries = tries;
                self.report_outcome(line, &text, answer, action, tries);
                action
            }
        };
        match action {
            Action::Advance {
                already_there,
                not_before,
                pause_app,
            } => {
                if already_there && !recital.stamped && stamps && !recital.resent {
                    // Recite it again, stamped so X takes it as new.
                    recital.stamped = true;
                    recital.wake = Instant::now();
                    return None;
                }
                recital.stamped = false;
                recital.resent = false;
                position.in_flight = false;
                if let Some(Ok(posted)) = &result {
                    recital.last_post = Some((posted.id.clone(), SystemTime::now()));
                    position.reply_to = Some(posted.id.clone());
                }
                let held = not_before.map(instant_at);
                position.part += 1;
                if position.part < parts.len() {
                    // The rest of the thread follows at once, unless a quota is spent.
                    recital.wake = held.unwrap_or(Instant::now()).max(Instant::now());
                } else {
                    (recital.slot, recital.wake) = self.next_line(position, recital.slot, held);
                }
                self.remember(position, recital);
                if pause_app.is_some() {
                    self.pause_app(pause_app, None);
                }
            }
            Action::Skip => {
                recital.stamped = false;
                recital.resent = false;
                position.in_flight = false;
                (recital.slot, recital.wake) = self.next_line(position, recital.slot, None);
                // A line that can never post is not tried again after a restart either.
                self.remember(position, recital);
            }
            Action::Retry { wait } => recital.wake = Instant::now() + wait,
            Action::StopBot => return Some(self.stop_why(result.and_then(Result::err))),
            Action::PauseApp { until } => self.pause_app(until, result.and_then(Result::err)),
        }
        None
    }

    /// When to look again if the bot may not post now: its app is paused or its active hours
    /// are closed.
    #[inline(never)]
    fn held_until(&self) -> Option<Instant> {
        let now = Instant::now();
        match self.app_pause.paused(now) {
            Some(Until::Instant(end)) => return Some(end),
            // Until restarted: only a stop ends this wait; looking again hourly costs nothing.
            Some(Until::Restart) => return Some(now + Duration::from_secs(3600)),
            None => {}
        }
        let opens = self.closed_until()?;
        self.report(Event::Waiting {
            until: wall_clock(opens),
            why: WaitWhy::ActiveHours,
        });
        Some(opens)
    }

    /// A line over X's limit with `long_lines: skip`: reported and passed over.
    #[cold]
    #[inline(never)]
    fn skip_too_long(&self, position: &mut Position, recital: &mut Recital, index: usize) {
        let len = self.posts.len();
        self.report(Event::Skipped {
            line: LineNo::whole(index, len),
            error: format!(
                "it is over X's limit of {} weighted characters and long_lines is skip",
                crate::length::MAX_WEIGHTED_LENGTH
            ),
        });
        (recital.slot, recital.wake) = self.next_line(position, recital.slot, None);
        self.remember(position, recital);
    }

    /// Pauses every bot of this app. `error` is the answer that paused it; none when a post's
    /// headers showed the app's daily quota spent.
    #[cold]
    #[inline(never)]
    fn pause_app(&self, until: Option<u64>, error: Option<PostError>) {
        let until = until.map_or(Until::Restart, |at| Until::Instant(instant_at(at)));
        if self.app_pause.pause(until, Instant::now()) {
            self.report(Event::AppPaused {
                until: match until {
                    Until::Instant(at) => Some(wall_clock(at)),
                    Until::Restart => None,
                },
                error: error.map_or_else(
                    || "the app's daily post quota is spent".to_string(),
                    |e| e.to_string(),
                ),
            });
        }
    }

    /// When the bot's active hours open, if they are closed now.
    fn closed_until(&self) -> Option<Instant> {
        let hours = self.plan.active_hours?;
        let now = jiff::Zoned::now();
        let opens = hours.next_open(&now)?;
        let wait = now.duration_until(&opens).unsigned_abs();
        Some(Instant::now() + wait)
    }

    /// Moves past the current line; returns the next slot and when to wake for it.
    fn next_line(
        &self,
        position: &mut Position,
        slot: Instant,
        held_until: Option<Instant>,
    ) -> (Instant, Instant) {
        let len = self.posts.len();
        let wait = position.place.wait_after(len, self.plan.intervals);
        let wait = if self.plan.jitter > 0.0 {
            schedule::jitter(wait, self.plan.jitter, rand::rng().random())
        } else {
            wait
        };
        let finished = position.place;
        *position = Position {
            place: finished.advance(len),
            part: 0,
            reply_to: None,
            in_flight: false,
        };
        let mut slot = schedule::next_slot(slot, wait, Instant::now());
        let mut why = if position.place.cycle > finished.cycle {
            WaitWhy::NextPoem {
                cycle: position.place.cycle,
            }
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

    /// Saves the position, so a restart resumes here. Only after X confirmed the post (or said
    /// it can never post): a crash before this re-sends it, which X's duplicate rule absorbs.
    #[inline(never)]
    fn remember(&self, position: &Position, recital: &mut Recital) {
        let Some(memory) = self.memory.as_ref().filter(|memory| memory.save) else {
            return;
        };
        let last_post = recital.last_post.as_ref();
        let record = &mut recital.record;
        record.next_line = position.place.line;
        record.cycle = position.place.cycle;
        set(
            &mut record.last_post_id,
            last_post.map(|(id, _)| id.as_str()),
        );
        record.last_post_at = last_post.map(|(_, at)| *at);
        record.next_part = position.part;
        set(&mut record.reply_to, position.reply_to.as_deref());
        record.in_flight = position.in_flight;
        if let Err(error) = memory.slot.save(record) {
            self.report(Event::StateNotSaved {
                error: error.to_string(),
            });
        }
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

    /// Reports a live post's outcome. Its own frame holds the event, not the caller's.
    #[inline(never)]
    fn report_outcome(
        &self,
        line: LineNo,
        text: &str,
        result: &Result<Posted, PostError>,
        action: Action,
        tries: Tries,
    ) {
        if let Some(event) = outcome_event(line, text, result, action, tries) {
            self.report(event);
        }
    }

    #[inline(never)]
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

/// Sets `slot` to `value`, reusing the string it holds.
fn set(slot: &mut Option<String>, value: Option<&str>) {
    match (slot.as_mut(), value) {
        (Some(held), Some(value)) => {
            if held != value {
                held.clear();
                held.push_str(value);
            }
        }
        (None, Some(value)) => *slot = Some(value.to_string()),
        (_, None) => *slot = None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{Problem, RateLimits};
    use crate::secret::Secret;
    use crate::stop::{self, StopSwitch};
    use crossbeam_channel::Receiver;
    use std::collections::VecDeque;
    use std::sync::Mutex;

    enum Answer {
        Fail(PostError),
        Panic,
    }

    /// Answers from a script, then accepts everything; remembers every text it was sent.
    #[derive(Default)]
    struct Scripted {
        script: Mutex<VecDeque<Answer>>,
        sent: Mutex<Vec<String>>,
    }

    impl Post for Scripted {
        fn post(&self, _: &Credentials, text: &str, _: Option<&str>) -> Result<Posted, PostError> {
            self.sent.lock().unwrap().push(text.to_string());
            let next = self.script.lock().unwrap().pop_front();
            match next {
                Some(Answer::Fail(error)) => Err(error),
                Some(Answer::Panic) => panic!("scripted panic"),
                None => Ok(Posted {
                    id: self.sent.lock().unwrap().len().to_string(),
                    limits: RateLimits::default(),
                }),
            }
        }
    }

    fn credentials() -> Credentials {
        let secret = || Secret::new("x");
        Credentials {
            consumer_key: secret(),
            consumer_secret: secret(),
            token: secret(),
            token_secret: secret(),
        }
    }

    fn status(status: u16, detail: &str) -> PostError {
        PostError::Status {
            status,
            problem: Problem {
                title: None,
                detail: Some(detail.into()),
                kind: None,
                errors: Vec::new(),
            },
            limits: Box::default(),
        }
    }

    /// Runs a Sheep over lines a, b, c with no waits until `done` says so, then stops it.
    fn recite(
        script: Vec<Answer>,
        app_pause: Arc<AppPause>,
        done: impl Fn(&[Report], &[String]) -> bool,
    ) -> (Vec<Report>, Vec<String>) {
        let poster = Arc::new(Scripted {
            script: Mutex::new(script.into()),
            sent: Mutex::default(),
        });
        let (reports, inbox): (Sender<Report>, Receiver<Report>) = crossbeam_channel::unbounded();
        let (switch, stop): (StopSwitch, Stop) = stop::channel();
        let sheep = Box::new(Sheep {
            name: Arc::from("ann"),
            key_file: PathBuf::from("keys/ann.json"),
            posts: vec![vec!["a".into()], vec!["b".into()], vec!["c".into()]],
            plan: Plan {
                intervals: Intervals {
                    line: Duration::ZERO,
                    poem: Duration::from_secs(3600),
                },
                order: Order::Sequence,
                jitter: 0.0,
                active_hours: None,
                on_duplicate: OnDuplicate::Skip,
                long_lines: LongLines::Thread,
            },
            credentials: credentials(),
            poster: Poster::Live(poster.clone()),
            app_pause,
            reports,
            stop,
            memory: None,
            backoff_unit: Duration::from_millis(1),
        });
        let thread = std::thread::spawn(move || sheep.run(Position::default()));
        let mut seen = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(report) = inbox.recv_timeout(Duration::from_millis(10)) {
                seen.push(report);
            }
            let stopped = seen
                .iter()
                .any(|r| matches!(r.event, Event::Stopped { .. }));
            if stopped || done(&seen, &poster.sent.lock().unwrap()) {
                break;
            }
        }
        switch.stop();
        thread.join().unwrap();
        seen.extend(inbox.try_iter());
        let sent = poster.sent.lock().unwrap().clone();
        (seen, sent)
    }

    fn posted(reports: &[Report]) -> usize {
        reports
            .iter()
            .filter(|r| matches!(r.event, Event::Posted { .. }))
            .count()
    }

    #[test]
    fn a_failed_line_is_tried_again_never_skipped() {
        let script = vec![
            Answer::Fail(PostError::Network {
                message: "connection reset".into(),
            }),
            Answer::Fail(status(503, "Service Unavailable")),
            Answer::Fail(PostError::Unconfirmed { status: 200 }),
        ];
        let (reports, sent) = recite(script, Arc::default(), |r, _| posted(r) == 3);
        assert_eq!(sent, ["a", "a", "a", "a", "b", "c"]);
        let retries = reports
            .iter()
            .filter(|r| matches!(r.event, Event::Retrying { .. }))
            .count();
        assert_eq!(retries, 3);
    }

    #[test]
    fn a_panic_is_reported_and_the_sheep_goes_on_from_the_same_line() {
        let script = vec![Answer::Fail(status(503, "")), Answer::Panic];
        let (reports, sent) = recite(script, Arc::default(), |r, _| posted(r) == 3);
        assert_eq!(sent, ["a", "a", "a", "b", "c"]);
        assert!(reports.iter().any(
            |r| matches!(&r.event, Event::Panicked { message, .. } if message == "scripted panic")
        ));
        assert!(matches!(
            reports.last().map(|r| &r.event),
            Some(Event::Stopped {
                why: StopWhy::Requested
            })
        ));
    }

    #[test]
    fn rejected_credentials_stop_the_bot_and_name_its_key_file() {
        let script = vec![Answer::Fail(status(401, "Unauthorized"))];
        let (reports, sent) = recite(script, Arc::default(), |_, _| false);
        assert_eq!(sent, ["a"]);
        let Some(Event::Stopped {
            why: StopWhy::CredentialsRejected { key_file, .. },
        }) = reports.last().map(|r| &r.event)
        else {
            panic!("expected a stop for credentials, got {reports:?}");
        };
        assert_eq!(key_file, &PathBuf::from("keys/ann.json"));
    }

    #[test]
    fn a_line_that_can_never_post_is_skipped_loudly() {
        let script = vec![Answer::Fail(status(400, "Your Tweet text is too long."))];
        let (reports, sent) = recite(script, Arc::default(), |r, _| posted(r) == 2);
        assert_eq!(sent, ["a", "b", "c"]);
        assert!(
            reports
                .iter()
                .any(|r| matches!(r.event, Event::Skipped { .. }))
        );
    }

    #[test]
    fn a_paused_app_posts_nothing_and_out_of_credit_pauses_it_once() {
        let pause = Arc::new(AppPause::default());
        let script = vec![Answer::Fail(status(402, "does not have any credits"))];
        let (reports, sent) = recite(script, Arc::clone(&pause), |r, _| {
            r.iter().any(|r| matches!(r.event, Event::AppPaused { .. }))
        });
        assert_eq!(sent, ["a"]);
        assert_eq!(pause.paused(Instant::now()), Some(Until::Restart));
        // A second bot of the same app sends nothing at all while the app is paused.
        let watch = Instant::now();
        let (_, sent) = recite(Vec::new(), pause, |_, _| {
            watch.elapsed() > Duration::from_millis(200)
        });
        assert!(sent.is_empty(), "{sent:?}");
        let pauses = reports
            .iter()
            .filter(|r| matches!(r.event, Event::AppPaused { .. }))
            .count();
        assert_eq!(pauses, 1);
    }
}
