//! Ctrl-C and SIGTERM: the first asks every Sheep to stop (the flock then exits 0 after its
//! summary); a second exits at once with 130.

use crate::stop::StopSwitch;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Exit code for a stop cut short by a second Ctrl-C.
pub const INTERRUPTED: i32 = 130;

pub fn install(switch: StopSwitch) -> Result<(), ctrlc::Error> {
    let presses = AtomicUsize::new(0);
    ctrlc::set_handler(move || {
        if presses.fetch_add(1, Ordering::SeqCst) == 0 {
            log::warn!("stopping the flock; press Ctrl-C again to quit at once");
            switch.stop();
        } else {
            eprintln!("botflock: quit at once on a second Ctrl-C");
            std::process::exit(INTERRUPTED);
        }
    })
}
