//! The tests' environment: a temporary flock folder, the real `botflock` binary run in it, and
//! helpers to watch its log, signal it and read what it printed.

pub mod oauth;
pub mod proxy;
pub mod signed;
pub mod x;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Generous bounds: these tests check behaviour, not speed, on a busy 2-core machine.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// The variables that name a proxy for botflock's HTTP client (ureq's list).
const PROXY_VARS: [&str; 8] = [
    "ALL_PROXY",
    "all_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
];

pub struct Env {
    pub dir: tempfile::TempDir,
}

/// The credentials `Env::bot` writes for a bot: (consumer key, consumer secret, token, token secret).
pub fn credentials(name: &str) -> [String; 4] {
    [
        format!("ck-{name}"),
        format!("cs-{name}"),
        format!("tk-{name}"),
        format!("ts-{name}"),
    ]
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::tempdir().expect("a temp dir");
        std::fs::create_dir(dir.path().join("keys")).unwrap();
        std::fs::create_dir(dir.path().join("poems")).unwrap();
        Env { dir }
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    pub fn write(&self, relative: &str, contents: impl AsRef<[u8]>) -> &Env {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
        self
    }

    /// A key file `keys/NAME.json` and poem `poems/NAME.txt` with the standard test credentials.
    pub fn bot(&self, name: &str, lines: &[&str]) -> &Env {
        self.write(&format!("poems/{name}.txt"), lines.join("\n") + "\n");
        self.write(
            &format!("keys/{name}.json"),
            key_json(name, &format!("../poems/{name}.txt")),
        )
    }

    pub fn start(&self, args: &[&str]) -> Running {
        self.spawn(args, Stdio::null(), &[])
    }

    /// Starts botflock with a standard input the test writes to (`Running::type_line`).
    pub fn start_with_input(&self, args: &[&str]) -> Running {
        self.spawn(args, Stdio::piped(), &[])
    }

    /// Runs botflock to its end with `vars` set in its environment.
    pub fn run_with_env(&self, args: &[&str], vars: &[(&str, &str)]) -> Finished {
        self.spawn(args, Stdio::null(), vars).finish()
    }

    fn spawn(&self, args: &[&str], stdin: Stdio, vars: &[(&str, &str)]) -> Running {
        let mut command = Command::new(env!("CARGO_BIN_EXE_botflock"));
        // The servers are on loopback: a proxy the machine's environment names is not the test's.
        for proxy in PROXY_VARS {
            command.env_remove(proxy);
        }
        let mut child = command
            .args(args)
            .current_dir(self.dir.path())
            .env("RUST_LOG", "debug")
            .envs(vars.iter().copied())
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("botflock starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let reader = {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    log.lock().unwrap().push(line);
                }
            })
        };
        let stdout = child.stdout.take().unwrap();
        let printed = Arc::new(Mutex::new(Vec::new()));
        let stdout = {
            let printed = Arc::clone(&printed);
            std::thread::spawn(move || {
                let mut text = String::new();
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    printed.lock().unwrap().push(line.clone());
                    text.push_str(&line);
                    text.push('\n');
                }
                text
            })
        };
        Running {
            child,
            printed,
            log,
            reader: Some(reader),
            stdout: Some(stdout),
            started: Instant::now(),
        }
    }

    /// Starts botflock with owned arguments (as `fast_run` makes them).
    pub fn start_args(&self, args: &[String]) -> Running {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.start(&args)
    }

    /// Runs botflock to its end (it must end by itself).
    pub fn run(&self, args: &[&str]) -> Finished {
        self.start(args).finish()
    }
}

/// `run` against `x` with no waits between lines, an hour between rounds and backoff in tens
/// of milliseconds, then `extra`. The line interval is `args[4]`, for tests to change.
pub fn fast_run(x: &x::TestX, extra: &[&str]) -> Vec<String> {
    let base = [
        "run",
        "--api-base",
        &x.api_base(),
        "--line-interval",
        "0s",
        "--poem-interval",
        "1h",
        "--backoff-unit",
        "10ms",
    ];
    base.iter().chain(extra).map(|s| s.to_string()).collect()
}

pub fn key_json(name: &str, poem_file: &str) -> String {
    key_json_of_app(name, name, poem_file)
}

/// A key file for `name` posting through `app`'s consumer key (the app of the bot named `app`).
pub fn key_json_of_app(name: &str, app: &str, poem_file: &str) -> String {
    let [consumer_key, consumer_secret, _, _] = credentials(app);
    let [_, _, token, token_secret] = credentials(name);
    serde_json::json!({
        "screen_name": name,
        "user_id": "12345",
        "consumer_token": consumer_key,
        "consumer_token_secret": consumer_secret,
        "oauth_token": token,
        "oauth_token_secret": token_secret,
        "poem_file": poem_file,
    })
    .to_string()
}

pub struct Running {
    child: Child,
    /// Standard output lines so far.
    printed: Arc<Mutex<Vec<String>>>,
    log: Arc<Mutex<Vec<String>>>,
    reader: Option<JoinHandle<()>>,
    stdout: Option<JoinHandle<String>>,
    started: Instant,
}

pub struct Finished {
    pub code: Option<i32>,
    pub stdout: String,
    pub log: String,
    /// From start to exit.
    pub elapsed: Duration,
}

impl Finished {
    /// Everything the user saw.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.log)
    }

    /// Panics, showing the whole log, unless the log holds `needle`.
    #[track_caller]
    pub fn assert_logged(&self, needle: &str) {
        assert!(
            self.log.contains(needle),
            "the log lacks {needle:?}:\n{}",
            self.log
        );
    }
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Waits until the log satisfies `ready`; panics with the log when it never does.
    pub fn wait_for(&self, what: &str, ready: impl Fn(&[String]) -> bool) {
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            if ready(&self.log.lock().unwrap()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("never saw {what}; log:\n{}", self.log().join("\n"));
    }

    /// Waits until `count` log lines contain `needle`.
    pub fn wait_for_lines(&self, needle: &str, count: usize) {
        self.wait_for(&format!("{count} lines with {needle:?}"), |log| {
            log.iter().filter(|line| line.contains(needle)).count() >= count
        });
    }

    /// Standard output so far, a line each.
    pub fn printed(&self) -> Vec<String> {
        self.printed.lock().unwrap().clone()
    }

    /// Waits for a standard output line containing `needle` and returns it.
    pub fn wait_for_printed(&self, needle: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            if let Some(line) = self.printed().into_iter().find(|l| l.contains(needle)) {
                return line;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "never printed {needle:?}; printed:\n{}\nlog:\n{}",
            self.printed().join("\n"),
            self.log().join("\n")
        );
    }

    /// Types a line on botflock's standard input.
    pub fn type_line(&mut self, line: &str) {
        use std::io::Write;
        let stdin = self
            .child
            .stdin
            .as_mut()
            .expect("started with start_with_input");
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args(["-s", signal, &self.pid().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -s {signal} failed");
    }

    /// Waits for the process to exit (killing it after `PATIENCE`) and collects its output.
    pub fn finish(mut self) -> Finished {
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break Some(status);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let elapsed = self.started.elapsed();
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        let stdout = self
            .stdout
            .take()
            .map(|t| t.join().unwrap())
            .unwrap_or_default();
        let finished = Finished {
            code: status.and_then(|s| s.code()),
            stdout,
            log: self.log().join("\n"),
            elapsed,
        };
        assert!(
            status.is_some(),
            "botflock did not exit; output:\n{}",
            finished.all()
        );
        finished
    }

    /// Time since the process started.
    pub fn age(&self) -> Duration {
        self.started.elapsed()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
