//! What posts a poem line becomes: itself, or a thread when it is over X's limit, and the
//! stamp that lets a repeated text post again. Pure: the time is an argument.

use crate::keys::LongLines;
use crate::length::{self, MAX_WEIGHTED_LENGTH, TextProblem};

/// Room kept free in every post for a stamp (` [2026-11-21 06:20:00]`, 22 characters of
/// weight 1), so a stamped post is never over the limit.
pub const STAMP_ROOM: usize = 22;

/// The posts for `line`: one, a thread of parts of at most `max` weighted characters, or none
/// when it is too long and long lines are skipped.
pub fn posts_for(line: &str, long_lines: LongLines, max: usize) -> Vec<String> {
    let too_long = match length::check(line) {
        Ok(length) => length > max,
        Err(TextProblem::TooLong { .. }) => true,
        Err(_) => length::weighted_length(line) > max,
    };
    match (too_long, long_lines) {
        (false, _) => vec![line.to_string()],
        (true, LongLines::Thread) => length::split(line, max),
        (true, LongLines::Skip) => Vec::new(),
    }
}

/// The most a post of a bot may weigh: X's limit, less the stamp's room when it stamps.
pub fn room(stamps: bool) -> usize {
    if stamps {
        MAX_WEIGHTED_LENGTH - STAMP_ROOM
    } else {
        MAX_WEIGHTED_LENGTH
    }
}

/// `text` with the local date and time appended, so X does not refuse it as a repeat.
pub fn stamp(text: &str, now: &jiff::Zoned) -> String {
    format!("{text} [{}]", now.strftime("%Y-%m-%d %H:%M:%S"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_within_the_limit_is_one_post() {
        assert_eq!(
            posts_for("short line", LongLines::Thread, 280),
            ["short line"]
        );
    }

    #[test]
    fn a_long_line_becomes_a_thread_of_parts_within_the_limit_or_nothing() {
        let line = "word ".repeat(120);
        let parts = posts_for(line.trim(), LongLines::Thread, 280);
        assert!(parts.len() >= 3, "{parts:?}");
        assert!(
            parts
                .iter()
                .all(|part| length::weighted_length(part) <= 280)
        );
        assert_eq!(parts.join(" "), line.trim(), "nothing is lost or changed");
        assert!(posts_for(line.trim(), LongLines::Skip, 280).is_empty());
    }

    #[test]
    fn a_stamped_post_always_fits() {
        let line = "x".repeat(270);
        let parts = posts_for(&line, LongLines::Thread, room(true));
        let now = jiff::Timestamp::UNIX_EPOCH.to_zoned(jiff::tz::TimeZone::UTC);
        for part in parts {
            let stamped = stamp(&part, &now);
            assert!(length::weighted_length(&stamped) <= 280, "{stamped}");
        }
        assert_eq!(stamp("hi", &now), "hi [1970-01-01 00:00:00]");
    }
}
