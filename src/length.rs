//! How long X (Twitter) considers a post to be, and whether X would accept it.
//!
//! X does not count characters: it counts a *weighted length* (twitter-text v3) and refuses
//! posts over 280. The rules, checked against the official conformance suite
//! (`tests/cli/length.rs`):
//!
//! - the text is NFC-normalized first;
//! - code points in U+0000–U+10FF, U+2000–U+200D, U+2010–U+201F and U+2032–U+2037 weigh 1,
//!   every other code point weighs 2;
//! - every URL, with or without a scheme (`https://x.com/a`, `www.example.org`,
//!   `example.com`), weighs 23 whatever its length, because X rewrites it to a t.co link;
//! - an emoji sequence (skin tone, ZWJ family, flag, keycap, tag sequence) weighs 2 in total;
//! - U+FFFE, U+FEFF and U+FFFF make a post invalid, and so does an empty or blank text.
//!
//! URL detection lives in [`url`] (with host checks in [`idna`]), emoji sequences in
//! [`emoji`]. Where twitter-text's Java and JavaScript implementations disagree, this follows
//! the Java one, X's server-side reference.

mod emoji;
mod idna;
mod url;

use std::fmt;
use std::ops::Range;

use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

/// The most weighted characters X accepts in one post.
pub const MAX_WEIGHTED_LENGTH: usize = 280;

/// What any URL counts for: the length of the t.co link X replaces it with.
const URL_WEIGHT: usize = 23;

/// What a whole emoji sequence counts for, however many code points it has.
const EMOJI_WEIGHT: usize = 2;

/// The code point ranges that weigh 1 (v3.json's `ranges`); everything else weighs 2.
const LIGHT_RANGES: [(char, char); 4] = [
    ('\u{0000}', '\u{10FF}'),
    ('\u{2000}', '\u{200D}'),
    ('\u{2010}', '\u{201F}'),
    ('\u{2032}', '\u{2037}'),
];

/// Why X would refuse a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextProblem {
    /// Nothing to post: the text is empty or only spaces and control characters.
    Empty,
    /// The weighted length is over [`MAX_WEIGHTED_LENGTH`].
    TooLong { length: usize },
    /// The text holds a character X refuses (U+FFFE, U+FEFF or U+FFFF).
    InvalidCharacter { character: char },
}

impl fmt::Display for TextProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextProblem::Empty => write!(f, "text is empty or only spaces"),
            TextProblem::TooLong { length } => write!(
                f,
                "text is {length} weighted characters, over X's limit of {MAX_WEIGHTED_LENGTH}"
            ),
            TextProblem::InvalidCharacter { character } => write!(
                f,
                "text contains U+{:04X}, a character X does not accept",
                u32::from(*character)
            ),
        }
    }
}

impl std::error::Error for TextProblem {}

/// Weighted length per twitter-text v3.
pub fn weighted_length(text: &str) -> usize {
    measure(&nfc_chars(text)).length
}

/// Ok(length) when X would accept the text.
pub fn check(text: &str) -> Result<usize, TextProblem> {
    // X's parser trims the way Java's String.trim() does (everything up to U+0020), so a text
    // of only newlines and spaces is as empty as "".
    if text.chars().all(|c| c <= ' ') {
        return Err(TextProblem::Empty);
    }
    let measured = measure(&nfc_chars(text));
    if let Some(character) = measured.invalid {
        return Err(TextProblem::InvalidCharacter { character });
    }
    if measured.length > MAX_WEIGHTED_LENGTH {
        return Err(TextProblem::TooLong {
            length: measured.length,
        });
    }
    Ok(measured.length)
}

/// Whether the text contains a URL (X charges more for such posts).
pub fn contains_url(text: &str) -> bool {
    !url::find_urls(&nfc_chars(text)).is_empty()
}

/// Split a too-long line at word boundaries into parts each of weighted length <= max (never
/// splitting inside a URL or a grapheme cluster; a single word longer than max is cut at
/// grapheme boundaries).
///
/// The parts are slices of the NFC form of `text` (the form X counts), with the spaces at each
/// break dropped; no-break spaces never count as a break. A text that already fits comes back
/// whole, and a blank text gives no parts. A lone URL or grapheme cluster heavier than `max`
/// (say `max` < 23 and a URL) cannot be cut, so it becomes a part of its own that is over `max`.
pub fn split(text: &str, max: usize) -> Vec<String> {
    let normalized: String = text.nfc().collect();
    if normalized.chars().all(is_break_space) {
        return Vec::new();
    }
    if weighted_length(&normalized) <= max {
        return vec![normalized];
    }

    let units = cut_units(&normalized);
    let bytes = |span: &Range<usize>| units[span.start].range.start..units[span.end - 1].range.end;
    let fits = |range: Range<usize>| weighted_length(&normalized[range]) <= max;
    let mut parts: Vec<Range<usize>> = Vec::new();
    let mut current: Option<Range<usize>> = None;

    for word_units in words(&units) {
        let word = bytes(&word_units);
        if let Some(part) = current.take() {
            if fits(part.start..word.end) {
                current = Some(part.start..word.end);
                continue;
            }
            parts.push(part);
        }
        if fits(word.clone()) {
            current = Some(word);
            continue;
        }
        // Too heavy on its own: cut it as late as possible, unit by unit. The last piece stays
        // open so that the following words can join it.
        let mut piece = word.start..word.start;
        for unit in &units[word_units] {
            if !piece.is_empty() && !fits(piece.start..unit.range.end) {
                parts.push(piece.clone());
                piece.start = piece.end;
            }
            piece.end = unit.range.end;
        }
        current = Some(piece);
    }
    parts.extend(current);
    parts
        .into_iter()
        .map(|range| normalized[range].to_owned())
        .collect()
}

/// The result of one pass over a normalized text.
struct Measured {
    length: usize,
    invalid: Option<char>,
}

fn nfc_chars(text: &str) -> Vec<char> {
    // Most lines are already NFC (all ASCII ones are): the quick check says so without
    // decomposing and recomposing every character.
    if unicode_normalization::is_nfc_quick(text.chars()) == unicode_normalization::IsNormalized::Yes
    {
        text.chars().collect()
    } else {
        text.nfc().collect()
    }
}

fn measure(chars: &[char]) -> Measured {
    let urls = url::find_urls(chars);
    let mut upcoming = urls.iter().peekable();
    let mut length = 0;
    let mut i = 0;
    while i < chars.len() {
        let next_url = upcoming.peek().map(|url| url.start);
        if next_url == Some(i) {
            if let Some(url) = upcoming.next() {
                length += URL_WEIGHT;
                i = url.end;
            }
            continue;
        }
        let limit = next_url.unwrap_or(chars.len());
        if let Some(len) = emoji::sequence_len(&chars[i..limit]) {
            length += EMOJI_WEIGHT;
            i += len;
            continue;
        }
        length += char_weight(chars[i]);
        i += 1;
    }
    // Checked over the whole text: twitter-text only looks outside URLs, but it lets IDNA drop
    // a U+FEFF inside a host silently, and a post that depends on that is better not sent.
    let invalid = chars.iter().copied().find(|&c| is_invalid(c));
    Measured { length, invalid }
}

fn char_weight(c: char) -> usize {
    if LIGHT_RANGES
        .iter()
        .any(|&(low, high)| (low..=high).contains(&c))
    {
        1
    } else {
        2
    }
}

fn is_invalid(c: char) -> bool {
    matches!(c, '\u{FFFE}' | '\u{FEFF}' | '\u{FFFF}')
}

/// A space that may end a line; no-break spaces are there precisely to prevent that.
fn is_break_space(c: char) -> bool {
    c.is_whitespace() && !matches!(c, '\u{A0}' | '\u{2007}' | '\u{202F}')
}

/// The smallest pieces `split` may move between parts: a grapheme cluster, or a whole URL
/// (together with any cluster that straddles its ends).
struct Unit {
    range: Range<usize>,
    is_space: bool,
}

fn cut_units(text: &str) -> Vec<Unit> {
    let byte_of_char: Vec<usize> = text
        .char_indices()
        .map(|(byte, _)| byte)
        .chain([text.len()])
        .collect();
    let chars: Vec<char> = text.chars().collect();
    let urls: Vec<Range<usize>> = url::find_urls(&chars)
        .into_iter()
        .map(|url| byte_of_char[url.start]..byte_of_char[url.end])
        .collect();

    let mut units: Vec<Unit> = Vec::new();
    let mut start = 0;
    let mut next_url = 0;
    for (byte, grapheme) in text.grapheme_indices(true) {
        let end = byte + grapheme.len();
        while urls.get(next_url).is_some_and(|url| url.end <= end) {
            next_url += 1;
        }
        if urls.get(next_url).is_some_and(|url| url.start < end) {
            continue;
        }
        units.push(Unit {
            range: start..end,
            is_space: text[start..end].chars().all(is_break_space),
        });
        start = end;
    }
    units
}

/// The runs of non-space units, as ranges of indices into `units`.
fn words(units: &[Unit]) -> Vec<Range<usize>> {
    let mut words: Vec<Range<usize>> = Vec::new();
    let mut current: Option<Range<usize>> = None;
    for (i, unit) in units.iter().enumerate() {
        if unit.is_space {
            words.extend(current.take());
        } else {
            let start = current.as_ref().map_or(i, |word| word.start);
            current = Some(start..i + 1);
        }
    }
    words.extend(current);
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_from_the_api_notes() {
        assert_eq!(weighted_length("Hello, world! 👋"), 16);
        assert_eq!(weighted_length("Hi http://test.co"), 26);
        assert_eq!(check("Hi http://test.co"), Ok(26));
    }

    #[test]
    fn weights_follow_the_v3_ranges() {
        assert_eq!(weighted_length("abc"), 3);
        assert_eq!(weighted_length("é"), 1);
        assert_eq!(weighted_length("\u{10FF}\u{1100}"), 3);
        assert_eq!(weighted_length("漢字"), 4);
        assert_eq!(weighted_length("‘quoted’ — ok…"), 15);
    }

    #[test]
    fn text_is_normalized_before_counting() {
        // "e" + combining acute composes into one code point.
        assert_eq!(weighted_length("e\u{301}"), 1);
    }

    #[test]
    fn urls_count_23_with_or_without_scheme() {
        assert_eq!(weighted_length("www.example.org"), 23);
        assert_eq!(weighted_length("see example.com/path?q=1 now"), 4 + 23 + 4);
        assert_eq!(
            weighted_length(&format!("https://example.com/{}", "a".repeat(200))),
            23
        );
        assert_eq!(weighted_length("not.a.tld.zzzz"), 14);
    }

    #[test]
    fn emoji_sequences_count_2() {
        assert_eq!(weighted_length("👍🏽"), 2);
        assert_eq!(weighted_length("👨‍👩‍👧‍👦"), 2);
        assert_eq!(weighted_length("🇫🇷"), 2);
        assert_eq!(weighted_length("1\u{FE0F}\u{20E3}"), 2);
        assert_eq!(weighted_length("❤\u{FE0F}"), 2);
        // A copyright sign is text unless asked to be emoji.
        assert_eq!(weighted_length("©"), 1);
        assert_eq!(weighted_length("©\u{FE0F}"), 2);
    }

    #[test]
    fn check_reports_each_problem() {
        assert_eq!(check(""), Err(TextProblem::Empty));
        assert_eq!(check(" \n\t"), Err(TextProblem::Empty));
        assert_eq!(
            check("a\u{FEFF}b"),
            Err(TextProblem::InvalidCharacter {
                character: '\u{FEFF}'
            })
        );
        assert_eq!(check(&"x".repeat(280)), Ok(280));
        assert_eq!(
            check(&"x".repeat(301)),
            Err(TextProblem::TooLong { length: 301 })
        );
        assert_eq!(
            check(&"の".repeat(141)).map_err(|e| e.to_string()),
            Err("text is 282 weighted characters, over X's limit of 280".to_owned())
        );
    }

    #[test]
    fn problems_display_short_messages() {
        assert_eq!(
            TextProblem::Empty.to_string(),
            "text is empty or only spaces"
        );
        assert_eq!(
            TextProblem::TooLong { length: 301 }.to_string(),
            "text is 301 weighted characters, over X's limit of 280"
        );
        assert_eq!(
            TextProblem::InvalidCharacter {
                character: '\u{FFFE}'
            }
            .to_string(),
            "text contains U+FFFE, a character X does not accept"
        );
    }

    #[test]
    fn contains_url_sees_bare_domains() {
        assert!(contains_url("read example.com today"));
        assert!(contains_url("https://x.com/a"));
        assert!(!contains_url("no link here. none at all"));
        assert!(!contains_url("version 1.2.3"));
        assert!(!contains_url("#hashtag.com"));
    }

    fn assert_parts_fit(parts: &[String], max: usize) {
        for part in parts {
            assert!(
                weighted_length(part) <= max,
                "{part:?} weighs {}",
                weighted_length(part)
            );
        }
    }

    #[test]
    fn split_keeps_a_fitting_text_whole() {
        assert_eq!(split("short enough", 280), vec!["short enough"]);
        assert!(split("", 280).is_empty());
        assert!(split(" \n ", 280).is_empty());
    }

    #[test]
    fn split_breaks_at_spaces() {
        let parts = split("one two three four five", 9);
        assert_eq!(parts, vec!["one two", "three", "four five"]);
        assert_parts_fit(&parts, 9);
    }

    #[test]
    fn split_rejoins_the_words_exactly() {
        let text = "The quick brown fox jumps over the lazy dog ".repeat(20);
        let parts = split(&text, 50);
        assert_parts_fit(&parts, 50);
        assert_eq!(
            parts.join(" "),
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        );
    }

    #[test]
    fn split_never_cuts_a_url() {
        let text = "look at https://example.com/a/very/long/path/indeed and more words here";
        // "look at " weighs 8 and the URL 23, however long it is.
        let parts = split(text, 31);
        assert_eq!(
            parts,
            vec![
                "look at https://example.com/a/very/long/path/indeed",
                "and more words here"
            ]
        );
    }

    #[test]
    fn split_cuts_a_long_word_at_grapheme_boundaries() {
        let parts = split(&"e\u{301}".repeat(12), 5);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0], "é".repeat(5));
        assert_parts_fit(&parts, 5);
        // Flags are two code points each; a cut between them would make two other symbols.
        let parts = split(&"🇫🇷".repeat(5), 4);
        assert_eq!(parts, vec!["🇫🇷🇫🇷", "🇫🇷🇫🇷", "🇫🇷"]);
    }

    #[test]
    fn split_does_not_break_at_no_break_spaces() {
        let parts = split("a\u{A0}b c", 3);
        assert_eq!(parts, vec!["a\u{A0}b", "c"]);
    }

    #[test]
    fn split_gives_an_oversized_url_a_part_of_its_own() {
        let parts = split("go https://example.com now", 10);
        assert_eq!(parts, vec!["go", "https://example.com", "now"]);
    }

    #[test]
    fn split_weighs_cjk_double() {
        let parts = split(&"の".repeat(150), 280);
        assert_eq!(parts.len(), 2);
        assert_eq!(weighted_length(&parts[0]), 280);
        assert_eq!(weighted_length(&parts[1]), 20);
    }
}
