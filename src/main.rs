use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = botflock::cli::Cli::parse();
    botflock::logging::init();
    botflock::exit_code(botflock::run(cli))
}
