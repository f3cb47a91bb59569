//! The X the tests post to: botflock's own sandbox on 127.0.0.1, started in the test process,
//! with an observer that checks every request's OAuth signature with the tests' independent
//! verifier (`oauth.rs`) before the sandbox answers it.

use super::{credentials, oauth};
use botflock::keys::{Account, Credentials};
use botflock::sandbox::http::Request;
use botflock::sandbox::{Config, Observer, Sandbox, timeline::Post};
use botflock::secret::Secret;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

#[derive(Default)]
struct Checks {
    /// token -> (consumer secret, token secret), as registered with the sandbox.
    secrets: Mutex<HashMap<String, (String, String)>>,
    refusals: Mutex<Vec<String>>,
    requests: AtomicUsize,
    /// Every post request as it arrived: (token, text, when), duplicates and failures included.
    attempts: Mutex<Vec<(String, String, Instant)>>,
}

/// A post request as the sandbox received it.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub text: String,
    pub at: Instant,
}

pub struct TestX {
    pub sandbox: Sandbox,
    checks: Arc<Checks>,
}

/// The account `Env::bot` writes a key file for, with a token secret of the test's choosing.
pub fn account(name: &str, token_secret: &str) -> Account {
    let [consumer_key, consumer_secret, token, _] = credentials(name);
    Account {
        screen_name: name.to_string(),
        user_id: None,
        credentials: Credentials {
            consumer_key: Secret::new(consumer_key),
            consumer_secret: Secret::new(consumer_secret),
            token: Secret::new(token),
            token_secret: Secret::new(token_secret),
        },
    }
}

/// `name`'s account, posting through the app of the bot named `app`.
pub fn account_of_app(name: &str, app: &str) -> Account {
    let mut account = account(name, &credentials(name)[3]);
    let [consumer_key, consumer_secret, _, _] = credentials(app);
    account.credentials.consumer_key = Secret::new(consumer_key);
    account.credentials.consumer_secret = Secret::new(consumer_secret);
    account
}

/// The sandbox on X's free tier: 17 posts a day for a user and for an app.
pub fn free_tier() -> Config {
    Config {
        tier: botflock::sandbox::limits::Tier::Free,
        ..Config::default()
    }
}

impl TestX {
    /// A sandbox that knows the standard test credentials of `names`.
    pub fn for_bots(names: &[&str], config: Config) -> TestX {
        let accounts: Vec<Account> = names
            .iter()
            .map(|name| account(name, &credentials(name)[3]))
            .collect();
        TestX::with_accounts(&accounts, config)
    }

    pub fn with_accounts(accounts: &[Account], config: Config) -> TestX {
        let checks = Arc::new(Checks::default());
        for account in accounts {
            let c = &account.credentials;
            checks.secrets.lock().unwrap().insert(
                c.token.expose().to_string(),
                (
                    c.consumer_secret.expose().to_string(),
                    c.token_secret.expose().to_string(),
                ),
            );
        }
        let observer = {
            let checks = Arc::clone(&checks);
            Observer(Arc::new(move |request: &Request| check(&checks, request)))
        };
        let config = Config {
            observer: Some(observer),
            ..config
        };
        let sandbox = Sandbox::start(config, accounts).expect("the sandbox starts");
        TestX { sandbox, checks }
    }

    pub fn api_base(&self) -> String {
        self.sandbox.api_base()
    }

    pub fn posts_by(&self, author: &str) -> Vec<Post> {
        self.sandbox
            .posts()
            .into_iter()
            .filter(|post| post.author == author)
            .collect()
    }

    /// Every post request `author` sent, in order of arrival.
    pub fn attempts_by(&self, author: &str) -> Vec<Attempt> {
        let token = &credentials(author)[2];
        self.checks
            .attempts
            .lock()
            .unwrap()
            .iter()
            .filter(|(from, _, _)| from == token)
            .map(|(_, text, at)| Attempt {
                text: text.clone(),
                at: *at,
            })
            .collect()
    }

    /// Requests the sandbox received, faults included.
    pub fn requests(&self) -> usize {
        self.checks.requests.load(Ordering::SeqCst)
    }

    /// Why the independent verifier refused requests, one entry each.
    pub fn refusals(&self) -> Vec<String> {
        self.checks.refusals.lock().unwrap().clone()
    }
}

fn check(checks: &Checks, request: &Request) {
    checks.requests.fetch_add(1, Ordering::SeqCst);
    if request.method == "POST" && request.path == "/2/tweets" {
        let header = request.header("Authorization").unwrap_or_default();
        let token = oauth::parse_header(header)
            .and_then(|params| params.into_iter().find(|(key, _)| key == "oauth_token"))
            .map(|(_, token)| token)
            .unwrap_or_default();
        let text = serde_json::from_slice::<serde_json::Value>(&request.body)
            .ok()
            .and_then(|body| body["text"].as_str().map(str::to_string))
            .unwrap_or_default();
        checks
            .attempts
            .lock()
            .unwrap()
            .push((token, text, Instant::now()));
    }
    let url = format!(
        "http://{}{}",
        request.header("Host").unwrap_or_default(),
        request.path
    );
    let secrets = checks.secrets.lock().unwrap().clone();
    let verdict = oauth::verify(
        &request.method,
        &url,
        request.header("Authorization").unwrap_or_default(),
        |_consumer, token| secrets.get(token).cloned(),
    );
    if let Err(why) = verdict {
        checks.refusals.lock().unwrap().push(why);
    }
}
