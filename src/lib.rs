//! botflock: runs a flock of poetry bots on X. See ARCHITECTURE.md for the map.
#![forbid(unsafe_code)]

pub mod app_pause;
pub mod cli;
pub mod client;
pub mod duration;
pub mod error;
pub mod event;
pub mod keys;
pub mod logging;
pub mod poem;
pub mod policy;
pub mod schedule;
pub mod secret;
pub mod sheep;
pub mod shepherd;
pub mod signals;
pub mod stop;

use cli::{Cli, Command, RunArgs};
use error::Error;
use std::process::ExitCode;
use std::sync::Arc;

/// Exit codes: 0 all well (also after a clean stop), 1 a bot failed, 2 usage or configuration.
pub fn exit_code(result: Result<bool, Error>) -> ExitCode {
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            log::error!("{error}");
            ExitCode::from(2)
        }
    }
}

/// Runs the command; `Ok(true)` when every bot ended well.
pub fn run(cli: Cli) -> Result<bool, Error> {
    match cli.command {
        Command::Run(args) => run_flock(args),
    }
}

fn run_flock(args: RunArgs) -> Result<bool, Error> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let flock = keys::load_folder(&args.keys_dir, &cwd)?;
    for problem in &flock.problems {
        log::error!("skipping this bot: {problem}");
    }
    if flock.bots.is_empty() {
        return Err(Error::NoBotCanRun {
            dir: args.keys_dir,
            problems: flock.problems.len(),
        });
    }
    let poster = if args.dry_run {
        sheep::Poster::DryRun
    } else {
        let base = client::ApiBase::parse(&args.api_base)?;
        sheep::Poster::Live(Arc::new(client::Client::new(&base, args.timeout)))
    };
    let settings = shepherd::Settings {
        intervals: schedule::Intervals {
            line: args.line_interval,
            poem: args.poem_interval,
        },
        poster,
    };
    let (switch, stop) = stop::channel();
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
    let summary = shepherd::run(flock.bots, &settings, &stop);
    print!("{summary}");
    for problem in &flock.problems {
        println!("not started: {problem}");
    }
    Ok(!summary.any_bot_failed() && flock.problems.is_empty())
}
