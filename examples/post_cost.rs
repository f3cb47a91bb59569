//! The HTTP client alone: one thread posts N lines (5,000 by default) one after another to the
//! sandbox over a kept-alive connection, and reports that thread's CPU per post (signing,
//! request, answer; no Sheep, worker, state or log) and the wall time per post. The sandbox runs
//! in other threads of this process; its CPU per post is reported apart.
//!
//! Run: `cargo run --release --example post_cost [N]` (Linux only: it reads /proc).

#[path = "support/cpu.rs"]
mod cpu;

use botflock::client::{ApiBase, Client};
use botflock::keys::{Account, Credentials};
use botflock::sandbox::{Config, Sandbox};
use botflock::secret::Secret;
use std::path::Path;
use std::time::{Duration, Instant};

/// Posts per account, well under the sandbox's 15-minute window for one user.
const POSTS_PER_ACCOUNT: usize = 50;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(5_000);
    let accounts: Vec<Account> = (0..n / POSTS_PER_ACCOUNT + 2)
        .map(|i| Account {
            screen_name: format!("bot{i}"),
            user_id: None,
            credentials: Credentials {
                // One app per account, so no app's daily quota is reached either.
                consumer_key: Secret::new(format!("app{i}")),
                consumer_secret: Secret::new(format!("app{i}-secret")),
                token: Secret::new(format!("bot{i}-token")),
                token_secret: Secret::new(format!("bot{i}-token-secret")),
            },
        })
        .collect();
    let config = Config {
        request_log: log::Level::Trace,
        ..Config::default()
    };
    let sandbox = Sandbox::start(config, &accounts).expect("the sandbox starts");
    let base = ApiBase::parse(&sandbox.api_base()).expect("the sandbox's address");
    let client = Client::new(&base, Duration::from_secs(30));
    let post = |i: usize, text: String| {
        let credentials = &accounts[i / POSTS_PER_ACCOUNT].credentials;
        client.post(credentials, &text, None).expect("posted");
    };
    // The first post opens the connection; it is not counted.
    for i in 0..POSTS_PER_ACCOUNT {
        post(i, format!("warming up {i}"));
    }
    let cpu = thread_cpu_ms();
    let process_cpu = process_cpu_ms();
    let started = Instant::now();
    for i in 0..n {
        post(POSTS_PER_ACCOUNT + i, format!("line {i}"));
    }
    let per_post = |total: f64| total / n as f64;
    let client = thread_cpu_ms() - cpu;
    println!(
        "{n} posts: {:.1} µs of CPU and {:.1} µs of wall time each; the sandbox's CPU: {:.1} µs each",
        per_post(client * 1000.0),
        per_post(started.elapsed().as_secs_f64() * 1e6),
        per_post((process_cpu_ms() - process_cpu - client) * 1000.0),
    );
    sandbox.stop();
}

/// This process's CPU time so far (every thread, the sandbox's included), in whole ticks.
fn process_cpu_ms() -> f64 {
    cpu::process_seconds(Path::new("/proc/self/stat")) * 1000.0
}

/// This thread's CPU time so far, exact.
fn thread_cpu_ms() -> f64 {
    cpu::thread_seconds(Path::new("/proc/thread-self/sched")).1 * 1000.0
}
