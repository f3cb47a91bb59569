//! The stop signal every thread waits on. Stopping closes a channel, which wakes every waiter at
//! once, however many there are; nobody polls a flag.

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Requests the stop. Cloning shares it; the first `stop()` wins and the rest do nothing.
#[derive(Clone)]
pub struct StopSwitch {
    sender: Arc<Mutex<Option<Sender<()>>>>,
}

/// What a waiting thread holds: cheap to clone, one per thread.
#[derive(Clone)]
pub struct Stop {
    receiver: Receiver<()>,
}

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waited {
    /// The deadline came.
    Elapsed,
    /// A stop was requested.
    Stopped,
}

/// A new switch and the signal it controls.
pub fn channel() -> (StopSwitch, Stop) {
    let (sender, receiver) = crossbeam_channel::bounded(0);
    (
        StopSwitch {
            sender: Arc::new(Mutex::new(Some(sender))),
        },
        Stop { receiver },
    )
}

impl StopSwitch {
    /// Stops every waiter; returns whether this call was the one that did it.
    pub fn stop(&self) -> bool {
        let mut sender = match self.sender.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        sender.take().is_some()
    }
}

impl Stop {
    /// Waits until `deadline`, or less if a stop is requested.
    pub fn wait_until(&self, deadline: Instant) -> Waited {
        match self.receiver.recv_deadline(deadline) {
            Err(RecvTimeoutError::Timeout) => Waited::Elapsed,
            // Nothing is ever sent: the only other outcome is the switch dropping its sender.
            Ok(()) | Err(RecvTimeoutError::Disconnected) => Waited::Stopped,
        }
    }

    pub fn is_stopped(&self) -> bool {
        self.wait_until(Instant::now()) == Waited::Stopped
    }

    /// The channel itself, for `select!` loops that wait on other channels as well.
    pub fn receiver(&self) -> &Receiver<()> {
        &self.receiver
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_wait_ends_at_its_deadline_when_nobody_stops() {
        let (_switch, stop) = channel();
        let waited = stop.wait_until(Instant::now() + Duration::from_millis(10));
        assert_eq!(waited, Waited::Elapsed);
        assert!(!stop.is_stopped());
    }

    #[test]
    fn stopping_wakes_every_waiter_at_once() {
        let (switch, stop) = channel();
        let far = Instant::now() + Duration::from_secs(3600);
        let waiters: Vec<_> = (0..8)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || stop.wait_until(far))
            })
            .collect();
        assert!(switch.stop());
        assert!(!switch.stop(), "only the first stop counts");
        for waiter in waiters {
            assert_eq!(waiter.join().unwrap(), Waited::Stopped);
        }
        assert!(stop.is_stopped());
    }
}
