//! The sandbox's side of X's PIN sign-in (`keys new`): request tokens, the authorize page that
//! shows a PIN, and the access token the PIN buys. Nobody signs in: the page authorizes a new
//! account with the screen name the test or person asks for.

use super::answers::{html, oauth_problem, user_id_for};
use super::http::{Request, Response};
use super::limits::Counter;
use super::{User, World, oauth};
use rand::RngExt;

/// A request token on its way through the PIN sign-in.
pub(super) struct Pending {
    pub(super) secret: String,
    pub(super) consumer_key: String,
    /// Set when a person has "signed in" on the authorize page.
    pin: Option<String>,
    screen_name: Option<String>,
}

impl World {
    fn random_token(&mut self) -> String {
        let a: u64 = self.dice.random();
        let b: u64 = self.dice.random();
        format!("{a:016x}{b:016x}")
    }

    /// Step 1 of the PIN sign-in: a request token for a signed app.
    pub(super) fn request_token(&mut self, signed: &oauth::Signed) -> Response {
        if signed.token.is_some() {
            return oauth_problem(401, "a request token is asked for with the app's keys only");
        }
        if signed.oauth.get("oauth_callback").map(String::as_str) != Some("oob") {
            return oauth_problem(400, "oauth_callback must be oob for the PIN flow");
        }
        let token = self.random_token();
        let secret = self.random_token();
        self.pending.insert(
            token.clone(),
            Pending {
                secret: secret.clone(),
                consumer_key: signed.consumer_key.clone(),
                pin: None,
                screen_name: None,
            },
        );
        Response::form(
            200,
            format!(
                "oauth_token={token}&oauth_token_secret={secret}&oauth_callback_confirmed=true"
            ),
        )
    }

    /// Step 2: the page where a person signs in as the bot. In the sandbox nobody signs in:
    /// the page authorizes the account named by `screen_name` (a new one) and shows the PIN.
    pub(super) fn authorize(&mut self, request: &Request) -> Response {
        let query = oauth::parse_pairs(&request.query);
        let get = |name: &str| {
            query
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        };
        let Some(token) = get("oauth_token") else {
            return html(400, "This page needs ?oauth_token=… from a request token.");
        };
        self.signed_up += 1;
        let screen_name =
            get("screen_name").unwrap_or_else(|| format!("sandbox_user_{}", self.signed_up));
        // X's rule for screen names; it also keeps the page free of markup.
        let valid = (1..=15).contains(&screen_name.len())
            && screen_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !valid {
            return html(
                400,
                "A screen name is 1 to 15 letters, digits or underscores.",
            );
        }
        let pin = format!("{:07}", self.dice.random_range(0..10_000_000u32));
        let Some(pending) = self.pending.get_mut(&token) else {
            return html(404, "This request token is unknown or was already used.");
        };
        pending.pin = Some(pin.clone());
        pending.screen_name = Some(screen_name.clone());
        html(
            200,
            &format!("@{screen_name} authorized the app. Enter this PIN to complete: PIN: {pin}"),
        )
    }

    /// Step 3: the PIN buys the account's access token.
    pub(super) fn access_token(&mut self, signed: &oauth::Signed) -> Response {
        let Some(token) = &signed.token else {
            return oauth_problem(401, "sign with the request token");
        };
        let Some(pending) = self.pending.get(token) else {
            return oauth_problem(401, "unknown or used request token");
        };
        let verifier = signed.oauth.get("oauth_verifier");
        let (Some(pin), Some(screen_name)) = (&pending.pin, &pending.screen_name) else {
            return oauth_problem(401, "the request token was never authorized");
        };
        if verifier != Some(pin) {
            return oauth_problem(401, "wrong PIN (oauth_verifier)");
        }
        let consumer_key = pending.consumer_key.clone();
        let screen_name = screen_name.clone();
        self.pending.remove(token);
        let user_id = user_id_for(&screen_name);
        let access_token = format!("{user_id}-{}", self.random_token());
        let access_secret = self.random_token();
        self.users.insert(
            access_token.clone(),
            User {
                consumer_key,
                token_secret: access_secret.clone(),
                screen_name: screen_name.clone(),
                id: user_id.clone(),
                window: Counter::default(),
                day: Counter::default(),
            },
        );
        Response::form(
            200,
            format!(
                "oauth_token={access_token}&oauth_token_secret={access_secret}&user_id={user_id}&screen_name={screen_name}"
            ),
        )
    }
}
