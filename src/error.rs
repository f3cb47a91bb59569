//! Errors that stop botflock before or instead of running a flock (exit code 2). Failures of
//! one bot are not here: they are reported per bot and never stop the others.

use crate::client::BadApiBase;
use crate::keys::FolderError;
use std::fmt;
use std::path::PathBuf;

#[derive(Debug)]
pub enum Error {
    Folder(FolderError),
    NoBotCanRun { dir: PathBuf, problems: usize },
    ApiBase(BadApiBase),
    Signals(String),
    Threads(std::io::Error),
    Sandbox(std::io::Error),
    State(crate::state::StateError),
    Key(crate::keys::KeyError),
    Enroll(crate::enroll::EnrollError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Folder(error) => write!(f, "{error}"),
            Error::NoBotCanRun { dir, problems } => write!(
                f,
                "no bot can run: all {problems} key files in {} have problems (listed above); \
                 fix them and run again",
                dir.display()
            ),
            Error::ApiBase(error) => write!(f, "{error}"),
            Error::Signals(error) => write!(f, "cannot listen for Ctrl-C: {error}"),
            Error::Threads(error) => write!(f, "cannot start the HTTP workers: {error}"),
            Error::Sandbox(error) => write!(f, "cannot start the sandbox: {error}"),
            Error::State(error) => write!(f, "{error}"),
            Error::Key(error) => write!(f, "{error}"),
            Error::Enroll(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<FolderError> for Error {
    fn from(error: FolderError) -> Error {
        Error::Folder(error)
    }
}

impl From<BadApiBase> for Error {
    fn from(error: BadApiBase) -> Error {
        Error::ApiBase(error)
    }
}
