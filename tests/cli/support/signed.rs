//! Requests to the sandbox signed by the tests' own OAuth code, so the sandbox's checks are
//! tested without the client botflock posts with.

use super::credentials;
use super::oauth::{encode, signature};
use std::time::{SystemTime, UNIX_EPOCH};

/// An answer: status, headers (lower-case names) and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: serde_json::Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn number(&self, name: &str) -> u64 {
        self.header(name)
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("no numeric header {name} in {:?}", self.headers))
    }
}

/// How to sign: whose credentials, which clock, which nonce.
pub struct Signing {
    pub name: String,
    /// Whose consumer key and secret sign: the app. The bot's own by default.
    pub app: String,
    pub token_secret: String,
    pub timestamp: u64,
    pub nonce: String,
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

impl Signing {
    /// `name`'s standard test credentials, the current time and a fresh nonce.
    pub fn as_bot(name: &str) -> Signing {
        Signing {
            name: name.to_string(),
            app: name.to_string(),
            token_secret: credentials(name)[3].clone(),
            timestamp: now(),
            nonce: format!("{:x}", rand::random::<u64>()),
        }
    }

    pub fn header(&self, method: &str, url: &str) -> String {
        let [consumer_key, consumer_secret, _, _] = credentials(&self.app);
        let token = credentials(&self.name)[2].clone();
        let params: Vec<(String, String)> = [
            ("oauth_consumer_key", consumer_key.as_str()),
            ("oauth_nonce", &self.nonce),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", &self.timestamp.to_string()),
            ("oauth_token", &token),
            ("oauth_version", "1.0"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let signed = signature(method, url, &params, &consumer_secret, &self.token_secret);
        let mut items: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", encode(v)))
            .collect();
        items.push(format!("oauth_signature=\"{}\"", encode(&signed)));
        format!("OAuth {}", items.join(", "))
    }
}

fn agent(timeout: std::time::Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .new_agent()
}

/// Sends a signed request; `body` goes as JSON unless `content_type` says otherwise.
pub fn send(
    base: &str,
    method: &str,
    path: &str,
    signing: &Signing,
    body: Option<&str>,
    content_type: &str,
) -> Result<Answer, ureq::Error> {
    let timeout = std::time::Duration::from_secs(20);
    send_within(base, method, path, signing, body, content_type, timeout)
}

/// `send`, giving up after `timeout`.
pub fn send_within(
    base: &str,
    method: &str,
    path: &str,
    signing: &Signing,
    body: Option<&str>,
    content_type: &str,
    timeout: std::time::Duration,
) -> Result<Answer, ureq::Error> {
    let url = format!("{base}{path}");
    let authorization = signing.header(method, &url);
    let agent = agent(timeout);
    let mut response = match (method, body) {
        ("GET", _) => agent
            .get(&url)
            .header("Authorization", &authorization)
            .call()?,
        ("DELETE", _) => agent
            .delete(&url)
            .header("Authorization", &authorization)
            .call()?,
        (_, body) => agent
            .post(&url)
            .header("Authorization", &authorization)
            .header("Content-Type", content_type)
            .send(body.unwrap_or("").to_string())?,
    };
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let text = response.body_mut().read_to_string()?;
    let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// Posts `text` as `name` with a fresh signature.
pub fn post(base: &str, name: &str, text: &str) -> Answer {
    let body = serde_json::json!({ "text": text }).to_string();
    send(
        base,
        "POST",
        "/2/tweets",
        &Signing::as_bot(name),
        Some(&body),
        "application/json",
    )
    .expect("the sandbox answers")
}
