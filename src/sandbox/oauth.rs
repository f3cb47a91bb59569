//! OAuth 1.0a HMAC-SHA1 verification for the sandbox (RFC 5849), as X does it: the signature,
//! the clock (at most 5 minutes off) and the nonce (never twice). It shares no code with the
//! `oauth1` crate that botflock signs with, so the sandbox checks the client rather than agreeing
//! with it.

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use std::collections::HashMap;

/// How far a request's clock may be from the sandbox's.
pub const MAX_SKEW_SECONDS: u64 = 300;

/// The parameters of a signed request that the sandbox needs after checking it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub consumer_key: String,
    /// Absent when the request is signed with the consumer key only (request tokens).
    pub token: Option<String>,
    /// Every `oauth_*` parameter, decoded (callback and verifier among them).
    pub oauth: HashMap<String, String>,
}

/// Why a request's signature was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NoHeader,
    Malformed,
    UnsupportedMethod(String),
    Missing(&'static str),
    UnknownConsumer,
    UnknownToken,
    ClockSkew { seconds_off: u64 },
    NonceReused,
    BadSignature,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::NoHeader => f.write_str("no OAuth Authorization header"),
            Refusal::Malformed => f.write_str("malformed OAuth Authorization header"),
            Refusal::UnsupportedMethod(method) => {
                write!(f, "signature method {method} is not HMAC-SHA1")
            }
            Refusal::Missing(name) => write!(f, "{name} is missing"),
            Refusal::UnknownConsumer => f.write_str("unknown consumer key"),
            Refusal::UnknownToken => f.write_str("unknown or revoked token"),
            Refusal::ClockSkew { seconds_off } => {
                write!(f, "timestamp is {seconds_off} s off the server's clock")
            }
            Refusal::NonceReused => f.write_str("nonce already used"),
            Refusal::BadSignature => f.write_str("signature does not match"),
        }
    }
}

/// RFC 5849 §3.6: percent-encode all but the unreserved characters, in upper-case hex.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &byte in text.as_bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(byte))
            }
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(char::from(HEX[usize::from(byte >> 4)]));
                out.push(char::from(HEX[usize::from(byte & 15)]));
            }
        }
    }
    out
}

/// Decodes `%XX` escapes (and, in form and query strings, `+` as a space when `plus` is set).
pub fn percent_decode(text: &str, plus: bool) -> String {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        let hex = tail
            .get(..2)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (first, hex) {
            (b'%', Some(byte)) => {
                bytes.push(byte);
                rest = &tail[2..];
            }
            (b'+', _) if plus => {
                bytes.push(b' ');
                rest = tail;
            }
            _ => {
                bytes.push(first);
                rest = tail;
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// `a=1&b=2` into decoded pairs.
pub fn parse_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key, true), percent_decode(value, true))
        })
        .collect()
}

/// The `oauth_*` parameters of an `Authorization: OAuth …` header.
pub fn header_params(header: &str) -> Result<Vec<(String, String)>, Refusal> {
    let (scheme, rest) = header.trim().split_once(' ').ok_or(Refusal::Malformed)?;
    if !scheme.eq_ignore_ascii_case("OAuth") {
        return Err(Refusal::NoHeader);
    }
    let mut params = Vec::new();
    for item in rest.split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let (key, quoted) = item.split_once('=').ok_or(Refusal::Malformed)?;
        let value = quoted
            .trim()
            .strip_prefix('"')
            .and_then(|value| value.strip_suffix('"'))
            .ok_or(Refusal::Malformed)?;
        params.push((
            percent_decode(key.trim(), false),
            percent_decode(value, false),
        ));
    }
    Ok(params)
}

/// The signature base string of RFC 5849 §3.4.1.
pub fn base_string(method: &str, url: &str, params: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .filter(|(key, _)| key != "oauth_signature" && key != "realm")
        .map(|(key, value)| (percent_encode(key), percent_encode(value)))
        .collect();
    encoded.sort();
    let joined = encoded
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        percent_encode(url),
        percent_encode(&joined)
    )
}

/// HMAC-SHA1 of the base string, keyed with both secrets, in base64.
pub fn sign(base: &str, consumer_secret: &str, token_secret: &str) -> String {
    let key = format!(
        "{}&{}",
        percent_encode(consumer_secret),
        percent_encode(token_secret)
    );
    // HMAC takes keys of any length; this cannot fail.
    let mut mac = match <Hmac<Sha1> as KeyInit>::new_from_slice(key.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(base.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Compares without stopping at the first difference, so timing says nothing about a signature.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

/// Nonces seen recently, per consumer key; older than twice the allowed skew they are forgotten,
/// because a request that old is refused for its timestamp anyway.
#[derive(Debug)]
pub struct Nonces {
    seen: HashMap<(String, String), u64>,
    /// The size at which old nonces are next swept out: twice what the last sweep kept, so a
    /// busy sandbox sweeps now and then rather than on every request.
    sweep_at: usize,
}

/// Nonces kept before the first sweep.
const FIRST_SWEEP: usize = 10_000;

impl Default for Nonces {
    fn default() -> Self {
        Nonces {
            seen: HashMap::new(),
            sweep_at: FIRST_SWEEP,
        }
    }
}

impl Nonces {
    /// Records the nonce; false when it was already used.
    pub fn remember(&mut self, consumer: &str, nonce: &str, now: u64) -> bool {
        if self.seen.len() >= self.sweep_at {
            self.seen
                .retain(|_, &mut at| at + 2 * MAX_SKEW_SECONDS >= now);
            self.sweep_at = FIRST_SWEEP.max(2 * self.seen.len());
        }
        self.seen
            .insert((consumer.to_string(), nonce.to_string()), now)
            .is_none()
    }
}

/// The request as the verifier needs it.
pub struct Presented<'a> {
    pub method: &'a str,
    /// Scheme, host, port and path, exactly as the client called them.
    pub url: &'a str,
    pub authorization: Option<&'a str>,
    /// Query and form-body parameters, decoded.
    pub params: Vec<(String, String)>,
}

/// Checks a request. `secrets` gives the consumer secret for a consumer key and, for a token,
/// its secret (None when unknown).
pub fn verify(
    request: &Presented<'_>,
    consumer_secret: impl Fn(&str) -> Option<String>,
    token_secret: impl Fn(&str, &str) -> Option<String>,
    nonces: &mut Nonces,
    now: u64,
) -> Result<Signed, Refusal> {
    let header = request.authorization.ok_or(Refusal::NoHeader)?;
    let oauth_params = header_params(header)?;
    let oauth: HashMap<String, String> = oauth_params.iter().cloned().collect();
    let get = |name: &'static str| oauth.get(name).cloned().ok_or(Refusal::Missing(name));
    let method = get("oauth_signature_method")?;
    if method != "HMAC-SHA1" {
        return Err(Refusal::UnsupportedMethod(method));
    }
    let consumer_key = get("oauth_consumer_key")?;
    let signature = get("oauth_signature")?;
    let nonce = get("oauth_nonce")?;
    let timestamp: u64 = get("oauth_timestamp")?
        .parse()
        .map_err(|_| Refusal::Missing("oauth_timestamp"))?;
    let consumer_secret = consumer_secret(&consumer_key).ok_or(Refusal::UnknownConsumer)?;
    let token = oauth.get("oauth_token").cloned();
    let token_secret = match &token {
        Some(token) => token_secret(&consumer_key, token).ok_or(Refusal::UnknownToken)?,
        None => String::new(),
    };
    let seconds_off = now.abs_diff(timestamp);
    if seconds_off > MAX_SKEW_SECONDS {
        return Err(Refusal::ClockSkew { seconds_off });
    }
    let mut all = oauth_params;
    all.extend(request.params.iter().cloned());
    let expected = sign(
        &base_string(request.method, request.url, &all),
        &consumer_secret,
        &token_secret,
    );
    if !same(&expected, &signature) {
        return Err(Refusal::BadSignature);
    }
    // Only a correctly signed request spends its nonce; a forged one cannot burn it.
    if !nonces.remember(&consumer_key, &nonce, now) {
        return Err(Refusal::NonceReused);
    }
    Ok(Signed {
        consumer_key,
        token,
        oauth,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn signs_the_x_docs_example() {
        let params = pairs(&[
            (
                "status",
                "Hello Ladies + Gentlemen, a signed OAuth request!",
            ),
            ("include_entities", "true"),
            ("oauth_consumer_key", "xvz1evFS4wEEPTGEFPHBog"),
            ("oauth_nonce", "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "1318622958"),
            (
                "oauth_token",
                "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
            ),
            ("oauth_version", "1.0"),
        ]);
        let secrets = (
            "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
            "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
        );
        for (url, expected) in [
            (
                "https://api.x.com/1.1/statuses/update.json",
                "Ls93hJiZbQ3akF3HF3x1Bz8/zU4=",
            ),
            (
                "https://api.twitter.com/1.1/statuses/update.json",
                "hCtSmYh+iHYCEqBWrE7C7hYmtUk=",
            ),
        ] {
            let base = base_string("POST", url, &params);
            assert_eq!(sign(&base, secrets.0, secrets.1), expected);
        }
    }

    #[test]
    fn signs_oauth_core_appendix_a5() {
        let params = pairs(&[
            ("file", "vacation.jpg"),
            ("size", "original"),
            ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
            ("oauth_token", "nnch734d00sl2jdk"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "1191242096"),
            ("oauth_nonce", "kllo9940pd9333jh"),
            ("oauth_version", "1.0"),
        ]);
        let base = base_string("GET", "http://photos.example.net/photos", &params);
        assert_eq!(
            sign(&base, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00"),
            "tR3+Ty81lMeYAr/Fid0kMTYa/WM="
        );
    }

    #[test]
    fn percent_coding_follows_rfc_5849() {
        assert_eq!(
            percent_encode("Ladies + Gentlemen"),
            "Ladies%20%2B%20Gentlemen"
        );
        assert_eq!(percent_encode("a-b.c_d~é"), "a-b.c_d~%C3%A9");
        assert_eq!(percent_decode("a%20b+c", true), "a b c");
        assert_eq!(percent_decode("a+b%zz", false), "a+b%zz");
    }

    const NOW: u64 = 1_700_000_000;

    fn signed_header(url: &str, timestamp: u64, nonce: &str, token_secret: &str) -> String {
        let params = pairs(&[
            ("oauth_consumer_key", "ck"),
            ("oauth_token", "tk"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", &timestamp.to_string()),
            ("oauth_nonce", nonce),
            ("oauth_version", "1.0"),
        ]);
        let signature = sign(&base_string("POST", url, &params), "cs", token_secret);
        let mut items: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", percent_encode(v)))
            .collect();
        items.push(format!(
            "oauth_signature=\"{}\"",
            percent_encode(&signature)
        ));
        format!("OAuth {}", items.join(", "))
    }

    fn check(header: &str, nonces: &mut Nonces) -> Result<Signed, Refusal> {
        let request = Presented {
            method: "POST",
            url: "http://127.0.0.1:5000/2/tweets",
            authorization: Some(header),
            params: Vec::new(),
        };
        verify(
            &request,
            |key| (key == "ck").then(|| "cs".to_string()),
            |_, token| (token == "tk").then(|| "ts".to_string()),
            nonces,
            NOW,
        )
    }

    #[test]
    fn accepts_a_good_signature_once_and_refuses_a_replay() {
        let mut nonces = Nonces::default();
        let header = signed_header("http://127.0.0.1:5000/2/tweets", NOW, "n1", "ts");
        let signed = check(&header, &mut nonces).unwrap();
        assert_eq!(signed.token.as_deref(), Some("tk"));
        assert_eq!(check(&header, &mut nonces), Err(Refusal::NonceReused));
    }

    #[test]
    fn a_sweep_forgets_old_nonces_keeps_recent_ones_and_waits_for_the_map_to_double() {
        let mut nonces = Nonces::default();
        assert!(nonces.remember("ck", "old", NOW));
        let later = NOW + 2 * MAX_SKEW_SECONDS + 1;
        for i in 0..FIRST_SWEEP {
            assert!(nonces.remember("ck", &format!("n{i}"), later));
        }
        assert!(
            !nonces
                .seen
                .contains_key(&("ck".to_string(), "old".to_string()))
        );
        assert_eq!(nonces.seen.len(), FIRST_SWEEP);
        assert_eq!(nonces.sweep_at, 2 * (FIRST_SWEEP - 1));
        assert!(
            !nonces.remember("ck", "n0", later),
            "a recent nonce survives a sweep"
        );
    }

    #[test]
    fn refuses_wrong_secrets_urls_and_clocks() {
        let mut nonces = Nonces::default();
        let wrong_secret = signed_header("http://127.0.0.1:5000/2/tweets", NOW, "n2", "nope");
        assert_eq!(
            check(&wrong_secret, &mut nonces),
            Err(Refusal::BadSignature)
        );
        let wrong_url = signed_header("http://127.0.0.1:5001/2/tweets", NOW, "n3", "ts");
        assert_eq!(check(&wrong_url, &mut nonces), Err(Refusal::BadSignature));
        let late = signed_header("http://127.0.0.1:5000/2/tweets", NOW - 301, "n4", "ts");
        assert_eq!(
            check(&late, &mut nonces),
            Err(Refusal::ClockSkew { seconds_off: 301 })
        );
        let almost = signed_header("http://127.0.0.1:5000/2/tweets", NOW + 300, "n5", "ts");
        assert!(check(&almost, &mut nonces).is_ok());
        assert_eq!(check("Bearer abc", &mut nonces), Err(Refusal::NoHeader));
    }
}
