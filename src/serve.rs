//! `botflock sandbox`: serves the local X API until Ctrl-C.

use crate::cli::SandboxArgs;
use crate::error::Error;
use crate::{keys, sandbox, signals, stop};

/// Serves until stopped.
pub fn run(args: SandboxArgs) -> Result<bool, Error> {
    let (accounts, problems) = keys::load_accounts(&args.keys)?;
    for problem in &problems {
        log::error!("not registered with the sandbox: {problem}");
    }
    let config = sandbox::Config {
        port: args.port,
        tier: args.tier,
        credits: args.credits,
        faults: sandbox::faults::Faults {
            fail_rate: args.fail_rate,
            drop_rate: args.drop_rate,
            hang_rate: args.hang_rate,
            latency: args.latency,
        },
        timeline: args.timeline,
        request_log: log::Level::Info,
        seed: args.seed,
        observer: None,
    };
    let (switch, stop) = stop::channel();
    signals::install(switch).map_err(|error| Error::Signals(error.to_string()))?;
    let sandbox = sandbox::Sandbox::start(config, &accounts).map_err(Error::Sandbox)?;
    println!("{}", sandbox.api_base());
    log::info!(
        "sandbox: serving a local X API on {} ({} tier) for {} accounts from {}; Ctrl-C stops it",
        sandbox.api_base(),
        args.tier,
        accounts.len(),
        args.keys.display()
    );
    // Nothing to do but serve until asked to stop.
    while stop.wait_until(std::time::Instant::now() + std::time::Duration::from_secs(3600))
        == stop::Waited::Elapsed
    {}
    let posts = sandbox.posts().len();
    sandbox.stop();
    log::info!("sandbox: stopped after accepting {posts} posts");
    Ok(true)
}
