//! The Shepherd: starts one named thread per bot, logs every report from the single report
//! channel (so log lines never tear), keeps each bot's tally, watches the keys folder for bots
//! added, removed or changed, and joins every thread before it returns.
//!
//! Its loop takes one event at a time from a `select!`: a report, the stop, a rescan tick or a
//! status tick. Each Sheep has its own stop switch, so one bot can be stopped or restarted while
//! the rest go on; the flock's stop flips them all.

use crate::app_pause::AppPause;
use crate::event::{Event, Report, StopWhy};
use crate::keys::{self, Bot, Flock};
use crate::schedule::{Intervals, Place};
use crate::secret::Secret;
use crate::sheep::{Memory, Plan, Position, Poster, Sheep};
use crate::state::{self, Loaded, StateDir};
use crate::status::{Doing, Summary, Tally, paused_why};
use crate::stop::{self, Stop, StopSwitch};
use crate::watch::{self, Change, Signature, Watcher};
use crossbeam_channel::{Receiver, Sender, never, select, tick};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Threads of a flock that are not Sheep, counted generously: the HTTP workers (32 unless
/// `--connections` says otherwise), the Shepherd, the state sync, the watcher, the signal
/// handler.
pub const THREADS_BESIDE_SHEEP: usize = 64;

/// A Sheep's stack: address space, of which only the pages a Sheep touches are resident (two,
/// see BENCHMARKS.md). Half a megabyte leaves room for rare deep calls (a panic's message, the
/// first time-zone lookup) while ten thousand Sheep reserve 5 GB of address space, not 20.
pub const SHEEP_STACK: usize = 512 * 1024;

/// How long reports gather between two looks at the inbox of a busy flock.
const GATHER: Duration = Duration::from_millis(20);

/// Flock-wide settings; a bot's own key file may override the plan.
#[derive(Clone)]
pub struct Settings {
    pub defaults: Plan,
    pub poster: Poster,
    /// Where bots keep their place; `None` keeps nothing.
    pub state: Option<Arc<StateDir>>,
    /// Whether bots save their place (not in a dry run, which posts nothing).
    pub save_state: bool,
    /// Scales the backoff curves; one second except in tests.
    pub backoff_unit: Duration,
    pub keys_dir: PathBuf,
    /// Where relative poem paths are looked for after the key file's folder.
    pub cwd: PathBuf,
    /// How often to look for key files added, removed or changed; `None` never.
    pub rescan: Option<Duration>,
    /// How often to log the status table; `None` only at exit.
    pub status_every: Option<Duration>,
}

/// A running bot, as the Shepherd keeps it: what it needs to watch and steer the Sheep, not
/// the whole key file (the Sheep has what it posts with; ten thousand copies add up).
struct Flockmate {
    key_file: PathBuf,
    poem_file: PathBuf,
    /// Of the poem the Sheep recites, to tell an edited poem from a changed key file.
    fingerprint: String,
    /// Shared by every bot of the same app.
    app: Arc<AppPause>,
    switch: StopSwitch,
    handle: Option<JoinHandle<Position>>,
    /// What follows when it stops.
    then: Then,
}

enum Then {
    /// Nothing: it stopped on its own or with the flock.
    Rest,
    /// Start it again with this bot's new settings, keeping its place.
    Restart(Box<Bot>),
    /// Its key file is gone.
    Remove,
}

/// A key file the Shepherd knows: its signature, and the bot it runs, if any.
struct Known {
    signature: Signature,
    bot: Option<Arc<str>>,
}

struct Shepherd<'a> {
    settings: &'a Settings,
    stop: &'a Stop,
    reports: Sender<Report>,
    pauses: HashMap<Secret, Arc<AppPause>>,
    tallies: Vec<Tally>,
    tally_index: HashMap<Arc<str>, usize>,
    flock: HashMap<Arc<str>, Flockmate>,
    files: HashMap<PathBuf, Known>,
    watcher: Watcher,
    /// Threads of Sheep that stopped with the flock, joined at the end: joining each as its
    /// report comes would wait out every thread's exit one by one.
    stopped: Vec<JoinHandle<Position>>,
    /// Something changed since the last rescan.
    dirty: bool,
    stopping: bool,
}

/// Runs the flock until stopped (or until every bot stopped and nothing watches for more).
pub fn run(flock: Flock, settings: &Settings, stop: &Stop) -> Summary {
    let (reports, inbox) = crossbeam_channel::unbounded::<Report>();
    let mut shepherd = Shepherd {
        settings,
        stop,
        reports,
        pauses: HashMap::new(),
        tallies: Vec::new(),
        tally_index: HashMap::new(),
        flock: HashMap::new(),
        files: HashMap::new(),
        watcher: Watcher::new(&settings.keys_dir),
        stopped: Vec::new(),
        dirty: false,
        stopping: false,
    };
    for problem in &flock.problems {
        shepherd.files.insert(
            problem.path().to_path_buf(),
            Known {
                signature: watch::signature(problem.path(), None),
                bot: None,
            },
        );
    }
    for bot in flock.bots {
        shepherd.start(bot, None);
    }
    shepherd.tend(&inbox);
    for handle in shepherd.stopped.drain(..) {
        // A Sheep catches its own panics; a join error would mean the catching failed, and
        // its tally already lacks a clean stop, which marks it failed.
        let _ = handle.join();
    }
    Summary {
        bots: shepherd.tallies,
    }
}

impl Shepherd<'_> {
    fn tend(&mut self, inbox: &Receiver<Report>) {
        let rescan = self.settings.rescan.map_or_else(never, tick);
        let status = self.settings.status_every.map_or_else(never, tick);
        let changes = self.watcher.events().clone();
        loop {
            if self.flock.is_empty() && (self.stopping || self.settings.rescan.is_none()) {
                return;
            }
            let stop = if self.stopping {
                never()
            } else {
                self.stop.receiver().clone()
            };
            select! {
                recv(inbox) -> report => {
                    if let Ok(report) = report {
                        self.receive(report);
                        self.gather(inbox);
                    }
                }
                recv(stop) -> _ => {
                    self.stopping = true;
                    for mate in self.flock.values() {
                        mate.switch.stop();
                    }
                }
                recv(changes) -> _ => {
                    self.dirty = true;
                    // One rescan serves a burst of notifications.
                    while changes.try_recv().is_ok() {}
                }
                recv(rescan) -> _ => {
                    if !self.stopping && (self.dirty || self.watcher.polls()) {
                        self.dirty = false;
                        self.rescan();
                    }
                }
                recv(status) -> _ => self.log_status(),
            }
        }
    }

    /// After a report: takes every report waiting, then lets the next ones gather for `GATHER`
    /// before looking again, so a busy flock wakes this thread about fifty times a second, not
    /// twice a post (each wake costs a Sheep and the Shepherd tens of microseconds). A stop
    /// cuts the wait short; a stopping flock is not kept waiting at all.
    fn gather(&mut self, inbox: &Receiver<Report>) {
        while let Ok(report) = inbox.try_recv() {
            self.receive(report);
        }
        if !self.stopping {
            let _ = self.stop.wait_until(Instant::now() + GATHER);
        }
    }

    fn receive(&mut self, report: Report) {
        log::log!(report.level(), "{report}");
        if let Some(&index) = self.tally_index.get(&report.bot) {
            let mate = self.flock.get(&report.bot);
            self.tallies[index].count_while(&report.event, || {
                mate.is_some_and(|mate| mate.app.paused(Instant::now()).is_some())
            });
        }
        match &report.event {
            Event::AppPaused { until, error } => self.mark_app_paused(&report.bot, error, *until),
            Event::Stopped { .. } => self.stopped(&report.bot),
            _ => {}
        }
    }

    /// Every bot of the paused bot's app shows the pause, not only the one that met it.
    fn mark_app_paused(
        &mut self,
        bot: &Arc<str>,
        error: &str,
        until: Option<std::time::SystemTime>,
    ) {
        let Some(app) = self.flock.get(bot).map(|mate| Arc::clone(&mate.app)) else {
            return;
        };
        let why = paused_why(error, until);
        for (name, mate) in &self.flock {
            if Arc::ptr_eq(&mate.app, &app)
                && let Some(&index) = self.tally_index.get(name)
            {
                self.tallies[index].doing = Doing::Paused { why: why.clone() };
            }
        }
    }

    /// A Sheep reported its stop: join its thread and do what was planned for it.
    fn stopped(&mut self, name: &Arc<str>) {
        let Some(mut mate) = self.flock.remove(name) else {
            return;
        };
        // While the whole flock stops, joins wait until the last report; a single Sheep that
        // stops is joined now, so a flock that runs for months keeps no finished threads.
        if self.stopping {
            self.stopped.extend(mate.handle.take());
        }
        let position = mate
            .handle
            .take()
            .and_then(|handle| handle.join().ok())
            .unwrap_or_default();
        match mate.then {
            Then::Rest => {}
            Then::Remove => {
                if let Some(&index) = self.tally_index.get(name) {
                    self.tallies[index].doing = Doing::Removed;
                }
            }
            Then::Restart(bot) if !self.stopping => {
                let same_poem = state::fingerprint(bot.poem.lines()) == mate.fingerprint;
                if !same_poem {
                    log::warn!(
                        "{name}: poem {} changed: starting again at line 1",
                        bot.poem_file.display()
                    );
                }
                let keep = same_poem.then_some(position);
                self.start(*bot, keep);
            }
            Then::Restart(_) => {}
        }
    }

    /// Starts a Sheep for `bot`, at `position` or where its saved state says.
    fn start(&mut self, bot: Bot, position: Option<Position>) {
        let settings = self.settings;
        let name: Arc<str> = Arc::from(bot.name.as_str());
        if bot.loose_permissions {
            log::warn!(
                "{name}: key file {} can be read by others; it holds secrets: chmod 600 {}",
                bot.key_file.display(),
                bot.key_file.display()
            );
        }
        self.watcher.watch_folder_of(&bot.poem_file);
        let fingerprint = state::fingerprint(bot.poem.lines());
        let start = match (position, &settings.state) {
            (Some(position), _) => position,
            (None, Some(dir)) => resume(dir, &bot, &fingerprint),
            (None, None) => Position::default(),
        };
        let memory = settings.state.as_ref().map(|dir| Memory {
            slot: dir.slot(&bot.name),
            fingerprint: fingerprint.clone(),
            save: settings.save_state,
        });
        let app_pause = Arc::clone(
            self.pauses
                .entry(bot.credentials.consumer_key.clone())
                .or_default(),
        );
        let (switch, stop) = stop::channel();
        let plan = plan(&settings.defaults, &bot);
        let sheep = Box::new(Sheep {
            name: Arc::clone(&name),
            key_file: bot.key_file.clone(),
            posts: crate::sheep::posts_for(&bot.poem, &plan),
            plan,
            credentials: bot.credentials,
            poster: settings.poster.clone(),
            app_pause: Arc::clone(&app_pause),
            reports: self.reports.clone(),
            stop,
            memory,
            backoff_unit: settings.backoff_unit,
        });
        if !self.tally_index.contains_key(&name) {
            self.tally_index
                .insert(Arc::clone(&name), self.tallies.len());
            self.tallies.push(Tally::new(&name));
        }
        self.files.insert(
            bot.key_file.clone(),
            Known {
                signature: bot.seen.clone(),
                bot: Some(Arc::clone(&name)),
            },
        );
        // A flock that grows while it runs keeps its wake-ups cheap.
        crate::futex_hash::make_room(self.flock.len() + 1 + THREADS_BESIDE_SHEEP);
        let spawned = std::thread::Builder::new()
            .name(format!("sheep {name}"))
            .stack_size(SHEEP_STACK)
            .spawn(move || sheep.run(start));
        match spawned {
            Ok(handle) => {
                self.flock.insert(
                    name,
                    Flockmate {
                        key_file: bot.key_file,
                        poem_file: bot.poem_file,
                        fingerprint,
                        app: app_pause,
                        switch,
                        handle: Some(handle),
                        then: Then::Rest,
                    },
                );
            }
            Err(error) => {
                log::error!("{name}: cannot start a thread for this bot: {error}");
                let index = self.tally_index[&name];
                self.tallies[index].doing = Doing::Stopped(StopWhy::Crashed {
                    message: format!("no thread: {error}"),
                });
            }
        }
    }

    /// Looks for key files added, removed or changed (or whose poem changed).
    fn rescan(&mut self) {
        let dir = &self.settings.keys_dir;
        let Ok(paths) = keys::key_files(dir) else {
            log::warn!(
                "cannot read keys folder {}: no bots added or removed",
                dir.display()
            );
            return;
        };
        let poem_of = |path: &Path| {
            let name = self.files.get(path)?.bot.as_ref()?;
            Some(self.flock.get(name)?.poem_file.clone())
        };
        let now: HashMap<PathBuf, Signature> = paths
            .into_iter()
            .map(|path| {
                let signature = watch::signature(&path, poem_of(&path).as_deref());
                (path, signature)
            })
            .collect();
        let before: HashMap<PathBuf, Signature> = self
            .files
            .iter()
            .map(|(path, known)| (path.clone(), known.signature.clone()))
            .collect();
        for change in watch::changes(&before, &now) {
            match change {
                Change::Added(path) | Change::Changed(path) => {
                    let signature = now[&path].clone();
                    self.reload(&path, signature);
                }
                Change::Removed(path) => self.removed(&path),
            }
        }
    }

    fn removed(&mut self, path: &Path) {
        let Some(known) = self.files.remove(path) else {
            return;
        };
        let Some(name) = known.bot else {
            return;
        };
        if let Some(mate) = self.flock.get_mut(&name) {
            log::info!(
                "{name}: key file {} removed: stopping this bot",
                path.display()
            );
            mate.then = Then::Remove;
            mate.switch.stop();
        }
    }

    /// A key file is new or changed: start its bot, or restart it with the new settings.
    fn reload(&mut self, path: &Path, signature: Signature) {
        let running = self.files.get(path).and_then(|known| known.bot.clone());
        self.files.insert(
            path.to_path_buf(),
            Known {
                signature,
                bot: running.clone(),
            },
        );
        let bot = match keys::load_key_file(path, &self.settings.cwd) {
            Ok(bot) => bot,
            Err(error) => {
                match &running {
                    Some(name) if self.flock.contains_key(name) => {
                        log::error!("{error}; {name} keeps running with its previous settings")
                    }
                    _ => log::error!("skipping this bot: {error}"),
                }
                return;
            }
        };
        let name: Arc<str> = Arc::from(bot.name.as_str());
        if let Some(other) = self.flock.get(&name)
            && other.key_file != path
        {
            log::error!(
                "{}: bot `{name}` is already run from {}: one key file per account, remove one",
                path.display(),
                other.key_file.display()
            );
            return;
        }
        let was_known = running.is_some();
        match running.and_then(|old| self.flock.get_mut(&old).map(|mate| (old, mate))) {
            Some((old, mate)) if old == name => {
                log::info!("{name}: key file or poem changed: restarting with the new settings");
                mate.then = Then::Restart(Box::new(bot));
                mate.switch.stop();
            }
            Some((old, mate)) => {
                log::info!("{old}: key file now names {name}: stopping {old}, starting {name}");
                mate.then = Then::Remove;
                mate.switch.stop();
                self.start(bot, None);
            }
            None => {
                let what = if was_known {
                    "changed: starting this bot again"
                } else {
                    "added: starting this bot"
                };
                log::info!("{name}: key file {} {what}", path.display());
                self.start(bot, None);
            }
        }
    }

    fn log_status(&self) {
        let table = Summary {
            bots: self.tallies.clone(),
        }
        .to_string();
        for line in table.lines() {
            log::info!("status: {line}");
        }
    }
}

/// The bot's plan: its key file's settings over the command line's.
pub fn plan(defaults: &Plan, bot: &Bot) -> Plan {
    let own = &bot.overrides;
    Plan {
        intervals: Intervals {
            line: own.line_interval.unwrap_or(defaults.intervals.line),
            poem: own.poem_interval.unwrap_or(defaults.intervals.poem),
        },
        order: own.order.unwrap_or(defaults.order),
        jitter: own.jitter.unwrap_or(defaults.jitter),
        active_hours: own.active_hours.or(defaults.active_hours),
        on_duplicate: own.on_duplicate.unwrap_or(defaults.on_duplicate),
        long_lines: own.long_lines.unwrap_or(defaults.long_lines),
    }
}

/// Where `bot` starts: where it left off, or at line 1 when its poem changed or its state was
/// unreadable, which is said loudly.
fn resume(dir: &StateDir, bot: &Bot, fingerprint: &str) -> Position {
    match dir.load(&bot.name, fingerprint) {
        Loaded::Fresh => Position::default(),
        Loaded::Resumed(saved) if saved.next_line < bot.poem.len() => Position {
            place: Place {
                line: saved.next_line,
                cycle: saved.cycle,
            },
            part: saved.next_part,
            reply_to: saved.reply_to,
            in_flight: saved.in_flight,
        },
        // Cannot happen with a matching fingerprint; a hand-edited file lands here.
        Loaded::Resumed(saved) => Position {
            place: Place {
                line: 0,
                cycle: saved.cycle + 1,
            },
            ..Position::default()
        },
        Loaded::PoemChanged { .. } => {
            log::warn!(
                "{}: poem {} changed since the last run: starting again at line 1",
                bot.name,
                bot.poem_file.display()
            );
            Position::default()
        }
        Loaded::Corrupt { moved_to, reason } => {
            log::error!(
                "{}: saved place unreadable ({reason}); moved to {}; starting at line 1",
                bot.name,
                moved_to.display()
            );
            Position::default()
        }
    }
}
