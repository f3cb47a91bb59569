//! What Sheep tell the Shepherd, and how each report reads in the log: one line, naming the bot.

use log::Level;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

/// One event from one bot.
#[derive(Debug, Clone)]
pub struct Report {
    pub bot: Arc<str>,
    pub event: Event,
}

/// A line of the poem, as reports name it; a long line posted as a thread has parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineNo {
    /// 0-based.
    pub index: usize,
    pub of: usize,
    /// 0-based, of `parts`.
    pub part: usize,
    pub parts: usize,
}

impl LineNo {
    /// A line posted as one post.
    pub fn whole(index: usize, of: usize) -> LineNo {
        LineNo {
            index,
            of,
            part: 0,
            parts: 1,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Event {
    Started {
        lines: usize,
        next: LineNo,
        cycle: u64,
    },
    Posted {
        line: LineNo,
        id: String,
        text: String,
    },
    /// X said the line is already on the account (duplicate content): counted as posted.
    AlreadyPosted {
        line: LineNo,
    },
    DryRun {
        line: LineNo,
        text: String,
    },
    /// The line failed and will be tried again.
    Retrying {
        line: LineNo,
        error: String,
        tries: u32,
        at: SystemTime,
    },
    /// The line can never be posted and was skipped.
    Skipped {
        line: LineNo,
        error: String,
    },
    Waiting {
        until: SystemTime,
        why: WaitWhy,
    },
    /// This bot's app (consumer key) is paused for every bot that uses it.
    AppPaused {
        until: Option<SystemTime>,
        error: String,
    },
    /// The place could not be saved: a restart would repeat lines (X absorbs them as duplicates).
    StateNotSaved {
        error: String,
    },
    /// The Sheep's thread panicked; it starts again at `restart_at`.
    Panicked {
        message: String,
        restart_at: SystemTime,
    },
    Stopped {
        why: StopWhy,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitWhy {
    NextLine,
    NextPoem { cycle: u64 },
    RateLimit,
    ActiveHours,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopWhy {
    /// Ctrl-C, SIGTERM, or the flock was told to stop.
    Requested,
    /// X rejected the credentials; a person must fix the key file.
    CredentialsRejected { key_file: PathBuf, error: String },
    /// X does not serve the posting endpoint at the configured API base.
    WrongEndpoint { error: String },
    /// The bot's thread could not be started or ended abnormally.
    Crashed { message: String },
}

impl StopWhy {
    /// Whether this stop is a failure a person must look at.
    pub fn is_failure(&self) -> bool {
        !matches!(self, StopWhy::Requested)
    }
}

impl fmt::Display for StopWhy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopWhy::Requested => f.write_str("as asked"),
            StopWhy::CredentialsRejected { key_file, error } => write!(
                f,
                "X rejected the credentials ({error}): fix the tokens in {}",
                key_file.display()
            ),
            StopWhy::WrongEndpoint { error } => {
                write!(
                    f,
                    "the API base does not take posts ({error}): check --api-base"
                )
            }
            StopWhy::Crashed { message } => write!(f, "crashed: {message}"),
        }
    }
}

impl Report {
    /// How loud this report is in the log.
    pub fn level(&self) -> Level {
        match &self.event {
            Event::Retrying { .. } => Level::Warn,
            Event::Skipped { .. }
            | Event::AppPaused { .. }
            | Event::Panicked { .. }
            | Event::StateNotSaved { .. } => Level::Error,
            Event::Stopped { why } if why.is_failure() => Level::Error,
            Event::Waiting {
                why: WaitWhy::NextLine,
                ..
            } => Level::Debug,
            _ => Level::Info,
        }
    }
}

impl fmt::Display for LineNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}/{}", self.index + 1, self.of)?;
        if self.parts > 1 {
            write!(f, " (thread part {}/{})", self.part + 1, self.parts)?;
        }
        Ok(())
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.bot)?;
        match &self.event {
            Event::Started { lines, next, cycle } => write!(
                f,
                "started: {lines} lines, next is line {} of poem round {}",
                next.index + 1,
                cycle + 1
            ),
            Event::Posted { line, id, text } => {
                write!(f, "posted {line} (id {id}): {}", quote(text))
            }
            Event::AlreadyPosted { line } => write!(
                f,
                "{line} is already on the account (X: duplicate content): counted as posted"
            ),
            Event::DryRun { line, text } => {
                write!(f, "dry run, would post {line}: {}", quote(text))
            }
            Event::Retrying {
                line,
                error,
                tries,
                at,
            } => write!(
                f,
                "{line} failed ({error}); try {} at {}",
                tries + 1,
                clock(*at)
            ),
            Event::Skipped { line, error } => {
                write!(f, "{line} cannot be posted and is skipped: {error}")
            }
            Event::Waiting { until, why } => match why {
                WaitWhy::NextLine => write!(f, "next line at {}", clock(*until)),
                WaitWhy::NextPoem { cycle } => write!(
                    f,
                    "poem round {cycle} done; next round at {}",
                    clock(*until)
                ),
                WaitWhy::RateLimit => {
                    write!(f, "a rate limit is spent; next post at {}", clock(*until))
                }
                WaitWhy::ActiveHours => {
                    write!(
                        f,
                        "outside its active hours; next post at {}",
                        clock(*until)
                    )
                }
            },
            Event::AppPaused { until, error } => {
                write!(
                    f,
                    "this bot's app is paused for every bot that uses it ({error}); "
                )?;
                match until {
                    Some(until) => write!(f, "resuming at {}", clock(*until)),
                    None => f.write_str("add credit, then restart botflock"),
                }
            }
            Event::StateNotSaved { error } => write!(
                f,
                "cannot save this bot's place ({error}); after a restart it would repeat lines"
            ),
            Event::Panicked {
                message,
                restart_at,
            } => write!(
                f,
                "crashed ({message}); starting again at {}",
                clock(*restart_at)
            ),
            Event::Stopped { why } => write!(f, "stopped: {why}"),
        }
    }
}

/// A line of poem in a log line: quoted, cut short so a hundred bots stay readable.
fn quote(text: &str) -> String {
    const MAX_CHARS: usize = 80;
    let mut shown: String = text.chars().take(MAX_CHARS).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    format!("{shown:?}")
}

/// A time of day in the local zone, with the date when it is not today.
pub fn clock(at: SystemTime) -> String {
    let Ok(timestamp) = jiff::Timestamp::try_from(at) else {
        return "an unknown time".to_string();
    };
    let zone = jiff::tz::TimeZone::system();
    let when = timestamp.to_zoned(zone.clone());
    let today = jiff::Timestamp::now().to_zoned(zone).date();
    if when.date() == today {
        when.strftime("%H:%M:%S").to_string()
    } else {
        when.strftime("%Y-%m-%d %H:%M:%S").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(event: Event) -> Report {
        Report {
            bot: Arc::from("alice"),
            event,
        }
    }

    #[test]
    fn every_line_names_its_bot_and_line() {
        let line = LineNo::whole(1, 7);
        let posted = report(Event::Posted {
            line,
            id: "1445880548472328192".into(),
            text: "so much depends".into(),
        });
        assert_eq!(
            posted.to_string(),
            "alice: posted line 2/7 (id 1445880548472328192): \"so much depends\""
        );
        let skipped = report(Event::Skipped {
            line,
            error: "http status 400: Your Tweet text is too long.".into(),
        });
        assert!(
            skipped
                .to_string()
                .starts_with("alice: line 2/7 cannot be posted")
        );
        assert_eq!(skipped.level(), Level::Error);
    }

    #[test]
    fn thread_parts_are_named() {
        let line = LineNo {
            index: 2,
            of: 5,
            part: 1,
            parts: 3,
        };
        assert_eq!(line.to_string(), "line 3/5 (thread part 2/3)");
    }

    #[test]
    fn long_lines_are_cut_in_the_log() {
        let text = "word ".repeat(100);
        let shown = report(Event::DryRun {
            line: LineNo::whole(0, 1),
            text,
        })
        .to_string();
        assert!(shown.len() < 140 && shown.ends_with("…\""), "{shown}");
    }

    #[test]
    fn credential_failures_say_which_file_to_fix() {
        let stopped = report(Event::Stopped {
            why: StopWhy::CredentialsRejected {
                key_file: PathBuf::from("keys/alice.json"),
                error: "http status 401: Unauthorized".into(),
            },
        });
        assert!(
            stopped
                .to_string()
                .contains("fix the tokens in keys/alice.json")
        );
        assert_eq!(stopped.level(), Level::Error);
    }
}
