//! TEMPORARY stub until the real counter lands.
pub const MAX_WEIGHTED_LENGTH: usize = 280;
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextProblem {
    Empty,
    TooLong { length: usize },
    InvalidCharacter { character: char },
}
pub fn weighted_length(text: &str) -> usize {
    text.chars().count()
}
pub fn check(text: &str) -> Result<usize, TextProblem> {
    if text.is_empty() {
        return Err(TextProblem::Empty);
    }
    let n = weighted_length(text);
    if n > 280 {
        Err(TextProblem::TooLong { length: n })
    } else {
        Ok(n)
    }
}
