//! The flock keeps going: faults are retried on the same line, limits are waited out, an app's
//! pause covers all its bots, and places survive restarts and kills.

use crate::support::x::{TestX, account_of_app, free_tier};
use crate::support::{Env, fast_run, key_json_of_app};
use botflock::sandbox::Config;
use botflock::sandbox::faults::Faults;
use std::time::Duration;

fn lines(prefix: &str, n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("{prefix} line {i}")).collect()
}

fn strs(lines: &[String]) -> Vec<&str> {
    lines.iter().map(String::as_str).collect()
}

/// Fast flock arguments against `x`, with a short timeout for the hanging faults.
fn fast(x: &TestX) -> Vec<String> {
    fast_run(x, &["--timeout", "500ms"])
}

#[test]
fn failures_retry_the_same_line_and_nothing_is_skipped_or_doubled() {
    let faults = Faults {
        fail_rate: 0.3,
        drop_rate: 0.15,
        hang_rate: 0.05,
        latency: Duration::ZERO,
    };
    let x = TestX::for_bots(
        &["ann"],
        Config {
            faults,
            seed: Some(11),
            ..Config::default()
        },
    );
    let poem = lines("ann", 8);
    let env = Env::new();
    env.bot("ann", &strs(&poem));
    let flock = env.start_args(&fast(&x));
    flock.wait_for("the whole poem posted", |_| x.posts_by("ann").len() == 8);
    flock.signal("INT");
    let finished = flock.finish();
    let posted: Vec<String> = x.posts_by("ann").into_iter().map(|p| p.text).collect();
    assert_eq!(posted, poem, "{}", finished.log);
    let attempts: Vec<String> = x.attempts_by("ann").into_iter().map(|a| a.text).collect();
    assert!(attempts.len() > 8, "faults were injected: {attempts:?}");
    let order: Vec<usize> = attempts
        .iter()
        .map(|t| poem.iter().position(|l| l == t).unwrap())
        .collect();
    assert!(
        order.windows(2).all(|w| w[1] == w[0] || w[1] == w[0] + 1),
        "retries stay on their line: {order:?}"
    );
    for kind in ["http status 503", "network error"] {
        assert!(
            finished.log.contains(kind),
            "no {kind} in the log:\n{}",
            finished.log
        );
    }
}

#[test]
fn a_spent_rate_limit_is_waited_out_until_its_reset() {
    let x = TestX::for_bots(&["ann"], free_tier());
    let poem = lines("ann", 20);
    let env = Env::new();
    env.bot("ann", &strs(&poem));
    let flock = env.start_args(&fast(&x));
    // The 17th post's answer shows the day's quota spent: the bot waits for its reset, a day
    // away, rather than spending a request on a certain 429.
    flock.wait_for_lines("ann: a rate limit is spent; next post at", 1);
    let line = flock
        .log()
        .into_iter()
        .find(|l| l.contains("a rate limit is spent"))
        .unwrap();
    let tomorrow = jiff::Zoned::now()
        .checked_add(jiff::Span::new().hours(24))
        .unwrap();
    assert!(
        line.contains(&tomorrow.strftime("%Y-%m-%d").to_string()),
        "{line}"
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(x.requests(), 17, "no request before the reset");
    assert_eq!(x.posts_by("ann").len(), 17);
    flock.signal("INT");
    assert_eq!(flock.finish().code, Some(0));
}

#[test]
fn a_429_is_waited_out_until_the_latest_spent_reset() {
    // Pay-per-use: 100 posts per 15 minutes per user, far below the day's quotas.
    let x = TestX::for_bots(&["ann"], Config::default());
    let env = Env::new();
    env.bot("ann", &strs(&lines("ann", 110)));
    let first = env.start_args(&fast(&x));
    first.wait_for_lines("ann: a rate limit is spent", 1);
    first.signal("INT");
    first.finish();
    // A new run does not know the window is spent: its first try meets a 429, whose headers
    // say when the window resets, and it waits for exactly that.
    let second = env.start_args(&fast(&x));
    second.wait_for_lines(
        "ann: line 101/110 failed (http status 429: Too Many Requests)",
        1,
    );
    let line = second
        .log()
        .into_iter()
        .find(|l| l.contains("line 101/110 failed"))
        .unwrap();
    let window_reset = x.sandbox.posts()[0].time + Duration::from_secs(15 * 60);
    let expected = jiff::Timestamp::try_from(window_reset)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::system());
    // One second past the reset, give or take the second the clock turned in.
    let near: Vec<String> = [0, 1, 2]
        .iter()
        .map(|s| {
            (expected.clone() + jiff::Span::new().seconds(*s))
                .strftime("%H:%M:%S")
                .to_string()
        })
        .collect();
    assert!(
        near.iter().any(|t| line.contains(&format!("try 2 at {t}"))),
        "{line} vs {near:?}"
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(x.requests(), 101, "one 429, then nothing before the reset");
    second.signal("INT");
    assert_eq!(second.finish().code, Some(0));
}

/// The answer to the post that spends the app's daily quota says so in its headers; the app
/// pauses then, so a bot of the app that starts later sends nothing (and spends no request on
/// a 429).
#[test]
fn the_post_that_spends_an_apps_quota_pauses_the_app_before_another_bot_asks() {
    let accounts = [account_of_app("ann", "app"), account_of_app("ben", "app")];
    let x = TestX::with_accounts(&accounts, free_tier());
    let env = Env::new();
    for name in ["ann", "ben"] {
        env.write(&format!("poems/{name}.txt"), lines(name, 20).join("\n"));
    }
    env.write(
        "keys/ann.json",
        key_json_of_app("ann", "app", "../poems/ann.txt"),
    );
    let flock = env.start_args(&fast_run(&x, &[]));
    flock.wait_for_lines("paused for every bot that uses it", 1);
    assert_eq!(x.posts_by("ann").len(), 17);
    assert_eq!(x.attempts_by("ann").len(), 17, "no request after the last");
    env.write(
        "keys/ben.json",
        key_json_of_app("ben", "app", "../poems/ben.txt"),
    );
    flock.wait_for_lines("ben: started", 1);
    std::thread::sleep(Duration::from_millis(300));
    assert!(x.attempts_by("ben").is_empty(), "ben waits for the reset");
    flock.signal("INT");
    let finished = flock.finish();
    finished
        .assert_logged("paused for every bot that uses it (the app's daily post quota is spent)");
}

#[test]
fn an_apps_spent_daily_quota_pauses_every_bot_of_the_app_with_one_message() {
    let accounts = [
        account_of_app("ann", "app"),
        account_of_app("ben", "app"),
        account_of_app("cat", "other"),
    ];
    let x = TestX::with_accounts(&accounts, free_tier());
    let env = Env::new();
    for name in ["ann", "ben", "cat"] {
        let poem = lines(name, 12);
        env.write(&format!("poems/{name}.txt"), poem.join("\n"));
        let app = if name == "cat" { "other" } else { "app" };
        env.write(
            &format!("keys/{name}.json"),
            key_json_of_app(name, app, &format!("../poems/{name}.txt")),
        );
    }
    let flock = env.start_args(&fast_run(
        &x,
        &["--timeout", "500ms", "--status-every", "200ms"],
    ));
    flock.wait_for_lines("paused for every bot that uses it", 1);
    flock.wait_for("cat, on another app, to finish", |_| {
        x.posts_by("cat").len() == 12
    });
    // The status table shows the pause on both of the app's bots, not only the one that met it.
    let latest = |log: &[String], bot: &str| {
        log.iter()
            .rev()
            .find(|line| line.contains(&format!("status: {bot} ")))
            .cloned()
            .unwrap_or_default()
    };
    flock.wait_for("both of the app's bots shown paused", |log| {
        latest(log, "ann").contains("paused") && latest(log, "ben").contains("paused")
    });
    assert!(!latest(&flock.log(), "cat").contains("paused"));
    let sent = x.requests();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(x.requests(), sent, "the paused app's bots send nothing");
    flock.signal("INT");
    let finished = flock.finish();
    assert_eq!(x.posts_by("ann").len() + x.posts_by("ben").len(), 17);
    assert_eq!(
        finished
            .log
            .matches("paused for every bot that uses it")
            .count(),
        1,
        "{}",
        finished.log
    );
}

#[test]
fn running_out_of_credit_pauses_the_app_until_restarted() {
    let x = TestX::for_bots(
        &["ann"],
        Config {
            credits: Some(3),
            ..Config::default()
        },
    );
    let env = Env::new();
    env.bot("ann", &strs(&lines("ann", 6)));
    let flock = env.start_args(&fast(&x));
    flock.wait_for_lines("add credit, then restart botflock", 1);
    let sent = x.requests();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(x.requests(), sent);
    flock.signal("INT");
    let finished = flock.finish();
    finished.assert_logged("CreditsDepleted");
    assert_eq!(x.posts_by("ann").len(), 3);
}

#[test]
fn a_clean_stop_resumes_at_the_next_line() {
    let x = TestX::for_bots(&["ann"], Config::default());
    let poem = lines("ann", 6);
    let env = Env::new();
    env.bot("ann", &strs(&poem));
    let mut args = fast(&x);
    args[4] = "1h".into(); // a long line interval: the first run posts line 1 only
    let first = env.start_args(&args);
    first.wait_for_lines("ann: posted line 1/6", 1);
    first.signal("INT");
    assert_eq!(first.finish().code, Some(0));
    let second = env.start_args(&fast(&x));
    second.wait_for("the rest of the poem", |_| x.posts_by("ann").len() == 6);
    second.signal("INT");
    let finished = second.finish();
    finished.assert_logged("ann: started: 6 lines, next is line 2 of poem round 1");
    assert_eq!(x.attempts_by("ann").len(), 6, "no line was sent twice");
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(env.path("keys/.state/ann.json")).unwrap())
            .unwrap();
    assert_eq!(state["next_line"], 0);
    assert_eq!(state["cycle"], 1);
    assert_eq!(
        state["last_post_id"].as_str(),
        Some(x.posts_by("ann")[5].id.to_string().as_str())
    );
}

#[test]
fn a_changed_poem_starts_again_at_line_1_and_says_so() {
    let x = TestX::for_bots(&["ann"], Config::default());
    let env = Env::new();
    env.bot("ann", &["old one", "old two", "old three"]);
    let mut args = fast(&x);
    args[4] = "1h".into();
    let first = env.start_args(&args);
    first.wait_for_lines("ann: posted line 1/3", 1);
    first.signal("INT");
    first.finish();
    env.bot("ann", &["new one", "new two", "new three"]);
    let second = env.start_args(&args);
    second.wait_for_lines("ann: posted line 1/3", 1);
    second.signal("INT");
    let finished = second.finish();
    finished.assert_logged("changed since the last run: starting again at line 1");
    assert_eq!(x.posts_by("ann").last().unwrap().text, "new one");
}

#[test]
fn a_corrupt_state_file_is_moved_aside_and_the_bot_starts_at_line_1() {
    let env = Env::new();
    env.bot("ann", &["one", "two"]);
    env.write("keys/.state/ann.json", "{ this is not state");
    let flock = env.start(&["run", "--dry-run", "--line-interval", "1h"]);
    flock.wait_for_lines("ann: dry run, would post line 1/2", 1);
    flock.signal("INT");
    let finished = flock.finish();
    finished.assert_logged("ann: saved place unreadable");
    let moved: Vec<String> = std::fs::read_dir(env.path("keys/.state"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("ann.json.corrupt-"))
        .collect();
    assert_eq!(moved.len(), 1, "{moved:?}");
    let kept = std::fs::read_to_string(env.path(&format!("keys/.state/{}", moved[0]))).unwrap();
    assert_eq!(kept, "{ this is not state", "nothing the user had is lost");
}

#[test]
fn a_state_folder_that_cannot_be_written_is_an_error_at_start() {
    let env = Env::new();
    env.bot("ann", &["one"]);
    env.write("not-a-folder", "a file");
    let finished = env.run(&[
        "run",
        "--state-dir",
        "not-a-folder",
        "--api-base",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(finished.code, Some(2), "{}", finished.all());
    finished.assert_logged("state folder not-a-folder is a file, not a folder");
}

#[test]
fn killed_at_random_moments_and_restarted_the_flock_posts_every_line_exactly_once() {
    let names = ["ann", "ben", "cat"];
    let x = TestX::for_bots(&names, Config::default());
    let env = Env::new();
    let poems: Vec<Vec<String>> = names.iter().map(|name| lines(name, 24)).collect();
    for (name, poem) in names.iter().zip(&poems) {
        env.bot(name, &strs(poem));
    }
    let mut args = fast(&x);
    args[4] = "60ms".into();
    let done = || {
        names
            .iter()
            .zip(&poems)
            .all(|(name, poem)| x.posts_by(name).len() == poem.len())
    };
    for _ in 0..6 {
        let flock = env.start_args(&args);
        // Somewhere in the middle of the poems.
        std::thread::sleep(Duration::from_millis(50 + rand::random::<u64>() % 150));
        flock.signal("KILL");
        let _ = flock.finish();
    }
    assert!(!done(), "the kills came before the poems were done");
    let flock = env.start_args(&args);
    flock.wait_for("every poem done", |_| done());
    flock.signal("INT");
    assert_eq!(flock.finish().code, Some(0));
    for (name, poem) in names.iter().zip(&poems) {
        let posted: Vec<String> = x.posts_by(name).into_iter().map(|p| p.text).collect();
        assert_eq!(
            &posted, poem,
            "{name}'s timeline holds every line once, in order"
        );
    }
    assert!(x.refusals().is_empty(), "{:?}", x.refusals());
}

#[test]
fn a_line_x_will_never_take_is_skipped_loudly_and_the_poem_goes_on() {
    let x = TestX::for_bots(&["ann"], Config::default());
    let env = Env::new();
    // U+FFFE is a character X refuses in any post.
    env.bot("ann", &["before", "a \u{FFFE} b", "after"]);
    let flock = env.start_args(&fast(&x));
    flock.wait_for("the line after", |_| x.posts_by("ann").len() == 2);
    flock.signal("INT");
    let finished = flock.finish();
    let posted: Vec<String> = x.posts_by("ann").into_iter().map(|p| p.text).collect();
    assert_eq!(posted, ["before", "after"]);
    finished.assert_logged("ERROR ann: line 2/3 cannot be posted and is skipped: http status 400");
    assert!(
        finished
            .log
            .contains("Your Tweet text contains an invalid character."),
        "X's reason is shown: {}",
        finished.log
    );
    assert_eq!(
        x.attempts_by("ann").len(),
        3,
        "a line that can never post is not retried"
    );
}
