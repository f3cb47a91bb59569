//! Room in the kernel's table of waiting threads, sized to the flock.
//!
//! Every blocked thread (a Sheep between posts, a worker between jobs) waits on a futex, and
//! Linux finds a futex's waiters through a hash table. Since Linux 6.16 each process has a
//! private table whose size follows the number of CPUs, not of threads: 16 slots on a 2-core
//! machine. Ten thousand waiting Sheep then share 16 chains of about 600, and every wake-up
//! (a job for a worker, an answer for a Sheep, a report for the Shepherd, a stop) walks one.
//! At 10,000 bots that walk was 43 % of the HTTP workers' CPU (see BENCHMARKS.md, step 16).
//!
//! So the flock asks for `slots_for(threads)` slots, and for more as it grows. On kernels
//! without private tables (before 6.16) the request fails and nothing changes: they use one
//! table for the whole machine, sized by its CPUs.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Slots for a process of `threads` threads: a power of two of at least four per thread, so
/// chains stay short (the kernel's own sizing gives four per CPU), and at least 16.
pub fn slots_for(threads: usize) -> usize {
    threads
        .saturating_mul(4)
        .max(16)
        .checked_next_power_of_two()
        .unwrap_or(MAX_SLOTS)
        .min(MAX_SLOTS)
}

/// 64 bytes of kernel memory a slot: 16 MiB at most, for a quarter of a million threads.
const MAX_SLOTS: usize = 1 << 18;

/// What has been asked of the kernel, so a growing flock asks again only when it outgrows the
/// room it has, and a kernel that refused once (no private tables before Linux 6.16) is not
/// asked again at every Sheep's start.
struct Asked {
    slots: AtomicUsize,
    refused: AtomicBool,
}

static ASKED: Asked = Asked {
    slots: AtomicUsize::new(0),
    refused: AtomicBool::new(false),
};

/// Makes sure the table has room for `threads` threads. Returns the slots now asked for, or
/// `None` when the kernel has no private table to size (or refused).
pub fn make_room(threads: usize) -> Option<usize> {
    ASKED.make_room(threads, set_slots)
}

impl Asked {
    fn make_room(
        &self,
        threads: usize,
        set_slots: impl FnOnce(usize) -> std::io::Result<()>,
    ) -> Option<usize> {
        if self.refused.load(Ordering::Relaxed) {
            return None;
        }
        let slots = slots_for(threads);
        let asked = self.slots.load(Ordering::Relaxed);
        if asked >= slots {
            return Some(asked);
        }
        match set_slots(slots) {
            Ok(()) => {
                self.slots.fetch_max(slots, Ordering::Relaxed);
                log::debug!("room for {threads} waiting threads: {slots} futex hash slots");
                Some(slots)
            }
            Err(error) => {
                self.refused.store(true, Ordering::Relaxed);
                log::debug!("futex hash left as the kernel sized it ({error})");
                None
            }
        }
    }
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn set_slots(slots: usize) -> std::io::Result<()> {
    // From linux/prctl.h (6.16); the libc crate does not have them yet.
    const PR_FUTEX_HASH: libc::c_int = 78;
    const PR_FUTEX_HASH_SET_SLOTS: libc::c_ulong = 1;
    let slots = libc::c_ulong::try_from(slots).unwrap_or(libc::c_ulong::MAX);
    // SAFETY: this prctl takes two integers (the slot count and flags, here none) and no
    // pointer; the kernel checks both and fails with EINVAL where it does not know the option.
    let result = unsafe {
        libc::prctl(
            PR_FUTEX_HASH,
            PR_FUTEX_HASH_SET_SLOTS,
            slots,
            0 as libc::c_ulong,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn set_slots(_: usize) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_slots_a_thread_in_a_power_of_two() {
        assert_eq!(slots_for(0), 16);
        assert_eq!(slots_for(3), 16);
        assert_eq!(slots_for(5), 32);
        assert_eq!(slots_for(40), 256);
        assert_eq!(slots_for(10_040), 65_536);
        assert_eq!(slots_for(usize::MAX), MAX_SLOTS);
    }

    #[test]
    fn room_is_asked_for_as_the_flock_outgrows_it_and_a_refusal_once() {
        let asked = Asked {
            slots: AtomicUsize::new(0),
            refused: AtomicBool::new(false),
        };
        let calls = std::cell::RefCell::new(Vec::new());
        let grant = |slots| {
            calls.borrow_mut().push(slots);
            Ok(())
        };
        assert_eq!(asked.make_room(100, grant), Some(512));
        assert_eq!(
            asked.make_room(50, grant),
            Some(512),
            "a smaller flock keeps the room"
        );
        assert_eq!(asked.make_room(200, grant), Some(1024));
        assert_eq!(*calls.borrow(), [512, 1024], "asked only when outgrown");

        let refused = Asked {
            slots: AtomicUsize::new(0),
            refused: AtomicBool::new(false),
        };
        let calls = std::cell::Cell::new(0);
        let refuse = |_| {
            calls.set(calls.get() + 1);
            Err(std::io::Error::from(std::io::ErrorKind::InvalidInput))
        };
        for threads in [100, 101, 5000] {
            assert_eq!(refused.make_room(threads, refuse), None);
        }
        assert_eq!(calls.get(), 1, "a refusing kernel is asked once");
    }

    /// Linux 6.16 and later have private tables to size; older kernels refuse, harmlessly.
    #[test]
    fn a_kernel_with_private_tables_gives_the_room_asked_for() {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
        let mut numbers = release
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|part| part.parse::<u32>().ok());
        let version = (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0));
        let room = make_room(10_000);
        if cfg!(target_os = "linux") && version >= (6, 16) {
            assert_eq!(room, Some(65_536), "kernel {release}");
            assert_eq!(
                make_room(100),
                Some(65_536),
                "a smaller flock keeps the room"
            );
        }
    }
}
