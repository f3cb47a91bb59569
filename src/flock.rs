//! `botflock run`: loads the keys folder, starts the HTTP workers (and, with `--sandbox`, a
//! sandbox in this process), hands the flock to the Shepherd, and prints its table.

use crate::cli::RunArgs;
use crate::error::Error;
use crate::{client, commit, keys, pool, sandbox, schedule, sheep, shepherd, signals, state, stop};
use std::sync::Arc;

/// Runs the flock until stopped; `Ok(true)` when every bot ended well.
pub fn run(args: RunArgs) -> Result<bool, Error> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let flock = keys::load_folder(&args.keys_dir, &cwd)?;
    for problem in &flock.problems {
        log::error!("skipping this bot: {problem}");
    }
    let problems: Vec<String> = flock.problems.iter().map(ToString::to_string).collect();
    if flock.bots.is_empty() {
        return Err(Error::NoBotCanRun {
            dir: args.keys_dir,
            problems: flock.problems.len(),
        });
    }
    let sandbox = if args.sandbox {
        Some(start_sandbox_for(&args)?)
    } else {
        None
    };
    // Before any thread starts: a Sheep a bot, and the rest.
    crate::futex_hash::make_room(flock.bots.len() + shepherd::THREADS_BESIDE_SHEEP);
    let (switch, stop) = stop::channel();
    let mut workers = None;
    let poster = if args.dry_run {
        sheep::Poster::DryRun
    } else {
        let api_base = match &sandbox {
            Some(sandbox) => sandbox.api_base(),
            None => args.api_base.clone(),
        };
        let base = client::ApiBase::parse(&api_base)?;
        let client = Arc::new(client::Client::new(&base, args.timeout));
        let (pool, started) =
            pool::start(client, args.connections, &stop).map_err(Error::Threads)?;
        workers = Some(started);
        sheep::Poster::Live(Arc::new(pool))
    };
    let state = open_state(&args)?;
    if let Some(state) = state.as_ref().filter(|_| !args.dry_run) {
        state.remove_twins();
    }
    // The group commit needs `syncfs`, which only Linux has; elsewhere each save syncs itself.
    let (state, committer) = match state {
        Some(state) if !args.dry_run && cfg!(target_os = "linux") => {
            let (commits, committer) =
                commit::start(state.dir(), commit::GATHER, &stop).map_err(|source| {
                    Error::State(state::StateError::NotWritable {
                        dir: state.dir().to_path_buf(),
                        source,
                    })
                })?;
            (Some(state.with_commits(commits)), Some(committer))
        }
        state => (state, None),
    };
    let settings = shepherd::Settings {
        defaults: sheep::Plan {
            intervals: schedule::Intervals {
                line: args.line_interval,
                poem: args.poem_interval,
            },
            order: args.order,
            jitter: args.jitter,
            active_hours: args.active_hours,
            on_duplicate: args.on_duplicate,
            long_lines: args.long_lines,
        },
        poster,
        state: state.map(Arc::new),
        save_state: !args.dry_run,
        backoff_unit: args.backoff_unit,
        keys_dir: args.keys_dir.clone(),
        cwd: cwd.clone(),
        rescan: (!args.rescan.is_zero()).then_some(args.rescan),
        status_every: (!args.status_every.is_zero()).then_some(args.status_every),
    };
    signals::install(switch).map_err(|error| Error::Signals(error.to_string()))?;
    log::info!(
        "starting {} bots from {}{}",
        flock.bots.len(),
        args.keys_dir.display(),
        if args.dry_run {
            " (dry run: nothing is posted)"
        } else {
            ""
        }
    );
    let summary = shepherd::run(flock, &settings, &stop);
    // Every Sheep is gone, and with them every handle on the pool: its workers end.
    drop(settings);
    if let Some(workers) = workers {
        workers.join();
    }
    // Every handle on the state folder is gone too: the last sync has begun.
    if let Some(error) = committer.and_then(|committer| committer.join().failed) {
        log::warn!(
            "syncing the state folder failed ({error}): the bots' places are saved, but a power \
             cut now could take the last ones back; check the disk"
        );
    }
    // One write: stdout is line-buffered, and ten thousand rows are ten thousand writes.
    let mut table = summary.to_string();
    for problem in &problems {
        table.push_str(&format!("not started: {problem}\n"));
    }
    print_all(&table);
    if let Some(sandbox) = sandbox {
        print!("{}", sandbox_report(&sandbox.posts()));
        sandbox.stop();
    }
    Ok(!summary.any_bot_failed() && problems.is_empty())
}

/// Writes `text` to stdout at once; a closed stdout (a pipe gone) is no reason to fail.
fn print_all(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// The folder where bots keep their place. `--sandbox` keeps none unless `--state-dir` is given:
/// the sandbox forgets its posts at exit, and must never move a real flock's places. A dry run
/// reads places (to show what comes next) but does not create the folder.
fn open_state(args: &RunArgs) -> Result<Option<state::StateDir>, Error> {
    let dir = match (&args.state_dir, args.sandbox) {
        (Some(dir), _) => dir.clone(),
        (None, true) => return Ok(None),
        (None, false) => args.keys_dir.join(".state"),
    };
    if args.dry_run && !dir.is_dir() {
        return Ok(None);
    }
    state::StateDir::open(&dir).map(Some).map_err(Error::State)
}

/// The in-process sandbox for `run --sandbox`: the keys folder's accounts, requests logged at
/// debug level so the flock's own lines stay readable.
fn start_sandbox_for(args: &RunArgs) -> Result<sandbox::Sandbox, Error> {
    let (accounts, _problems) = keys::load_accounts(&args.keys_dir)?;
    let config = sandbox::Config {
        request_log: log::Level::Debug,
        ..sandbox::Config::default()
    };
    let sandbox = sandbox::Sandbox::start(config, &accounts).map_err(Error::Sandbox)?;
    log::info!(
        "sandbox: a local X API on {} with {} accounts; nothing reaches X",
        sandbox.api_base(),
        accounts.len()
    );
    Ok(sandbox)
}

/// What each account posted to the sandbox, for the end of `run --sandbox`.
fn sandbox_report(posts: &[sandbox::timeline::Post]) -> String {
    let mut authors: Vec<&str> = posts.iter().map(|post| post.author.as_str()).collect();
    authors.sort_unstable();
    authors.dedup();
    let mut out = format!("\nposted to the sandbox ({} posts):\n", posts.len());
    for author in authors {
        let theirs: Vec<_> = posts.iter().filter(|post| post.author == author).collect();
        let plural = if theirs.len() == 1 { "" } else { "s" };
        out.push_str(&format!("{author} ({} post{plural})\n", theirs.len()));
        for post in theirs {
            out.push_str(&format!("  {}  {}\n", post.id, post.text));
        }
    }
    out
}
