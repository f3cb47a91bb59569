//! `botflock run`: posting, bad input, stopping, dry run.

use crate::support::x::{TestX, account};
use crate::support::{Env, credentials, key_json};
use botflock::sandbox::Config;
use botflock::sandbox::faults::Faults;
use std::time::Duration;

const LINES_A: [&str; 3] = ["alpha one", "alpha two", "alpha three"];
const LINES_B: [&str; 2] = ["beta one", "beta two"];
const LINES_C: [&str; 4] = ["gamma one", "gamma two", "gamma three", "gamma four"];

#[test]
fn several_bots_post_their_poems_in_order_with_the_intervals() {
    let fake = TestX::for_bots(&["ann", "ben", "cat"], Config::default());
    let env = Env::new();
    env.bot("ann", &LINES_A)
        .bot("ben", &LINES_B)
        .bot("cat", &LINES_C);
    let flock = env.start(&[
        "run",
        "keys",
        "--api-base",
        &fake.api_base(),
        "--line-interval",
        "200ms",
        "--poem-interval",
        "700ms",
    ]);
    // Two rounds and a bit for every bot. Round 2 meets X's duplicate rule: those lines are
    // already on the account, and the bots count them so.
    flock.wait_for("two rounds from every bot", |_| {
        fake.attempts_by("ann").len() >= 7
            && fake.attempts_by("ben").len() >= 5
            && fake.attempts_by("cat").len() >= 9
    });
    flock.signal("INT");
    let finished = flock.finish();
    assert_eq!(finished.code, Some(0), "{}", finished.all());

    for (name, lines) in [
        ("ann", &LINES_A[..]),
        ("ben", &LINES_B[..]),
        ("cat", &LINES_C[..]),
    ] {
        let posted: Vec<String> = fake.posts_by(name).into_iter().map(|p| p.text).collect();
        assert_eq!(
            posted, lines,
            "{name}'s timeline holds the poem once, in order"
        );
        let attempts = fake.attempts_by(name);
        for (i, attempt) in attempts.iter().enumerate() {
            assert_eq!(
                attempt.text,
                lines[i % lines.len()],
                "{name}'s post {i} out of order"
            );
        }
        for (i, pair) in attempts.windows(2).enumerate() {
            let gap = pair[1].at - pair[0].at;
            let last_line = (i + 1) % lines.len() == 0;
            // Slots are exact; arrival can only be later than a slot, or earlier by the small
            // difference between two requests' travel times.
            let least = if last_line {
                Duration::from_millis(650)
            } else {
                Duration::from_millis(150)
            };
            assert!(
                gap >= least,
                "{name}: gap {gap:?} after post {i} is shorter than the interval"
            );
        }
        let tally = finished
            .stdout
            .lines()
            .find(|line| line.starts_with(name))
            .unwrap_or_else(|| panic!("no summary line for {name}:\n{}", finished.stdout));
        let columns: Vec<&str> = tally.split_whitespace().collect();
        let (new, already): (usize, usize) =
            (columns[1].parse().unwrap(), columns[2].parse().unwrap());
        assert_eq!(new, lines.len(), "summary: {tally}");
        assert_eq!(new + already, attempts.len(), "summary: {tally}");
    }
    assert!(
        fake.refusals().is_empty(),
        "bad signatures: {:?}",
        fake.refusals()
    );
}

#[test]
fn a_wrong_secret_is_rejected_and_that_bot_says_which_file_to_fix() {
    let good = account("good", &credentials("good")[3]);
    let bad = account("bad", "the-real-token-secret");
    let fake = TestX::with_accounts(&[good, bad], Config::default());
    let env = Env::new();
    env.bot("good", &LINES_A).bot("bad", &LINES_B);
    let flock = env.start(&[
        "run",
        "--api-base",
        &fake.api_base(),
        "--line-interval",
        "100ms",
    ]);
    flock.wait_for_lines("bad: stopped: X rejected the credentials", 1);
    flock.wait_for("the good bot to keep posting", |_| {
        fake.posts_by("good").len() >= 3
    });
    flock.signal("INT");
    let finished = flock.finish();
    assert_eq!(finished.code, Some(1), "a bot failed: {}", finished.all());
    finished.assert_logged("fix the tokens in keys/bad.json");
    assert!(fake.posts_by("bad").is_empty());
    assert_eq!(
        fake.refusals(),
        ["signature does not match"],
        "the tests' verifier agrees"
    );
    for secret in credentials("bad").iter().chain(&credentials("good")) {
        assert!(
            !finished.all().contains(secret.as_str()),
            "{secret} leaked:\n{}",
            finished.all()
        );
    }
}

#[test]
fn bad_key_files_and_poems_are_reported_and_the_rest_of_the_flock_runs() {
    let env = Env::new();
    env.bot("fine", &LINES_A);
    env.write(
        "keys/broken.json",
        "{\n  \"screen_name\": \"broken\",\n  oops\n}\n",
    );
    let no_token =
        key_json("notoken", "../poems/fine.txt").replace("\"oauth_token\":\"tk-notoken\",", "");
    env.write("keys/notoken.json", no_token);
    env.write(
        "keys/nopoem.json",
        key_json("nopoem", "../poems/missing.txt"),
    );
    env.write("poems/blank.txt", "\n   \n\t\n");
    env.write("keys/blank.json", key_json("blank", "../poems/blank.txt"));
    env.write("poems/latin1.txt", b"caf\xe9 au lait\n");
    env.write(
        "keys/latin1.json",
        key_json("latin1", "../poems/latin1.txt"),
    );

    let flock = env.start(&["run", "--dry-run", "--line-interval", "50ms"]);
    flock.wait_for_lines("fine: dry run, would post line 3/3", 1);
    flock.signal("TERM");
    let finished = flock.finish();
    let log = &finished.log;
    assert!(
        log.contains("keys/broken.json: line 3, column 3: key must be a string"),
        "{log}"
    );
    assert!(
        log.contains("keys/notoken.json: missing field `oauth_token`"),
        "{log}"
    );
    assert!(
        log.contains("keys/nopoem.json: poem file `../poems/missing.txt` not found"),
        "{log}"
    );
    assert!(
        log.contains("keys/blank.json: poem") && log.contains("has no lines"),
        "{log}"
    );
    assert!(
        log.contains("keys/latin1.json: poem") && log.contains("is not UTF-8 text (line 1)"),
        "{log}"
    );
    assert!(finished.stdout.contains("fine "), "{}", finished.stdout);
    assert_eq!(
        finished.stdout.matches("not started:").count(),
        5,
        "{}",
        finished.stdout
    );
    assert_eq!(
        finished.code,
        Some(1),
        "skipped bots make the run a failure"
    );
}

#[test]
fn when_no_bot_can_run_it_exits_2_and_says_why() {
    let env = Env::new();
    env.write("keys/broken.json", "[]");
    let finished = env.run(&["run", "--dry-run"]);
    assert_eq!(finished.code, Some(2), "{}", finished.all());
    finished.assert_logged("keys/broken.json");
    finished.assert_logged("no bot can run");
}

#[test]
fn an_empty_or_missing_keys_folder_says_how_to_add_a_bot() {
    let env = Env::new();
    let empty = env.run(&["run", "--dry-run"]);
    assert_eq!(empty.code, Some(2));
    empty.assert_logged("keys folder keys has no *.json key files: add one JSON key file per bot");
    let missing = env.run(&["run", "nowhere", "--dry-run"]);
    assert_eq!(missing.code, Some(2));
    missing
        .assert_logged("keys folder nowhere does not exist: create it and add one JSON key file");
}

/// Ctrl-C (SIGINT) and SIGTERM stop a big flock at once, print the summary and exit 0.
fn stops_a_big_flock_on(signal: &str) {
    const BOTS: usize = 300;
    let env = Env::new();
    env.write("poems/shared.txt", "one line\nanother line\n");
    for i in 0..BOTS {
        env.write(
            &format!("keys/bot{i:03}.json"),
            key_json(&format!("bot{i:03}"), "../poems/shared.txt"),
        );
    }
    let flock = env.start(&["run", "--dry-run", "--line-interval", "1h"]);
    flock.wait_for_lines("would post line 1/2", BOTS);
    let asked = flock.age();
    flock.signal(signal);
    let finished = flock.finish();
    assert_eq!(finished.code, Some(0), "{}", finished.all());
    assert_eq!(
        finished.stdout.matches("stopped: as asked").count(),
        BOTS,
        "{}",
        finished.stdout
    );
    let took = finished.elapsed - asked;
    // The benchmark measures the real figure; this only catches a stop that waits out a wait.
    assert!(took < Duration::from_secs(20), "stopping took {took:?}");
}

#[test]
fn ctrl_c_stops_a_big_flock_and_prints_the_summary() {
    stops_a_big_flock_on("INT");
}

#[test]
fn sigterm_stops_a_big_flock_and_prints_the_summary() {
    stops_a_big_flock_on("TERM");
}

#[test]
fn a_second_ctrl_c_quits_at_once_with_130() {
    let fake = TestX::for_bots(&["ann"], hanging());
    let env = Env::new();
    env.bot("ann", &LINES_A);
    let flock = env.start(&["run", "--api-base", &fake.api_base(), "--timeout", "10m"]);
    flock.wait_for("a post in flight", |_| fake.requests() >= 1);
    flock.signal("INT");
    flock.wait_for_lines("press Ctrl-C again", 1);
    flock.signal("INT");
    let finished = flock.finish();
    assert_eq!(finished.code, Some(130), "{}", finished.all());
}

#[test]
fn a_hung_server_does_not_hang_a_bot_forever() {
    let fake = TestX::for_bots(&["ann"], hanging());
    let env = Env::new();
    env.bot("ann", &LINES_A);
    let flock = env.start(&["run", "--api-base", &fake.api_base(), "--timeout", "300ms"]);
    flock.wait_for_lines("ann: line 1/3 failed (network error", 1);
    flock.signal("INT");
    let finished = flock.finish();
    assert_eq!(finished.code, Some(0), "{}", finished.all());
}

#[test]
fn dry_run_touches_no_network() {
    let fake = TestX::for_bots(&["ann", "ben"], Config::default());
    let env = Env::new();
    env.bot("ann", &LINES_A).bot("ben", &LINES_B);
    let flock = env.start(&[
        "run",
        "--dry-run",
        "--api-base",
        &fake.api_base(),
        "--line-interval",
        "20ms",
    ]);
    flock.wait_for_lines("ann: dry run, would post line 3/3", 1);
    flock.wait_for_lines("ben: dry run, would post line 2/2", 1);
    flock.signal("INT");
    let finished = flock.finish();
    assert_eq!(finished.code, Some(0), "{}", finished.all());
    finished.assert_logged("ann: dry run, would post line 1/3: \"alpha one\"");
    assert_eq!(fake.requests(), 0, "dry run made requests");
}

/// A sandbox that never answers.
fn hanging() -> Config {
    Config {
        faults: Faults {
            hang_rate: 1.0,
            ..Faults::default()
        },
        ..Config::default()
    }
}
