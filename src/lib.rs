//! botflock: runs a flock of poetry bots on X. See ARCHITECTURE.md for the map.
// Two places need unsafe: the prctl in futex_hash.rs and the signal handler in fault.rs; each
// allows it for itself alone.
#![deny(unsafe_code)]

pub mod active_hours;
pub mod app_pause;
pub mod check;
pub mod cli;
pub mod client;
pub mod commit;
pub mod duration;
pub mod enroll;
pub mod error;
pub mod event;
pub mod fault;
pub mod flock;
pub mod forecast;
mod futex_hash;
pub mod keys;
pub mod length;
pub mod logging;
pub mod notice;
pub mod order;
pub mod poem;
pub mod policy;
pub mod pool;
mod resolve;
pub mod sandbox;
pub mod schedule;
pub mod secret;
pub mod serve;
pub mod sheep;
pub mod shepherd;
pub mod signals;
pub mod state;
pub mod status;
pub mod stop;
pub mod thread;
mod transport;
pub mod watch;

use cli::{Cli, Command};
use error::Error;
use std::process::ExitCode;

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
        Command::Run(args) => flock::run(args),
        Command::Sandbox(args) => serve::run(args),
        Command::Check(args) => {
            let defaults = sheep::Plan {
                intervals: schedule::Intervals {
                    line: args.line_interval,
                    poem: args.poem_interval,
                },
                order: order::Order::Sequence,
                jitter: 0.0,
                active_hours: None,
                on_duplicate: keys::OnDuplicate::Skip,
                long_lines: keys::LongLines::Thread,
            };
            check::run(args, defaults)
        }
        Command::Post(args) => notice::run(args),
        Command::Keys {
            command: cli::KeysCommand::New(args),
        } => enroll::run(args),
    }
}
