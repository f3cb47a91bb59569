//! The command line.

use crate::duration;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(name = "botflock", version, about = "Runs a flock of poetry bots on X")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the flock: every key file in KEYS_DIR is one bot posting its poem line by line.
    Run(RunArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Folder of JSON key files, one per bot.
    #[arg(default_value = "keys")]
    pub keys_dir: PathBuf,

    /// Wait between two lines of a poem (a key file's `line_interval` overrides it).
    #[arg(long, value_name = "DUR", default_value = "60s", value_parser = duration::parse)]
    pub line_interval: Duration,

    /// Wait after the last line before the poem starts again (`poem_interval` overrides it).
    #[arg(long, value_name = "DUR", default_value = "30m", value_parser = duration::parse)]
    pub poem_interval: Duration,

    /// Where the X API is.
    #[arg(long, value_name = "URL", default_value = "https://api.x.com")]
    pub api_base: String,

    /// Give up on one request after this long, so a hung server cannot hang a bot.
    #[arg(long, value_name = "DUR", default_value = "30s", value_parser = duration::parse)]
    pub timeout: Duration,

    /// Make no network calls: keep the schedule and log each line instead of posting it.
    #[arg(long)]
    pub dry_run: bool,
}
