//! Finding the URLs in a text the way X does, so that each can be counted as 23.
//!
//! This follows the URL grammar of twitter-text's Java `Extractor` (X's server-side reference),
//! which is a single regular expression plus a few checks. It is written out by hand here because a
//! regex engine without look-around cannot express it, and because the order in which that
//! expression tries its alternatives decides which text becomes a URL:
//!
//! - a URL starts at the beginning of the text or after a character that is not an ASCII letter
//!   or digit, `@`, `$`, `#` (or their full-width forms);
//! - then an optional `http://` or `https://`;
//! - then a host: dot-separated labels of ASCII letters, digits and Latin accented letters
//!   (`-` inside labels, `_` inside all but the last) ending in a known TLD; or, right after a
//!   scheme, one label of almost anything non-punctuation (`http://☃.net`);
//! - then an optional `:port`, `/path` and `?query`, whose last character must be one that
//!   rarely ends a sentence (so `example.com/path.` leaves the dot out);
//! - a URL without a scheme right after `-`, `_`, `.` or `/` is not one, the host must pass
//!   IDNA (see [`super::idna`]), a t.co link keeps only its slug, and the whole URL must stay
//!   under 4096 characters.

use std::collections::HashSet;
use std::ops::Range;
use std::sync::LazyLock;

/// What t.co slugs are limited to; longer ones are not links X made.
const MAX_TCO_SLUG: usize = 40;
/// X refuses to shorten URLs longer than this (counted in UTF-16 units, scheme included).
const MAX_URL_UTF16: usize = 4096;
/// Length of the scheme X adds to URLs written without one, before the 4096 check.
const DEFAULT_SCHEME_UTF16: usize = "https://".len();

static TLDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("tlds.txt")
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
});
static LONGEST_TLD: LazyLock<usize> =
    LazyLock::new(|| TLDS.iter().map(|t| t.chars().count()).max().unwrap_or(0));

/// The char ranges of the URLs in `chars`, in order.
pub(super) fn find_urls(chars: &[char]) -> Vec<Range<usize>> {
    let mut urls = Vec::new();
    // Every host has a dot before its TLD.
    if !chars.contains(&'.') {
        return urls;
    }
    let mut scanner = Scanner::new(chars);
    let mut from = 0;
    while let Some(found) = scanner.next_candidate(from) {
        // Like the regex it mirrors, the search goes on after a candidate even when the checks
        // reject it, so nothing inside a rejected candidate can become a URL.
        from = found.end;
        if let Some(url) = accept(chars, &found) {
            urls.push(url);
        }
    }
    urls
}

/// A piece of text shaped like a URL, before the checks that may still reject it.
struct Candidate {
    start: usize,
    end: usize,
    has_scheme: bool,
    host: Range<usize>,
    /// The character consumed in front of the URL (None at the start of the text).
    before: Option<char>,
}

/// The search over one text. A URL may start after almost any character, and the host found
/// from one start is found again from every later start inside it, so what is known about each
/// position is kept: without that, text like `a.a.a.a…` takes quadratic time.
struct Scanner<'a> {
    chars: &'a [char],
    /// Where the run of host-label characters (and `-`, `_`) starting at each position ends.
    label_run_end: Vec<usize>,
    /// The ASCII host found from each position, once computed.
    ascii_hosts: Vec<Option<Option<usize>>>,
}

impl<'a> Scanner<'a> {
    fn new(chars: &'a [char]) -> Self {
        let mut label_run_end = vec![chars.len(); chars.len() + 1];
        for i in (0..chars.len()).rev() {
            let c = chars[i];
            label_run_end[i] = if is_host_char(c) || c == '-' || c == '_' {
                label_run_end[i + 1]
            } else {
                i
            };
        }
        Scanner {
            chars,
            label_run_end,
            ascii_hosts: vec![None; chars.len() + 1],
        }
    }

    fn next_candidate(&mut self, from: usize) -> Option<Candidate> {
        for p in from..self.chars.len() {
            // The character in front is part of the match, so it must lie at or after `from`;
            // at the very start the URL may also begin at 0, but only once starting after the
            // first character has failed.
            let c = self.chars[p];
            if may_precede(c)
                && let Some(found) = self.candidate_at(p + 1, Some(c))
            {
                return Some(found);
            }
            if p == 0
                && let Some(found) = self.candidate_at(0, None)
            {
                return Some(found);
            }
        }
        None
    }

    fn candidate_at(&mut self, start: usize, before: Option<char>) -> Option<Candidate> {
        let rest = self.chars.get(start..)?;
        let scheme = ["https://", "http://"]
            .into_iter()
            .find(|scheme| starts_with_ignore_ascii_case(rest, scheme))
            .map_or(0, str::len);
        if scheme > 0
            && let Some(found) = self.candidate_after_scheme(start, start + scheme, before)
        {
            return Some(found);
        }
        self.candidate_after_scheme(start, start, before)
    }

    fn candidate_after_scheme(
        &mut self,
        start: usize,
        host_start: usize,
        before: Option<char>,
    ) -> Option<Candidate> {
        let chars = self.chars;
        let host_end = self.ascii_host_end(host_start).or_else(|| {
            follows_scheme(chars, host_start)
                .then(|| unicode_host_end(chars, host_start))
                .flatten()
        })?;
        let mut end = host_end;
        if chars.get(end) == Some(&':') {
            let digits = run_end(chars, end + 1, |c| c.is_ascii_digit());
            if digits > end + 1 {
                end = digits;
            }
        }
        if chars.get(end) == Some(&'/') {
            end = path_end(chars, end + 1);
        }
        if chars.get(end) == Some(&'?')
            && let Some(query) = query_end(chars, end + 1)
        {
            end = query;
        }
        Some(Candidate {
            start,
            end,
            has_scheme: host_start > start,
            host: host_start..host_end,
            before,
        })
    }

    /// Labels of ASCII letters, digits and Latin accented letters ending in a known TLD. As
    /// many leading labels as possible are taken as subdomains (which may contain `_`), and the
    /// label before the TLD may not contain `_`: so from a label that may be a subdomain, the
    /// host found from the next label wins, and only failing that does this label end the host.
    fn ascii_host_end(&mut self, start: usize) -> Option<usize> {
        // Walk forward along labels that could be subdomains until a position already known,
        // then settle the walked labels backwards.
        let mut walked = Vec::new();
        let mut pos = start;
        let mut found_after = None;
        while pos <= self.chars.len() {
            if let Some(known) = self.ascii_hosts[pos] {
                found_after = known;
                break;
            }
            let Some(label) = self.label_at(pos) else {
                self.ascii_hosts[pos] = Some(None);
                break;
            };
            walked.push(pos);
            if !is_label(&self.chars[label.clone()], true) {
                break;
            }
            pos = label.end + 1;
        }
        for &pos in walked.iter().rev() {
            let label = self.label_run_end[pos];
            let label = &self.chars[pos..label];
            let deeper = if is_label(label, true) {
                found_after
            } else {
                None
            };
            found_after = deeper.or_else(|| {
                is_label(label, false)
                    .then(|| tld_end(self.chars, pos + label.len() + 1, true))
                    .flatten()
            });
            self.ascii_hosts[pos] = Some(found_after);
        }
        self.ascii_hosts[start].flatten()
    }

    /// The label starting at `pos`, if a dot follows it.
    fn label_at(&self, pos: usize) -> Option<Range<usize>> {
        let end = *self.label_run_end.get(pos)?;
        (end > pos && self.chars.get(end) == Some(&'.')).then_some(pos..end)
    }
}

fn may_precede(c: char) -> bool {
    !(c.is_ascii_alphanumeric()
        || matches!(
            c,
            '@' | '\u{FF20}' | '$' | '#' | '\u{FF03}' | '\u{FFFE}' | '\u{FEFF}' | '\u{FFFF}'
        ))
}

/// Right after a scheme: one label of anything but punctuation and spaces, then a listed TLD
/// (twitter-text accepts any `xn--` TLD only after ASCII labels).
fn unicode_host_end(chars: &[char], start: usize) -> Option<usize> {
    let end = run_end(chars, start, |c| is_unicode_host_char(c) || c == '-');
    let label = &chars[start..end];
    let well_formed = label.first().is_some_and(|&c| c != '-')
        && label.last().is_some_and(|&c| c != '-')
        && chars.get(end) == Some(&'.');
    if well_formed {
        tld_end(chars, end + 1, false)
    } else {
        None
    }
}

fn is_label(label: &[char], underscore_allowed: bool) -> bool {
    label.first().copied().is_some_and(is_host_char)
        && label.last().copied().is_some_and(is_host_char)
        && (underscore_allowed || !label.contains(&'_'))
}

/// The end of the TLD starting at `start`, preferring the longest listed one. A listed TLD may
/// not run on into letters, digits, `@`, `+` or `-` (`example.comx`, `john.doe.gov@mail`).
fn tld_end(chars: &[char], start: usize, any_punycode: bool) -> Option<usize> {
    let ends_cleanly = |end: usize| {
        chars
            .get(end)
            .is_none_or(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '@' | '+' | '-')))
    };
    let longest = (*LONGEST_TLD).min(chars.len().saturating_sub(start));
    let mut candidate = String::new();
    for len in (1..=longest).rev() {
        if !ends_cleanly(start + len) {
            continue;
        }
        candidate.clear();
        candidate.extend(
            chars[start..start + len]
                .iter()
                .map(char::to_ascii_lowercase),
        );
        if TLDS.contains(candidate.as_str()) {
            return Some(start + len);
        }
    }
    // Any Punycode TLD will do, even one not delegated yet.
    if any_punycode && starts_with_ignore_ascii_case(&chars[start..], "xn--") {
        let end = run_end(chars, start + 4, |c| c.is_ascii_alphanumeric() || c == '-');
        if end > start + 4 {
            return Some(end);
        }
    }
    None
}

/// A path: segments of path characters and balanced parentheses, each cut back to its last
/// character that may end a path.
fn path_end(chars: &[char], start: usize) -> usize {
    let mut end = start;
    while let Some(next) = path_segment_end(chars, end) {
        end = next;
    }
    end
}

/// One repetition of twitter-text's path pattern. That pattern spells its ending as
/// `chars | (parens)` without grouping, so a parenthesised group may end a segment only when
/// it is the whole segment: `/Primer_(film)` is `Primer_` then `(film)`, but in `/x.(film)`
/// the segment `x` is followed by `.(film)`, which no segment can start with.
fn path_segment_end(chars: &[char], start: usize) -> Option<usize> {
    let mut pos = start;
    let mut end = None;
    loop {
        match chars.get(pos) {
            Some(&c) if is_path_char(c) => {
                pos += 1;
                if is_path_end_char(c) {
                    end = Some(pos);
                }
            }
            Some('(') => match balanced_parens_end(chars, pos) {
                Some(close) => pos = close,
                None => break,
            },
            _ => break,
        }
    }
    end.or_else(|| balanced_parens_end(chars, start))
}

/// `(chars)` or `(chars(chars)chars)`, as in `/wiki/Primer_(film)`.
fn balanced_parens_end(chars: &[char], open: usize) -> Option<usize> {
    if chars.get(open) != Some(&'(') {
        return None;
    }
    let inner = open + 1;
    let first = run_end(chars, inner, is_path_char);
    match chars.get(first) {
        Some(')') if first > inner => Some(first + 1),
        Some('(') => {
            let nested = run_end(chars, first + 1, is_path_char);
            if nested == first + 1 || chars.get(nested) != Some(&')') {
                return None;
            }
            let after = run_end(chars, nested + 1, is_path_char);
            (chars.get(after) == Some(&')')).then_some(after + 1)
        }
        _ => None,
    }
}

/// A query: query characters cut back to the last one that may end it; none if there is none.
fn query_end(chars: &[char], start: usize) -> Option<usize> {
    let run = run_end(chars, start, is_query_char);
    (start..run)
        .rev()
        .find(|&i| is_query_end_char(chars[i]))
        .map(|i| i + 1)
}

fn accept(chars: &[char], found: &Candidate) -> Option<Range<usize>> {
    if !found.has_scheme
        && found
            .before
            .is_some_and(|c| matches!(c, '-' | '_' | '.' | '/'))
    {
        return None;
    }
    let mut end = found.end;
    if found.has_scheme
        && let Some(tco_end) = tco_link_end(&chars[found.start..found.end])?
    {
        end = found.start + tco_end;
    }
    let host = &chars[found.host.clone()];
    let ascii_host = super::idna::ascii_host_len(host)?;
    let url_utf16 = utf16_len(&chars[found.start..end]) - utf16_len(host) + ascii_host;
    let scheme = if found.has_scheme {
        0
    } else {
        DEFAULT_SCHEME_UTF16
    };
    (url_utf16 + scheme <= MAX_URL_UTF16).then_some(found.start..end)
}

/// For a t.co link, how much of it X keeps: the slug and a query, nothing more. Outer None
/// rejects the URL (a slug too long for t.co); Some(None) means it is not a t.co link.
fn tco_link_end(url: &[char]) -> Option<Option<usize>> {
    let prefix = ["https://t.co/", "http://t.co/"]
        .into_iter()
        .find(|prefix| starts_with_ignore_ascii_case(url, prefix))
        .map(str::len);
    let Some(prefix) = prefix else {
        return Some(None);
    };
    let slug_end = run_end(url, prefix, |c| c.is_ascii_alphanumeric());
    if slug_end == prefix {
        return Some(None);
    }
    if slug_end - prefix > MAX_TCO_SLUG {
        return None;
    }
    if url.get(slug_end) == Some(&'?')
        && let Some(query) = query_end(url, slug_end + 1)
    {
        return Some(Some(query));
    }
    Some(Some(slug_end))
}

fn run_end(chars: &[char], start: usize, keep: impl Fn(char) -> bool) -> usize {
    start
        + chars
            .get(start..)
            .map_or(0, |rest| rest.iter().take_while(|&&c| keep(c)).count())
}

fn starts_with_ignore_ascii_case(chars: &[char], prefix: &str) -> bool {
    chars.len() >= prefix.len()
        && chars
            .iter()
            .zip(prefix.chars())
            .all(|(c, p)| c.eq_ignore_ascii_case(&p))
}

fn follows_scheme(chars: &[char], pos: usize) -> bool {
    ["http://", "https://"].into_iter().any(|scheme| {
        pos.checked_sub(scheme.len())
            .is_some_and(|from| starts_with_ignore_ascii_case(&chars[from..pos], scheme))
    })
}

fn utf16_len(chars: &[char]) -> usize {
    chars.iter().map(|c| c.len_utf16()).sum()
}

fn is_latin_accent(c: char) -> bool {
    matches!(c,
        '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{24F}'
        | '\u{253}' | '\u{254}' | '\u{256}' | '\u{257}' | '\u{259}' | '\u{25B}' | '\u{263}'
        | '\u{268}' | '\u{26F}' | '\u{272}' | '\u{289}' | '\u{28B}' | '\u{2BB}'
        | '\u{300}'..='\u{36F}' | '\u{1E00}'..='\u{1EFF}')
}

fn is_cyrillic(c: char) -> bool {
    ('\u{400}'..='\u{4FF}').contains(&c)
}

fn is_host_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || is_latin_accent(c)
}

/// Java's `[^punctuation \s \p{Z} \p{InGeneralPunctuation}]`: letters, digits, symbols and
/// emoji of any script.
fn is_unicode_host_char(c: char) -> bool {
    !(c.is_ascii_punctuation()
        || matches!(
            c,
            ' ' | '\t' | '\n' | '\u{B}' | '\u{C}' | '\r' | '\u{A0}' | '\u{1680}' | '\u{3000}'
        )
        || ('\u{2000}'..='\u{206F}').contains(&c))
}

fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || "!*';:=+,.$/%#[]-_~|&@".contains(c)
        || c == '\u{2013}'
        || is_latin_accent(c)
        || is_cyrillic(c)
}

fn is_path_end_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "=_#/-+".contains(c) || is_latin_accent(c) || is_cyrillic(c)
}

fn is_query_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!?*'();:&=+$/%#[]-_.,~|@".contains(c)
}

fn is_query_end_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_&=#/".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(text: &str) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        find_urls(&chars)
            .into_iter()
            .map(|r| chars[r].iter().collect())
            .collect()
    }

    #[test]
    fn finds_urls_with_and_without_scheme() {
        assert_eq!(urls("text http://google.com"), ["http://google.com"]);
        assert_eq!(
            urls("foo.com foo.net foo.org foo.edu foo.gov"),
            ["foo.com", "foo.net", "foo.org", "foo.edu", "foo.gov"]
        );
        assert_eq!(
            urls("t.co/abcde bit.ly/abcde"),
            ["t.co/abcde", "bit.ly/abcde"]
        );
        assert_eq!(urls("test ELPAÍS.com"), ["ELPAÍS.com"]);
        assert_eq!(urls("text http://✪df.ws/ejp"), ["http://✪df.ws/ejp"]);
        assert_eq!(
            urls("example.comてすとですtwitter.みんなです"),
            ["example.com", "twitter.みんな"]
        );
    }

    #[test]
    fn trims_trailing_punctuation() {
        assert_eq!(urls("see http://twitter.com/."), ["http://twitter.com/"]);
        assert_eq!(
            urls("(http://example.com/wiki/Primer_(film))"),
            ["http://example.com/wiki/Primer_(film)"]
        );
        assert_eq!(urls("http://foo.com?#foo text"), ["http://foo.com?#foo"]);
        assert_eq!(
            urls("http://example.com/path......"),
            ["http://example.com/path"]
        );
    }

    #[test]
    fn parentheses_close_a_path_only_as_a_whole_segment() {
        assert_eq!(
            urls("http://example.com/a(b)c"),
            ["http://example.com/a(b)c"]
        );
        assert_eq!(
            urls("http://example.com/a(b) x"),
            ["http://example.com/a(b)"]
        );
        assert_eq!(urls("http://example.com/x.(b) x"), ["http://example.com/x"]);
        assert_eq!(
            urls("http://example.com/a/(b) x"),
            ["http://example.com/a/(b)"]
        );
        assert_eq!(urls("http://example.com/[(b) x"), ["http://example.com/"]);
        assert_eq!(urls("http://example.com/..) x"), ["http://example.com/"]);
    }

    #[test]
    fn rejects_what_x_rejects() {
        assert!(urls("text http://no-tld").is_empty());
        assert!(urls("text http://twitter_underscore.com").is_empty());
        assert!(urls("test http://-twitter.com").is_empty());
        assert!(urls("$http://twitter.com $twitter.com #test.com @test.com").is_empty());
        assert!(urls("long.test.tar.bz2").is_empty());
        assert!(urls("john.doe.gov@mail.com").is_empty());
        assert!(urls("Hello http://xn--はじめよう.com/index.html").is_empty());
        assert!(urls(&format!("{}.com", "a".repeat(64))).is_empty());
        assert!(
            urls("I really like http://t.co/abcdefghijklmnopqrstuvwxyz012345678901234").is_empty()
        );
    }

    #[test]
    fn t_co_links_keep_only_their_slug() {
        assert_eq!(
            urls("http://t.co/pbY2NfTZ's website"),
            ["http://t.co/pbY2NfTZ"]
        );
        assert_eq!(urls("http://t.co/abc/def"), ["http://t.co/abc"]);
    }

    #[test]
    fn a_host_label_must_fit_in_63_once_encoded() {
        let fits = format!("http://{}.com", "あ".repeat(20));
        assert_eq!(urls(&fits), std::slice::from_ref(&fits));
        assert!(urls(&format!("http://{}.com", "あ".repeat(60))).is_empty());
    }

    #[test]
    fn no_url_is_longer_than_4096() {
        let long = format!("https://example.com/{}", "a".repeat(4096 - 20));
        assert_eq!(urls(&long).len(), 1);
        assert!(urls(&format!("{long}a")).is_empty());
    }
}
