//! Recognising emoji sequences, which X counts as 2 however many code points they hold.
//!
//! twitter-text matches a generated list of the emoji of its day; this follows the shape of
//! those sequences instead (Unicode TS #51), so that newer emoji count the same way: a base,
//! then a VS16 or skin tone, or tag characters, then more of the same joined by ZWJs; flags;
//! keycaps. Emoji data comes from `unicode-properties`.

use unicode_properties::{EmojiStatus, UnicodeEmoji};

const ZWJ: char = '\u{200D}';
const TEXT_STYLE: char = '\u{FE0E}';
const EMOJI_STYLE: char = '\u{FE0F}';
const KEYCAP: char = '\u{20E3}';
const CANCEL_TAG: char = '\u{E007F}';

/// How many chars the emoji sequence at the start of `chars` spans, if one starts there.
pub(super) fn sequence_len(chars: &[char]) -> Option<usize> {
    let first = element(chars)?;
    let mut len = first.len;
    if first.joins {
        while chars.get(len) == Some(&ZWJ) {
            match element(&chars[len + 1..]) {
                Some(next) if next.joins => len += 1 + next.len,
                _ => break,
            }
        }
    }
    Some(len)
}

/// One emoji without ZWJs.
struct Element {
    len: usize,
    /// Whether it may take part in a ZWJ sequence: every part of one is emoji-style (emoji by
    /// default, or made so by VS16, a skin tone or tags). Anything else next to a ZWJ is
    /// counted piece by piece, as X's emoji list does.
    joins: bool,
}

/// A keycap, a flag, or a base with its presentation selector, skin tone or tag characters.
fn element(chars: &[char]) -> Option<Element> {
    let first = *chars.first()?;
    let second = chars.get(1).copied();
    let alone = |len| Some(Element { len, joins: false });

    if matches!(first, '0'..='9' | '#' | '*') {
        // Digits and these signs are plain text unless a keycap follows.
        return match (second, chars.get(2)) {
            (Some(KEYCAP), _) => alone(2),
            (Some(EMOJI_STYLE), Some(&KEYCAP)) => alone(3),
            _ => None,
        };
    }
    // No other ASCII character is an emoji.
    if first.is_ascii() {
        return None;
    }
    if is_regional_indicator(first) {
        return alone(if second.is_some_and(is_regional_indicator) {
            2
        } else {
            1
        });
    }
    if !first.is_emoji_char() {
        return None;
    }
    if is_skin_tone(first) {
        return alone(1);
    }

    let status = first.emoji_status();
    let mut len = 1;
    let mut emoji_style = matches!(
        status,
        EmojiStatus::EmojiPresentation
            | EmojiStatus::EmojiPresentationAndModifierBase
            | EmojiStatus::EmojiPresentationAndEmojiComponent
    );
    match chars.get(len) {
        // The writer asked for the text glyph: this is a symbol, not an emoji.
        Some(&TEXT_STYLE) => return None,
        // Only a symbol that is text by default takes a VS16 into the emoji; after an emoji
        // that is already emoji-style X counts the selector on its own.
        Some(&EMOJI_STYLE) if !emoji_style => {
            len += 1;
            emoji_style = true;
        }
        _ => {}
    }
    if chars.get(len).copied().is_some_and(is_skin_tone) && is_modifier_base(status) {
        len += 1;
        emoji_style = true;
    }
    if let Some(tags) = tag_run_len(&chars[len..]) {
        len += tags;
        emoji_style = true;
    }
    // A text-style symbol that X counts as 1 on its own (©, ®) is only an emoji when asked to
    // be; the others weigh 2 either way, so counting them as one changes nothing.
    if !emoji_style && super::char_weight(first) == 1 {
        return None;
    }
    Some(Element {
        len,
        joins: emoji_style,
    })
}

/// Tag characters ending with CANCEL TAG, as in the flags of England, Scotland and Wales.
fn tag_run_len(chars: &[char]) -> Option<usize> {
    let specs = chars
        .iter()
        .take_while(|&&c| ('\u{E0020}'..='\u{E007E}').contains(&c))
        .count();
    (specs > 0 && chars.get(specs) == Some(&CANCEL_TAG)).then_some(specs + 1)
}

fn is_regional_indicator(c: char) -> bool {
    ('\u{1F1E6}'..='\u{1F1FF}').contains(&c)
}

fn is_skin_tone(c: char) -> bool {
    ('\u{1F3FB}'..='\u{1F3FF}').contains(&c)
}

fn is_modifier_base(status: EmojiStatus) -> bool {
    matches!(
        status,
        EmojiStatus::EmojiModifierBase | EmojiStatus::EmojiPresentationAndModifierBase
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn len(text: &str) -> Option<usize> {
        sequence_len(&text.chars().collect::<Vec<_>>())
    }

    #[test]
    fn recognises_each_kind_of_sequence() {
        assert_eq!(len("😷 rest"), Some(1));
        assert_eq!(len("🙋🏽"), Some(2));
        assert_eq!(len("👨‍👩‍👧‍👦"), Some(7));
        assert_eq!(len("👨‍🎤"), Some(3));
        assert_eq!(len("🇯🇵🇫🇷"), Some(2));
        assert_eq!(len("1⃣"), Some(2));
        assert_eq!(len("#\u{FE0F}\u{20E3}"), Some(3));
        assert_eq!(
            len("🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}"),
            Some(7)
        );
        assert_eq!(len("❤\u{FE0F}\u{200D}🔥"), Some(4));
    }

    #[test]
    fn leaves_plain_text_alone() {
        assert_eq!(len("1"), None);
        assert_eq!(len("#tag"), None);
        assert_eq!(len("©"), None);
        assert_eq!(len("a"), None);
        assert_eq!(len("\u{200D}"), None);
        assert_eq!(len("☺\u{FE0E}"), None);
    }

    #[test]
    fn a_selector_after_an_emoji_style_emoji_stands_alone() {
        assert_eq!(len("😷\u{FE0F}"), Some(1));
        assert_eq!(len("☺\u{FE0F}"), Some(2));
        assert_eq!(len("☝\u{FE0F}🏽"), Some(3));
    }

    #[test]
    fn only_emoji_style_parts_join() {
        assert_eq!(len("❤\u{200D}🔥"), Some(1));
        assert_eq!(len("👨\u{200D}🏽"), Some(1));
        assert_eq!(len("™\u{200D}👨"), Some(1));
        assert_eq!(len("🏃\u{200D}♀\u{FE0F}"), Some(4));
    }

    #[test]
    fn a_dangling_joiner_is_not_part_of_the_sequence() {
        assert_eq!(len("👨\u{200D}"), Some(1));
        assert_eq!(len("👨\u{200D}x"), Some(1));
    }

    #[test]
    fn skin_tones_only_attach_to_modifier_bases() {
        assert_eq!(len("👍🏾"), Some(2));
        assert_eq!(len("🌍🏾"), Some(1));
    }
}
