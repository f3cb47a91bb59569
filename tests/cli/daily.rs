//! Running a flock day to day: check, long lines as threads, live changes, schedules, status,
//! new keys, one-off posts, and the safety warnings.

use crate::support::proxy::TestProxy;
use crate::support::x::{TestX, account_of_app};
use crate::support::{Env, credentials, fast_run, key_json, key_json_of_app};
use botflock::sandbox::Config;
use std::time::Duration;

/// Fast flock arguments against `x`, rescanning the keys folder every 200 ms, then `extra`.
fn fast(x: &TestX, extra: &[&str]) -> Vec<String> {
    let mut args = fast_run(x, &["--rescan", "200ms"]);
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

#[test]
fn check_shows_each_bot_the_apps_totals_and_the_limits_it_would_break() {
    let env = Env::new();
    let long = "word ".repeat(80);
    env.bot(
        "ann",
        &["a line", "see https://example.com/poems", long.trim()],
    );
    env.write("poems/ben.txt", "one\ntwo\n");
    env.write(
        "keys/ben.json",
        key_json_of_app("ben", "ann", "../poems/ben.txt"),
    );
    let finished = env.run(&["check", "--line-interval", "60s", "--poem-interval", "30m"]);
    assert_eq!(finished.code, Some(0), "{}", finished.all());
    let out = &finished.stdout;
    assert!(out.contains("ann (keys/ann.json)"), "{out}");
    assert!(
        out.contains("3 lines, 4 posts a round, longest line 399/280; a round every 32m"),
        "{out}"
    );
    // A round of 32 minutes: 45 rounds a day, 180 posts; one post a round has a URL, so a
    // round costs $0.20 + 3 × $0.015.
    assert!(
        out.contains("180 posts a day, $11.03 a day at pay-per-use prices"),
        "{out}"
    );
    assert!(out.contains("(a thread of 2 posts)"), "{out}");
    assert!(out.contains("would break: free (posts per user per 24 hours: 180 > 17), basic (posts per user per 24 hours: 180 > 100)"), "{out}");
    assert!(out.contains("app of ann, ben:"), "{out}");
    assert!(!out.contains("ck-ann"), "the consumer key is never shown");
}

#[test]
fn check_as_json_and_with_a_bad_key_file_exits_1() {
    let env = Env::new();
    env.bot("ann", &["one", "two"]);
    env.write("keys/broken.json", "{");
    let finished = env.run(&["check", "--json"]);
    assert_eq!(finished.code, Some(1), "{}", finished.all());
    let report: serde_json::Value =
        serde_json::from_str(&finished.stdout).expect("one JSON document");
    assert_eq!(report["bots"][0]["name"], "ann");
    assert_eq!(report["bots"][0]["posts_per_round"], 2);
    assert_eq!(report["bots"][0]["lines"][1]["text"], "two");
    assert_eq!(report["apps"][0]["bots"][0], "ann");
    assert_eq!(report["errors"][0]["file"], "keys/broken.json");
}

#[test]
fn a_long_line_is_posted_as_a_thread_of_replies() {
    let x = TestX::for_bots(&["ann"], Config::default());
    let env = Env::new();
    let long: String = (1..=200)
        .map(|i| format!("w{i}"))
        .collect::<Vec<_>>()
        .join(" ");
    env.bot("ann", &["first", &long, "last"]);
    let flock = env.start_args(&fast(&x, &[]));
    flock.wait_for("the whole poem", |_| {
        x.posts_by("ann").iter().any(|p| p.text == "last")
    });
    flock.signal("INT");
    let finished = flock.finish();
    let posts = x.posts_by("ann");
    let parts = &posts[1..posts.len() - 1];
    assert!(parts.len() >= 3, "first, the parts, last: {posts:?}");
    assert_eq!(
        parts[0].reply_to, None,
        "a thread starts as a post of its own"
    );
    for pair in parts.windows(2) {
        assert_eq!(
            pair[1].reply_to,
            Some(pair[0].id),
            "each part replies to the one before"
        );
    }
    assert_eq!(posts.last().unwrap().reply_to, None);
    let joined: Vec<&str> = parts.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(joined.join(" "), long, "nothing lost or changed");
    let last_part = format!("posted line 2/3 (thread part {n}/{n})", n = parts.len());
    finished.assert_logged(&last_part);
}

#[test]
fn long_lines_skip_posts_nothing_for_them_and_says_so() {
    let x = TestX::for_bots(&["ann"], Config::default());
    let env = Env::new();
    let long = "word ".repeat(80);
    env.bot("ann", &["first", long.trim(), "last"]);
    let flock = env.start_args(&fast(&x, &["--long-lines", "skip"]));
    flock.wait_for("the last line", |_| x.posts_by("ann").len() == 2);
    flock.signal("INT");
    let finished = flock.finish();
    finished.assert_logged("line 2/3 cannot be posted and is skipped: it is over X's limit of 280 weighted characters and long_lines is skip");
    assert_eq!(
        x.attempts_by("ann").len(),
        2,
        "nothing sent for the long line"
    );
}

#[test]
fn key_files_added_changed_and_removed_are_picked_up_while_running() {
    let x = TestX::for_bots(&["ann", "ben", "cat"], Config::default());
    let env = Env::new();
    env.bot("ann", &["ann one", "ann two", "ann three", "ann four"]);
    let mut args = fast(&x, &[]);
    args[4] = "300ms".into();
    let flock = env.start_args(&args);
    flock.wait_for_lines("ann: posted line 1/4", 1);

    // Added: a new Sheep starts.
    env.bot("ben", &["ben one", "ben two"]);
    flock.wait_for_lines("ben: key file keys/ben.json added: starting this bot", 1);
    flock.wait_for("ben to post", |_| !x.posts_by("ben").is_empty());

    // A broken new file is reported and touches nobody else.
    env.write("keys/broken.json", "{ nope");
    flock.wait_for_lines("skipping this bot: keys/broken.json: line 1", 1);

    // Changed: ann restarts with the new settings and keeps her place.
    let before = x.posts_by("ann").len();
    let mut key: serde_json::Value =
        serde_json::from_str(&key_json("ann", "../poems/ann.txt")).unwrap();
    key["line_interval"] = "50ms".into();
    env.write("keys/ann.json", key.to_string());
    flock.wait_for_lines(
        "ann: key file or poem changed: restarting with the new settings",
        1,
    );
    flock.wait_for("ann's poem done", |_| x.posts_by("ann").len() == 4);
    let texts: Vec<String> = x.posts_by("ann").into_iter().map(|p| p.text).collect();
    assert_eq!(
        texts,
        ["ann one", "ann two", "ann three", "ann four"],
        "kept her place (had {before})"
    );

    // Removed: that Sheep stops; the rest go on.
    std::fs::remove_file(env.path("keys/ben.json")).unwrap();
    flock.wait_for_lines("ben: key file keys/ben.json removed: stopping this bot", 1);
    flock.wait_for_lines("ben: stopped: as asked", 1);
    flock.signal("INT");
    let finished = flock.finish();
    assert!(
        finished.stdout.contains("stopped: key file removed"),
        "{}",
        finished.stdout
    );
    assert_eq!(finished.code, Some(0), "{}", finished.all());
}

#[test]
fn an_edited_poem_is_picked_up_and_starts_again_at_line_1() {
    let x = TestX::for_bots(&["ann"], Config::default());
    let env = Env::new();
    env.bot("ann", &["old one", "old two", "old three"]);
    let mut args = fast(&x, &[]);
    args[4] = "1h".into();
    let flock = env.start_args(&args);
    flock.wait_for_lines("ann: posted line 1/3", 1);
    env.bot("ann", &["new one", "new two", "new three"]);
    flock.wait_for_lines("changed: starting again at line 1", 1);
    flock.wait_for("the new first line", |_| {
        x.posts_by("ann").iter().any(|p| p.text == "new one")
    });
    flock.signal("INT");
    assert_eq!(flock.finish().code, Some(0));
}

#[test]
fn shuffle_posts_every_line_once_a_round_and_stamp_lets_a_poem_recite_again() {
    let x = TestX::for_bots(&["ann"], Config::default());
    let env = Env::new();
    let lines: Vec<String> = (1..=8).map(|i| format!("line {i}")).collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    env.bot("ann", &refs);
    let mut args = fast(&x, &["--order", "shuffle", "--on-duplicate", "stamp"]);
    args[6] = "0s".into();
    let flock = env.start_args(&args);
    flock.wait_for("two rounds", |_| x.posts_by("ann").len() >= 16);
    flock.signal("INT");
    flock.finish();
    let posts: Vec<String> = x.posts_by("ann").into_iter().map(|p| p.text).collect();
    let mut first: Vec<String> = posts[..8].to_vec();
    first.sort();
    let mut expected = lines.clone();
    expected.sort();
    assert_eq!(first, expected, "every line once in round 1");
    assert_ne!(
        posts[..8].to_vec(),
        lines,
        "shuffled (1 chance in 40,320 of the poem's own order)"
    );
    // Round 2 meets X's duplicate rule and posts each line again with a stamp.
    let second: Vec<&String> = posts[8..16].iter().collect();
    assert!(
        second.iter().all(|p| p.ends_with(']') && p.contains(" [")),
        "{second:?}"
    );
    let mut unstamped: Vec<String> = second
        .iter()
        .map(|p| p[..p.rfind(" [").unwrap()].to_string())
        .collect();
    unstamped.sort();
    assert_eq!(unstamped, expected, "every line once in round 2");
}

#[test]
fn outside_its_active_hours_a_bot_waits_and_sends_nothing() {
    let x = TestX::for_bots(&["ann"], Config::default());
    let env = Env::new();
    env.bot("ann", &["one"]);
    let now = jiff::Zoned::now();
    let opens = &now + jiff::Span::new().hours(2);
    let closes = &now + jiff::Span::new().hours(3);
    let window = format!("{}-{}", opens.strftime("%H:%M"), closes.strftime("%H:%M"));
    let flock = env.start_args(&fast(&x, &["--active-hours", &window]));
    flock.wait_for_lines("ann: outside its active hours; next post at", 1);
    std::thread::sleep(Duration::from_millis(300));
    flock.signal("INT");
    let finished = flock.finish();
    assert_eq!(x.requests(), 0, "{}", finished.log);
    assert!(
        finished
            .log
            .contains(&format!("next post at {}", opens.strftime("%H:%M"))),
        "{}",
        finished.log
    );
}

#[test]
fn jitter_varies_each_wait_and_never_below_its_fraction() {
    let x = TestX::for_bots(&["ann"], Config::default());
    let env = Env::new();
    let lines: Vec<String> = (1..=8).map(|i| format!("line {i}")).collect();
    env.bot("ann", &lines.iter().map(String::as_str).collect::<Vec<_>>());
    let mut args = fast(&x, &["--jitter", "0.5"]);
    args[4] = "200ms".into();
    let flock = env.start_args(&args);
    flock.wait_for("the poem", |_| x.posts_by("ann").len() == 8);
    flock.signal("INT");
    flock.finish();
    let attempts = x.attempts_by("ann");
    let gaps: Vec<Duration> = attempts.windows(2).map(|w| w[1].at - w[0].at).collect();
    assert!(
        gaps.iter().all(|&g| g >= Duration::from_millis(90)),
        "never under half: {gaps:?}"
    );
    let spread = gaps.iter().max().unwrap().as_millis() - gaps.iter().min().unwrap().as_millis();
    assert!(spread > 20, "waits vary: {gaps:?}");
}

#[test]
fn the_status_table_is_logged_while_running_and_printed_at_exit() {
    let x = TestX::for_bots(&["ann"], Config::default());
    let env = Env::new();
    env.bot("ann", &["one", "two"]);
    let flock = env.start_args(&fast(&x, &["--status-every", "300ms"]));
    flock.wait_for_lines("status: ann ", 2);
    flock.signal("INT");
    let finished = flock.finish();
    let row = finished
        .log
        .lines()
        .rev()
        .find(|l| l.contains("status: ann "))
        .unwrap()
        .to_string();
    assert!(
        row.contains("waiting until") && row.contains("(next round)"),
        "{row}"
    );
    assert!(
        finished
            .stdout
            .lines()
            .any(|l| l.starts_with("ann") && l.contains("stopped: as asked")),
        "{}",
        finished.stdout
    );
}

#[test]
fn keys_new_makes_a_key_file_with_the_pin_flow_against_the_sandbox() {
    let x = TestX::with_accounts(&[account_of_app("ann", "shared")], Config::default());
    let env = Env::new();
    let [consumer_key, consumer_secret, _, _] = credentials("shared");
    env.write("app.json", serde_json::json!({"consumer_token": consumer_key, "consumer_token_secret": consumer_secret}).to_string());
    env.write("poems/newbot.txt", "hello\n");
    let mut enrolling = env.start_with_input(&[
        "keys",
        "new",
        "--app",
        "app.json",
        "--poem",
        "poems/newbot.txt",
        "--api-base",
        &x.api_base(),
    ]);
    let url = enrolling.wait_for_printed("/oauth/authorize?oauth_token=");
    // The person signs in as @newbot; the sandbox's page shows the PIN.
    let page = ureq::get(format!("{url}&screen_name=newbot"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let pin = page.split("PIN: ").nth(1).unwrap()[..7].to_string();
    enrolling.type_line(&pin);
    let finished = enrolling.finish();
    assert_eq!(finished.code, Some(0), "{}", finished.all());
    assert!(
        finished.stdout.contains("wrote keys/newbot.json"),
        "{}",
        finished.stdout
    );
    let path = env.path("keys/newbot.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let key: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(key["screen_name"], "newbot");
    assert_eq!(key["consumer_token"], consumer_key.as_str());
    assert_eq!(key["poem_file"], "poems/newbot.txt");
    // The new key file posts.
    let posted = env.run(&[
        "post",
        "keys/newbot.json",
        "first words",
        "--api-base",
        &x.api_base(),
    ]);
    assert_eq!(posted.code, Some(0), "{}", posted.all());
    assert_eq!(x.posts_by("newbot")[0].text, "first words");
    // And it is never overwritten.
    let again = env.run(&[
        "keys",
        "new",
        "--app",
        "app.json",
        "--poem",
        "poems/newbot.txt",
        "--out",
        "keys/newbot.json",
        "--api-base",
        &x.api_base(),
    ]);
    assert_eq!(again.code, Some(2));
    again.assert_logged("keys/newbot.json already exists: botflock never overwrites a key file");
}

#[test]
fn post_sends_one_notice_and_stamp_lets_it_repeat() {
    let x = TestX::for_bots(&["ann"], Config::default());
    let env = Env::new();
    env.bot("ann", &["unused"]);
    let base = x.api_base();
    let first = env.run(&[
        "post",
        "keys/ann.json",
        "going down for maintenance",
        "--stamp",
        "--api-base",
        &base,
    ]);
    assert_eq!(first.code, Some(0), "{}", first.all());
    let id = first.stdout.trim();
    assert_eq!(
        x.posts_by("ann")[0].id.to_string(),
        id,
        "prints the post's id"
    );
    assert!(
        x.posts_by("ann")[0]
            .text
            .starts_with("going down for maintenance [")
    );
    let plain = env.run(&["post", "keys/ann.json", "hello", "--api-base", &base]);
    assert_eq!(plain.code, Some(0));
    let repeat = env.run(&["post", "keys/ann.json", "hello", "--api-base", &base]);
    assert_eq!(repeat.code, Some(1), "{}", repeat.all());
    repeat.assert_logged("X did not take the post: http status 403: Forbidden: You are not allowed to create a Tweet with duplicate content.");
    std::thread::sleep(Duration::from_millis(1100));
    let stamped = env.run(&[
        "post",
        "keys/ann.json",
        "going down for maintenance",
        "--stamp",
        "--api-base",
        &base,
    ]);
    assert_eq!(
        stamped.code,
        Some(0),
        "a stamped repeat posts: {}",
        stamped.all()
    );
}

#[test]
fn loose_key_files_are_warned_about_and_plain_http_is_refused() {
    let env = Env::new();
    env.bot("ann", &["one"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            env.path("keys/ann.json"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        let flock = env.start(&["run", "--dry-run", "--line-interval", "1h"]);
        flock.wait_for_lines("ann: key file keys/ann.json can be read by others; it holds secrets: chmod 600 keys/ann.json", 1);
        flock.signal("INT");
        flock.finish();
    }
    let refused = env.run(&[
        "post",
        "keys/ann.json",
        "hi",
        "--api-base",
        "http://example.com",
    ]);
    assert_eq!(refused.code, Some(2));
    refused.assert_logged("is plain http: credentials are sent over http only to loopback");
}

#[test]
fn with_stamp_a_line_resent_after_a_crash_is_counted_not_posted_twice() {
    let x = TestX::for_bots(&["ann"], Config::default());
    let env = Env::new();
    let lines = ["one", "two", "three"];
    env.bot("ann", &lines);
    // The crash: "two" reached X, then the process died before saving past it; its state
    // says "two" was in flight.
    let base = x.api_base();
    for text in ["one", "two"] {
        assert_eq!(
            env.run(&["post", "keys/ann.json", text, "--api-base", &base])
                .code,
            Some(0)
        );
    }
    let fingerprint = botflock::state::fingerprint(&lines.map(String::from));
    env.write(
        "keys/.state/ann.json",
        serde_json::json!({"next_line": 1, "cycle": 0, "poem_fingerprint": fingerprint, "in_flight": true})
            .to_string(),
    );
    let flock = env.start_args(&fast(&x, &["--on-duplicate", "stamp"]));
    flock.wait_for("the poem's end", |_| x.posts_by("ann").len() == 3);
    flock.wait_for_lines("ann: poem round 1 done", 1);
    flock.signal("INT");
    let finished = flock.finish();
    let posted: Vec<String> = x.posts_by("ann").into_iter().map(|p| p.text).collect();
    assert_eq!(posted, ["one", "two", "three"], "{}", finished.log);
    finished.assert_logged("ann: line 2/3 is already on the account");
}

#[test]
fn a_bot_stopped_for_its_credentials_starts_again_when_its_key_file_is_fixed() {
    let x = TestX::with_accounts(&[account_of_app("ann", "ann")], Config::default());
    let env = Env::new();
    env.bot("ann", &["one", "two"]);
    let mut key: serde_json::Value =
        serde_json::from_str(&key_json("ann", "../poems/ann.txt")).unwrap();
    key["oauth_token_secret"] = "a typo".into();
    env.write("keys/ann.json", key.to_string());
    let flock = env.start_args(&fast(&x, &[]));
    flock.wait_for_lines("ann: stopped: X rejected the credentials", 1);
    env.write("keys/ann.json", key_json("ann", "../poems/ann.txt"));
    flock.wait_for("ann to post after the fix", |_| {
        x.posts_by("ann").len() == 2
    });
    flock.signal("INT");
    let finished = flock.finish();
    finished.assert_logged("ann: key file keys/ann.json changed: starting this bot again");
}

/// A proxy named in the environment carries every request: SOCKS5 and HTTP CONNECT alike.
#[test]
fn posts_go_through_the_proxy_the_environment_names() {
    for scheme in ["socks5", "http"] {
        let x = TestX::for_bots(&["ann"], Config::default());
        let proxy = TestProxy::start();
        let env = Env::new();
        env.bot("ann", &["a line"]);
        let base = x.api_base();
        let finished = env.run_with_env(
            &["post", "keys/ann.json", "hello", "--api-base", &base],
            &[("ALL_PROXY", &proxy.url(scheme))],
        );
        assert_eq!(finished.code, Some(0), "{scheme}: {}", finished.all());
        assert_eq!(x.posts_by("ann").len(), 1, "{scheme}");
        let server = base.trim_start_matches("http://").trim_end_matches('/');
        assert_eq!(proxy.tunnels(), [server], "{scheme}");
    }
}
