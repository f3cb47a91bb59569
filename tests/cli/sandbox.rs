//! The sandbox behaves like X: each status, body and header from x-api.md, OAuth replay and
//! clock checks, limits per tier, credit, and faults on demand.

use crate::support::signed::{self, Signing, post, send};
use crate::support::x::{TestX, free_tier};
use crate::support::{Env, credentials};
use botflock::sandbox::Config;
use botflock::sandbox::faults::Faults;
use std::time::{Duration, Instant};

fn sandbox(names: &[&str]) -> TestX {
    TestX::for_bots(names, Config::default())
}

#[test]
fn a_post_is_created_with_xs_body_and_every_rate_limit_header() {
    let x = sandbox(&["ann"]);
    let answer = post(&x.api_base(), "ann", "so much depends");
    assert_eq!(answer.status, 201, "{answer:?}");
    let data = &answer.body["data"];
    let id = data["id"].as_str().unwrap();
    assert!(
        id.len() <= 19 && id.bytes().all(|b| b.is_ascii_digit()),
        "{id}"
    );
    assert_eq!(data["text"], "so much depends");
    assert_eq!(data["edit_history_tweet_ids"], serde_json::json!([id]));
    for prefix in ["x-rate-limit", "x-user-limit-24hour", "x-app-limit-24hour"] {
        for part in ["limit", "remaining", "reset"] {
            answer.number(&format!("{prefix}-{part}"));
        }
    }
    assert_eq!(answer.number("x-rate-limit-limit"), 100);
    assert_eq!(answer.number("x-rate-limit-remaining"), 99);
    assert_eq!(answer.number("x-app-limit-24hour-remaining"), 9_999);
    assert!(answer.number("x-rate-limit-reset") > signed::now());
    assert_eq!(x.sandbox.posts()[0].author, "ann");
}

#[test]
fn bad_signatures_replays_and_skewed_clocks_get_401_problem_json() {
    let x = sandbox(&["ann"]);
    let body = r#"{"text":"hello"}"#;
    let once = Signing::as_bot("ann");
    let send_with = |signing: &Signing| {
        send(
            &x.api_base(),
            "POST",
            "/2/tweets",
            signing,
            Some(body),
            "application/json",
        )
        .unwrap()
    };
    assert_eq!(send_with(&once).status, 201);
    let replay = send_with(&once);
    assert_eq!(replay.status, 401, "a reused nonce is refused");
    assert_eq!(replay.body["title"], "Unauthorized");
    assert_eq!(replay.body["type"], "about:blank");

    let mut skewed = Signing::as_bot("ann");
    skewed.timestamp -= 301;
    assert_eq!(send_with(&skewed).status, 401, "more than 5 minutes off");
    let mut close = Signing::as_bot("ann");
    close.timestamp -= 250;
    close.nonce = "another".into();
    let answer = send(
        &x.api_base(),
        "POST",
        "/2/tweets",
        &close,
        Some(r#"{"text":"again"}"#),
        "application/json",
    )
    .unwrap();
    assert_eq!(answer.status, 201, "a little skew is fine");

    let mut wrong = Signing::as_bot("ann");
    wrong.token_secret = "not-the-secret".into();
    assert_eq!(send_with(&wrong).status, 401);
    assert_eq!(x.sandbox.posts().len(), 2);
}

#[test]
fn malformed_posts_get_xs_400() {
    let x = sandbox(&["ann"]);
    let try_body = |body: &str, content_type: &str| {
        send(
            &x.api_base(),
            "POST",
            "/2/tweets",
            &Signing::as_bot("ann"),
            Some(body),
            content_type,
        )
        .unwrap()
    };
    let cases = [
        (r#"{"text":"hi"}"#, "text/plain", "Content-Type"),
        ("not json", "application/json", "not valid JSON"),
        (
            r#"{"text":"hi","colour":"blue"}"#,
            "application/json",
            "[colour]",
        ),
        (r#"{"text":42}"#, "application/json", "must be a string"),
        (r#"{"reply":{}}"#, "application/json", "`text` is required"),
        (r#"{"text":""}"#, "application/json", "empty"),
        (
            r#"{"text":"hi","reply":{"in_reply_to_tweet_id":"12ab"}}"#,
            "application/json",
            "does not match",
        ),
        (
            r#"{"text":"hi","reply":{"in_reply_to_tweet_id":"12345678901234567890"}}"#,
            "application/json",
            "does not match",
        ),
        (
            r#"{"text":"hi","reply":{"in_reply_to_tweet_id":"42"}}"#,
            "application/json",
            "deleted or is not visible",
        ),
    ];
    for (body, content_type, message) in cases {
        let answer = try_body(body, content_type);
        assert_eq!(answer.status, 400, "{body}: {answer:?}");
        assert_eq!(answer.body["title"], "Invalid Request");
        assert!(
            answer.body["type"]
                .as_str()
                .unwrap()
                .ends_with("/2/problems/invalid-request")
        );
        let said = answer.body["errors"][0]["message"].as_str().unwrap();
        assert!(said.contains(message), "{body}: {said}");
    }
    assert!(x.sandbox.posts().is_empty());
}

#[test]
fn length_follows_twitter_text_weights() {
    let x = sandbox(&["ann"]);
    // CJK weighs 2: 140 of them are exactly 280, 141 are too long.
    let at_limit = "の".repeat(140);
    assert_eq!(post(&x.api_base(), "ann", &at_limit).status, 201);
    let over = post(&x.api_base(), "ann", &"の".repeat(141));
    assert_eq!(over.status, 400);
    assert_eq!(
        over.body["errors"][0]["message"],
        "Your Tweet text is too long."
    );
    // A URL counts 23 however long it is.
    let url = format!(
        "{} https://example.com/{}",
        "a".repeat(250),
        "b".repeat(100)
    );
    assert_eq!(post(&x.api_base(), "ann", &url).status, 201);
    let invalid = post(&x.api_base(), "ann", "bad \u{FFFE} char");
    assert_eq!(invalid.status, 400);
}

#[test]
fn replies_must_name_an_existing_post_and_the_same_text_twice_is_403() {
    let x = sandbox(&["ann", "ben"]);
    let first = post(&x.api_base(), "ann", "first");
    let id = first.body["data"]["id"].as_str().unwrap().to_string();
    let reply =
        serde_json::json!({"text": "second", "reply": {"in_reply_to_tweet_id": id}}).to_string();
    let answer = send(
        &x.api_base(),
        "POST",
        "/2/tweets",
        &Signing::as_bot("ann"),
        Some(&reply),
        "application/json",
    )
    .unwrap();
    assert_eq!(answer.status, 201, "{answer:?}");
    assert_eq!(
        x.sandbox.posts()[1].reply_to.map(|id| id.to_string()),
        Some(id)
    );

    let again = post(&x.api_base(), "ann", "first");
    assert_eq!(again.status, 403);
    assert_eq!(
        again.body["detail"],
        "You are not allowed to create a Tweet with duplicate content."
    );
    assert_eq!(
        post(&x.api_base(), "ben", "first").status,
        201,
        "duplicates are per account"
    );
}

#[test]
fn the_free_tier_allows_17_posts_a_day_then_429_with_the_reset() {
    let x = TestX::for_bots(&["ann"], free_tier());
    for i in 0..17 {
        let answer = post(&x.api_base(), "ann", &format!("line {i}"));
        assert_eq!(answer.status, 201, "post {i}");
        assert_eq!(answer.number("x-user-limit-24hour-remaining"), 16 - i);
    }
    let refused = post(&x.api_base(), "ann", "line 17");
    assert_eq!(refused.status, 429);
    assert_eq!(refused.body["title"], "Too Many Requests");
    assert_eq!(refused.number("x-rate-limit-remaining"), 0);
    assert_eq!(refused.number("x-user-limit-24hour-remaining"), 0);
    let reset = refused.number("x-user-limit-24hour-reset");
    assert!(
        reset >= signed::now() + 24 * 3600 - 60,
        "resets a day after the first post"
    );
}

#[test]
fn an_apps_daily_quota_is_shared_by_its_accounts() {
    // Both test bots share no consumer key by default; give ben ann's app.
    let mut ben = crate::support::x::account("ben", &credentials("ben")[3]);
    let ann = crate::support::x::account("ann", &credentials("ann")[3]);
    ben.credentials.consumer_key = ann.credentials.consumer_key.clone();
    ben.credentials.consumer_secret = ann.credentials.consumer_secret.clone();
    let x = TestX::with_accounts(&[ann, ben], free_tier());
    for i in 0..10 {
        assert_eq!(post(&x.api_base(), "ann", &format!("ann {i}")).status, 201);
    }
    let ben_post = |i: usize| {
        let body = serde_json::json!({ "text": format!("ben {i}") }).to_string();
        let mut signing = Signing::as_bot("ben");
        signing.app = "ann".into();
        send(
            &x.api_base(),
            "POST",
            "/2/tweets",
            &signing,
            Some(&body),
            "application/json",
        )
        .unwrap()
    };
    for i in 0..7 {
        assert_eq!(ben_post(i).status, 201, "ben's post {i}");
    }
    let refused = ben_post(7);
    assert_eq!(refused.status, 429);
    assert_eq!(refused.number("x-app-limit-24hour-remaining"), 0);
    assert_eq!(
        refused.number("x-user-limit-24hour-remaining"),
        10,
        "ben himself posted only 7"
    );
}

#[test]
fn credits_run_out_with_402() {
    let x = TestX::for_bots(
        &["ann"],
        Config {
            credits: Some(2),
            ..Config::default()
        },
    );
    assert_eq!(post(&x.api_base(), "ann", "one").status, 201);
    assert_eq!(post(&x.api_base(), "ann", "two").status, 201);
    let refused = post(&x.api_base(), "ann", "three");
    assert_eq!(refused.status, 402);
    assert_eq!(refused.body["title"], "CreditsDepleted");
    assert!(
        refused.body["type"]
            .as_str()
            .unwrap()
            .ends_with("/2/problems/credits")
    );
}

#[test]
fn me_and_delete_answer_like_x() {
    let x = sandbox(&["ann", "ben"]);
    let me = send(
        &x.api_base(),
        "GET",
        "/2/users/me",
        &Signing::as_bot("ann"),
        None,
        "",
    )
    .unwrap();
    assert_eq!(me.status, 200);
    assert_eq!(me.body["data"]["username"], "ann");
    assert!(
        me.body["data"]["id"]
            .as_str()
            .unwrap()
            .bytes()
            .all(|b| b.is_ascii_digit())
    );

    let id = post(&x.api_base(), "ann", "to be deleted").body["data"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/2/tweets/{id}");
    let delete_as = |name: &str| {
        send(
            &x.api_base(),
            "DELETE",
            &path,
            &Signing::as_bot(name),
            None,
            "",
        )
        .unwrap()
    };
    assert_eq!(delete_as("ben").status, 403, "not hers to delete");
    let deleted = delete_as("ann");
    assert_eq!(deleted.status, 200);
    assert_eq!(deleted.body["data"]["deleted"], true);
    assert_eq!(delete_as("ann").status, 404, "already gone");
    assert!(x.sandbox.posts().is_empty());
    assert_eq!(
        post(&x.api_base(), "ann", "to be deleted").status,
        201,
        "no longer a duplicate"
    );
}

#[test]
fn fault_rates_hold_within_tolerance() {
    let config = Config {
        faults: Faults {
            fail_rate: 0.3,
            drop_rate: 0.2,
            hang_rate: 0.1,
            latency: Duration::ZERO,
        },
        seed: Some(7),
        ..Config::default()
    };
    let x = TestX::for_bots(&["ann"], config);
    let n = 300;
    let (mut failed, mut dropped, mut hung) = (0, 0, 0);
    for i in 0..n {
        let body = serde_json::json!({ "text": format!("post {i}") }).to_string();
        let signing = Signing::as_bot("ann");
        let wait = Duration::from_millis(200);
        match signed::send_within(
            &x.api_base(),
            "POST",
            "/2/tweets",
            &signing,
            Some(&body),
            "application/json",
            wait,
        ) {
            Ok(answer) if answer.status == 503 => failed += 1,
            Ok(_) => {}
            Err(ureq::Error::Timeout(_)) => hung += 1,
            Err(_) => dropped += 1,
        }
    }
    let rate = |count: i32| f64::from(count) / f64::from(n);
    assert!(
        (0.22..=0.38).contains(&rate(failed)),
        "503 rate {}",
        rate(failed)
    );
    assert!(
        (0.13..=0.27).contains(&rate(dropped)),
        "drop rate {}",
        rate(dropped)
    );
    assert!(
        (0.05..=0.15).contains(&rate(hung)),
        "hang rate {}",
        rate(hung)
    );
}

#[test]
fn dropped_and_hanging_requests_fail_the_client_and_latency_delays_it() {
    let dropping = TestX::for_bots(
        &["ann"],
        Config {
            faults: Faults {
                drop_rate: 1.0,
                ..Faults::default()
            },
            ..Config::default()
        },
    );
    let body = r#"{"text":"hi"}"#;
    let dropped = send(
        &dropping.api_base(),
        "POST",
        "/2/tweets",
        &Signing::as_bot("ann"),
        Some(body),
        "application/json",
    );
    assert!(
        dropped.is_err(),
        "a dropped connection is an error, not an answer: {dropped:?}"
    );

    let hanging = TestX::for_bots(
        &["ann"],
        Config {
            faults: Faults {
                hang_rate: 1.0,
                ..Faults::default()
            },
            ..Config::default()
        },
    );
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_millis(300)))
        .build()
        .new_agent();
    let hung = agent
        .get(format!("{}/2/users/me", hanging.api_base()))
        .call();
    assert!(matches!(hung, Err(ureq::Error::Timeout(_))), "{hung:?}");

    let slow = TestX::for_bots(
        &["ann"],
        Config {
            faults: Faults {
                latency: Duration::from_millis(300),
                ..Faults::default()
            },
            ..Config::default()
        },
    );
    let started = Instant::now();
    assert_eq!(post(&slow.api_base(), "ann", "slowly").status, 201);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[test]
fn the_sandbox_command_serves_the_keys_folder_and_writes_the_timeline() {
    let env = Env::new();
    env.bot("ann", &["one"]);
    let server = env.start(&[
        "sandbox",
        "--keys",
        "keys",
        "--port",
        "0",
        "--timeline",
        "timeline.jsonl",
    ]);
    server.wait_for_lines("sandbox: serving a local X API on http://127.0.0.1:", 1);
    let line = server
        .log()
        .into_iter()
        .find(|l| l.contains("serving a local X API on"))
        .unwrap();
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap()
        .to_string();
    let answer = post(&base, "ann", "hello from a test");
    assert_eq!(answer.status, 201, "{answer:?}");
    server.wait_for_lines("sandbox: POST /2/tweets 201 @ann", 1);
    server.signal("INT");
    let finished = server.finish();
    assert_eq!(finished.code, Some(0), "{}", finished.all());
    assert!(
        finished.stdout.starts_with(&base),
        "prints its address: {}",
        finished.stdout
    );
    let timeline = std::fs::read_to_string(env.path("timeline.jsonl")).unwrap();
    let entry: serde_json::Value = serde_json::from_str(timeline.lines().next().unwrap()).unwrap();
    assert_eq!(entry["author"], "ann");
    assert_eq!(entry["text"], "hello from a test");
    assert_eq!(entry["id"], answer.body["data"]["id"]);
    assert!(entry["time"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn run_with_the_sandbox_prints_what_each_bot_posted() {
    let env = Env::new();
    env.bot("ann", &["one", "two"]).bot("ben", &["three"]);
    let flock = env.start(&[
        "run",
        "--sandbox",
        "--line-interval",
        "50ms",
        "--poem-interval",
        "1h",
    ]);
    flock.wait_for_lines("ann: posted line 2/2", 1);
    flock.wait_for_lines("ben: posted line 1/1", 1);
    flock.signal("INT");
    let finished = flock.finish();
    assert_eq!(finished.code, Some(0), "{}", finished.all());
    let report = finished
        .stdout
        .split("posted to the sandbox")
        .nth(1)
        .unwrap_or_default();
    assert!(
        report.contains("ann (2 posts)") && report.contains("ben (1 post)"),
        "{}",
        finished.stdout
    );
}
