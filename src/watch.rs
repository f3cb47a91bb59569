//! Noticing changes in the keys folder: a key file added, removed, or changed (it or its poem).
//! The file system tells (inotify and the like, through `notify`) that something changed in the
//! keys folder or a poem's folder; a rescan then compares signatures (modification time and
//! length) to find what. So a flock at rest reads nothing at all; where no notification is to be
//! had, every rescan tick compares signatures instead. Comparing signatures is pure.

use crossbeam_channel::{Receiver, never};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Tells when something may have changed in the watched folders.
pub struct Watcher {
    inner: Option<notify::RecommendedWatcher>,
    watched: HashSet<PathBuf>,
    events: Receiver<notify::Result<notify::Event>>,
}

impl Watcher {
    /// Watches `keys_dir`; without file-system notifications, a watcher that always says
    /// "look".
    pub fn new(keys_dir: &Path) -> Watcher {
        let (sender, events) = crossbeam_channel::unbounded();
        let mut watcher = match notify::recommended_watcher(sender) {
            Ok(inner) => Watcher {
                inner: Some(inner),
                watched: HashSet::new(),
                events,
            },
            Err(error) => {
                log::debug!("no file-system notifications ({error}): rescanning on every tick");
                return Watcher {
                    inner: None,
                    watched: HashSet::new(),
                    events: never(),
                };
            }
        };
        watcher.watch(keys_dir);
        watcher
    }

    /// Also watches the folder `file` is in (a poem's).
    pub fn watch_folder_of(&mut self, file: &Path) {
        if let Some(folder) = file.parent() {
            self.watch(folder);
        }
    }

    fn watch(&mut self, folder: &Path) {
        let folder = if folder.as_os_str().is_empty() {
            Path::new(".")
        } else {
            folder
        };
        let Some(inner) = self.inner.as_mut() else {
            return;
        };
        if self.watched.contains(folder) {
            return;
        }
        use notify::Watcher as _;
        match inner.watch(folder, notify::RecursiveMode::NonRecursive) {
            Ok(()) => {
                self.watched.insert(folder.to_path_buf());
            }
            Err(error) => {
                log::debug!(
                    "cannot watch {} ({error}): rescanning on every tick",
                    folder.display()
                );
                self.inner = None;
            }
        }
    }

    /// Notifications, to `select!` on.
    pub fn events(&self) -> &Receiver<notify::Result<notify::Event>> {
        &self.events
    }

    /// Whether every tick must rescan, having no notifications to go by.
    pub fn polls(&self) -> bool {
        self.inner.is_none()
    }
}

/// What a key file and its poem looked like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    key: Option<(SystemTime, u64)>,
    poem: Option<(SystemTime, u64)>,
}

fn stat(path: &Path) -> Option<(SystemTime, u64)> {
    stamp(&std::fs::metadata(path).ok()?)
}

fn stamp(meta: &std::fs::Metadata) -> Option<(SystemTime, u64)> {
    Some((meta.modified().ok()?, meta.len()))
}

impl Signature {
    /// From metadata read before the files were: an edit made while they were read then shows
    /// as a change at the next rescan, instead of passing unseen.
    pub fn from_metadata(
        key: Option<&std::fs::Metadata>,
        poem: Option<&std::fs::Metadata>,
    ) -> Signature {
        Signature {
            key: key.and_then(stamp),
            poem: poem.and_then(stamp),
        }
    }
}

/// The signature of a key file and, when known, its poem.
pub fn signature(key_file: &Path, poem_file: Option<&Path>) -> Signature {
    Signature {
        key: stat(key_file),
        poem: poem_file.and_then(stat),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Added(PathBuf),
    Removed(PathBuf),
    Changed(PathBuf),
}

/// What changed from `before` to `now`, in path order.
pub fn changes(
    before: &HashMap<PathBuf, Signature>,
    now: &HashMap<PathBuf, Signature>,
) -> Vec<Change> {
    let mut changes: Vec<Change> = now
        .iter()
        .filter_map(|(path, signature)| match before.get(path) {
            None => Some(Change::Added(path.clone())),
            Some(old) if old != signature => Some(Change::Changed(path.clone())),
            Some(_) => None,
        })
        .chain(
            before
                .keys()
                .filter(|path| !now.contains_key(*path))
                .map(|path| Change::Removed(path.clone())),
        )
        .collect();
    changes.sort_by(|a, b| path_of(a).cmp(path_of(b)));
    changes
}

fn path_of(change: &Change) -> &Path {
    match change {
        Change::Added(path) | Change::Removed(path) | Change::Changed(path) => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn sig(seconds: u64, len: u64) -> Signature {
        Signature {
            key: Some((SystemTime::UNIX_EPOCH + Duration::from_secs(seconds), len)),
            poem: None,
        }
    }

    #[test]
    fn additions_removals_and_edits_are_told_apart() {
        let before: HashMap<PathBuf, Signature> = [
            ("keys/a.json".into(), sig(1, 10)),
            ("keys/b.json".into(), sig(1, 10)),
            ("keys/c.json".into(), sig(1, 10)),
        ]
        .into();
        let now: HashMap<PathBuf, Signature> = [
            ("keys/a.json".into(), sig(1, 10)),
            ("keys/b.json".into(), sig(2, 10)),
            ("keys/d.json".into(), sig(1, 10)),
        ]
        .into();
        assert_eq!(
            changes(&before, &now),
            [
                Change::Changed("keys/b.json".into()),
                Change::Removed("keys/c.json".into()),
                Change::Added("keys/d.json".into()),
            ]
        );
    }

    #[test]
    fn an_edited_poem_changes_the_signature() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("a.json");
        let poem = dir.path().join("a.txt");
        std::fs::write(&key, "{}").unwrap();
        std::fs::write(&poem, "one").unwrap();
        let before = signature(&key, Some(&poem));
        std::fs::write(&poem, "one\ntwo").unwrap();
        assert_ne!(signature(&key, Some(&poem)), before);
    }
}
