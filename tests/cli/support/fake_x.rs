//! A fake X API on 127.0.0.1 for the integration tests: it checks every request's OAuth
//! signature with the tests' own verifier and records what each account posted.

use super::oauth;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One accepted post, as the fake saw it.
#[derive(Debug, Clone)]
pub struct Post {
    pub author: String,
    pub text: String,
    pub at: Instant,
}

/// How the fake answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Verify and accept.
    Normal,
    /// Accept the connection and the request, never answer.
    Hang,
}

#[derive(Default)]
struct Shared {
    /// oauth_token -> (consumer secret, token secret, screen name)
    accounts: Mutex<HashMap<String, (String, String, String)>>,
    posts: Mutex<Vec<Post>>,
    rejected: Mutex<Vec<String>>,
    requests: AtomicUsize,
}

pub struct FakeX {
    pub port: u16,
    shared: Arc<Shared>,
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeX {
    pub fn start(mode: Mode) -> FakeX {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("bind a loopback port");
        let port = server.server_addr().to_ip().expect("an IP listener").port();
        let shared = Arc::new(Shared::default());
        let done = Arc::new(AtomicBool::new(false));
        let thread = {
            let shared = Arc::clone(&shared);
            let done = Arc::clone(&done);
            std::thread::spawn(move || {
                let mut held = Vec::new();
                while !done.load(Ordering::SeqCst) {
                    let Ok(Some(request)) = server.recv_timeout(Duration::from_millis(20)) else {
                        continue;
                    };
                    shared.requests.fetch_add(1, Ordering::SeqCst);
                    match mode {
                        Mode::Hang => held.push(request),
                        Mode::Normal => answer(&shared, port, request),
                    }
                }
            })
        };
        FakeX {
            port,
            shared,
            done,
            thread: Some(thread),
        }
    }

    pub fn api_base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn register(
        &self,
        screen_name: &str,
        token: &str,
        consumer_secret: &str,
        token_secret: &str,
    ) {
        self.shared.accounts.lock().unwrap().insert(
            token.to_string(),
            (
                consumer_secret.to_string(),
                token_secret.to_string(),
                screen_name.to_string(),
            ),
        );
    }

    pub fn posts(&self) -> Vec<Post> {
        self.shared.posts.lock().unwrap().clone()
    }

    pub fn posts_by(&self, author: &str) -> Vec<Post> {
        self.posts()
            .into_iter()
            .filter(|p| p.author == author)
            .collect()
    }

    pub fn rejected(&self) -> Vec<String> {
        self.shared.rejected.lock().unwrap().clone()
    }

    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }
}

impl Drop for FakeX {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn answer(shared: &Shared, port: u16, mut request: tiny_http::Request) {
    let header = |name: &str| {
        request
            .headers()
            .iter()
            .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str().to_string())
    };
    let authorization = header("Authorization").unwrap_or_default();
    let content_type = header("Content-Type").unwrap_or_default();
    let url = format!("http://127.0.0.1:{port}{}", request.url());
    let method = request.method().as_str().to_string();
    let mut body = String::new();
    let _ = request.as_reader().read_to_string(&mut body);
    if method != "POST" || request.url() != "/2/tweets" {
        return respond(
            request,
            404,
            r#"{"title":"Not Found Error","type":"about:blank"}"#,
        );
    }
    let accounts = shared.accounts.lock().unwrap().clone();
    let verified = oauth::verify(&method, &url, &authorization, |_consumer, token| {
        accounts
            .get(token)
            .map(|(consumer_secret, token_secret, _)| {
                (consumer_secret.clone(), token_secret.clone())
            })
    });
    let token = match verified {
        Ok((_, token)) => token,
        Err(why) => {
            shared.rejected.lock().unwrap().push(why);
            return respond(
                request,
                401,
                r#"{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}"#,
            );
        }
    };
    let text = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|json| json["text"].as_str().map(str::to_string));
    let (Some(text), true) = (text, content_type.starts_with("application/json")) else {
        return respond(
            request,
            400,
            r#"{"title":"Invalid Request","type":"about:blank"}"#,
        );
    };
    let author = accounts[&token].2.clone();
    let mut posts = shared.posts.lock().unwrap();
    posts.push(Post {
        author,
        text: text.clone(),
        at: Instant::now(),
    });
    let id = (1_000_000 + posts.len()).to_string();
    drop(posts);
    let body =
        serde_json::json!({"data": {"id": id, "text": text, "edit_history_tweet_ids": [id]}});
    respond(request, 201, &body.to_string());
}

fn respond(request: tiny_http::Request, status: u16, body: &str) {
    let content_type =
        tiny_http::Header::from_bytes("Content-Type", "application/json").expect("valid header");
    let response = tiny_http::Response::from_string(body)
        .with_status_code(status)
        .with_header(content_type);
    let _ = request.respond(response);
}
