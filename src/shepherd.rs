//! The Shepherd: starts one named thread per bot, logs every report from the single report
//! channel (so log lines never tear), tallies them, and joins every thread before it returns.

use crate::app_pause::AppPause;
use crate::event::{Event, Report, StopWhy};
use crate::keys::Bot;
use crate::schedule::{Intervals, Place};
use crate::secret::Secret;
use crate::sheep::{Memory, Poster, Sheep};
use crate::state::{self, Loaded, StateDir};
use crate::stop::Stop;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::thread::JoinHandle;

/// Flock-wide settings; a bot's own key file may override the intervals.
#[derive(Clone)]
pub struct Settings {
    pub intervals: Intervals,
    pub poster: Poster,
    /// Where bots keep their place; `None` keeps nothing.
    pub state: Option<Arc<StateDir>>,
    /// Whether bots save their place (not in a dry run, which posts nothing).
    pub save_state: bool,
    /// Scales the backoff curves; one second except in tests.
    pub backoff_unit: std::time::Duration,
}

/// What one bot did while the flock ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    pub name: String,
    pub posted: u64,
    /// Lines X said were already on the account (duplicate content).
    pub already: u64,
    pub failed: u64,
    pub skipped: u64,
    pub stopped: Option<StopWhy>,
}

impl Tally {
    fn new(name: &str) -> Tally {
        Tally {
            name: name.to_string(),
            posted: 0,
            already: 0,
            failed: 0,
            skipped: 0,
            stopped: None,
        }
    }

    fn count(&mut self, event: &Event) {
        match event {
            Event::Posted { .. } | Event::DryRun { .. } => self.posted += 1,
            Event::AlreadyPosted { .. } => self.already += 1,
            Event::Retrying { .. } | Event::Panicked { .. } => self.failed += 1,
            Event::Skipped { .. } => {
                self.failed += 1;
                self.skipped += 1;
            }
            Event::Stopped { why } => self.stopped = Some(why.clone()),
            Event::Started { .. }
            | Event::Waiting { .. }
            | Event::AppPaused { .. }
            | Event::StateNotSaved { .. } => {}
        }
    }

    /// Whether this bot ended in a way a person must look at.
    pub fn failed_for_good(&self) -> bool {
        self.stopped.as_ref().is_none_or(StopWhy::is_failure)
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
            "{:<width$}  {:>7}  {:>7}  {:>7}  end",
            "bot", "posted", "failed", "skipped"
        )?;
        for tally in &self.bots {
            let end = match &tally.stopped {
                Some(why) => why.to_string(),
                None => "never reported stopping".to_string(),
            };
            writeln!(
                f,
                "{:<width$}  {:>7}  {:>7}  {:>7}  {:>7}  {end}",
                tally.name, tally.posted, tally.already, tally.failed, tally.skipped
            )?;
        }
        Ok(())
    }
}

/// Runs `bots` until every Sheep has stopped, on a stop request or on its own; returns the tally.
pub fn run(bots: Vec<Bot>, settings: &Settings, stop: &Stop) -> Summary {
    let (reports, inbox) = crossbeam_channel::unbounded::<Report>();
    let mut pauses: HashMap<Secret, Arc<AppPause>> = HashMap::new();
    let mut tallies: HashMap<Arc<str>, Tally> = HashMap::new();
    let mut order: Vec<Arc<str>> = Vec::new();
    let mut handles: Vec<JoinHandle<()>> = Vec::new();
    for bot in bots {
        let name: Arc<str> = Arc::from(bot.name.as_str());
        let app_pause = Arc::clone(
            pauses
                .entry(bot.credentials.consumer_key.clone())
                .or_default(),
        );
        let fingerprint = state::fingerprint(bot.poem.lines());
        let start = match &settings.state {
            Some(dir) => resume(dir, &bot, &fingerprint),
            None => Place::default(),
        };
        let memory = settings.state.as_ref().map(|dir| Memory {
            dir: Arc::clone(dir),
            fingerprint,
            save: settings.save_state,
        });
        let sheep = Sheep {
            name: Arc::clone(&name),
            key_file: bot.key_file,
            poem: bot.poem,
            intervals: Intervals {
                line: bot.line_interval.unwrap_or(settings.intervals.line),
                poem: bot.poem_interval.unwrap_or(settings.intervals.poem),
            },
            credentials: bot.credentials,
            poster: settings.poster.clone(),
            app_pause,
            reports: reports.clone(),
            stop: stop.clone(),
            memory,
            backoff_unit: settings.backoff_unit,
        };
        let mut tally = Tally::new(&name);
        let spawned = std::thread::Builder::new()
            .name(format!("sheep {name}"))
            .spawn(move || sheep.run(start));
        match spawned {
            Ok(handle) => handles.push(handle),
            Err(error) => {
                log::error!("{name}: cannot start a thread for this bot: {error}");
                tally.stopped = Some(StopWhy::Crashed {
                    message: format!("no thread: {error}"),
                });
            }
        }
        order.push(Arc::clone(&name));
        tallies.insert(name, tally);
    }
    // Every Sheep holds a sender; when the last one ends, the inbox closes and the loop ends.
    drop(reports);
    for report in inbox.iter() {
        log::log!(report.level(), "{report}");
        if let Some(tally) = tallies.get_mut(&report.bot) {
            tally.count(&report.event);
        }
    }
    for handle in handles {
        // A Sheep catches its own panics; a join error would mean the catching failed, and its
        // tally already lacks a clean stop, which marks it failed.
        let _ = handle.join();
    }
    Summary {
        bots: order
            .iter()
            .filter_map(|name| tallies.remove(name))
            .collect(),
    }
}

/// Where `bot` starts: where it left off, or at line 1 when its poem changed or its state was
/// unreadable, which is said loudly.
fn resume(dir: &StateDir, bot: &Bot, fingerprint: &str) -> Place {
    match dir.load(&bot.name, fingerprint) {
        Loaded::Fresh => Place::default(),
        Loaded::Resumed(saved) if saved.next_line < bot.poem.len() => Place {
            line: saved.next_line,
            cycle: saved.cycle,
        },
        // Cannot happen with a matching fingerprint; a hand-edited file lands here.
        Loaded::Resumed(saved) => Place {
            line: 0,
            cycle: saved.cycle + 1,
        },
        Loaded::PoemChanged { .. } => {
            log::warn!(
                "{}: poem {} changed since the last run: starting again at line 1",
                bot.name,
                bot.poem_file.display()
            );
            Place::default()
        }
        Loaded::Corrupt { moved_to, reason } => {
            log::error!(
                "{}: saved place unreadable ({reason}); moved to {}; starting at line 1",
                bot.name,
                moved_to.display()
            );
            Place::default()
        }
    }
}
