//! twitter-text's official conformance suite (`tests/data/twitter-text/validate.yml`,
//! Apache-2.0, see LICENSE beside it) run against the length module: every case of every
//! section that is about a post's length or validity.
//!
//! validate.yml was written over three versions of X's counting rules, and a few of its cases
//! only hold under the version they were written for:
//!
//! - `tweets` checks the 2012 rules (v1: at most 140, every code point counts 1);
//! - `WeightedTweetsCounterTest` checks v2 (today's weights, but emoji not discounted);
//! - `WeightedTweetsWithDiscountedEmojiCounterTest` and `UnicodeDirectionalMarkerCounterTest`
//!   check v3, the rules X applies today and this module implements.
//!
//! Each case is run against the v3 module. A case that only fails because it was written for
//! an older version is listed in [`SUPERSEDED`] with the reason and the answer v3 gives instead,
//! and the test checks the module gives exactly that answer. Anything else that disagrees with
//! the file fails the test, and so does a superseded case that starts to pass as written.

use std::path::PathBuf;

use botflock::length::{MAX_WEIGHTED_LENGTH, check, weighted_length};
use yaml_rust2::{Yaml, YamlLoader};

/// Sections about length or validity, and the config version their expectations assume.
const LENGTH_SECTIONS: [(&str, u8); 4] = [
    ("tweets", 1),
    ("WeightedTweetsCounterTest", 2),
    ("WeightedTweetsWithDiscountedEmojiCounterTest", 3),
    ("UnicodeDirectionalMarkerCounterTest", 3),
];

/// Sections that test other validators (is this string a username, a list, a hashtag, a URL),
/// not the length or validity of a post.
const OTHER_SECTIONS: [&str; 5] = [
    "usernames",
    "lists",
    "hashtags",
    "urls",
    "urls_without_protocol",
];

/// Where v3 must give a different answer than the file, because the case was written for an
/// older version of the rules.
struct Superseded {
    section: &'static str,
    description: &'static str,
    why: &'static str,
    v3: V3Answer,
}

enum V3Answer {
    /// The weighted length and validity v3 gives.
    Stated { length: usize, valid: bool },
    /// The same text appears in this v3 section; its expectation is the answer.
    SameTextIn(&'static str),
}

const SUPERSEDED: [Superseded; 4] = [
    Superseded {
        section: "tweets",
        description: "Invalid Tweet: 141 characters",
        why: "v1 limit of 140; under v3 the 140 code points, with the 20-character URL \
              counting 23, weigh 143, well within 280",
        v3: V3Answer::Stated {
            length: 143,
            valid: true,
        },
    },
    Superseded {
        section: "tweets",
        description: "Invalid Tweet: 141 characters (due to newline)",
        why: "v1 limit of 140; under v3 this weighs 143, well within 280",
        v3: V3Answer::Stated {
            length: 143,
            valid: true,
        },
    },
    Superseded {
        section: "WeightedTweetsCounterTest",
        description: "Count a mix of single byte single word, and double word unicode characters",
        why: "v2 counts each code point of the ZWJ family emoji; v3 counts the sequence as 2",
        v3: V3Answer::SameTextIn("WeightedTweetsWithDiscountedEmojiCounterTest"),
    },
    Superseded {
        section: "WeightedTweetsCounterTest",
        description: "Count unicode emoji chars outside the basic multilingual plane with skin \
                      tone modifiers",
        why: "v2 counts skin tones and ZWJ sequences per code point; v3 counts each sequence as 2",
        v3: V3Answer::SameTextIn("WeightedTweetsWithDiscountedEmojiCounterTest"),
    },
];

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/twitter-text")
}

fn load(file: &str) -> Yaml {
    let path = data_dir().join(file);
    let source = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut documents = YamlLoader::load_from_str(&source)
        .unwrap_or_else(|e| panic!("cannot parse {}: {e}", path.display()));
    assert_eq!(documents.len(), 1, "{file} should hold one document");
    documents.remove(0)
}

struct Case<'a> {
    description: &'a str,
    text: &'a str,
    /// The `tweets` section gives validity only.
    length: Option<usize>,
    valid: bool,
}

fn cases<'a>(suite: &'a Yaml, section: &'a str) -> Vec<Case<'a>> {
    let entries = suite["tests"][section]
        .as_vec()
        .unwrap_or_else(|| panic!("validate.yml has no section {section}"));
    entries
        .iter()
        .map(|entry| {
            let description = entry["description"]
                .as_str()
                .unwrap_or_else(|| panic!("a case in {section} has no description"));
            let text = entry["text"]
                .as_str()
                .unwrap_or_else(|| panic!("{section}: {description}: no text"));
            let expected = &entry["expected"];
            let (length, valid) = match expected.as_bool() {
                Some(valid) => (None, valid),
                None => (
                    expected["weightedLength"]
                        .as_i64()
                        .and_then(|n| usize::try_from(n).ok()),
                    expected["valid"]
                        .as_bool()
                        .unwrap_or_else(|| panic!("{section}: {description}: no `valid`")),
                ),
            };
            assert!(
                length.is_some() || expected.as_bool().is_some(),
                "{section}: {description}: no weightedLength"
            );
            Case {
                description,
                text,
                length,
                valid,
            }
        })
        .collect()
}

/// What the module says about a text, shown like the file's expectations.
fn answer(text: &str) -> (usize, bool) {
    (weighted_length(text), check(text).is_ok())
}

fn matches(case: &Case, (length, valid): (usize, bool)) -> bool {
    valid == case.valid && case.length.is_none_or(|expected| expected == length)
}

#[test]
fn every_section_of_validate_yml_is_classified() {
    let suite = load("validate.yml");
    let sections: Vec<&str> = suite["tests"]
        .as_hash()
        .expect("validate.yml has a `tests` map")
        .keys()
        .filter_map(Yaml::as_str)
        .collect();
    let known: Vec<&str> = LENGTH_SECTIONS
        .iter()
        .map(|(name, _)| *name)
        .chain(OTHER_SECTIONS)
        .collect();
    let unknown: Vec<&&str> = sections.iter().filter(|s| !known.contains(s)).collect();
    assert!(
        unknown.is_empty(),
        "validate.yml has sections this test does not know; decide whether they are about \
         length or validity: {unknown:?}"
    );
    let missing: Vec<&&str> = known.iter().filter(|s| !sections.contains(s)).collect();
    assert!(
        missing.is_empty(),
        "validate.yml lost sections: {missing:?}"
    );
}

#[test]
fn yaml_escapes_are_decoded() {
    let suite = load("validate.yml");
    let tweets = cases(&suite, "tweets");
    let cats = tweets
        .iter()
        .find(|c| c.description == "Valid Tweet: 140 characters (double word characters)")
        .expect("the \\U0001f431 case");
    assert_eq!(cats.text, "\u{1F431}".repeat(140));
    for section in LENGTH_SECTIONS.map(|(name, _)| name) {
        for case in cases(&suite, section) {
            assert!(
                !case.text.contains("\\u") && !case.text.contains("\\U"),
                "{section}: {}: escape left undecoded",
                case.description
            );
        }
    }
}

#[test]
fn length_and_validity_cases() {
    let suite = load("validate.yml");
    let mut passed = 0;
    let mut superseded = Vec::new();
    let mut failures = Vec::new();

    for (section, version) in LENGTH_SECTIONS {
        for case in cases(&suite, section) {
            let got = answer(case.text);
            let listed = SUPERSEDED
                .iter()
                .find(|s| s.section == section && s.description == case.description);
            match (matches(&case, got), listed) {
                (true, None) => passed += 1,
                (true, Some(_)) => failures.push(format!(
                    "{section}: {}: passes as written now; remove it from SUPERSEDED",
                    case.description
                )),
                (false, None) => failures.push(format!(
                    "{section} (v{version}): {}: got length {} valid {}, expected {}valid {}",
                    case.description,
                    got.0,
                    got.1,
                    case.length
                        .map_or(String::new(), |l| format!("length {l} ")),
                    case.valid
                )),
                (false, Some(listed)) => {
                    let v3 = match listed.v3 {
                        V3Answer::Stated { length, valid } => Some((length, valid)),
                        V3Answer::SameTextIn(v3_section) => cases(&suite, v3_section)
                            .into_iter()
                            .find(|c| c.text == case.text)
                            .and_then(|c| Some((c.length?, c.valid))),
                    };
                    if v3 == Some(got) {
                        superseded.push(format!(
                            "{section}: {}: v3 gives length {} valid {} ({})",
                            case.description, got.0, got.1, listed.why
                        ));
                    } else {
                        failures.push(format!(
                            "{section}: {}: got length {} valid {}, but v3 should give {v3:?}",
                            case.description, got.0, got.1
                        ));
                    }
                }
            }
        }
    }

    let total = passed + superseded.len() + failures.len();
    println!("validate.yml length/validity cases: {total}");
    println!("  {passed} pass as written");
    println!(
        "  {} written for an older version of the rules, answered as v3 requires:",
        superseded.len()
    );
    for line in &superseded {
        println!("    {line}");
    }
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        superseded.len(),
        SUPERSEDED.len(),
        "a SUPERSEDED entry matched no case"
    );
}

/// The module's constants agree with twitter-text's v3.json (which is JSON, hence YAML).
#[test]
fn module_follows_v3_json() {
    let config = load("v3.json");
    let number = |key: &str| {
        config[key]
            .as_i64()
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or_else(|| panic!("v3.json: no {key}"))
    };
    let scale = number("scale");
    assert_eq!(number("version"), 3);
    assert_eq!(number("maxWeightedTweetLength"), MAX_WEIGHTED_LENGTH);
    assert_eq!(
        number("transformedURLLength"),
        weighted_length("https://t.co")
    );
    let default_weight = number("defaultWeight") / scale;
    assert_eq!(weighted_length("\u{3042}"), default_weight);
    assert_eq!(config["emojiParsingEnabled"].as_bool(), Some(true));
    assert_eq!(weighted_length("👨‍👩‍👧‍👦"), default_weight);

    let ranges: Vec<(u32, u32, usize)> = config["ranges"]
        .as_vec()
        .expect("v3.json: ranges")
        .iter()
        .map(|range| {
            let field = |key: &str| range[key].as_i64().expect("range field");
            (
                u32::try_from(field("start")).expect("start"),
                u32::try_from(field("end")).expect("end"),
                usize::try_from(field("weight")).expect("weight") / scale,
            )
        })
        .collect();
    let expected_weight = |code: u32| {
        ranges
            .iter()
            .find(|(start, end, _)| (*start..=*end).contains(&code))
            .map_or(default_weight, |(_, _, weight)| *weight)
    };
    for &(start, end, _) in &ranges {
        for code in [start.saturating_sub(1), start, end, end + 1] {
            let Some(c) = char::from_u32(code) else {
                continue;
            };
            assert_eq!(
                weighted_length(&c.to_string()),
                expected_weight(code),
                "U+{code:04X}"
            );
        }
    }
}
