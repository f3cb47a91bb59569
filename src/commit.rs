//! Group commit: one thread makes the state folder's saves durable, with one `syncfs` for all
//! the saves of a moment instead of one `fsync` per save.
//!
//! A save writes its record in place, which makes it safe from a kill at once (the page cache
//! outlives the process). Reaching the disk, which only a power cut or a kernel crash can
//! undo, is this thread's job: woken by the first save after a sync, it waits `GATHER` for
//! more, then syncs the state folder's file system. At a power cut a state may be up to
//! `GATHER` (plus the sync) old; the lines re-sent after it are absorbed by X's duplicate rule.
//!
//! Shared state: the `dirty` flag and the wake channel, held by every `Commits` handle. When the
//! last handle is dropped, the thread syncs once more if anything was saved and ends.

use crate::stop::Stop;
use crossbeam_channel::{Receiver, Sender, TrySendError};
use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long the thread gathers saves before one sync makes them all durable.
pub const GATHER: Duration = Duration::from_millis(100);

/// What a save calls to have itself made durable; cheap to clone, one per bot.
#[derive(Debug, Clone)]
pub struct Commits {
    dirty: Arc<AtomicBool>,
    wake: Sender<()>,
}

impl Commits {
    /// A save has been written: the next sync must cover it. Wakes the thread only when it was
    /// idle, so a busy flock sends one message per sync, not one per save.
    pub fn saved(&self) {
        if !self.dirty.swap(true, Ordering::AcqRel) {
            match self.wake.try_send(()) {
                Ok(()) | Err(TrySendError::Full(())) | Err(TrySendError::Disconnected(())) => {}
            }
        }
    }
}

/// The syncing thread, to join once every `Commits` handle is gone.
pub struct Committer {
    thread: JoinHandle<Synced>,
}

/// What the thread did, once it has ended.
#[derive(Debug)]
pub struct Synced {
    /// Syncs made: one per gathering of saves, not one per save.
    pub syncs: usize,
    /// The last error a sync reported: saves since then may not be on the disk.
    pub failed: Option<io::Error>,
}

impl Committer {
    /// Waits for the last sync.
    pub fn join(self) -> Synced {
        self.thread.join().unwrap_or_else(|_| Synced {
            syncs: 0,
            failed: Some(io::Error::other(
                "the thread that syncs the state folder panicked",
            )),
        })
    }
}

/// Starts the thread for the state folder `dir`, gathering saves for `gather` before each sync
/// (`GATHER` in a flock). `stop` cuts a gathering wait short, so the saves of a stopping flock
/// are synced at once.
pub fn start(dir: &Path, gather: Duration, stop: &Stop) -> io::Result<(Commits, Committer)> {
    let folder = File::open(dir)?;
    let dirty = Arc::new(AtomicBool::new(false));
    let (wake, woken) = crossbeam_channel::bounded(1);
    let thread = {
        let dirty = Arc::clone(&dirty);
        let stop = stop.clone();
        std::thread::Builder::new()
            .name("state sync".into())
            .stack_size(256 * 1024)
            .spawn(move || run(&folder, gather, &dirty, &woken, &stop))?
    };
    Ok((Commits { dirty, wake }, Committer { thread }))
}

fn run(
    folder: &File,
    gather: Duration,
    dirty: &AtomicBool,
    woken: &Receiver<()>,
    stop: &Stop,
) -> Synced {
    let mut synced = Synced {
        syncs: 0,
        failed: None,
    };
    let sync_now = |synced: &mut Synced| {
        synced.syncs += 1;
        if let Err(error) = sync(folder) {
            synced.failed = Some(error);
        }
    };
    // Ends when every handle is gone: no save can come any more.
    while woken.recv().is_ok() {
        let _ = stop.wait_until(Instant::now() + gather);
        // Cleared before the sync starts: a save written from here on sets it again and wakes
        // this thread for the next sync, so no save is left out.
        dirty.store(false, Ordering::Release);
        sync_now(&mut synced);
    }
    if dirty.swap(false, Ordering::AcqRel) {
        sync_now(&mut synced);
    }
    synced
}

/// Makes every write to the file system that holds `folder` durable.
#[cfg(target_os = "linux")]
fn sync(folder: &File) -> io::Result<()> {
    rustix::fs::syncfs(folder).map_err(io::Error::from)
}

/// Elsewhere a flock does not start this thread (each save syncs its own file, see state.rs);
/// this keeps the module usable there, syncing what a folder can sync.
#[cfg(not(target_os = "linux"))]
fn sync(folder: &File) -> io::Result<()> {
    folder.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Waits (up to a minute) until the thread has taken up every save: cleared the flag for
    /// the sync that covers them.
    fn taken_up(commits: &Commits) -> bool {
        let deadline = Instant::now() + Duration::from_secs(60);
        while commits.dirty.load(Ordering::Acquire) {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        true
    }

    #[test]
    fn a_save_is_synced_and_the_thread_ends_with_the_last_handle() {
        let dir = tempfile::tempdir().unwrap();
        let (_switch, stop) = crate::stop::channel();
        let (commits, committer) = start(dir.path(), Duration::from_millis(1), &stop).unwrap();
        std::fs::write(dir.path().join("a"), b"x").unwrap();
        commits.saved();
        assert!(taken_up(&commits));
        drop(commits);
        let synced = committer.join();
        assert_eq!(synced.syncs, 1);
        assert!(synced.failed.is_none());
    }

    #[test]
    fn many_saves_share_one_sync() {
        let dir = tempfile::tempdir().unwrap();
        let (switch, stop) = crate::stop::channel();
        // Gathering for an hour: every save below lands in the first gathering.
        let (commits, committer) = start(dir.path(), Duration::from_secs(3600), &stop).unwrap();
        for _ in 0..1000 {
            commits.clone().saved();
        }
        switch.stop();
        drop(commits);
        let synced = committer.join();
        assert_eq!(synced.syncs, 1);
        assert!(synced.failed.is_none());
    }

    #[test]
    fn a_stop_cuts_the_gathering_short() {
        let dir = tempfile::tempdir().unwrap();
        let (switch, stop) = crate::stop::channel();
        // Gathering for an hour: only the stop can make the sync come within the minute.
        let (commits, committer) = start(dir.path(), Duration::from_secs(3600), &stop).unwrap();
        commits.saved();
        switch.stop();
        assert!(taken_up(&commits));
        commits.saved();
        assert!(taken_up(&commits));
        drop(commits);
        assert_eq!(committer.join().syncs, 2);
    }
}
