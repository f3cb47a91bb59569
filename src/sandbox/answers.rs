//! X's answers, as bodies the sandbox sends: problem details and the sign-in page.

use super::http::{Response, problem_body};

pub(super) fn oauth_problem(status: u16, detail: &str) -> Response {
    Response::json(status, problem_body(status, "OAuth Error", detail))
}

pub(super) fn html(status: u16, text: &str) -> Response {
    Response {
        status,
        headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
        body: format!("<!doctype html><title>botflock sandbox</title><p>{text}</p>\n"),
        delay: std::time::Duration::ZERO,
    }
}

pub(super) fn unauthorized() -> Response {
    Response::json(
        401,
        r#"{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}"#,
    )
}

pub(super) fn too_many_requests() -> Response {
    Response::json(
        429,
        r#"{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}"#,
    )
}

pub(super) fn invalid_request(message: &str) -> Response {
    Response::json(
        400,
        serde_json::json!({
            "errors": [{"message": message}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        })
        .to_string(),
    )
}

pub(super) fn not_found(path: &str) -> Response {
    Response::json(
        404,
        serde_json::json!({
            "title": "Not Found Error",
            "detail": format!("No endpoint at {path}"),
            "type": "https://api.twitter.com/2/problems/resource-not-found",
        })
        .to_string(),
    )
}

/// A stable numeric user id for an account whose key file has none.
pub(super) fn user_id_for(screen_name: &str) -> String {
    // FNV-1a: stable across runs and machines, which `DefaultHasher` does not promise.
    let hash = screen_name
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
    (hash % 9_000_000_000_000_000_000 + 1_000_000_000_000_000_000).to_string()
}
