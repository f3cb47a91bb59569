//! The X client: the only module that speaks HTTP (ureq) or signs requests (oauth1).
//! One `Client` is shared by the whole flock so connections are reused.

use crate::keys::Credentials;
use crate::resolve::CachingResolver;
use std::fmt;
use std::time::Duration;
use ureq::http::{HeaderMap, Uri};
use ureq::unversioned::transport::{
    ConnectProxyConnector, Connector, RustlsConnector, SocksConnector,
};

/// Where the X API is: `https://api.x.com` by default, a loopback sandbox in tests.
/// Held normalized (lowercase scheme and host, no default port, no trailing slash) because
/// that is the exact form OAuth signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiBase(String);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadApiBase {
    NotAUrl { text: String },
    PlainHttp { text: String },
}

impl fmt::Display for BadApiBase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadApiBase::NotAUrl { text } => write!(
                f,
                "API base `{text}` is not an http(s) URL: write it like https://api.x.com"
            ),
            BadApiBase::PlainHttp { text } => write!(
                f,
                "API base `{text}` is plain http: credentials are sent over http only to \
                 loopback (127.0.0.1, localhost, [::1]); use https"
            ),
        }
    }
}

impl std::error::Error for BadApiBase {}

impl ApiBase {
    pub fn parse(text: &str) -> Result<ApiBase, BadApiBase> {
        let not_a_url = || BadApiBase::NotAUrl {
            text: text.to_string(),
        };
        let uri: Uri = text.trim().parse().map_err(|_| not_a_url())?;
        let scheme = uri.scheme_str().ok_or_else(not_a_url)?.to_ascii_lowercase();
        let host = uri.host().ok_or_else(not_a_url)?.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => return Err(not_a_url()),
        };
        if uri.query().is_some() {
            return Err(not_a_url());
        }
        let loopback = host == "localhost" || host == "[::1]" || host.starts_with("127.");
        if scheme == "http" && !loopback {
            return Err(BadApiBase::PlainHttp {
                text: text.to_string(),
            });
        }
        let port = match uri.port_u16() {
            Some(port) if port != default_port => format!(":{port}"),
            _ => String::new(),
        };
        let path = uri.path().trim_end_matches('/');
        Ok(ApiBase(format!("{scheme}://{host}{port}{path}")))
    }

    /// The full URL of an API path such as `/2/tweets`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }
}

impl fmt::Display for ApiBase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One quota from the rate-limit headers; every part is optional because X sends some only
/// sometimes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quota {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    /// Unix epoch seconds.
    pub reset: Option<u64>,
}

/// The quotas X reports on an answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimits {
    /// The endpoint's 15-minute window for this user.
    pub window: Quota,
    /// This user's 24-hour posting quota.
    pub user_day: Quota,
    /// The app's (consumer key's) 24-hour quota, shared by every bot of the app.
    pub app_day: Quota,
}

impl RateLimits {
    fn from_headers(headers: &HeaderMap) -> RateLimits {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.trim().parse::<u64>().ok())
        };
        let quota = |[limit, remaining, reset]: [&str; 3]| Quota {
            limit: number(limit),
            remaining: number(remaining),
            reset: number(reset),
        };
        RateLimits {
            window: quota([
                "x-rate-limit-limit",
                "x-rate-limit-remaining",
                "x-rate-limit-reset",
            ]),
            user_day: quota([
                "x-user-limit-24hour-limit",
                "x-user-limit-24hour-remaining",
                "x-user-limit-24hour-reset",
            ]),
            app_day: quota([
                "x-app-limit-24hour-limit",
                "x-app-limit-24hour-remaining",
                "x-app-limit-24hour-reset",
            ]),
        }
    }
}

/// X's problem details (RFC 7807), or the older `errors` array, read leniently.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problem {
    pub title: Option<String>,
    pub detail: Option<String>,
    pub kind: Option<String>,
    /// The `message` (or `detail`) of each entry of `errors`: where X says what exactly was
    /// wrong ("Your Tweet text is too long.") when `detail` is generic.
    pub errors: Vec<String>,
}

impl Problem {
    fn from_body(body: &str) -> Problem {
        let Ok(json) = serde_json::from_str::<serde_json::Value>(body) else {
            return Problem::default();
        };
        let text = |value: &serde_json::Value| value.as_str().map(str::to_string);
        let errors = json
            .get("errors")
            .and_then(|errors| errors.as_array())
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|error| error.get("message").or_else(|| error.get("detail")))
                    .filter_map(text)
                    .collect()
            })
            .unwrap_or_default();
        Problem {
            title: json.get("title").and_then(text),
            detail: json.get("detail").and_then(text),
            kind: json.get("type").and_then(text),
            errors,
        }
    }

    /// Whether the problem type ends in `suffix`, whichever host X used
    /// (api.twitter.com or api.x.com).
    pub fn is_type(&self, suffix: &str) -> bool {
        self.kind
            .as_deref()
            .is_some_and(|kind| kind.ends_with(suffix))
    }

    /// Whether X's words (detail or errors) contain `phrase`, ignoring case.
    pub fn mentions(&self, phrase: &str) -> bool {
        let phrase = phrase.to_ascii_lowercase();
        self.detail
            .iter()
            .chain(&self.errors)
            .any(|said| said.to_ascii_lowercase().contains(&phrase))
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut said: Vec<&str> = Vec::new();
        for part in self.title.iter().chain(&self.detail).chain(&self.errors) {
            if !said.contains(&part.as_str()) {
                said.push(part);
            }
        }
        match said.as_slice() {
            [] => f.write_str("no details given"),
            [only] => f.write_str(only),
            [first, rest @ ..] => write!(f, "{first}: {}", rest.join(" ")),
        }
    }
}

/// A post X accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub id: String,
    pub limits: RateLimits,
}

/// Why a post was not confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostError {
    /// No answer: connection refused or dropped, timeout, TLS failure.
    Network { message: String },
    /// X answered with an error status.
    Status {
        status: u16,
        problem: Problem,
        limits: Box<RateLimits>,
    },
    /// X answered 2xx but without a post id, so the post is not confirmed.
    Unconfirmed { status: u16 },
    /// Not sent: the flock stopped first.
    Cancelled,
}

impl fmt::Display for PostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PostError::Network { message } => write!(f, "network error: {message}"),
            PostError::Status {
                status, problem, ..
            } => write!(f, "http status {status}: {problem}"),
            PostError::Unconfirmed { status } => {
                write!(f, "http status {status} but no post id in the answer")
            }
            PostError::Cancelled => f.write_str("not sent: the flock is stopping"),
        }
    }
}

impl std::error::Error for PostError {}

/// The HTTP client for the whole flock.
pub struct Client {
    agent: ureq::Agent,
    base: ApiBase,
    tweets_url: String,
}

/// A token and its secret from X's OAuth endpoints, with whatever else X sent beside them
/// (`user_id`, `screen_name`).
#[derive(Debug, Clone)]
pub struct Granted {
    pub token: crate::secret::Secret,
    pub secret: crate::secret::Secret,
    pub extra: Vec<(String, String)>,
}

impl Granted {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.extra
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Idle connections kept for reuse.
const IDLE_CONNECTIONS: usize = 256;

/// Answers larger than this are not X's and are cut short.
const MAX_ANSWER_BYTES: u64 = 64 * 1024;

impl Client {
    /// A client for `base` whose every request gives up after `timeout`.
    pub fn new(base: &ApiBase, timeout: Duration) -> Client {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(timeout.min(Duration::from_secs(10))))
            .timeout_global(Some(timeout))
            .user_agent(concat!("botflock/", env!("CARGO_PKG_VERSION")))
            // Every bot posts through one host: keep enough idle connections that a busy flock
            // reuses them instead of opening (and leaving in TIME_WAIT) one per post.
            .max_idle_connections(IDLE_CONNECTIONS)
            .max_idle_connections_per_host(IDLE_CONNECTIONS)
            // X's answers are a few kilobytes: ureq's default 128 KiB buffers each way would
            // cost a quarter of a megabyte per open connection.
            .input_buffer_size(8 * 1024)
            .output_buffer_size(4 * 1024)
            .build();
        // ureq's default chain with our TCP layer (see transport.rs): a SOCKS or an HTTP
        // CONNECT proxy from the environment (ALL_PROXY, HTTPS_PROXY, HTTP_PROXY; NO_PROXY)
        // makes the connection when one is set, our TCP layer otherwise, then TLS. ureq's own
        // resolver would start a thread for every request (see resolve.rs).
        let connector =
            ().chain(SocksConnector::default())
                .chain(ConnectProxyConnector::default())
                .chain(crate::transport::TcpConnector)
                .chain(RustlsConnector::default());
        let agent = ureq::Agent::with_parts(config, connector, CachingResolver::default());
        Client {
            agent,
            base: base.clone(),
            tweets_url: base.url("/2/tweets"),
        }
    }

    /// The page where a person signs in as the bot and is shown a PIN.
    pub fn authorize_url(&self, request_token: &str) -> String {
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("oauth_token", request_token)
            .finish();
        format!("{}?{query}", self.base.url("/oauth/authorize"))
    }

    /// Step 1 of X's PIN sign-in: a request token, signed with the app's keys only.
    pub fn request_token(
        &self,
        consumer_key: &str,
        consumer_secret: &str,
    ) -> Result<Granted, PostError> {
        let url = self.base.url("/oauth/request_token");
        let consumer = oauth1::Token::new(consumer_key, consumer_secret);
        let params = [("oauth_callback", "oob".into())].into_iter().collect();
        let authorization = oauth1::authorize("POST", &url, &consumer, None, Some(params));
        self.grant(&url, &authorization)
    }

    /// Step 3: the bot's access token, for the request token and the PIN the person was shown.
    pub fn access_token(
        &self,
        consumer_key: &str,
        consumer_secret: &str,
        request: &Granted,
        pin: &str,
    ) -> Result<Granted, PostError> {
        let url = self.base.url("/oauth/access_token");
        let consumer = oauth1::Token::new(consumer_key, consumer_secret);
        let token = oauth1::Token::new(request.token.expose(), request.secret.expose());
        let params = [("oauth_verifier", pin.into())].into_iter().collect();
        let authorization = oauth1::authorize("POST", &url, &consumer, Some(&token), Some(params));
        self.grant(&url, &authorization)
    }

    /// POSTs to an OAuth endpoint and reads its form-encoded answer.
    fn grant(&self, url: &str, authorization: &str) -> Result<Granted, PostError> {
        let response = self
            .agent
            .post(url)
            .header("Authorization", authorization)
            .send_empty();
        let (status, _, answer) = read_answer(response)?;
        let mut pairs: Vec<(String, String)> = form_urlencoded::parse(answer.as_bytes())
            .map(|(key, value)| (key.into_owned(), value.into_owned()))
            .collect();
        let mut take = |name: &str| {
            let at = pairs.iter().position(|(key, _)| key == name)?;
            Some(pairs.remove(at).1)
        };
        match (take("oauth_token"), take("oauth_token_secret")) {
            (Some(token), Some(secret)) => Ok(Granted {
                token: crate::secret::Secret::new(token),
                secret: crate::secret::Secret::new(secret),
                extra: pairs,
            }),
            _ => Err(PostError::Unconfirmed { status }),
        }
    }

    /// Posts `text`, as a reply to `reply_to` when given. Confirmed only by the post's id.
    pub fn post(
        &self,
        credentials: &Credentials,
        text: &str,
        reply_to: Option<&str>,
    ) -> Result<Posted, PostError> {
        let mut body = serde_json::json!({ "text": text });
        if let Some(id) = reply_to {
            body["reply"] = serde_json::json!({ "in_reply_to_tweet_id": id });
        }
        // The JSON body is not part of the signature: OAuth 1.0a signs only form bodies.
        let authorization = sign("POST", &self.tweets_url, credentials);
        let response = self
            .agent
            .post(&self.tweets_url)
            .header("Authorization", &authorization)
            .content_type("application/json")
            .send(body.to_string());
        let (status, limits, answer) = read_answer(response)?;
        let id = serde_json::from_str::<serde_json::Value>(&answer)
            .ok()
            .and_then(|json| json["data"]["id"].as_str().map(str::to_string));
        match id {
            Some(id) if !id.is_empty() => Ok(Posted { id, limits }),
            _ => Err(PostError::Unconfirmed { status }),
        }
    }
}

/// The `Authorization` header for a request to `url` (no query string) signed with the bot's
/// credentials, by the `oauth1` crate.
fn sign(method: &str, url: &str, credentials: &Credentials) -> String {
    let consumer = oauth1::Token::new(
        credentials.consumer_key.expose(),
        credentials.consumer_secret.expose(),
    );
    let token = oauth1::Token::new(
        credentials.token.expose(),
        credentials.token_secret.expose(),
    );
    oauth1::authorize(method, url, &consumer, Some(&token), None)
}

/// The status, quotas and body of a 2xx answer; X's problem for any other.
fn read_answer(
    response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<(u16, RateLimits, String), PostError> {
    let mut response = response.map_err(network_error)?;
    let status = response.status().as_u16();
    let limits = RateLimits::from_headers(response.headers());
    let answer = response
        .body_mut()
        .with_config()
        .limit(MAX_ANSWER_BYTES)
        .read_to_string()
        .map_err(network_error)?;
    if !(200..300).contains(&status) {
        return Err(PostError::Status {
            status,
            problem: Problem::from_body(&answer),
            limits: Box::new(limits),
        });
    }
    Ok((status, limits, answer))
}

fn network_error(error: ureq::Error) -> PostError {
    PostError::Network {
        message: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_base_is_normalized_to_the_form_oauth_signs() {
        let base = ApiBase::parse("HTTPS://API.X.com:443/").unwrap();
        assert_eq!(base.url("/2/tweets"), "https://api.x.com/2/tweets");
        let local = ApiBase::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(local.url("/2/tweets"), "http://127.0.0.1:8080/2/tweets");
    }

    #[test]
    fn credentials_never_go_over_plain_http_beyond_loopback() {
        assert!(matches!(
            ApiBase::parse("http://api.x.com"),
            Err(BadApiBase::PlainHttp { .. })
        ));
        assert!(ApiBase::parse("http://localhost:3000").is_ok());
        assert!(ApiBase::parse("http://[::1]:3000").is_ok());
        assert!(matches!(
            ApiBase::parse("api.x.com"),
            Err(BadApiBase::NotAUrl { .. })
        ));
        assert!(ApiBase::parse("ftp://api.x.com").is_err());
    }

    #[test]
    fn problems_are_read_in_both_of_xs_shapes() {
        let modern = Problem::from_body(
            r#"{"detail":"You are not allowed to create a Tweet with duplicate content.","type":"about:blank","title":"Forbidden","status":403}"#,
        );
        assert_eq!(
            modern.to_string(),
            "Forbidden: You are not allowed to create a Tweet with duplicate content."
        );
        let old = Problem::from_body(r#"{"errors":[{"code":88,"message":"Rate limit exceeded"}]}"#);
        assert_eq!(old.to_string(), "Rate limit exceeded");
        let too_long = Problem::from_body(
            r#"{"errors":[{"message":"Your Tweet text is too long."}],"title":"Invalid Request","detail":"One or more parameters to your request was invalid.","type":"https://api.twitter.com/2/problems/invalid-request"}"#,
        );
        assert_eq!(
            too_long.to_string(),
            "Invalid Request: One or more parameters to your request was invalid. Your Tweet text is too long."
        );
        assert!(too_long.mentions("too long"));
        let credits = Problem::from_body(
            r#"{"title":"CreditsDepleted","type":"https://api.x.com/2/problems/credits"}"#,
        );
        assert!(credits.is_type("/2/problems/credits"));
        assert_eq!(
            Problem::from_body("<html>Bad gateway</html>").to_string(),
            "no details given"
        );
    }

    #[test]
    fn rate_limit_headers_are_optional_and_lenient() {
        let mut headers = HeaderMap::new();
        headers.insert("x-rate-limit-remaining", "0".parse().unwrap());
        headers.insert("x-rate-limit-reset", " 1700000000 ".parse().unwrap());
        headers.insert("x-app-limit-24hour-limit", "junk".parse().unwrap());
        let limits = RateLimits::from_headers(&headers);
        assert_eq!(limits.window.remaining, Some(0));
        assert_eq!(limits.window.reset, Some(1_700_000_000));
        assert_eq!(limits.window.limit, None);
        assert_eq!(limits.app_day, Quota::default());
    }

    /// A server that answers every post on whatever connection it came, and counts the
    /// connections it accepted.
    fn counting_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::io::{Read, Write};
        use std::sync::atomic::{AtomicUsize, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let accepted = std::sync::Arc::new(AtomicUsize::new(0));
        let counter = std::sync::Arc::clone(&accepted);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                counter.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || {
                    let mut pending = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let mut answered = 0;
                    loop {
                        let Some(head_end) = pending.windows(4).position(|w| w == b"\r\n\r\n")
                        else {
                            match stream.read(&mut chunk) {
                                Ok(0) | Err(_) => return,
                                Ok(n) => pending.extend_from_slice(&chunk[..n]),
                            }
                            continue;
                        };
                        let head = String::from_utf8_lossy(&pending[..head_end]).to_lowercase();
                        let length: usize = head
                            .lines()
                            .find_map(|line| line.strip_prefix("content-length:"))
                            .and_then(|value| value.trim().parse().ok())
                            .unwrap_or(0);
                        if pending.len() < head_end + 4 + length {
                            match stream.read(&mut chunk) {
                                Ok(0) | Err(_) => return,
                                Ok(n) => pending.extend_from_slice(&chunk[..n]),
                            }
                            continue;
                        }
                        pending.drain(..head_end + 4 + length);
                        answered += 1;
                        let body = format!("{{\"data\":{{\"id\":\"{answered}\"}}}}");
                        let answer = format!(
                            "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\n\
                             content-length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if stream.write_all(answer.as_bytes()).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        (base, accepted)
    }

    #[test]
    fn posts_one_after_another_reuse_one_connection() {
        let (base, accepted) = counting_server();
        let client = Client::new(&ApiBase::parse(&base).unwrap(), Duration::from_secs(10));
        let credentials = Credentials {
            consumer_key: crate::secret::Secret::new("ck".to_string()),
            consumer_secret: crate::secret::Secret::new("cs".to_string()),
            token: crate::secret::Secret::new("t".to_string()),
            token_secret: crate::secret::Secret::new("ts".to_string()),
        };
        for expected in ["1", "2", "3"] {
            let posted = client.post(&credentials, "a line", None).expect("posted");
            assert_eq!(posted.id, expected);
        }
        assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
