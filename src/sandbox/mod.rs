//! A local X API that behaves like the real one, for running and testing a flock with no account
//! and no cost: OAuth 1.0a checks, X's length and duplicate rules, per-tier rate limits, credit,
//! and faults on demand. Every status, body and header follows x-api.md.
//!
//! Shared state: one `World` behind a mutex (accounts, counters, nonces, timeline); it is held
//! only while a request is decided, never while an answer is delayed or withheld.

mod answers;
pub mod faults;
pub mod http;
pub mod limits;
pub mod oauth;
mod signin;
pub mod timeline;

use crate::keys::Account;
use crate::length;
use answers::{
    invalid_request, not_found, oauth_problem, too_many_requests, unauthorized, user_id_for,
};
use faults::{Fault, Faults};
use http::{Reply, Request, Response, problem_body};
use limits::{Counter, Limit, Tier};
use rand::{RngExt, SeedableRng, rngs::StdRng};
use signin::Pending;
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};
use timeline::{Post, Timeline};

/// How the sandbox behaves.
#[derive(Debug, Clone)]
pub struct Config {
    /// 0 picks a free port.
    pub port: u16,
    pub tier: Tier,
    /// Each app runs out of credit after this many posts (402).
    pub credits: Option<u64>,
    pub faults: Faults,
    /// Every accepted post is appended here, one JSON object per line.
    pub timeline: Option<PathBuf>,
    /// The level at which each request is logged.
    pub request_log: log::Level,
    /// Seeds the fault dice, for repeatable runs.
    pub seed: Option<u64>,
    /// Sees every request before the sandbox answers it (tests check signatures with it).
    pub observer: Option<Observer>,
}

/// A function shown every request the sandbox receives.
#[derive(Clone)]
pub struct Observer(pub Arc<dyn Fn(&Request) + Send + Sync>);

impl std::fmt::Debug for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Observer")
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            port: 0,
            tier: Tier::Payg,
            credits: None,
            faults: Faults::default(),
            timeline: None,
            request_log: log::Level::Info,
            seed: None,
            observer: None,
        }
    }
}

struct App {
    secret: String,
    day: Counter,
    posts: u64,
}

struct User {
    consumer_key: String,
    token_secret: String,
    screen_name: String,
    id: String,
    window: Counter,
    day: Counter,
}

struct World {
    config: Config,
    pending: HashMap<String, Pending>,
    signed_up: u64,
    apps: HashMap<String, App>,
    /// By access token.
    users: HashMap<String, User>,
    nonces: oauth::Nonces,
    timeline: Timeline,
    dice: StdRng,
    last_id: u64,
}

/// A running sandbox. Dropping it (or `stop`) closes every connection and joins every thread.
pub struct Sandbox {
    server: http::Server,
    world: Arc<Mutex<World>>,
}

impl Sandbox {
    pub fn start(config: Config, accounts: &[Account]) -> io::Result<Sandbox> {
        config
            .faults
            .check()
            .map_err(|error| io::Error::new(io::ErrorKind::InvalidInput, error))?;
        let timeline = match &config.timeline {
            Some(path) => Timeline::with_file(path).map_err(|error| {
                io::Error::new(
                    error.kind(),
                    format!("cannot open timeline file {}: {error}", path.display()),
                )
            })?,
            None => Timeline::default(),
        };
        let dice = match config.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => rand::make_rng(),
        };
        let port = config.port;
        let world = Arc::new(Mutex::new(World {
            config,
            pending: HashMap::new(),
            signed_up: 0,
            apps: HashMap::new(),
            users: HashMap::new(),
            nonces: oauth::Nonces::default(),
            timeline,
            dice,
            last_id: 0,
        }));
        {
            let mut world = lock(&world);
            for account in accounts {
                world.register(account);
            }
        }
        let handler = {
            let world = Arc::clone(&world);
            Arc::new(move |request: &Request| handle(&world, request))
        };
        let server = http::Server::start(port, handler)?;
        Ok(Sandbox { server, world })
    }

    pub fn address(&self) -> SocketAddr {
        self.server.address()
    }

    /// The API base a client should use.
    pub fn api_base(&self) -> String {
        format!("http://{}", self.address())
    }

    pub fn register(&self, account: &Account) {
        lock(&self.world).register(account);
    }

    /// How many posts it accepted, and from how many accounts: cheap to ask often.
    pub fn counts(&self) -> (usize, usize) {
        let world = lock(&self.world);
        let authors = world
            .users
            .values()
            .filter(|user| user.day != Counter::default())
            .count();
        (world.timeline.accepted(), authors)
    }

    /// Every live post, oldest first.
    pub fn posts(&self) -> Vec<Post> {
        lock(&self.world).timeline.posts()
    }

    pub fn stop(self) {
        self.server.stop();
    }
}

fn lock(world: &Mutex<World>) -> MutexGuard<'_, World> {
    // A panic mid-request leaves at worst one request half-counted; the sandbox keeps serving.
    world
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

impl World {
    fn register(&mut self, account: &Account) {
        let credentials = &account.credentials;
        let app = self
            .apps
            .entry(credentials.consumer_key.expose().to_string())
            .or_insert_with(|| App {
                secret: String::new(),
                day: Counter::default(),
                posts: 0,
            });
        app.secret = credentials.consumer_secret.expose().to_string();
        let id = account
            .user_id
            .clone()
            .unwrap_or_else(|| user_id_for(&account.screen_name));
        let token = credentials.token.expose();
        if let Some(other) = self.users.get(token)
            && other.screen_name != account.screen_name
        {
            log::warn!(
                "sandbox: {} and {} have the same oauth_token; the sandbox takes it as {}",
                other.screen_name,
                account.screen_name,
                account.screen_name
            );
        }
        self.users.insert(
            token.to_string(),
            User {
                consumer_key: credentials.consumer_key.expose().to_string(),
                token_secret: credentials.token_secret.expose().to_string(),
                screen_name: account.screen_name.clone(),
                id,
                window: Counter::default(),
                day: Counter::default(),
            },
        );
    }

    /// A new post id: a 19-digit snowflake-like number that only grows.
    fn next_id(&mut self) -> u64 {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_millis() as u64);
        // X's ids are milliseconds since 2010-11-04 shifted left 22 bits, plus a sequence.
        const X_EPOCH_MILLIS: u64 = 1_288_834_974_657;
        let id = (millis.saturating_sub(X_EPOCH_MILLIS) << 22).max(self.last_id + 1);
        self.last_id = id;
        id
    }

    /// Checks the request's signature against the accounts and the pending request tokens.
    fn authenticate(
        &mut self,
        request: &Request,
        now: u64,
    ) -> Result<oauth::Signed, oauth::Refusal> {
        let host = request
            .header("Host")
            .unwrap_or("127.0.0.1")
            .to_ascii_lowercase();
        let host = host.strip_suffix(":80").unwrap_or(&host);
        let url = format!("http://{host}{}", request.path);
        let mut params = oauth::parse_pairs(&request.query);
        if request
            .header("Content-Type")
            .is_some_and(|kind| kind.starts_with("application/x-www-form-urlencoded"))
        {
            params.extend(oauth::parse_pairs(&String::from_utf8_lossy(&request.body)));
        }
        let presented = oauth::Presented {
            method: &request.method,
            url: &url,
            authorization: request.header("Authorization"),
            params,
        };
        let apps = &self.apps;
        let users = &self.users;
        let pending = &self.pending;
        oauth::verify(
            &presented,
            |consumer| apps.get(consumer).map(|app| app.secret.clone()),
            |consumer, token| {
                let user = users
                    .get(token)
                    .filter(|user| user.consumer_key == consumer)
                    .map(|user| user.token_secret.clone());
                user.or_else(|| {
                    pending
                        .get(token)
                        .filter(|request| request.consumer_key == consumer)
                        .map(|request| request.secret.clone())
                })
            },
            &mut self.nonces,
            now,
        )
    }

    fn limit_headers(&self, token: &str, response: Response, now: u64) -> Response {
        let limits = self.config.tier.limits();
        let Some(user) = self.users.get(token) else {
            return response;
        };
        let app_day = self
            .apps
            .get(&user.consumer_key)
            .map(|app| app.day)
            .unwrap_or_default();
        let mut response = response;
        for (prefix, counter, limit) in [
            ("x-rate-limit", user.window, limits.window),
            ("x-user-limit-24hour", user.day, limits.user_day),
            ("x-app-limit-24hour", app_day, limits.app_day),
        ] {
            let shown = counter.shown(limit, now);
            response = response
                .with_header(&format!("{prefix}-limit"), shown.limit)
                .with_header(&format!("{prefix}-remaining"), shown.remaining)
                .with_header(&format!("{prefix}-reset"), shown.reset);
        }
        response
    }

    fn post(&mut self, request: &Request, token: &str, now: u64) -> Response {
        let limits = self.config.tier.limits();
        let Some(user) = self.users.get_mut(token) else {
            return unauthorized();
        };
        let spent = |counter: &Counter, limit: Limit| counter.is_spent(limit, now);
        if spent(&user.window, limits.window) {
            return too_many_requests();
        }
        user.window.spend(limits.window, now);
        if spent(&user.day, limits.user_day) {
            return too_many_requests();
        }
        let consumer_key = user.consumer_key.clone();
        let (author, author_id) = (user.screen_name.clone(), user.id.clone());
        let Some(app) = self.apps.get(&consumer_key) else {
            return unauthorized();
        };
        if spent(&app.day, limits.app_day) {
            return too_many_requests();
        }
        if self
            .config
            .credits
            .is_some_and(|credits| app.posts >= credits)
        {
            return Response::json(
                402,
                serde_json::json!({
                    "title": "CreditsDepleted",
                    "detail": format!("Your enrolled account [{author_id}] does not have any credits to fulfill this request."),
                    "type": "https://api.twitter.com/2/problems/credits",
                })
                .to_string(),
            );
        }
        let (text, reply_to) = match self.read_post(request) {
            Ok(post) => post,
            Err(response) => return response,
        };
        if self.timeline.is_duplicate(&author, &text) {
            return Response::json(
                403,
                problem_body(
                    403,
                    "Forbidden",
                    "You are not allowed to create a Tweet with duplicate content.",
                ),
            );
        }
        let id = self.next_id();
        let stored = self.timeline.add(Post {
            id,
            author: author.clone(),
            author_id,
            text: text.clone(),
            reply_to,
            time: SystemTime::now(),
        });
        if let Err(error) = stored {
            log::error!("sandbox: cannot append to the timeline file: {error}");
        }
        if let Some(user) = self.users.get_mut(token) {
            user.day.spend(limits.user_day, now);
        }
        if let Some(app) = self.apps.get_mut(&consumer_key) {
            app.day.spend(limits.app_day, now);
            app.posts += 1;
        }
        let id = id.to_string();
        Response::json(
            201,
            serde_json::json!({"data": {"id": id, "text": text, "edit_history_tweet_ids": [id]}})
                .to_string(),
        )
    }

    /// The text and reply target of a post request, or X's 400 answer.
    fn read_post(&self, request: &Request) -> Result<(String, Option<u64>), Response> {
        let is_json = request
            .header("Content-Type")
            .is_some_and(|kind| kind.trim().starts_with("application/json"));
        if !is_json {
            return Err(invalid_request("Content-Type must be application/json."));
        }
        let body: serde_json::Value = serde_json::from_slice(&request.body).map_err(|error| {
            invalid_request(&format!("The request body is not valid JSON: {error}"))
        })?;
        let object = body
            .as_object()
            .ok_or_else(|| invalid_request("The request body must be a JSON object."))?;
        let allowed = [
            "text",
            "reply",
            "quote_tweet_id",
            "media",
            "poll",
            "geo",
            "for_super_followers_only",
            "direct_message_deep_link",
            "reply_settings",
            "nullcast",
            "community_id",
            "card_uri",
            "share_with_followers",
            "made_with_ai",
            "paid_partnership",
        ];
        if let Some(unknown) = object.keys().find(|key| !allowed.contains(&key.as_str())) {
            return Err(invalid_request(&format!(
                "The following properties are not allowed: [{unknown}]"
            )));
        }
        let text = match object.get("text") {
            Some(serde_json::Value::String(text)) => text.clone(),
            Some(_) => return Err(invalid_request("`text` must be a string.")),
            None => return Err(invalid_request("`text` is required.")),
        };
        if let Err(problem) = length::check(&text) {
            let message = match problem {
                length::TextProblem::Empty => "Tweet text is empty.".to_string(),
                length::TextProblem::TooLong { .. } => "Your Tweet text is too long.".to_string(),
                length::TextProblem::InvalidCharacter { .. } => {
                    "Your Tweet text contains an invalid character.".to_string()
                }
            };
            return Err(invalid_request(&message));
        }
        let reply_to = match object.get("reply") {
            None => None,
            Some(reply) => Some(self.reply_target(reply)?),
        };
        Ok((text, reply_to))
    }

    fn reply_target(&self, reply: &serde_json::Value) -> Result<u64, Response> {
        let Some(reply) = reply.as_object() else {
            return Err(invalid_request("`reply` must be an object."));
        };
        if let Some(unknown) = reply
            .keys()
            .find(|key| !["in_reply_to_tweet_id", "exclude_reply_user_ids"].contains(&key.as_str()))
        {
            return Err(invalid_request(&format!(
                "The following properties are not allowed: [reply.{unknown}]"
            )));
        }
        let id_text = reply
            .get("in_reply_to_tweet_id")
            .and_then(|id| id.as_str())
            .ok_or_else(|| {
                invalid_request("`reply.in_reply_to_tweet_id` is required and must be a string.")
            })?;
        let well_formed =
            (1..=19).contains(&id_text.len()) && id_text.bytes().all(|b| b.is_ascii_digit());
        let id = id_text
            .parse::<u64>()
            .ok()
            .filter(|_| well_formed)
            .ok_or_else(|| {
                invalid_request(&format!(
                    "The `in_reply_to_tweet_id` value [{id_text}] does not match ^[0-9]{{1,19}}$"
                ))
            })?;
        if !self.timeline.exists(id) {
            return Err(invalid_request(&format!(
                "Your Tweet is a reply to a Tweet [{id}] that has been deleted or is not visible to you."
            )));
        }
        Ok(id)
    }

    fn delete(&mut self, token: &str, id_text: &str) -> Response {
        let Some(user) = self.users.get(token) else {
            return unauthorized();
        };
        let Ok(id) = id_text.parse::<u64>() else {
            return invalid_request(&format!(
                "The `id` value [{id_text}] does not match ^[0-9]{{1,19}}$"
            ));
        };
        match self.timeline.author_of(id) {
            None => Response::json(
                404,
                serde_json::json!({
                    "title": "Not Found Error",
                    "detail": format!("Could not find tweet with id: [{id}]."),
                    "type": "https://api.twitter.com/2/problems/resource-not-found",
                })
                .to_string(),
            ),
            Some(author) if author != user.screen_name => Response::json(
                403,
                problem_body(
                    403,
                    "Forbidden",
                    "You are not allowed to delete a Tweet that is not yours.",
                ),
            ),
            Some(_) => {
                if let Err(error) = self.timeline.delete(id) {
                    log::error!("sandbox: cannot append to the timeline file: {error}");
                }
                Response::json(200, r#"{"data":{"deleted":true}}"#)
            }
        }
    }

    fn me(&self, token: &str) -> Response {
        match self.users.get(token) {
            Some(user) => Response::json(
                200,
                serde_json::json!({"data": {"id": user.id, "name": user.screen_name, "username": user.screen_name}})
                    .to_string(),
            ),
            None => unauthorized(),
        }
    }
}

/// Decides the answer to one request and logs it in one line.
fn handle(world: &Mutex<World>, request: &Request) -> Reply {
    let mut world = lock(world);
    if let Some(Observer(observe)) = &world.config.observer {
        observe(request);
    }
    let now = unix_now();
    let roll: f64 = world.dice.random();
    let fault = world.config.faults.pick(roll);
    let latency = world.config.faults.latency;
    let level = world.config.request_log;
    let (reply, who) = match fault {
        Fault::Hang => (Reply::Hang, String::new()),
        Fault::Drop => (Reply::Drop, String::new()),
        Fault::Fail => (
            Reply::Answer(Response::json(
                503,
                problem_body(503, "Service Unavailable", "Service Unavailable"),
            )),
            String::new(),
        ),
        Fault::None => route(&mut world, request, now),
    };
    drop(world);
    let outcome = match &reply {
        Reply::Answer(response) => response.status.to_string(),
        Reply::Drop => "dropped (fault)".to_string(),
        Reply::Hang => "left hanging (fault)".to_string(),
    };
    log::log!(
        level,
        "sandbox: {} {} {outcome}{who}",
        request.method,
        request.path
    );
    match reply {
        Reply::Answer(mut response) => {
            response.delay = latency;
            Reply::Answer(response)
        }
        other => other,
    }
}

fn route(world: &mut World, request: &Request, now: u64) -> (Reply, String) {
    let path = request.path.as_str();
    let method = request.method.as_str();
    if (method, path) == ("GET", "/oauth/authorize") {
        return (Reply::Answer(world.authorize(request)), String::new());
    }
    let oauth_step = matches!(path, "/oauth/request_token" | "/oauth/access_token");
    let known = oauth_step
        || path == "/2/tweets"
        || path == "/2/users/me"
        || path.starts_with("/2/tweets/");
    if !known {
        return (Reply::Answer(not_found(path)), String::new());
    }
    let signed = match world.authenticate(request, now) {
        Ok(signed) => signed,
        Err(refusal) => {
            return (Reply::Answer(unauthorized()), format!(" ({refusal})"));
        }
    };
    if oauth_step {
        let response = match (method, path) {
            ("POST", "/oauth/request_token") => world.request_token(&signed),
            ("POST", _) => world.access_token(&signed),
            _ => oauth_problem(405, "use POST"),
        };
        return (Reply::Answer(response), String::new());
    }
    let Some(token) = signed.token.filter(|token| world.users.contains_key(token)) else {
        return (
            Reply::Answer(unauthorized()),
            " (no account token)".to_string(),
        );
    };
    let who = world
        .users
        .get(&token)
        .map(|user| format!(" @{}", user.screen_name))
        .unwrap_or_default();
    let response = match (method, path) {
        ("POST", "/2/tweets") => world.post(request, &token, now),
        ("GET", "/2/users/me") => world.me(&token),
        ("DELETE", _) if path.starts_with("/2/tweets/") => {
            world.delete(&token, &path["/2/tweets/".len()..])
        }
        _ => Response::json(
            405,
            problem_body(
                405,
                "Method Not Allowed",
                &format!("{method} is not allowed on {path}"),
            ),
        ),
    };
    let response = world.limit_headers(&token, response, now);
    (Reply::Answer(response), who)
}
