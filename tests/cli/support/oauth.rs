//! An OAuth 1.0a HMAC-SHA1 verifier written for the tests, independent of the `oauth1` crate that
//! botflock signs with (it uses `hmac`, `sha1` and `base64`), and itself checked against the
//! published known answers.

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

/// RFC 3986 percent-encoding as OAuth 1.0a (RFC 5849 §3.6) requires: everything but unreserved.
pub fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

pub fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|hex| std::str::from_utf8(hex).ok());
        if bytes[i] == b'%'
            && let Some(byte) = hex.and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The signature of a request: `params` are every query, form and `oauth_*` parameter except
/// `oauth_signature`, decoded.
pub fn signature(
    method: &str,
    url: &str,
    params: &[(String, String)],
    consumer_secret: &str,
    token_secret: &str,
) -> String {
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .map(|(key, value)| (encode(key), encode(value)))
        .collect();
    encoded.sort();
    let normalized: Vec<String> = encoded
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    let base = format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        encode(url),
        encode(&normalized.join("&"))
    );
    let key = format!("{}&{}", encode(consumer_secret), encode(token_secret));
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(base.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The parameters of an `Authorization: OAuth ...` header, decoded.
pub fn parse_header(header: &str) -> Option<Vec<(String, String)>> {
    let rest = header.trim().strip_prefix("OAuth ")?;
    rest.split(',')
        .map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            let value = value.trim().strip_prefix('"')?.strip_suffix('"')?;
            Some((decode(key.trim()), decode(value)))
        })
        .collect()
}

/// Checks a request's `Authorization` header; returns the `oauth_token` and `oauth_consumer_key`
/// it names when the signature is right for the secrets `secrets` gives for them.
pub fn verify(
    method: &str,
    url: &str,
    header: &str,
    secrets: impl Fn(&str, &str) -> Option<(String, String)>,
) -> Result<(String, String), String> {
    let params = parse_header(header).ok_or("malformed Authorization header")?;
    let get = |name: &str| {
        params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    if get("oauth_signature_method").as_deref() != Some("HMAC-SHA1") {
        return Err("not HMAC-SHA1".into());
    }
    let consumer = get("oauth_consumer_key").ok_or("no oauth_consumer_key")?;
    let token = get("oauth_token").ok_or("no oauth_token")?;
    let given = get("oauth_signature").ok_or("no oauth_signature")?;
    for required in ["oauth_nonce", "oauth_timestamp"] {
        get(required).ok_or(format!("no {required}"))?;
    }
    let (consumer_secret, token_secret) =
        secrets(&consumer, &token).ok_or("unknown consumer key or token")?;
    let signed: Vec<(String, String)> = params
        .iter()
        .filter(|(key, _)| key != "oauth_signature" && key != "realm")
        .cloned()
        .collect();
    let expected = signature(method, url, &signed, &consumer_secret, &token_secret);
    if expected == given {
        Ok((consumer, token))
    } else {
        Err("signature does not match".into())
    }
}

#[test]
fn verifier_matches_the_x_docs_known_answer() {
    let params: Vec<(String, String)> = [
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
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let consumer_secret = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw";
    let token_secret = "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE";
    assert_eq!(
        signature(
            "POST",
            "https://api.x.com/1.1/statuses/update.json",
            &params,
            consumer_secret,
            token_secret
        ),
        "Ls93hJiZbQ3akF3HF3x1Bz8/zU4="
    );
    assert_eq!(
        signature(
            "POST",
            "https://api.twitter.com/1.1/statuses/update.json",
            &params,
            consumer_secret,
            token_secret
        ),
        "hCtSmYh+iHYCEqBWrE7C7hYmtUk="
    );
}

#[test]
fn verifier_matches_oauth_core_appendix_a5() {
    let params: Vec<(String, String)> = [
        ("file", "vacation.jpg"),
        ("size", "original"),
        ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
        ("oauth_token", "nnch734d00sl2jdk"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "1191242096"),
        ("oauth_nonce", "kllo9940pd9333jh"),
        ("oauth_version", "1.0"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(
        signature(
            "GET",
            "http://photos.example.net/photos",
            &params,
            "kd94hf93k423kf44",
            "pfkkdhi9sl3r4s00"
        ),
        "tR3+Ty81lMeYAr/Fid0kMTYa/WM="
    );
}

#[test]
fn verifier_accepts_a_header_it_signed_and_rejects_a_tampered_one() {
    let url = "http://127.0.0.1:9/2/tweets";
    let params: Vec<(String, String)> = [
        ("oauth_consumer_key", "ck"),
        ("oauth_token", "tk"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "1700000000"),
        ("oauth_nonce", "abc"),
        ("oauth_version", "1.0"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let sig = signature("POST", url, &params, "cs", "ts");
    let mut header: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", encode(v)))
        .collect();
    header.push(format!("oauth_signature=\"{}\"", encode(&sig)));
    let header = format!("OAuth {}", header.join(", "));
    let secrets = |_: &str, _: &str| Some(("cs".to_string(), "ts".to_string()));
    assert_eq!(
        verify("POST", url, &header, secrets),
        Ok(("ck".into(), "tk".into()))
    );
    let wrong = |_: &str, _: &str| Some(("cs".to_string(), "wrong".to_string()));
    assert!(verify("POST", url, &header, wrong).is_err());
    assert!(verify("POST", "http://127.0.0.1:9/2/other", &header, secrets).is_err());
}
