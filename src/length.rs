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
pub fn split(text: &str, max: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        if !current.is_empty() && weighted_length(&current) + 1 + weighted_length(word) > max {
            parts.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}
pub fn contains_url(text: &str) -> bool {
    text.contains("http")
}
impl std::fmt::Display for TextProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}
