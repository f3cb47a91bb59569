//! The command line.

use crate::active_hours::ActiveHours;
use crate::duration;
use crate::keys::{LongLines, OnDuplicate};
use crate::order::Order;
use crate::sandbox::limits::Tier;
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
    /// Serve a local X API on 127.0.0.1 that behaves like the real one, for the key files in --keys.
    Sandbox(SandboxArgs),
    /// Validate the flock offline and show what it will do: posts, cost, limits it would break.
    Check(CheckArgs),
    /// Post one text now, as the bot of KEYFILE (for notices from cron or systemd).
    Post(PostArgs),
    /// Key files.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a key file for a new bot with X's PIN-based sign-in.
    New(NewKeyArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Folder of JSON key files, one per bot.
    #[arg(default_value = "keys")]
    pub keys_dir: PathBuf,

    /// Print the same as one JSON document.
    #[arg(long)]
    pub json: bool,

    /// Wait between two lines of a poem (a key file's `line_interval` overrides it).
    #[arg(long, value_name = "DUR", default_value = "60s", value_parser = duration::parse)]
    pub line_interval: Duration,

    /// Wait after the last line (`poem_interval` overrides it).
    #[arg(long, value_name = "DUR", default_value = "30m", value_parser = duration::parse)]
    pub poem_interval: Duration,
}

#[derive(Debug, Args)]
pub struct PostArgs {
    /// The bot's key file.
    pub key_file: PathBuf,

    /// What to post.
    pub text: String,

    /// Append the date and time, so X does not refuse a repeat of the same notice.
    #[arg(long)]
    pub stamp: bool,

    /// Where the X API is.
    #[arg(long, value_name = "URL", default_value = "https://api.x.com")]
    pub api_base: String,

    /// Give up after this long.
    #[arg(long, value_name = "DUR", default_value = "30s", value_parser = duration::parse)]
    pub timeout: Duration,
}

#[derive(Debug, Args)]
pub struct NewKeyArgs {
    /// A JSON file with the app's `consumer_token` and `consumer_token_secret`.
    #[arg(long, value_name = "APP.json")]
    pub app: PathBuf,

    /// The poem the new bot will recite (written into the key file as `poem_file`).
    #[arg(long, value_name = "FILE")]
    pub poem: PathBuf,

    /// Where to write the key file [default: keys/SCREEN_NAME.json].
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,

    /// Where the X API is.
    #[arg(long, value_name = "URL", default_value = "https://api.x.com")]
    pub api_base: String,
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

    /// Line order: the poem's, or a new shuffle each round (a key file's `order` overrides it).
    #[arg(long, value_enum, default_value_t = Order::Sequence)]
    pub order: Order,

    /// Vary each wait by up to this fraction either way, e.g. 0.1 (`jitter` overrides it).
    #[arg(long, value_name = "F", default_value_t = 0.0, value_parser = fraction)]
    pub jitter: f64,

    /// Post only between these local times, e.g. 08:00-22:00 (`active_hours` overrides it).
    #[arg(long, value_name = "HH:MM-HH:MM", value_parser = ActiveHours::parse)]
    pub active_hours: Option<ActiveHours>,

    /// When X says a line is already on the account: count it, or post it again stamped with
    /// the date and time (`on_duplicate` overrides it).
    #[arg(long, value_enum, default_value_t = OnDuplicate::Skip)]
    pub on_duplicate: OnDuplicate,

    /// A line over 280 weighted characters: post it as a thread, or skip it (`long_lines`).
    #[arg(long, value_enum, default_value_t = LongLines::Thread)]
    pub long_lines: LongLines,

    /// How often to look for key files added, removed or changed (0 never).
    #[arg(long, value_name = "DUR", default_value = "2s", value_parser = duration::parse)]
    pub rescan: Duration,

    /// How often to log the status table (0 only at exit).
    #[arg(long, value_name = "DUR", default_value = "10m", value_parser = duration::parse)]
    pub status_every: Duration,

    /// The unit of the backoff curves (1s: retries 1s, 2s, … apart); tests shrink it.
    #[arg(long, value_name = "DUR", default_value = "1s", value_parser = duration::parse, hide = true)]
    pub backoff_unit: Duration,

    /// Where each bot keeps its place between runs [default: KEYS_DIR/.state].
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// How many requests to X may be under way at once (the flock's HTTP workers).
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub connections: usize,

    /// Make no network calls: keep the schedule and log each line instead of posting it.
    #[arg(long, conflicts_with = "sandbox")]
    pub dry_run: bool,

    /// Post to a local X API sandbox started in this process, with the keys folder's accounts;
    /// at exit, print what each bot posted there.
    #[arg(long, conflicts_with = "api_base")]
    pub sandbox: bool,
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Folder of key files whose credentials the sandbox accepts.
    #[arg(long, value_name = "DIR", default_value = "keys")]
    pub keys: PathBuf,

    /// Port on 127.0.0.1; 0 picks a free one (printed at start).
    #[arg(long, default_value_t = 0)]
    pub port: u16,

    /// Append every accepted post to FILE, one JSON object per line.
    #[arg(long, value_name = "FILE")]
    pub timeline: Option<PathBuf>,

    /// X API tier whose rate limits apply.
    #[arg(long, value_enum, default_value_t = Tier::Payg)]
    pub tier: Tier,

    /// Each app runs out of credit after N posts (402 CreditsDepleted).
    #[arg(long, value_name = "N")]
    pub credits: Option<u64>,

    /// Fraction of requests answered 503 Service Unavailable.
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    pub fail_rate: f64,

    /// Delay before every answer.
    #[arg(long, value_name = "DUR", default_value = "0s", value_parser = duration::parse)]
    pub latency: Duration,

    /// Fraction of requests whose connection is closed with no answer.
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    pub drop_rate: f64,

    /// Fraction of requests never answered.
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    pub hang_rate: f64,

    /// Seed for the fault dice, to repeat a run exactly.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
}

/// A fraction from 0 to 1.
fn fraction(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if (0.0..=1.0).contains(&value) => Ok(value),
        _ => Err(format!(
            "`{text}` is not a fraction: write a number from 0 to 1, such as 0.1"
        )),
    }
}
