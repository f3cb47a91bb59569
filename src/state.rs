//! Where each bot is in its poem, kept on disk so the flock resumes after a restart.
//!
//! Shared state: the state folder (`--state-dir`, by default `KEYS_DIR/.state`). Each bot owns
//! one file in it, `NAME.json`, and only that bot's thread writes it, so 10,000 bots save at
//! once without a lock. `StateDir` is a path and a handle on the group commit: clone it or share
//! it freely. Two botflock processes must not share one state folder.
//!
//! A save writes the bot's record over the file's old one, in place: one write of one 512-byte
//! record at offset 0, the size of a disk sector. A kill (even SIGKILL) cannot tear it, since the
//! write is whole in the page cache before the process can die; a power cut cannot either,
//! because disks write a sector whole (the guarantee PostgreSQL's `pg_control` relies on), so the
//! file holds the old state or the new, never half of one. Reaching the disk is the group
//! commit's job (`commit.rs`: one `syncfs` for the saves of 100 ms); without one (elsewhere than
//! Linux, and in unit tests) each save syncs its own file.
//!
//! Saving in place, not by renaming a temporary file over the old one, is what lets ten thousand
//! bots save at once: every rename and every create takes the folder's lock, and every fsync
//! costs 60 µs of CPU here; measured in BENCHMARKS.md.
//!
//! The decisions (what a file's bytes mean, how a name becomes a file name, what a poem's
//! fingerprint is) are plain functions; `StateDir` is the thin shell that does the I/O.

use crate::commit::Commits;
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};
use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where a bot is in its poem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotState {
    /// 0-based index of the next line to post.
    pub next_line: usize,
    /// Completed rounds of the poem.
    pub cycle: u64,
    pub last_post_id: Option<String>,
    /// Kept in whole seconds: the file stores Unix seconds so a person can check it with
    /// `date -d @SECONDS`. A time before 1970 is stored as 0.
    pub last_post_at: Option<SystemTime>,
    /// `fingerprint` of the poem this state belongs to.
    pub poem_fingerprint: String,
    /// Within a line posted as a thread: the next part (0-based) and the id it replies to.
    pub next_part: usize,
    pub reply_to: Option<String>,
    /// The next post was being sent when this was saved: after a restart, X calling it a
    /// duplicate means it got through (used by `on_duplicate: stamp`).
    pub in_flight: bool,
}

/// What `StateDir::load` found for a bot. Each case except `Resumed` starts the bot at line 1;
/// reporting `PoemChanged` and `Corrupt` to the user is the caller's job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loaded {
    /// No state file: the bot has never posted (or its state folder is new).
    Fresh,
    /// The bot posted this poem before. `next_line` is not checked against the poem's length
    /// (`load` does not know it): the caller wraps or clamps it.
    Resumed(BotState),
    /// The state belongs to another version of the poem: start again at line 1.
    PoemChanged { previous: BotState },
    /// The state file could not be read or understood. It was renamed to `moved_to` so that a
    /// person can look at it; if even that rename failed, `moved_to` is the file's own path, it
    /// stays where it is and the next save replaces it (`reason` then says so).
    Corrupt { moved_to: PathBuf, reason: String },
}

/// Why the state folder cannot be used or a bot's state cannot be saved. Each names the folder
/// or file and says what to do.
#[derive(Debug)]
pub enum StateError {
    /// The state folder's path is an existing file.
    NotAFolder { dir: PathBuf },
    /// The state folder does not exist and cannot be created.
    CannotCreate { dir: PathBuf, source: io::Error },
    /// The state folder exists but a file cannot be created, written or removed in it.
    NotWritable { dir: PathBuf, source: io::Error },
    /// One step of saving a bot's state failed (`step` says which).
    CannotSave {
        bot: String,
        dir: PathBuf,
        step: &'static str,
        path: PathBuf,
        source: io::Error,
    },
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateError::NotAFolder { dir } => write!(
                f,
                "state folder {} is a file, not a folder: move the file away or pass --state-dir",
                dir.display()
            ),
            StateError::CannotCreate { dir, source } => write!(
                f,
                "cannot create state folder {} ({source}): create it yourself, fix the \
                 permissions of its parent, or pass --state-dir",
                dir.display()
            ),
            StateError::NotWritable { dir, source } => write!(
                f,
                "state folder {} is not writable ({source}): fix its permissions or pass \
                 --state-dir",
                dir.display()
            ),
            StateError::CannotSave {
                bot,
                dir,
                step,
                path,
                source,
            } => write!(
                f,
                "cannot save where bot {bot} is in its poem ({step} {} failed: {source}): make \
                 sure the state folder {} still exists, is writable and has free space; until \
                 then a restart resumes this bot from an earlier line",
                path.display(),
                dir.display()
            ),
        }
    }
}

impl std::error::Error for StateError {}

/// An open, writable state folder.
#[derive(Debug, Clone)]
pub struct StateDir {
    dir: PathBuf,
    commits: Option<Commits>,
}

impl StateDir {
    /// Creates the folder if needed and proves it writable.
    ///
    /// The proof is a real probe file, created, written and removed, because permission bits
    /// lie (root ignores them; read-only mounts, ACLs and full quotas do not show in them) and a
    /// folder we cannot write must stop the flock now, not lose every bot's place later.
    pub fn open(dir: &Path) -> Result<StateDir, StateError> {
        if fs::metadata(dir).is_ok_and(|meta| !meta.is_dir()) {
            return Err(StateError::NotAFolder {
                dir: dir.to_path_buf(),
            });
        }
        fs::create_dir_all(dir).map_err(|source| StateError::CannotCreate {
            dir: dir.to_path_buf(),
            source,
        })?;
        probe(dir).map_err(|source| StateError::NotWritable {
            dir: dir.to_path_buf(),
            source,
        })?;
        Ok(StateDir {
            dir: dir.to_path_buf(),
            commits: None,
        })
    }

    /// Leaves making saves durable to a group commit (`commit.rs`) instead of syncing each one.
    pub fn with_commits(self, commits: Commits) -> StateDir {
        StateDir {
            commits: Some(commits),
            ..self
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Removes the `NAME.json.tmp` twins that earlier versions swapped with each state file on
    /// every save. They only ever held an older state, and nothing reads them now. Best effort:
    /// one left behind does no harm.
    pub fn remove_twins(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if name.to_string_lossy().ends_with(".json.tmp") {
                let _ = fs::remove_file(entry.path());
            }
        }
    }

    /// The state of `bot`, checked against the poem's fingerprint.
    ///
    /// Never fails: an unreadable or unparsable file is moved aside and reported as `Corrupt`,
    /// because one bad file must not keep a bot (or the flock) from running.
    pub fn load(&self, bot: &str, fingerprint: &str) -> Loaded {
        let path = self.path(bot);
        let reason = match fs::read(&path) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Loaded::Fresh,
            Err(error) => format!("cannot read it: {error}"),
            Ok(bytes) => match decide(&bytes, fingerprint) {
                Ok(loaded) => return loaded,
                Err(reason) => reason,
            },
        };
        match move_aside(&path, SystemTime::now()) {
            Ok(moved_to) => Loaded::Corrupt { moved_to, reason },
            Err(error) => Loaded::Corrupt {
                reason: format!(
                    "{reason}; it could not be moved aside either ({error}), so it stays and \
                     the next save replaces it"
                ),
                moved_to: path,
            },
        }
    }

    /// Saves atomically: afterwards the file holds `state`; if writing fails, it still holds
    /// the previous state. Call it from one thread per bot at a time.
    pub fn save(&self, bot: &str, state: &BotState) -> Result<(), StateError> {
        self.slot(bot).save(state)
    }

    /// `bot`'s file, named once for every save of a running bot.
    pub fn slot(&self, bot: &str) -> Slot {
        Slot {
            bot: bot.to_string(),
            dir: self.dir.clone(),
            path: self.path(bot),
            commits: self.commits.clone(),
            buffer: RefCell::new(Vec::new()),
        }
    }

    /// The path of a bot's state file. Always directly inside the state folder, whatever the
    /// name holds (see `file_stem`).
    pub fn path(&self, bot: &str) -> PathBuf {
        self.dir.join(format!("{}.json", file_stem(bot)))
    }
}

/// A stable fingerprint of a poem's lines (same lines, same fingerprint, across versions and
/// machines): the lowercase hex SHA-1 of the lines joined with "\n". SHA-1 is enough here: this
/// detects an edited poem, it does not defend against anyone.
pub fn fingerprint(lines: &[String]) -> String {
    let mut hasher = Sha1::new();
    for (index, line) in lines.iter().enumerate() {
        if index > 0 {
            hasher.update(b"\n");
        }
        hasher.update(line.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// One bot's state file. A running bot saves through its slot, so a save allocates nothing: the
/// record is encoded into the slot's own buffer.
#[derive(Debug, Clone)]
pub struct Slot {
    bot: String,
    dir: PathBuf,
    path: PathBuf,
    commits: Option<Commits>,
    buffer: RefCell<Vec<u8>>,
}

impl Slot {
    /// Saves atomically, as `StateDir::save`.
    pub fn save(&self, state: &BotState) -> Result<(), StateError> {
        let fail = |step: &'static str, path: &Path, source: io::Error| StateError::CannotSave {
            bot: self.bot.clone(),
            dir: self.dir.clone(),
            step,
            path: path.to_path_buf(),
            source,
        };
        let mut bytes = self.buffer.borrow_mut();
        encode(state, &mut bytes).map_err(|error| fail("encoding", &self.path, error))?;
        let sync = self.commits.is_none();
        write_in_place(&self.path, &bytes, sync)
            .map_err(|error| fail("writing", &self.path, error))?;
        if let Some(commits) = &self.commits {
            commits.saved();
        }
        Ok(())
    }
}

/// The file as written. Unknown fields are ignored so that an older botflock can read a newer
/// file; missing `last_post_*` fields read as "never posted". Written from borrowed text, read
/// into owned.
#[derive(Serialize, Deserialize)]
struct StateFile<'a> {
    next_line: usize,
    cycle: u64,
    last_post_id: Option<Cow<'a, str>>,
    /// Unix seconds.
    last_post_at: Option<u64>,
    poem_fingerprint: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "is_zero")]
    next_part: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reply_to: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "is_false")]
    in_flight: bool,
}

fn is_false(flag: &bool) -> bool {
    !*flag
}

fn is_zero(part: &usize) -> bool {
    *part == 0
}

fn encode(state: &BotState, bytes: &mut Vec<u8>) -> Result<(), io::Error> {
    let file = StateFile {
        next_line: state.next_line,
        cycle: state.cycle,
        last_post_id: state.last_post_id.as_deref().map(Cow::Borrowed),
        last_post_at: state.last_post_at.map(|at| {
            at.duration_since(UNIX_EPOCH)
                .map_or(0, |since| since.as_secs())
        }),
        poem_fingerprint: Cow::Borrowed(&state.poem_fingerprint),
        next_part: state.next_part,
        reply_to: state.reply_to.as_deref().map(Cow::Borrowed),
        in_flight: state.in_flight,
    };
    const RECORD: usize = 512;
    bytes.clear();
    bytes.reserve(RECORD);
    serde_json::to_writer(&mut *bytes, &file).map_err(io::Error::other)?;
    // Padded with spaces (which JSON allows after a value) to a whole number of records, so
    // every save of a bot writes the same length over the same blocks. A final newline, so
    // `cat` leaves the prompt on its own line.
    let padded = (bytes.len() + 1).div_ceil(RECORD) * RECORD;
    bytes.resize(padded - 1, b' ');
    bytes.push(b'\n');
    Ok(())
}

/// What a state file's bytes mean for a poem with `fingerprint`; `Err` says why they mean
/// nothing.
fn decide(bytes: &[u8], fingerprint: &str) -> Result<Loaded, String> {
    let file: StateFile =
        serde_json::from_slice(bytes).map_err(|error| format!("not a state file: {error}"))?;
    let last_post_at = match file.last_post_at {
        None => None,
        Some(seconds) => Some(
            UNIX_EPOCH
                .checked_add(Duration::from_secs(seconds))
                .ok_or_else(|| format!("last_post_at {seconds} is not a time this system has"))?,
        ),
    };
    let state = BotState {
        next_line: file.next_line,
        cycle: file.cycle,
        last_post_id: file.last_post_id.map(Cow::into_owned),
        last_post_at,
        poem_fingerprint: file.poem_fingerprint.into_owned(),
        next_part: file.next_part,
        reply_to: file.reply_to.map(Cow::into_owned),
        in_flight: file.in_flight,
    };
    Ok(if state.poem_fingerprint == fingerprint {
        Loaded::Resumed(state)
    } else {
        Loaded::PoemChanged { previous: state }
    })
}

/// A bot name made safe as a file name: ASCII letters, digits, `_` and `-` stay, every other
/// byte becomes `%XX`. No `/`, `\`, `.` or NUL survives, so no name can leave the folder or hide
/// as `..`; and since `%` itself is encoded, two names never share a file. Names differing only
/// in case do share one on case-insensitive file systems (as they share one X account).
fn file_stem(bot: &str) -> String {
    let mut stem = String::with_capacity(bot.len());
    for byte in bot.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-' {
            stem.push(char::from(byte));
        } else {
            stem.push_str(&format!("%{byte:02X}"));
        }
    }
    stem
}

/// `NAME.json.tmp`, the twin that earlier versions kept beside `NAME.json`.
#[cfg(test)]
fn legacy_twin(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(".tmp");
    PathBuf::from(name)
}

/// Where a corrupt `NAME.json` goes: `NAME.json.corrupt-SECONDS`, with `-2`, `-3`… added when
/// an earlier file of that second is there, so no corrupt file hides another.
fn corrupt_path(path: &Path, now: SystemTime, taken: impl Fn(&Path) -> bool) -> PathBuf {
    let seconds = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    // Built from the path's own bytes, not `display()`, which would mangle a folder whose name
    // is not UTF-8.
    let with_suffix = |suffix: String| {
        let mut name = path.as_os_str().to_os_string();
        name.push(suffix);
        PathBuf::from(name)
    };
    let mut candidate = with_suffix(format!(".corrupt-{seconds}"));
    let mut n = 2u32;
    while taken(&candidate) {
        candidate = with_suffix(format!(".corrupt-{seconds}-{n}"));
        n += 1;
    }
    candidate
}

fn move_aside(path: &Path, now: SystemTime) -> io::Result<PathBuf> {
    let moved_to = corrupt_path(path, now, |candidate| {
        fs::symlink_metadata(candidate).is_ok()
    });
    fs::rename(path, &moved_to)?;
    // Best effort: the file has moved, and should the move be lost to a power cut, the next
    // start finds the same corrupt file and moves it again.
    let _ = sync_folder(path.parent().unwrap_or(Path::new(".")));
    Ok(moved_to)
}

/// Writes `bytes` over the file's old content in place, from offset 0, creating the file the
/// first time; with `sync`, waits until the data is on the disk. The file never shrinks: a
/// record shorter than the file is padded to its length (JSON allows trailing spaces), so no
/// moment exists where the file holds a new record followed by an old one's tail.
fn write_in_place(path: &Path, bytes: &[u8], sync: bool) -> io::Result<()> {
    let file = match fs::OpenOptions::new().write(true).open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => create(path)?,
        Err(error) => return Err(error),
    };
    let old_len = file.metadata()?.len();
    let mut padded;
    let record = if old_len > bytes.len() as u64 {
        let len = usize::try_from(old_len).map_err(io::Error::other)?;
        padded = bytes[..bytes.len() - 1].to_vec();
        padded.resize(len - 1, b' ');
        padded.push(b'\n');
        &padded[..]
    } else {
        bytes
    };
    write_at(&file, record)?;
    if sync {
        file.sync_data()?;
    }
    Ok(())
}

fn create(path: &Path) -> io::Result<File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Where a bot is, and its last post's id: nobody else's business.
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(unix)]
fn write_at(file: &File, bytes: &[u8]) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.write_all_at(bytes, 0)
}

#[cfg(not(unix))]
fn write_at(mut file: &File, bytes: &[u8]) -> io::Result<()> {
    use std::io::{Seek, Write};
    file.seek(io::SeekFrom::Start(0))?;
    file.write_all(bytes)
}

/// Makes a rename in `dir` durable: the rename lives in the folder, not in the file.
#[cfg(unix)]
fn sync_folder(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Windows cannot open a folder as a file; its renames are journaled by NTFS.
#[cfg(not(unix))]
fn sync_folder(_dir: &Path) -> io::Result<()> {
    Ok(())
}

/// Creates, writes and removes a file in `dir`, and syncs `dir`. The name
/// has a dot and no `.json`, so it is never a bot's file; the process id keeps two starts
/// from removing each other's probe.
fn probe(dir: &Path) -> io::Result<()> {
    let path = dir.join(format!(".probe-{}.tmp", std::process::id()));
    let written = create(&path).and_then(|file| {
        write_at(&file, b"botflock checks that it can write here\n")?;
        file.sync_data()
    });
    if let Err(error) = written {
        // Best effort: a half-made probe (disk full, say) should not stay behind.
        let _ = fs::remove_file(&path);
        return Err(error);
    }
    fs::remove_file(&path)?;
    sync_folder(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::sync::Arc;

    fn state(next_line: usize, fingerprint: &str) -> BotState {
        BotState {
            next_line,
            cycle: 2,
            last_post_id: Some("1861234567890123456".to_string()),
            last_post_at: Some(UNIX_EPOCH + Duration::from_secs(1_763_700_000)),
            poem_fingerprint: fingerprint.to_string(),
            next_part: 0,
            reply_to: None,
            in_flight: false,
        }
    }

    fn lines(text: &[&str]) -> Vec<String> {
        text.iter().map(|line| line.to_string()).collect()
    }

    fn names_in(dir: &Path) -> BTreeSet<String> {
        fs::read_dir(dir)
            .expect("read the test folder")
            .map(|entry| {
                let entry = entry.expect("read a folder entry");
                entry.file_name().to_string_lossy().into_owned()
            })
            .collect()
    }

    fn open_temp() -> (tempfile::TempDir, StateDir) {
        let temp = tempfile::tempdir().expect("make a temp folder");
        let states = StateDir::open(&temp.path().join("keys").join(".state")).expect("open");
        (temp, states)
    }

    #[test]
    fn saved_state_is_resumed() {
        let (_temp, states) = open_temp();
        let saved = state(3, "abc");
        states.save("alice", &saved).expect("save");
        assert_eq!(states.load("alice", "abc"), Loaded::Resumed(saved));
    }

    #[test]
    fn never_posted_state_is_resumed() {
        let (_temp, states) = open_temp();
        let saved = BotState {
            next_line: 0,
            cycle: 0,
            last_post_id: None,
            last_post_at: None,
            poem_fingerprint: "abc".to_string(),
            next_part: 0,
            reply_to: None,
            in_flight: false,
        };
        states.save("alice", &saved).expect("save");
        assert_eq!(states.load("alice", "abc"), Loaded::Resumed(saved));
    }

    #[test]
    fn file_is_plain_json_with_unix_seconds() {
        let (_temp, states) = open_temp();
        states.save("alice", &state(3, "abc")).expect("save");
        let text = fs::read_to_string(states.path("alice")).expect("read");
        assert_eq!(text.len(), 512, "padded to one record");
        assert_eq!(
            text.trim_end().to_string() + "\n",
            "{\"next_line\":3,\"cycle\":2,\"last_post_id\":\"1861234567890123456\",\
             \"last_post_at\":1763700000,\"poem_fingerprint\":\"abc\"}\n"
        );
    }

    #[test]
    fn time_is_kept_in_whole_seconds() {
        let (_temp, states) = open_temp();
        let mut saved = state(1, "abc");
        saved.last_post_at = Some(UNIX_EPOCH + Duration::from_millis(1_763_700_000_750));
        states.save("alice", &saved).expect("save");
        let Loaded::Resumed(loaded) = states.load("alice", "abc") else {
            panic!("expected a resumed state");
        };
        assert_eq!(
            loaded.last_post_at,
            Some(UNIX_EPOCH + Duration::from_secs(1_763_700_000))
        );
    }

    #[test]
    fn missing_file_is_fresh() {
        let (_temp, states) = open_temp();
        assert_eq!(states.load("alice", "abc"), Loaded::Fresh);
    }

    #[test]
    fn changed_poem_gives_the_previous_state() {
        let (_temp, states) = open_temp();
        let saved = state(5, "old");
        states.save("alice", &saved).expect("save");
        assert_eq!(
            states.load("alice", "new"),
            Loaded::PoemChanged { previous: saved }
        );
    }

    #[test]
    fn corrupt_file_is_moved_aside_and_reported() {
        let (_temp, states) = open_temp();
        let path = states.path("alice");
        let garbage = b"{\"next_line\":3,\"cyc".to_vec();
        fs::write(&path, &garbage).expect("write garbage");

        let Loaded::Corrupt { moved_to, reason } = states.load("alice", "abc") else {
            panic!("expected a corrupt state");
        };
        assert!(!path.exists(), "the corrupt file is still in place");
        assert_eq!(moved_to.parent(), Some(states.dir()));
        let moved_name = moved_to.file_name().expect("a file name").to_string_lossy();
        assert!(
            moved_name.starts_with("alice.json.corrupt-"),
            "{moved_name}"
        );
        assert_eq!(fs::read(&moved_to).expect("read the moved file"), garbage);
        assert!(reason.contains("not a state file"), "{reason}");
        // Moved aside, it no longer stands in the bot's way.
        assert_eq!(states.load("alice", "abc"), Loaded::Fresh);
    }

    #[test]
    fn json_of_the_wrong_shape_is_corrupt() {
        let (_temp, states) = open_temp();
        fs::write(states.path("alice"), b"{\"next_line\":-1}").expect("write");
        assert!(matches!(
            states.load("alice", "abc"),
            Loaded::Corrupt { .. }
        ));
    }

    #[test]
    fn a_second_corrupt_file_does_not_replace_the_first() {
        let now = UNIX_EPOCH + Duration::from_secs(100);
        let path = Path::new("/s/alice.json");
        let taken = [
            PathBuf::from("/s/alice.json.corrupt-100"),
            PathBuf::from("/s/alice.json.corrupt-100-2"),
        ];
        assert_eq!(
            corrupt_path(path, now, |candidate| taken.iter().any(|t| t == candidate)),
            PathBuf::from("/s/alice.json.corrupt-100-3")
        );
        assert_eq!(
            corrupt_path(path, now, |_| false),
            PathBuf::from("/s/alice.json.corrupt-100")
        );
    }

    #[test]
    fn unreadable_file_is_corrupt() {
        // A folder where the file should be cannot be read, even by root.
        let (_temp, states) = open_temp();
        fs::create_dir(states.path("alice")).expect("make a folder");
        let Loaded::Corrupt { moved_to, reason } = states.load("alice", "abc") else {
            panic!("expected a corrupt state");
        };
        assert!(reason.contains("cannot read it"), "{reason}");
        assert!(moved_to.is_dir());
        assert!(!states.path("alice").exists());
    }

    #[test]
    fn open_creates_the_folder() {
        let temp = tempfile::tempdir().expect("make a temp folder");
        let dir = temp.path().join("a").join("b");
        let states = StateDir::open(&dir).expect("open");
        assert_eq!(states.dir(), dir);
        assert!(dir.is_dir());
        assert!(names_in(&dir).is_empty(), "the probe file was left behind");
    }

    #[test]
    fn a_file_in_place_of_the_folder_is_a_clear_error() {
        // Permission bits do not stop root, who runs these tests; a file in the way stops anyone.
        let temp = tempfile::tempdir().expect("make a temp folder");
        let file = temp.path().join("state");
        fs::write(&file, b"").expect("write");

        let error = StateDir::open(&file).expect_err("a file is not a folder");
        assert!(matches!(error, StateError::NotAFolder { .. }), "{error:?}");
        let message = error.to_string();
        assert!(message.contains(&file.display().to_string()), "{message}");
        assert!(message.contains("--state-dir"), "{message}");

        let error = StateDir::open(&file.join("inside")).expect_err("no folder inside a file");
        assert!(
            matches!(error, StateError::CannotCreate { .. }),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(message.contains("cannot create state folder"), "{message}");
        assert!(message.contains("--state-dir"), "{message}");
    }

    #[test]
    fn not_writable_message_says_what_to_do() {
        let error = StateError::NotWritable {
            dir: PathBuf::from("/var/lib/flock"),
            source: io::Error::from(io::ErrorKind::PermissionDenied),
        };
        assert_eq!(
            error.to_string(),
            "state folder /var/lib/flock is not writable (permission denied): fix its \
             permissions or pass --state-dir"
        );
    }

    #[test]
    fn saves_write_one_file_in_place() {
        let (_temp, states) = open_temp();
        states.save("alice", &state(1, "abc")).expect("save");
        let inode = inode_of(&states.path("alice"));
        states.save("alice", &state(2, "abc")).expect("save again");
        states.save("alice", &state(3, "abc")).expect("and again");
        assert_eq!(
            names_in(states.dir()),
            BTreeSet::from(["alice.json".into()])
        );
        assert_eq!(inode_of(&states.path("alice")), inode);
        assert_eq!(fs::read(states.path("alice")).unwrap().len(), 512);
        assert_eq!(
            states.load("alice", "abc"),
            Loaded::Resumed(state(3, "abc"))
        );
    }

    #[cfg(unix)]
    fn inode_of(path: &Path) -> u64 {
        use std::os::unix::fs::MetadataExt;
        fs::metadata(path).expect("the state file").ino()
    }

    #[cfg(not(unix))]
    fn inode_of(_path: &Path) -> u64 {
        0
    }

    #[cfg(unix)]
    #[test]
    fn the_state_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let (_temp, states) = open_temp();
        states.save("alice", &state(1, "abc")).expect("save");
        let mode = fs::metadata(states.path("alice"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_shorter_record_is_padded_to_the_file_s_length() {
        let (_temp, states) = open_temp();
        let mut long = state(1, "abc");
        long.reply_to = Some("7".repeat(600));
        states.save("alice", &long).expect("save a long record");
        assert_eq!(fs::read(states.path("alice")).unwrap().len(), 1024);
        states
            .save("alice", &state(2, "abc"))
            .expect("save a short one");
        let bytes = fs::read(states.path("alice")).unwrap();
        assert_eq!(bytes.len(), 1024);
        assert!(bytes.ends_with(b" \n"));
        assert_eq!(
            states.load("alice", "abc"),
            Loaded::Resumed(state(2, "abc"))
        );
    }

    #[test]
    fn the_twins_of_earlier_versions_are_removed_and_nothing_else() {
        let (_temp, states) = open_temp();
        states.save("alice", &state(1, "abc")).expect("save");
        fs::write(legacy_twin(&states.path("alice")), b"{\"next_li").expect("write");
        fs::write(states.dir().join("notes.txt"), b"mine").expect("write");
        states.remove_twins();
        assert_eq!(
            names_in(states.dir()),
            BTreeSet::from(["alice.json".into(), "notes.txt".into()])
        );
        assert_eq!(
            states.load("alice", "abc"),
            Loaded::Resumed(state(1, "abc"))
        );
    }

    #[test]
    fn saves_handed_to_a_group_commit_are_resumed() {
        let (_temp, states) = open_temp();
        let (_switch, stop) = crate::stop::channel();
        let (commits, committer) =
            crate::commit::start(states.dir(), Duration::from_millis(1), &stop).expect("start");
        let states = states.with_commits(commits);
        for line in 0..5 {
            states.save("alice", &state(line, "abc")).expect("save");
        }
        assert_eq!(
            states.load("alice", "abc"),
            Loaded::Resumed(state(4, "abc"))
        );
        drop(states);
        let synced = committer.join();
        assert!(synced.syncs >= 1, "the saves were never synced");
        assert!(synced.failed.is_none());
    }

    #[test]
    fn failed_save_names_the_bot_and_the_folder() {
        let (_temp, states) = open_temp();
        fs::remove_dir(states.dir()).expect("remove the state folder");
        let error = states
            .save("alice", &state(1, "abc"))
            .expect_err("no folder to save in");
        let message = error.to_string();
        assert!(message.contains("bot alice"), "{message}");
        assert!(message.contains("alice.json"), "{message}");
        assert!(
            message.contains(&states.dir().display().to_string()),
            "{message}"
        );
    }

    #[test]
    fn no_name_escapes_the_folder() {
        let temp = tempfile::tempdir().expect("make a temp folder");
        let dir = temp.path().join("state");
        let states = StateDir::open(&dir).expect("open");
        let names = [
            "../evil",
            "..",
            ".",
            "",
            "a/b",
            "/etc/passwd",
            "a\\b",
            "a\0b",
            "~root",
        ];
        for name in names {
            let path = states.path(name);
            assert_eq!(path.parent(), Some(dir.as_path()), "{name:?}");
            states.save(name, &state(1, "abc")).expect("save");
            assert_eq!(
                states.load(name, "abc"),
                Loaded::Resumed(state(1, "abc")),
                "{name:?}"
            );
        }
        assert_eq!(names_in(temp.path()), BTreeSet::from(["state".into()]));
        assert_eq!(names_in(&dir).len(), names.len(), "two names share a file");
        assert!(names_in(&dir).iter().all(|name| name.ends_with(".json")));
    }

    #[test]
    fn file_names_keep_screen_names_and_encode_the_rest() {
        assert_eq!(file_stem("Poet_01-x"), "Poet_01-x");
        assert_eq!(file_stem("../a"), "%2E%2E%2Fa");
        assert_eq!(file_stem("é"), "%C3%A9");
        // `%` is encoded too, so an encoded-looking name cannot meet a real one.
        assert_eq!(file_stem("%2E"), "%252E");
        assert_ne!(file_stem("%2E"), file_stem("."));
    }

    #[test]
    fn many_bots_save_at_once() {
        let (_temp, states) = open_temp();
        let states = Arc::new(states);
        let handles: Vec<_> = (0..64)
            .map(|bot| {
                let states = Arc::clone(&states);
                std::thread::spawn(move || {
                    for line in 0..20 {
                        states
                            .save(&format!("bot{bot}"), &state(line, "abc"))
                            .expect("save");
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().expect("a saving thread panicked");
        }
        for bot in 0..64 {
            assert_eq!(
                states.load(&format!("bot{bot}"), "abc"),
                Loaded::Resumed(state(19, "abc"))
            );
        }
        let files = names_in(states.dir());
        assert_eq!(
            files.iter().filter(|name| name.ends_with(".json")).count(),
            64
        );
    }

    #[test]
    fn fingerprint_follows_the_lines() {
        let poem = lines(&[
            "Tyger Tyger, burning bright,",
            "In the forests of the night;",
        ]);
        let copy = poem.clone();
        assert_eq!(fingerprint(&poem), fingerprint(&copy));
        let edited = lines(&[
            "Tyger Tyger, burning bright,",
            "In the forests of the night",
        ]);
        assert_ne!(fingerprint(&poem), fingerprint(&edited));
        let reordered = lines(&[
            "In the forests of the night;",
            "Tyger Tyger, burning bright,",
        ]);
        assert_ne!(fingerprint(&poem), fingerprint(&reordered));
    }

    #[test]
    fn fingerprint_is_sha1_of_the_joined_lines() {
        // Pinned so that a new version or another machine keeps every bot's place:
        // `printf 'a\nb' | sha1sum`.
        assert_eq!(
            fingerprint(&lines(&["a", "b"])),
            "fcd127ffa1016069006ad91f3f361248f9bdf272"
        );
    }
}
