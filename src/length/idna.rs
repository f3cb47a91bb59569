//! Whether a URL's host can be turned into ASCII, and how long it then is.
//!
//! twitter-text checks hosts with IDNA 2003's ToASCII (Java's `java.net.IDN`): each label is
//! prepared (nameprep), Punycode-encoded if it is not ASCII, and must then fit DNS's 63
//! characters. A host that fails is not a URL, so its characters count one by one. This is a
//! close, not exact, rendering of nameprep: mapping uses Rust's lowercase and NFKC rather than
//! the RFC 3454 tables (Unicode 3.2), which differ only on rare characters.

use unicode_bidi::{BidiClass, bidi_class};
use unicode_normalization::UnicodeNormalization;

/// The longest DNS label, once Punycode-encoded with its `xn--` prefix.
const MAX_LABEL: usize = 63;
const ACE_PREFIX: &str = "xn--";

/// The length of the ASCII form of `host`, or None when IDNA refuses it.
pub(super) fn ascii_host_len(host: &[char]) -> Option<usize> {
    let mut total = 0;
    // IDNA takes these full-width and ideographic dots for label separators too.
    for label in host.split(|&c| matches!(c, '.' | '\u{3002}' | '\u{FF0E}' | '\u{FF61}')) {
        let encoded = ascii_label_len(label)?;
        if encoded == 0 || encoded > MAX_LABEL {
            return None;
        }
        total += encoded + 1;
    }
    Some(total.saturating_sub(1))
}

fn ascii_label_len(label: &[char]) -> Option<usize> {
    if label.iter().all(char::is_ascii) {
        return Some(label.len());
    }
    let prepared = nameprep(label)?;
    if prepared.iter().all(char::is_ascii) {
        return Some(prepared.len());
    }
    let starts_with_prefix = prepared.len() >= ACE_PREFIX.len()
        && prepared
            .iter()
            .zip(ACE_PREFIX.chars())
            .all(|(c, p)| c.eq_ignore_ascii_case(&p));
    if starts_with_prefix {
        // Already-encoded labels cannot hold anything but ASCII.
        return None;
    }
    Some(ACE_PREFIX.len() + punycode_len(&prepared)?)
}

/// RFC 3491: map (drop invisible characters, fold case), NFKC, then refuse prohibited
/// characters and mixed-direction labels.
fn nameprep(label: &[char]) -> Option<Vec<char>> {
    let mapped: String = label
        .iter()
        .filter(|&&c| !is_mapped_to_nothing(c))
        .flat_map(|&c| fold_case(c))
        .collect();
    let prepared: Vec<char> = mapped.nfkc().collect();
    if prepared.iter().any(|&c| is_prohibited(c)) || !bidi_ok(&prepared) {
        return None;
    }
    Some(prepared)
}

fn fold_case(c: char) -> impl Iterator<Item = char> {
    // Full case folding turns the sharp s into "ss", which lowercasing leaves alone.
    let sharp_s = matches!(c, 'ß' | 'ẞ');
    let folded = if sharp_s {
        None
    } else {
        Some(c.to_lowercase())
    };
    folded
        .into_iter()
        .flatten()
        .chain(std::iter::repeat_n('s', if sharp_s { 2 } else { 0 }))
}

/// RFC 3454 table B.1: characters that vanish.
fn is_mapped_to_nothing(c: char) -> bool {
    matches!(c,
        '\u{AD}' | '\u{34F}' | '\u{1806}' | '\u{180B}'..='\u{180D}' | '\u{200B}'..='\u{200D}'
        | '\u{2060}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}')
}

/// RFC 3491 section 5: controls, private use, non-characters and the like.
fn is_prohibited(c: char) -> bool {
    let code = u32::from(c);
    c.is_control()
        || (code & 0xFFFE) == 0xFFFE
        || matches!(c,
            '\u{A0}' | '\u{340}' | '\u{341}' | '\u{6DD}' | '\u{70F}' | '\u{1680}' | '\u{180E}'
            | '\u{2000}'..='\u{200F}' | '\u{2028}'..='\u{202F}' | '\u{205F}'..='\u{2063}'
            | '\u{206A}'..='\u{206F}' | '\u{2FF0}'..='\u{2FFB}' | '\u{3000}'
            | '\u{E000}'..='\u{F8FF}' | '\u{FDD0}'..='\u{FDEF}' | '\u{FFF9}'..='\u{FFFD}'
            | '\u{1D173}'..='\u{1D17A}' | '\u{E0001}' | '\u{E0020}'..='\u{E007F}'
            | '\u{F0000}'..='\u{FFFFD}' | '\u{100000}'..='\u{10FFFD}')
}

/// RFC 3454 section 6: a label with right-to-left letters may hold no left-to-right ones, and
/// must start and end with right-to-left letters.
fn bidi_ok(label: &[char]) -> bool {
    let rtl = |c: &char| matches!(bidi_class(*c), BidiClass::R | BidiClass::AL);
    if !label.iter().any(rtl) {
        return true;
    }
    !label.iter().any(|&c| bidi_class(c) == BidiClass::L)
        && label.first().is_some_and(rtl)
        && label.last().is_some_and(rtl)
}

/// Length of the RFC 3492 Punycode encoding of `label` (without `xn--`), or None when it is
/// certainly over [`MAX_LABEL`]: every code point adds at least one character, so a long
/// label is not worth encoding.
fn punycode_len(label: &[char]) -> Option<usize> {
    const BASE: u64 = 36;
    const T_MIN: u64 = 1;
    const T_MAX: u64 = 26;
    if label.len() > MAX_LABEL {
        return None;
    }
    let code_points: Vec<u64> = label.iter().map(|&c| u64::from(u32::from(c))).collect();
    let basic = code_points.iter().filter(|&&c| c < 0x80).count();
    let mut out = basic + usize::from(basic > 0);
    let mut n: u64 = 0x80;
    let mut delta: u64 = 0;
    let mut bias: u64 = 72;
    let mut handled = basic;
    while handled < code_points.len() {
        let next = code_points.iter().copied().filter(|&c| c >= n).min()?;
        delta += (next - n) * (handled as u64 + 1);
        n = next;
        for &c in &code_points {
            if c < n {
                delta += 1;
            }
            if c == n {
                // Each delta is written as a variable-length integer; only its digit count
                // matters here.
                let mut q = delta;
                let mut k = BASE;
                loop {
                    let t = k.saturating_sub(bias).clamp(T_MIN, T_MAX);
                    if q < t {
                        break;
                    }
                    out += 1;
                    q = (q - t) / (BASE - t);
                    k += BASE;
                }
                out += 1;
                bias = adapt_bias(delta, handled as u64 + 1, handled == basic);
                delta = 0;
                handled += 1;
            }
        }
        delta += 1;
        n += 1;
    }
    Some(out)
}

fn adapt_bias(delta: u64, points: u64, first: bool) -> u64 {
    const BASE: u64 = 36;
    const T_MIN: u64 = 1;
    const T_MAX: u64 = 26;
    const SKEW: u64 = 38;
    const DAMP: u64 = 700;
    let mut delta = if first { delta / DAMP } else { delta / 2 };
    delta += delta / points;
    let mut k = 0;
    while delta > ((BASE - T_MIN) * T_MAX) / 2 {
        delta /= BASE - T_MIN;
        k += BASE;
    }
    k + (BASE - T_MIN + 1) * delta / (delta + SKEW)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(text: &str) -> Vec<char> {
        text.chars().collect()
    }

    fn encoded_len(label: &str) -> Option<usize> {
        punycode_len(&chars(label))
    }

    #[test]
    fn punycode_lengths_match_rfc_3492_samples() {
        assert_eq!(encoded_len("bücher"), Some("bcher-kva".len()));
        assert_eq!(encoded_len("münchen"), Some("mnchen-3ya".len()));
        // RFC 3492 section 7.1, samples (B) and (L).
        assert_eq!(
            encoded_len("他们为什么不说中文"),
            Some("ihqwcrb4cv8a8dqg056pqjye".len())
        );
        assert_eq!(
            encoded_len("3年B組金八先生"),
            Some("3B-ww4c5e180e575a65lsy2b".len())
        );
        assert_eq!(encoded_len("☃"), Some("n3h".len()));
    }

    #[test]
    fn hosts_are_measured_label_by_label() {
        assert_eq!(ascii_host_len(&chars("example.com")), Some(11));
        assert_eq!(ascii_host_len(&chars("☃.net")), Some("xn--n3h.net".len()));
        assert_eq!(ascii_host_len(&chars("ＥＸＡＭＰＬＥ.com")), Some(11));
        assert_eq!(
            ascii_host_len(&chars("straße.de")),
            Some("strasse.de".len())
        );
        assert_eq!(ascii_host_len(&chars(&"a".repeat(64))), None);
    }

    #[test]
    fn idna_refusals() {
        // Already-encoded label with non-ASCII in it.
        assert_eq!(ascii_host_len(&chars("xn--はじめよう.com")), None);
        // Control character.
        assert_eq!(ascii_host_len(&chars("\u{85}t.co")), None);
        // Right-to-left letters mixed with left-to-right ones.
        assert_eq!(ascii_host_len(&chars("exampleپاکستان.com")), None);
        assert!(ascii_host_len(&chars("foobar.پاکستان")).is_some());
    }
}
