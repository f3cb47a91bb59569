//! Key files: one JSON file per bot in the keys folder, in the original flock's format.
//! Loading is all-or-nothing per bot and never per flock: a bad file becomes a `KeyError` for
//! that bot while every other bot loads.

use crate::active_hours::ActiveHours;
use crate::duration;
use crate::order::Order;
use crate::poem::{Poem, PoemError};
use crate::secret::Secret;
use crate::watch::Signature;
use serde::{Deserialize, Deserializer};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What a bot signs its requests with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub consumer_key: Secret,
    pub consumer_secret: Secret,
    pub token: Secret,
    pub token_secret: Secret,
}

/// What a bot does with a line over X's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LongLines {
    /// Post it as a thread: parts split at word boundaries, each a reply to the one before.
    #[default]
    Thread,
    /// Do not post it; say so.
    Skip,
}

/// What a bot does when X says a line is already on the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum OnDuplicate {
    /// Count it as posted and go on.
    #[default]
    Skip,
    /// Post it again with the date and time appended, so a poem can recite again.
    Stamp,
}

/// The per-bot schedule settings a key file may set; unset ones take the command line's.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Overrides {
    pub line_interval: Option<Duration>,
    pub poem_interval: Option<Duration>,
    pub long_lines: Option<LongLines>,
    pub order: Option<Order>,
    pub jitter: Option<f64>,
    pub active_hours: Option<ActiveHours>,
    pub on_duplicate: Option<OnDuplicate>,
}

/// One bot, ready to run.
#[derive(Debug, Clone)]
pub struct Bot {
    pub name: String,
    pub key_file: PathBuf,
    pub credentials: Credentials,
    pub poem_file: PathBuf,
    pub poem: Poem,
    pub overrides: Overrides,
    /// The key file can be read by group or others (it holds secrets).
    pub loose_permissions: bool,
    /// What the key file and the poem looked like just before they were read, for the
    /// rescan to compare with.
    pub seen: Signature,
}

/// The key file as written. Unknown fields (the original flock's `user_id`, say) are ignored.
#[derive(Deserialize)]
struct KeyFile {
    screen_name: String,
    consumer_token: Secret,
    consumer_token_secret: Secret,
    oauth_token: Secret,
    oauth_token_secret: Secret,
    #[serde(alias = "file")]
    poem_file: PathBuf,
    #[serde(default, deserialize_with = "interval")]
    line_interval: Option<Duration>,
    #[serde(default, deserialize_with = "interval")]
    poem_interval: Option<Duration>,
    #[serde(default)]
    long_lines: Option<LongLines>,
    #[serde(default)]
    order: Option<Order>,
    #[serde(default, deserialize_with = "fraction")]
    jitter: Option<f64>,
    #[serde(default, deserialize_with = "hours")]
    active_hours: Option<ActiveHours>,
    #[serde(default)]
    on_duplicate: Option<OnDuplicate>,
}

/// The account a key file signs for, without its poem: what the sandbox registers.
#[derive(Debug, Clone)]
pub struct Account {
    pub screen_name: String,
    /// The original flock's `user_id`, a number or a string, when the key file has one.
    pub user_id: Option<String>,
    pub credentials: Credentials,
}

#[derive(Deserialize)]
struct AccountFile {
    screen_name: String,
    consumer_token: Secret,
    consumer_token_secret: Secret,
    oauth_token: Secret,
    oauth_token_secret: Secret,
    #[serde(default)]
    user_id: Option<serde_json::Value>,
}

/// Why one key file cannot become a bot. Each names the file and says what to fix.
#[derive(Debug)]
pub enum KeyError {
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    Json {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    MissingField {
        path: PathBuf,
        field: String,
    },
    EmptyField {
        path: PathBuf,
        field: &'static str,
    },
    PoemNotFound {
        path: PathBuf,
        poem_file: PathBuf,
        tried: Vec<PathBuf>,
    },
    Poem {
        path: PathBuf,
        source: PoemError,
    },
    DuplicateBot {
        path: PathBuf,
        name: String,
        first: PathBuf,
    },
}

impl KeyError {
    /// The key file this error is about.
    pub fn path(&self) -> &Path {
        match self {
            KeyError::Unreadable { path, .. }
            | KeyError::Json { path, .. }
            | KeyError::MissingField { path, .. }
            | KeyError::EmptyField { path, .. }
            | KeyError::PoemNotFound { path, .. }
            | KeyError::Poem { path, .. }
            | KeyError::DuplicateBot { path, .. } => path,
        }
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::Unreadable { path, source } => {
                write!(f, "{}: cannot read key file: {source}", path.display())
            }
            KeyError::Json {
                path,
                line,
                column,
                message,
            } => write!(
                f,
                "{}: line {line}, column {column}: {message}: fix the JSON there",
                path.display()
            ),
            KeyError::MissingField { path, field } => write!(
                f,
                "{}: missing field `{field}`: add \"{field}\": \"...\" to the key file",
                path.display()
            ),
            KeyError::EmptyField { path, field } => {
                write!(
                    f,
                    "{}: field `{field}` is empty: fill it in",
                    path.display()
                )
            }
            KeyError::PoemNotFound {
                path,
                poem_file,
                tried,
            } => {
                let tried: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
                write!(
                    f,
                    "{}: poem file `{}` not found (looked at {}): fix `poem_file` or create the poem",
                    path.display(),
                    poem_file.display(),
                    tried.join(" and ")
                )
            }
            KeyError::Poem { path, source } => write!(f, "{}: {source}", path.display()),
            KeyError::DuplicateBot { path, name, first } => write!(
                f,
                "{}: bot `{name}` is already run from {}: one key file per account, remove one",
                path.display(),
                first.display()
            ),
        }
    }
}

impl std::error::Error for KeyError {}

/// Why the keys folder as a whole gives no flock.
#[derive(Debug)]
pub enum FolderError {
    Missing {
        dir: PathBuf,
    },
    Unreadable {
        dir: PathBuf,
        source: std::io::Error,
    },
    NoKeyFiles {
        dir: PathBuf,
    },
}

impl fmt::Display for FolderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const HOW: &str = "add one JSON key file per bot (screen_name, consumer_token, \
                           consumer_token_secret, oauth_token, oauth_token_secret, poem_file); \
                           see README.md";
        match self {
            FolderError::Missing { dir } => {
                write!(
                    f,
                    "keys folder {} does not exist: create it and {HOW}",
                    dir.display()
                )
            }
            FolderError::Unreadable { dir, source } => {
                write!(f, "cannot read keys folder {}: {source}", dir.display())
            }
            FolderError::NoKeyFiles { dir } => {
                write!(
                    f,
                    "keys folder {} has no *.json key files: {HOW}",
                    dir.display()
                )
            }
        }
    }
}

impl std::error::Error for FolderError {}

/// Every bot in a keys folder, and every key file that could not become one.
#[derive(Debug)]
pub struct Flock {
    pub bots: Vec<Bot>,
    pub problems: Vec<KeyError>,
}

/// The `*.json` files directly in `dir`, sorted so the flock starts in a stable order.
pub fn key_files(dir: &Path) -> Result<Vec<PathBuf>, FolderError> {
    let entries = std::fs::read_dir(dir).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            FolderError::Missing {
                dir: dir.to_path_buf(),
            }
        } else {
            FolderError::Unreadable {
                dir: dir.to_path_buf(),
                source,
            }
        }
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|entry| {
            // The entry's own type costs no extra stat; only a link is followed to see.
            entry
                .file_type()
                .is_ok_and(|kind| kind.is_file() || (kind.is_symlink() && entry.path().is_file()))
        })
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    Ok(files)
}

/// Loads every key file in `dir`. Relative poem paths are tried against the key file's folder,
/// then against `cwd`.
pub fn load_folder(dir: &Path, cwd: &Path) -> Result<Flock, FolderError> {
    let files = key_files(dir)?;
    if files.is_empty() {
        return Err(FolderError::NoKeyFiles {
            dir: dir.to_path_buf(),
        });
    }
    let mut flock = Flock {
        bots: Vec::new(),
        problems: Vec::new(),
    };
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let loaded = load_all(&files, cwd, cores);
    let mut seen: HashMap<String, PathBuf> = HashMap::new();
    for (path, bot) in files.into_iter().zip(loaded) {
        match bot {
            Ok(bot) => {
                if let Some(first) = seen.get(&bot.name) {
                    flock.problems.push(KeyError::DuplicateBot {
                        path,
                        name: bot.name,
                        first: first.clone(),
                    });
                } else {
                    seen.insert(bot.name.clone(), path);
                    flock.bots.push(bot);
                }
            }
            Err(error) => flock.problems.push(error),
        }
    }
    Ok(flock)
}

/// Below this many key files a second loading thread is not worth starting.
const FILES_PER_LOADER: usize = 256;

/// `load_key_file` for each of `files`, in their order, spread over `cores` threads (at most 8):
/// a large flock's first posts wait for the last file to load.
fn load_all(files: &[PathBuf], cwd: &Path, cores: usize) -> Vec<Result<Bot, KeyError>> {
    let share = files.len().div_ceil(cores.min(8)).max(FILES_PER_LOADER);
    let load = |part: &[PathBuf]| -> Vec<Result<Bot, KeyError>> {
        part.iter().map(|path| load_key_file(path, cwd)).collect()
    };
    std::thread::scope(|scope| {
        let mut parts = files.chunks(share);
        let first = parts.next().unwrap_or_default();
        // A part whose thread cannot start is loaded here instead.
        let others: Vec<_> = parts
            .map(|part| {
                std::thread::Builder::new()
                    .name("loading keys".into())
                    .spawn_scoped(scope, move || load(part))
                    .map_err(|_| part)
            })
            .collect();
        let mut all = load(first);
        for other in others {
            match other {
                Ok(thread) => all.extend(
                    thread
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                ),
                Err(part) => all.extend(load(part)),
            }
        }
        all
    })
}

/// The accounts of every key file in `dir`, and the files that could not be read.
pub fn load_accounts(dir: &Path) -> Result<(Vec<Account>, Vec<KeyError>), FolderError> {
    let mut accounts = Vec::new();
    let mut problems = Vec::new();
    for path in key_files(dir)? {
        match read_account(&path) {
            Ok(account) => accounts.push(account),
            Err(error) => problems.push(error),
        }
    }
    Ok((accounts, problems))
}

/// The account of one key file, without loading its poem.
pub fn read_account(path: &Path) -> Result<Account, KeyError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    let file: AccountFile =
        serde_json::from_str(&text).map_err(|error| json_error(path, &error))?;
    let user_id = match file.user_id {
        Some(serde_json::Value::String(id)) => Some(id),
        Some(serde_json::Value::Number(id)) => Some(id.to_string()),
        _ => None,
    };
    Ok(Account {
        screen_name: file.screen_name,
        user_id,
        credentials: Credentials {
            consumer_key: file.consumer_token,
            consumer_secret: file.consumer_token_secret,
            token: file.oauth_token,
            token_secret: file.oauth_token_secret,
        },
    })
}

/// Loads one key file and the poem it names.
pub fn load_key_file(path: &Path, cwd: &Path) -> Result<Bot, KeyError> {
    // Looked at before each file is read (see `Bot::seen`).
    let key_seen = std::fs::metadata(path).ok();
    let text = std::fs::read_to_string(path).map_err(|source| KeyError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    let key: KeyFile = serde_json::from_str(&text).map_err(|error| json_error(path, &error))?;
    let required = [
        ("screen_name", key.screen_name.is_empty()),
        ("consumer_token", key.consumer_token.is_empty()),
        (
            "consumer_token_secret",
            key.consumer_token_secret.is_empty(),
        ),
        ("oauth_token", key.oauth_token.is_empty()),
        ("oauth_token_secret", key.oauth_token_secret.is_empty()),
        ("poem_file", key.poem_file.as_os_str().is_empty()),
    ];
    if let Some((field, _)) = required.iter().find(|(_, empty)| *empty) {
        return Err(KeyError::EmptyField {
            path: path.to_path_buf(),
            field,
        });
    }
    let (poem_file, poem_seen) = resolve_poem(path, &key.poem_file, cwd)?;
    let poem = Poem::load(&poem_file).map_err(|source| KeyError::Poem {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(Bot {
        name: key.screen_name,
        key_file: path.to_path_buf(),
        credentials: Credentials {
            consumer_key: key.consumer_token,
            consumer_secret: key.consumer_token_secret,
            token: key.oauth_token,
            token_secret: key.oauth_token_secret,
        },
        poem_file,
        poem,
        overrides: Overrides {
            line_interval: key.line_interval,
            poem_interval: key.poem_interval,
            long_lines: key.long_lines,
            order: key.order,
            jitter: key.jitter,
            active_hours: key.active_hours,
            on_duplicate: key.on_duplicate,
        },
        loose_permissions: key_seen.as_ref().is_some_and(loose),
        seen: Signature::from_metadata(key_seen.as_ref(), poem_seen.as_ref()),
    })
}

/// Whether group or others can read the file, as ssh asks of a private key.
pub fn loose_permissions(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|meta| loose(&meta))
}

#[cfg(unix)]
fn loose(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o077 != 0
}

#[cfg(not(unix))]
fn loose(_: &std::fs::Metadata) -> bool {
    false
}

/// The original flock wrote poem paths relative to where it was run; newer flocks write them
/// relative to the key file. Both work: the key file's folder first. The poem file's metadata
/// comes along, looked at before the poem is read (see `Bot::seen`).
fn resolve_poem(
    key_file: &Path,
    poem_file: &Path,
    cwd: &Path,
) -> Result<(PathBuf, Option<std::fs::Metadata>), KeyError> {
    if poem_file.is_absolute() {
        return Ok((poem_file.to_path_buf(), std::fs::metadata(poem_file).ok()));
    }
    let key_dir = key_file.parent().unwrap_or(Path::new("."));
    let tried = vec![key_dir.join(poem_file), cwd.join(poem_file)];
    let found = tried
        .iter()
        .find_map(|candidate| Some((candidate, std::fs::metadata(candidate).ok()?)));
    match found {
        Some((path, metadata)) => Ok((path.clone(), Some(metadata))),
        None => Err(KeyError::PoemNotFound {
            path: key_file.to_path_buf(),
            poem_file: poem_file.to_path_buf(),
            tried,
        }),
    }
}

fn json_error(path: &Path, error: &serde_json::Error) -> KeyError {
    let full = error.to_string();
    // serde_json appends " at line L column C"; the location is reported in its own fields.
    let message = match full.rfind(" at line ") {
        Some(at) => full[..at].to_string(),
        None => full,
    };
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        return KeyError::MissingField {
            path: path.to_path_buf(),
            field: field.to_string(),
        };
    }
    KeyError::Json {
        path: path.to_path_buf(),
        line: error.line(),
        column: error.column(),
        message,
    }
}

/// A jitter: a fraction from 0 to 1.
fn fraction<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    let value = Option::<f64>::deserialize(deserializer)?;
    match value {
        Some(fraction) if !(0.0..=1.0).contains(&fraction) => Err(serde::de::Error::custom(
            format!("jitter {fraction} is not a fraction: write a number from 0 to 1, such as 0.1"),
        )),
        other => Ok(other),
    }
}

/// Active hours such as "08:00-22:00".
fn hours<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<ActiveHours>, D::Error> {
    let value = Option::<String>::deserialize(deserializer)?;
    value
        .map(|text| ActiveHours::parse(&text).map_err(serde::de::Error::custom))
        .transpose()
}

/// A per-bot interval: a number of seconds, or a string such as "90s" or "1.5h".
fn interval<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Duration>, D::Error> {
    struct Visitor;
    impl serde::de::Visitor<'_> for Visitor {
        type Value = Option<Duration>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a number of seconds or a duration such as \"90s\", \"3m\" or \"1.5h\"")
        }

        fn visit_u64<E: serde::de::Error>(self, seconds: u64) -> Result<Self::Value, E> {
            self.visit_f64(seconds as f64)
        }

        fn visit_i64<E: serde::de::Error>(self, seconds: i64) -> Result<Self::Value, E> {
            self.visit_f64(seconds as f64)
        }

        fn visit_f64<E: serde::de::Error>(self, seconds: f64) -> Result<Self::Value, E> {
            duration::from_seconds(seconds)
                .map(Some)
                .ok_or_else(|| E::custom(format!("{seconds} is not a usable number of seconds")))
        }

        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Self::Value, E> {
            duration::parse(text).map(Some).map_err(E::custom)
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    deserializer.deserialize_any(Visitor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    const KEY: &str = r#"{
        "screen_name": "alice",
        "consumer_token": "ck", "consumer_token_secret": "cs",
        "oauth_token": "tk", "oauth_token_secret": "ts",
        "user_id": 12345,
        "poem_file": "alice.txt"
    }"#;

    #[test]
    fn reads_the_original_format_and_ignores_unknown_fields() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "alice.txt", "one\n\ntwo\n");
        let path = write(dir.path(), "alice.json", KEY);
        let bot = load_key_file(&path, Path::new("/nonexistent")).unwrap();
        assert_eq!(bot.name, "alice");
        assert_eq!(bot.poem.lines(), ["one", "two"]);
        assert_eq!(bot.credentials.token_secret.expose(), "ts");
        assert_eq!(bot.overrides, Overrides::default());
    }

    /// A bot carries the signature of its files as loaded, so a poem or key file edited after
    /// loading (before the Shepherd records the bot) differs from it, and the rescan picks the
    /// edit up. (That the look comes before the read, not after, is not observable here.)
    #[test]
    fn a_bot_remembers_its_files_as_loaded_so_a_later_edit_shows_as_a_change() {
        let dir = tempfile::tempdir().unwrap();
        let poem = write(dir.path(), "alice.txt", "one\n");
        let path = write(dir.path(), "alice.json", KEY);
        let bot = load_key_file(&path, Path::new("/")).unwrap();
        assert_eq!(bot.seen, crate::watch::signature(&path, Some(&poem)));
        write(dir.path(), "alice.txt", "one\ntwo\n");
        assert_ne!(bot.seen, crate::watch::signature(&path, Some(&poem)));
        let bot = load_key_file(&path, Path::new("/")).unwrap();
        write(dir.path(), "alice.json", &KEY.replace("12345", "123456"));
        assert_ne!(bot.seen, crate::watch::signature(&path, Some(&poem)));
    }

    #[test]
    fn a_large_folder_loads_on_several_threads_in_file_order_with_its_problems_in_place() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "alice.txt", "one\n");
        let count = 3 * FILES_PER_LOADER + 7;
        let files: Vec<PathBuf> = (0..count)
            .map(|i| {
                let name = format!("bot{i:04}.json");
                let text = if i % 100 == 42 {
                    "not json".to_string()
                } else {
                    KEY.replace("\"alice\"", &format!("\"bot{i}\""))
                };
                write(dir.path(), &name, &text)
            })
            .collect();
        let loaded = load_all(&files, dir.path(), 4);
        assert_eq!(loaded.len(), count);
        for (i, bot) in loaded.iter().enumerate() {
            match bot {
                Ok(bot) => assert_eq!(bot.name, format!("bot{i}")),
                Err(error) => {
                    assert_eq!(i % 100, 42, "{error}");
                    assert!(error.to_string().contains(&format!("bot{i:04}.json")));
                }
            }
        }
    }

    #[test]
    fn file_is_another_name_for_poem_file_and_intervals_take_units() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "p.txt", "line\n");
        let text = KEY
            .replace("\"poem_file\": \"alice.txt\"", "\"file\": \"p.txt\"")
            .replace(
                "\"user_id\": 12345",
                "\"line_interval\": \"1.5m\", \"poem_interval\": 7",
            );
        let path = write(dir.path(), "alice.json", &text);
        let bot = load_key_file(&path, Path::new("/")).unwrap();
        assert_eq!(bot.poem_file, dir.path().join("p.txt"));
        assert_eq!(bot.overrides.line_interval, Some(Duration::from_secs(90)));
        assert_eq!(bot.overrides.poem_interval, Some(Duration::from_secs(7)));
    }

    #[test]
    fn a_poem_not_beside_the_key_file_is_looked_for_in_the_working_directory() {
        let keys = tempfile::tempdir().unwrap();
        let cwd = tempfile::tempdir().unwrap();
        std::fs::create_dir(cwd.path().join("poems")).unwrap();
        write(&cwd.path().join("poems"), "alice.txt", "hello\n");
        let text = KEY.replace("alice.txt", "poems/alice.txt");
        let path = write(keys.path(), "alice.json", &text);
        let bot = load_key_file(&path, cwd.path()).unwrap();
        assert_eq!(bot.poem_file, cwd.path().join("poems/alice.txt"));
    }

    #[test]
    fn bad_json_names_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "bad.json",
            "{\n  \"screen_name\": \"x\",\n  oops\n}",
        );
        let error = load_key_file(&path, dir.path()).unwrap_err();
        let message = error.to_string();
        assert!(
            matches!(
                error,
                KeyError::Json {
                    line: 3,
                    column: 3,
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(message.contains("bad.json: line 3, column 3"), "{message}");
    }

    #[test]
    fn a_missing_field_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let text = KEY.replace("\"oauth_token\": \"tk\",", "");
        let path = write(dir.path(), "alice.json", &text);
        let message = load_key_file(&path, dir.path()).unwrap_err().to_string();
        assert!(message.contains("missing field `oauth_token`"), "{message}");
        assert!(message.contains("alice.json"), "{message}");
    }

    #[test]
    fn schedule_settings_are_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "alice.txt", "one\n");
        let settings = r#""long_lines": "skip", "order": "shuffle", "jitter": 0.25,
            "active_hours": "08:00-22:00", "on_duplicate": "stamp""#;
        let path = write(
            dir.path(),
            "alice.json",
            &KEY.replace("\"user_id\": 12345", settings),
        );
        let overrides = load_key_file(&path, dir.path()).unwrap().overrides;
        assert_eq!(overrides.long_lines, Some(LongLines::Skip));
        assert_eq!(overrides.order, Some(Order::Shuffle));
        assert_eq!(overrides.jitter, Some(0.25));
        assert_eq!(overrides.active_hours.unwrap().to_string(), "08:00-22:00");
        assert_eq!(overrides.on_duplicate, Some(OnDuplicate::Stamp));
        for (bad, says) in [
            (r#""jitter": 3"#, "not a fraction"),
            (r#""active_hours": "late""#, "08:00-22:00"),
            (r#""order": "random""#, "unknown variant `random`"),
        ] {
            let path = write(
                dir.path(),
                "bad.json",
                &KEY.replace("\"user_id\": 12345", bad),
            );
            let message = load_key_file(&path, dir.path()).unwrap_err().to_string();
            assert!(message.contains(says), "{bad}: {message}");
        }
    }

    #[test]
    fn a_bad_interval_says_what_to_write() {
        let dir = tempfile::tempdir().unwrap();
        let text = KEY.replace("\"user_id\": 12345", "\"line_interval\": \"soon\"");
        let path = write(dir.path(), "alice.json", &text);
        let message = load_key_file(&path, dir.path()).unwrap_err().to_string();
        assert!(
            message.contains("`soon`") && message.contains("90s"),
            "{message}"
        );
    }

    #[test]
    fn a_missing_poem_lists_where_it_was_looked_for() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "alice.json", KEY);
        let message = load_key_file(&path, Path::new("/somewhere"))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("poem file `alice.txt` not found"),
            "{message}"
        );
        assert!(message.contains("/somewhere/alice.txt"), "{message}");
    }

    #[test]
    fn errors_and_debug_never_show_secrets() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "alice.txt", "one\n");
        let text = KEY
            .replace("\"cs\"", "\"CONSUMER-SECRET\"")
            .replace("\"ts\"", "\"TOKEN-SECRET\"")
            .replace("\"tk\"", "\"TOKEN-KEY\"");
        let path = write(dir.path(), "alice.json", &text);
        let bot = load_key_file(&path, dir.path()).unwrap();
        let shown = format!("{bot:?}");
        for secret in ["CONSUMER-SECRET", "TOKEN-SECRET", "TOKEN-KEY"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn one_bad_file_does_not_stop_the_folder_and_duplicates_are_caught() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "alice.txt", "one\n");
        write(dir.path(), "a.json", KEY);
        write(dir.path(), "b.json", "not json");
        write(dir.path(), "c.json", KEY);
        write(dir.path(), "notes.txt", "not a key file");
        let flock = load_folder(dir.path(), dir.path()).unwrap();
        assert_eq!(flock.bots.len(), 1);
        assert_eq!(flock.problems.len(), 2);
        assert!(matches!(flock.problems[1], KeyError::DuplicateBot { .. }));
    }

    #[test]
    fn an_empty_or_missing_folder_says_how_to_add_a_bot() {
        let dir = tempfile::tempdir().unwrap();
        let empty = load_folder(dir.path(), dir.path()).unwrap_err().to_string();
        assert!(empty.contains("no *.json key files") && empty.contains("add one JSON key file"));
        let missing = load_folder(&dir.path().join("nope"), dir.path()).unwrap_err();
        assert!(matches!(missing, FolderError::Missing { .. }));
    }
}
