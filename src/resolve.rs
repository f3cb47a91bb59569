//! Host names resolved once a minute, not once a request.
//!
//! ureq 3 resolves the host before every request, pooled connection or not, and when a timeout
//! is set its resolver runs each lookup on a thread of its own so the lookup can be abandoned.
//! For a flock that is a thread created and destroyed per post: most of a post's CPU. This
//! resolver keeps ureq's own lookup (and its timeout) but remembers each answer for
//! `FRESH`, so a busy flock looks X's address up about once a minute.
//!
//! Shared state: the cache, behind a mutex held only to copy an answer in or out.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// How long an answer is used before it is looked up again.
const FRESH: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
pub struct CachingResolver {
    lookup: DefaultResolver,
    answers: Mutex<HashMap<String, (ResolvedSocketAddrs, Instant)>>,
}

impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let key = match (uri.scheme_str(), uri.authority()) {
            (Some(scheme), Some(authority)) => format!("{scheme}://{authority}"),
            // Not a full URL: let ureq's own resolver say what is wrong with it.
            _ => return self.lookup.resolve(uri, config, timeout),
        };
        let now = Instant::now();
        if let Some(addrs) = self.fresh(&key, now) {
            return Ok(addrs);
        }
        match self.lookup.resolve(uri, config, timeout) {
            Ok(addrs) => {
                self.remember(key, addrs.clone(), now);
                Ok(addrs)
            }
            // A failed lookup is not remembered: the next request tries again.
            Err(error) => Err(error),
        }
    }
}

impl CachingResolver {
    fn fresh(&self, key: &str, now: Instant) -> Option<ResolvedSocketAddrs> {
        let answers = self
            .answers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        answers
            .get(key)
            .filter(|(_, at)| now.saturating_duration_since(*at) < FRESH)
            .map(|(addrs, _)| addrs.clone())
    }

    fn remember(&self, key: String, addrs: ResolvedSocketAddrs, now: Instant) {
        let mut answers = self
            .answers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        answers.insert(key, (addrs, now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(resolver: &CachingResolver, url: &str) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let uri: Uri = url.parse().unwrap();
        let timeout = NextTimeout {
            after: ureq::unversioned::transport::time::Duration::from_secs(5),
            reason: ureq::Timeout::Resolve,
            per_read: None,
            per_write: None,
        };
        resolver.resolve(&uri, &Config::default(), timeout)
    }

    #[test]
    fn an_answer_is_remembered_per_scheme_host_and_port() {
        let resolver = CachingResolver::default();
        let first = resolve(&resolver, "http://127.0.0.1:8080/2/tweets").unwrap();
        assert_eq!(first[0], "127.0.0.1:8080".parse().unwrap());
        assert_eq!(resolver.answers.lock().unwrap().len(), 1);
        let again = resolve(&resolver, "http://127.0.0.1:8080/2/users/me").unwrap();
        assert_eq!(again[0], first[0]);
        assert_eq!(resolver.answers.lock().unwrap().len(), 1);
        let other = resolve(&resolver, "http://127.0.0.1:9090/2/tweets").unwrap();
        assert_eq!(other[0], "127.0.0.1:9090".parse().unwrap());
        assert_eq!(resolver.answers.lock().unwrap().len(), 2);
    }

    #[test]
    fn a_stale_answer_is_looked_up_again() {
        let resolver = CachingResolver::default();
        let key = "http://127.0.0.1:8080".to_string();
        let mut wrong = resolver.lookup.empty();
        wrong.push("127.0.0.2:1".parse().unwrap());
        let long_ago = Instant::now() - FRESH - Duration::from_secs(1);
        resolver.remember(key.clone(), wrong, long_ago);
        let addrs = resolve(&resolver, "http://127.0.0.1:8080/2/tweets").unwrap();
        assert_eq!(addrs[0], "127.0.0.1:8080".parse().unwrap());
    }

    #[test]
    fn a_fresh_answer_is_used_without_a_lookup() {
        let resolver = CachingResolver::default();
        let mut remembered = resolver.lookup.empty();
        remembered.push("127.0.0.2:1".parse().unwrap());
        resolver.remember(
            "http://127.0.0.1:8080".to_string(),
            remembered,
            Instant::now(),
        );
        let addrs = resolve(&resolver, "http://127.0.0.1:8080/2/tweets").unwrap();
        assert_eq!(addrs[0], "127.0.0.2:1".parse().unwrap());
    }
}
