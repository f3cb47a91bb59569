//! The pause shared by every bot of one app (consumer key): when X says the app is out of
//! credit or has spent its 24-hour quota, posting from any of its bots only wastes requests.

use std::sync::Mutex;
use std::time::Instant;

/// How long an app is paused: until an instant, or until botflock is restarted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    Instant(Instant),
    Restart,
}

#[derive(Debug, Default)]
pub struct AppPause {
    paused: Mutex<Option<Until>>,
}

impl AppPause {
    /// Pauses the app; returns true when it was not paused already, so that exactly one bot
    /// reports the pause.
    pub fn pause(&self, until: Until, now: Instant) -> bool {
        let mut paused = self.lock();
        let was_paused = current(&paused, now).is_some();
        let longer = match (*paused, until) {
            (Some(Until::Restart), _) => Until::Restart,
            (Some(Until::Instant(old)), Until::Instant(new)) if was_paused => {
                Until::Instant(old.max(new))
            }
            _ => until,
        };
        *paused = Some(longer);
        !was_paused
    }

    /// Whether the app is paused at `now`, and until when.
    pub fn paused(&self, now: Instant) -> Option<Until> {
        current(&self.lock(), now)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Until>> {
        // The value is a plain Copy: a panic elsewhere cannot leave it half-written.
        self.paused
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn current(paused: &Option<Until>, now: Instant) -> Option<Until> {
    match paused {
        Some(Until::Instant(end)) if *end <= now => None,
        other => *other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn only_the_first_bot_to_pause_the_app_reports_it() {
        let pause = AppPause::default();
        let now = Instant::now();
        let hour = now + Duration::from_secs(3600);
        assert!(pause.pause(Until::Instant(hour), now));
        assert!(!pause.pause(Until::Instant(now + Duration::from_secs(60)), now));
        assert_eq!(
            pause.paused(now),
            Some(Until::Instant(hour)),
            "the longer pause wins"
        );
        assert_eq!(pause.paused(hour), None, "the pause ends at its instant");
        assert!(pause.pause(Until::Restart, hour));
        assert_eq!(
            pause.paused(hour + Duration::from_secs(1)),
            Some(Until::Restart)
        );
    }
}
