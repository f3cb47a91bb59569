//! A poem as a Sheep memorizes it: its lines, trimmed, blank lines dropped.

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Poem {
    lines: Vec<String>,
}

/// Why a poem cannot be recited; each names the file and says what to fix.
#[derive(Debug)]
pub enum PoemError {
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    NotUtf8 {
        path: PathBuf,
        line: usize,
    },
    Empty {
        path: PathBuf,
    },
}

impl fmt::Display for PoemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoemError::Unreadable { path, source } => {
                write!(f, "cannot read poem {}: {source}", path.display())
            }
            PoemError::NotUtf8 { path, line } => write!(
                f,
                "poem {} is not UTF-8 text (line {line}): save it as UTF-8",
                path.display()
            ),
            PoemError::Empty { path } => write!(
                f,
                "poem {} has no lines (blank lines do not count): write at least one line",
                path.display()
            ),
        }
    }
}

impl std::error::Error for PoemError {}

impl Poem {
    /// Memorizes the poem in `text`: lines trimmed, blank lines dropped. `None` when nothing is left.
    pub fn from_text(text: &str) -> Option<Poem> {
        let lines: Vec<String> = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(str::to_string)
            .collect();
        (!lines.is_empty()).then_some(Poem { lines })
    }

    pub fn load(path: &Path) -> Result<Poem, PoemError> {
        let bytes = std::fs::read(path).map_err(|source| PoemError::Unreadable {
            path: path.to_path_buf(),
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|error| {
            let good = &error.as_bytes()[..error.utf8_error().valid_up_to()];
            PoemError::NotUtf8 {
                path: path.to_path_buf(),
                line: 1 + good.iter().filter(|&&b| b == b'\n').count(),
            }
        })?;
        Poem::from_text(&text).ok_or_else(|| PoemError::Empty {
            path: path.to_path_buf(),
        })
    }

    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_lines_and_drops_blank_ones() {
        let poem = Poem::from_text("  first line \n\n \t\nsecond\r\n\nthird\n").unwrap();
        assert_eq!(poem.lines(), ["first line", "second", "third"]);
    }

    #[test]
    fn nothing_but_blank_lines_is_no_poem() {
        assert_eq!(Poem::from_text("\n  \n\t\n"), None);
        assert_eq!(Poem::from_text(""), None);
    }

    #[test]
    fn not_utf8_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.txt");
        std::fs::write(&path, b"fine\nalso fine\nbad \xff here\n").unwrap();
        let error = Poem::load(&path).unwrap_err();
        assert!(
            matches!(error, PoemError::NotUtf8 { line: 3, .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("bad.txt"));
    }
}
