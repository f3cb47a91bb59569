//! The order a Sheep recites its lines in: the poem's own, or a new shuffle every round.
//! A round's shuffle is a pure function of the poem's fingerprint and the round number, so a
//! bot that restarts mid-round goes on in the same order and still posts every line once.

use rand::{SeedableRng, rngs::StdRng, seq::SliceRandom};
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    /// The poem's own order.
    #[default]
    Sequence,
    /// A new random order every round; every line once per round.
    Shuffle,
}

/// The poem line (0-based) posted at `position` of round `cycle`.
pub fn line_at(order: Order, len: usize, position: usize, cycle: u64, fingerprint: &str) -> usize {
    match order {
        Order::Sequence => position,
        Order::Shuffle => round(len, cycle, fingerprint)
            .get(position)
            .copied()
            .unwrap_or(position),
    }
}

/// The shuffled order of one round.
pub fn round(len: usize, cycle: u64, fingerprint: &str) -> Vec<usize> {
    // FNV-1a of the fingerprint and the round: stable across runs, unlike `DefaultHasher`.
    let seed = fingerprint
        .bytes()
        .chain(cycle.to_le_bytes())
        .fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
    let mut lines: Vec<usize> = (0..len).collect();
    lines.shuffle(&mut StdRng::seed_from_u64(seed));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shuffled_round_posts_every_line_once_and_rounds_differ() {
        let first = round(20, 0, "poem");
        let mut sorted = first.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..20).collect::<Vec<_>>());
        assert_ne!(first, round(20, 1, "poem"), "a new order each round");
        assert_eq!(
            first,
            round(20, 0, "poem"),
            "the same round, the same order after a restart"
        );
    }

    #[test]
    fn sequence_is_the_poems_order() {
        assert_eq!(line_at(Order::Sequence, 5, 3, 7, "x"), 3);
        let shuffled: Vec<usize> = (0..5)
            .map(|p| line_at(Order::Shuffle, 5, p, 2, "x"))
            .collect();
        assert_eq!(shuffled, round(5, 2, "x"));
    }
}
