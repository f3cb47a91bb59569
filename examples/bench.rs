//! The flock benchmark: for N = 100, 1,000 and 10,000 bots, generates a flock in a temporary
//! folder, runs the release binary against the sandbox (served from this process, so its CPU is
//! not counted), and reports the client's own figures from /proc:
//!
//! - start to every bot's first post, and to every post of the run;
//! - client CPU per post (signing, request, answer, state write, logging);
//! - CPU while every bot waits (rescan included), as a share of one core;
//! - peak resident memory, and how much of each Sheep's stack is resident;
//! - SIGINT to exit, and whether every bot's state was written;
//! - (on stderr) the CPU per post of each kind of thread: Sheep, HTTP workers, the Shepherd
//!   (the main thread, "botflock"), the state sync; and the CPU each kind and the sandbox
//!   used until every bot's first post.
//!
//! Run: `cargo build --release && cargo run --release --example bench [N ...]` (Linux only).
//! `BENCH_KEEP_LOG=PREFIX` keeps each run's flock log as `PREFIX.N.log`; `BENCH_PERF=FILE`
//! profiles the client with `perf record`; `BENCH_ARGS="--connections 8"` adds options to the
//! flock's command line; `BENCH_BINARY=PATH` runs another build of botflock (say, one from
//! before a change).

#[path = "support/cpu.rs"]
mod cpu;

use botflock::keys::{Account, Credentials};
use botflock::sandbox::{Config, Sandbox};
use botflock::secret::Secret;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Lines in each bot's poem, LINE_INTERVAL apart; then every bot waits an hour.
const LINES: usize = 6;
const LINE_INTERVAL: &str = "10s";
/// Bots per app, so no app's daily quota (10,000 posts on pay-per-use) is reached.
const BOTS_PER_APP: usize = 100;
/// How long the waiting flock is watched for idle CPU.
const IDLE: Duration = Duration::from_secs(10);

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|arg| arg.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![100, 1_000, 10_000]
    } else {
        sizes
    };
    let binary = std::env::var_os("BENCH_BINARY").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/botflock"),
        PathBuf::from,
    );
    assert!(
        binary.exists(),
        "build the release binary first: cargo build --release"
    );
    settle();
    // Every run's folder is deleted at the end, not between runs (see `settle`).
    let mut folders = Vec::new();
    let (fair, folder) = run(&binary, 100, "0s");
    folders.push(folder);
    println!(
        "fairness: 100 bots, zero intervals: every bot's first post within {:.2} s\n",
        fair.first_posts.as_secs_f64()
    );
    println!("{LINES} lines a bot, {LINE_INTERVAL} apart:\n");
    println!(
        "| bots | first post from every bot | every line posted | CPU per post | idle CPU | peak RSS | Sheep stack | SIGINT to exit | state files |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for n in sizes {
        let (figures, folder) = run(&binary, n, LINE_INTERVAL);
        folders.push(folder);
        println!(
            "| {n} | {:.2} s | {:.2} s | {:.3} ms | {:.2} % | {:.1} MB | {} KiB | {:.3} s | {}/{n} |",
            figures.first_posts.as_secs_f64(),
            figures.all_posts.as_secs_f64(),
            figures.cpu_per_post_ms,
            figures.idle_percent,
            figures.peak_rss_mb,
            figures.sheep_stack_kb,
            figures.stop.as_secs_f64(),
            figures.state_files,
        );
    }
    drop(folders);
    let _ = std::fs::write(cleaned_stamp(), "");
}

/// How long after deleting many files this machine's file system still makes creating files
/// slow. To find a free inode, ext4 without a journal (the development machine's) passes over
/// every inode of the group freed in the last 60 s, or 360 s while the block that holds it is
/// not yet written out, which creating files keeps it. Right after a run's 30,000 files were
/// deleted, creating a state file cost up to 1 ms of CPU instead of 29-44 µs, and a 10,000-bot
/// run's first posts took seconds longer. So every run's folder is kept until the benchmark
/// ends, and the next benchmark waits this long after the last one deleted its folders; run
/// several sizes in one command (`bench 10000 10000`) to compare runs without the wait.
const SETTLE: Duration = Duration::from_secs(370);

/// Waits until the folders the last run deleted no longer slow down creating files.
fn settle() {
    let since = std::fs::metadata(cleaned_stamp())
        .and_then(|meta| meta.modified())
        .ok()
        .and_then(|at| at.elapsed().ok());
    if let Some(wait) = since.and_then(|since| SETTLE.checked_sub(since)) {
        eprintln!(
            "waiting {} s: the last run deleted its folders {} s ago, and creating files right \
             after deleting thousands is slow on this file system (see SETTLE)",
            wait.as_secs(),
            since.unwrap_or_default().as_secs()
        );
        std::thread::sleep(wait);
    }
}

/// A file touched when a run has deleted its folders.
fn cleaned_stamp() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-cleaned")
}

struct Figures {
    first_posts: Duration,
    all_posts: Duration,
    cpu_per_post_ms: f64,
    idle_percent: f64,
    peak_rss_mb: f64,
    /// Resident stack of most Sheep threads.
    sheep_stack_kb: u64,
    stop: Duration,
    state_files: usize,
}

/// One run of N bots; the folder it ran in comes back with the figures, to be deleted later.
fn run(binary: &Path, n: usize, line_interval: &str) -> (Figures, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let accounts = flock(dir.path(), n);
    let config = Config {
        request_log: log::Level::Trace,
        ..Config::default()
    };
    let sandbox = Sandbox::start(config, &accounts).expect("the sandbox starts");
    let log = std::fs::File::create(dir.path().join("flock.log")).expect("a log file");
    let started = Instant::now();
    // Under BENCH_PERF the figures include perf's own cost.
    let mut command = match std::env::var("BENCH_PERF") {
        Ok(out) => {
            let mut perf = Command::new("perf");
            perf.args(["record", "-F", "2000", "-g", "-o", &out, "--"])
                .arg(binary);
            perf
        }
        Err(_) => Command::new(binary),
    };
    let mut child = command
        .args(["run", "keys", "--api-base", &sandbox.api_base()])
        .args(["--line-interval", line_interval, "--poem-interval", "1h"])
        .args(["--state-dir", "state"])
        .args(
            std::env::var("BENCH_ARGS")
                .unwrap_or_default()
                .split_whitespace(),
        )
        .current_dir(dir.path())
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("botflock starts");
    let pid = child.id();
    let sandbox_cpu = cpu::process_seconds(Path::new("/proc/self/stat"));
    let first_posts = wait_until(started, || sandbox.counts().1 >= n);
    let sandbox_cpu = cpu::process_seconds(Path::new("/proc/self/stat")) - sandbox_cpu;
    // Where the CPU of the start went; threads that ended by now (those that load the key
    // files) are counted together, as the process's CPU less its live threads': the process's
    // figure counts whole ticks, so this one is good to about 0.05 s.
    let mut start_cpu = cpu_by_thread_kind(pid);
    let ended = cpu_seconds(pid) - start_cpu.values().sum::<f64>();
    start_cpu.insert("ended threads".to_string(), ended);
    let start_cpu: Vec<String> = start_cpu
        .into_iter()
        .filter(|(_, seconds)| *seconds >= 0.005)
        .map(|(kind, seconds)| format!("{kind} {seconds:.2} s"))
        .collect();
    // CPU per post, start-up left out: from the end of every bot's second post to the end of
    // its last, over the posts in between.
    wait_until(started, || sandbox.counts().0 >= 2 * n);
    // Summed over the threads from their exact run times: the process's own figure counts whole
    // ticks of 10 ms, too coarse for the 400 posts of 100 bots. No thread ends in this window.
    let threads_before = cpu_by_thread_kind(pid);
    let all_posts = wait_until(started, || sandbox.counts().0 >= n * LINES);
    let posts = ((LINES - 2) * n) as f64;
    let per_kind: Vec<(String, f64)> = cpu_by_thread_kind(pid)
        .into_iter()
        .map(|(kind, seconds)| {
            let before = threads_before.get(&kind).copied().unwrap_or(0.0);
            (kind, (seconds - before) / posts)
        })
        .collect();
    let cpu_per_post_ms = per_kind.iter().map(|(_, seconds)| seconds).sum::<f64>() * 1000.0;
    let by_kind: Vec<String> = per_kind
        .iter()
        .filter(|(_, seconds)| *seconds >= 0.5e-6)
        .map(|(kind, seconds)| format!("{kind} {:.0} µs", seconds * 1e6))
        .collect();
    std::thread::sleep(Duration::from_secs(1));
    let idle_start = cpu_seconds(pid);
    std::thread::sleep(IDLE);
    let idle_percent = (cpu_seconds(pid) - idle_start) * 100.0 / IDLE.as_secs_f64();
    let peak_rss_mb = peak_rss_kb(pid) as f64 / 1024.0;
    let sheep_stack_kb = sheep_stack_kb(pid);
    let asked = Instant::now();
    Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("kill runs");
    let _ = child.wait();
    let stop = asked.elapsed();
    let state_files = std::fs::read_dir(dir.path().join("state"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|entry| {
                    std::fs::read_to_string(entry.path())
                        .is_ok_and(|text| text.contains("\"next_line\":0,\"cycle\":1"))
                })
                .count()
        })
        .unwrap_or(0);
    if let Ok(keep) = std::env::var("BENCH_KEEP_LOG") {
        let _ = std::fs::copy(dir.path().join("flock.log"), format!("{keep}.{n}.log"));
    }
    sandbox.stop();
    if line_interval != "0s" {
        eprintln!(
            "{n} bots, CPU until every bot's first post by thread: {}; the sandbox's {sandbox_cpu:.2} s",
            start_cpu.join(", ")
        );
        eprintln!("{n} bots, CPU per post by thread: {}", by_kind.join(", "));
    }
    let figures = Figures {
        first_posts,
        all_posts,
        cpu_per_post_ms,
        idle_percent,
        peak_rss_mb,
        sheep_stack_kb,
        stop,
        state_files,
    };
    (figures, dir)
}

/// Writes N key files and poems; returns the accounts for the sandbox.
fn flock(dir: &Path, n: usize) -> Vec<Account> {
    std::fs::create_dir_all(dir.join("keys")).expect("keys folder");
    std::fs::create_dir_all(dir.join("poems")).expect("poems folder");
    (0..n)
        .map(|i| {
            let name = format!("bot{i:05}");
            let app = i / BOTS_PER_APP;
            let poem: Vec<String> = (1..=LINES).map(|l| format!("{name} line {l}")).collect();
            std::fs::write(dir.join(format!("poems/{name}.txt")), poem.join("\n")).expect("poem");
            let credentials = Credentials {
                consumer_key: Secret::new(format!("app{app}")),
                consumer_secret: Secret::new(format!("app{app}-secret")),
                token: Secret::new(format!("{name}-token")),
                token_secret: Secret::new(format!("{name}-token-secret")),
            };
            let key = serde_json::json!({
                "screen_name": name,
                "consumer_token": credentials.consumer_key.expose(),
                "consumer_token_secret": credentials.consumer_secret.expose(),
                "oauth_token": credentials.token.expose(),
                "oauth_token_secret": credentials.token_secret.expose(),
                "poem_file": format!("../poems/{name}.txt"),
            });
            let path = dir.join(format!("keys/{name}.json"));
            std::fs::write(&path, key.to_string()).expect("key file");
            set_private(&path);
            Account {
                screen_name: name,
                user_id: None,
                credentials,
            }
        })
        .collect()
}

#[cfg(unix)]
fn set_private(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
}

#[cfg(not(unix))]
fn set_private(_: &Path) {}

fn wait_until(started: Instant, done: impl Fn() -> bool) -> Duration {
    let deadline = started + Duration::from_secs(600);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "the flock did not get there in 10 minutes"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    started.elapsed()
}

/// User and system CPU the client has used (whole ticks).
fn cpu_seconds(pid: u32) -> f64 {
    cpu::process_seconds(Path::new(&format!("/proc/{pid}/stat")))
}

/// CPU seconds by kind of thread (its name up to the first space: "sheep", "http", ...), from
/// each thread's /proc sched file, which counts time exactly where stat counts whole ticks.
/// Threads that ended are not counted.
fn cpu_by_thread_kind(pid: u32) -> std::collections::BTreeMap<String, f64> {
    let mut kinds = std::collections::BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return kinds;
    };
    for task in tasks.filter_map(Result::ok) {
        let (name, seconds) = cpu::thread_seconds(&task.path().join("sched"));
        let kind = name.split(' ').next().unwrap_or_default().to_string();
        *kinds.entry(kind).or_default() += seconds;
    }
    kinds
}

/// Peak resident memory (VmHWM) in KiB.
fn peak_rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The resident size (KiB) most Sheep stacks share, from /proc/PID/smaps: the mappings of
/// `SHEEP_STACK` bytes (glibc may add a page or a few for its thread block). Every page a Sheep
/// ever touches stays resident, so this is the figure a deeper call in `sheep.rs` moves.
fn sheep_stack_kb(pid: u32) -> u64 {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let stack = (botflock::shepherd::SHEEP_STACK / 1024) as u64;
    let mut counts = std::collections::HashMap::<u64, usize>::new();
    let mut in_stack = false;
    for line in smaps.lines() {
        let first = line.split_whitespace().next().unwrap_or_default();
        if let Some((start, end)) = first.split_once('-')
            && let (Ok(start), Ok(end)) =
                (u64::from_str_radix(start, 16), u64::from_str_radix(end, 16))
        {
            let size = (end - start) / 1024;
            in_stack = (stack..=stack + 16).contains(&size);
        } else if in_stack && let Some(rss) = line.strip_prefix("Rss:") {
            let kb = rss
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .unwrap_or(0);
            *counts.entry(kb).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by_key(|&(_, count)| count)
        .map_or(0, |(kb, _)| kb)
}
