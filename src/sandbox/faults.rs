//! Faults on demand: which requests the sandbox answers 503, drops or leaves hanging, so clients
//! can be tested under failure. Pure: the random roll is an argument.

use std::fmt;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Faults {
    /// Fraction of requests answered 503.
    pub fail_rate: f64,
    /// Fraction of requests whose connection is closed with no answer.
    pub drop_rate: f64,
    /// Fraction of requests never answered.
    pub hang_rate: f64,
    /// Added before every answer.
    pub latency: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    Fail,
    Drop,
    Hang,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BadRates {
    pub total: f64,
}

impl fmt::Display for BadRates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "fault rates must each be between 0 and 1 and add up to at most 1 (they add up to {})",
            self.total
        )
    }
}

impl std::error::Error for BadRates {}

impl Faults {
    pub fn check(&self) -> Result<(), BadRates> {
        let rates = [self.fail_rate, self.drop_rate, self.hang_rate];
        let total: f64 = rates.iter().sum();
        if rates.iter().all(|rate| (0.0..=1.0).contains(rate)) && total <= 1.0 {
            Ok(())
        } else {
            Err(BadRates { total })
        }
    }

    /// The fault for a request, given a roll uniform in [0, 1).
    pub fn pick(&self, roll: f64) -> Fault {
        let mut edge = self.hang_rate;
        if roll < edge {
            return Fault::Hang;
        }
        edge += self.drop_rate;
        if roll < edge {
            return Fault::Drop;
        }
        edge += self.fail_rate;
        if roll < edge {
            return Fault::Fail;
        }
        Fault::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolls_split_into_the_configured_fractions() {
        // Binary fractions, so the edges fall exactly where the arithmetic says.
        let faults = Faults {
            fail_rate: 0.25,
            drop_rate: 0.125,
            hang_rate: 0.0625,
            latency: Duration::ZERO,
        };
        let mut counts = [0usize; 4];
        let n = 1024;
        for i in 0..n {
            let roll = i as f64 / n as f64;
            counts[faults.pick(roll) as usize] += 1;
        }
        assert_eq!(counts, [576, 256, 128, 64]);
    }

    #[test]
    fn rates_must_be_fractions_that_fit_in_one() {
        assert!(Faults::default().check().is_ok());
        let too_much = Faults {
            fail_rate: 0.7,
            drop_rate: 0.5,
            ..Faults::default()
        };
        assert!(
            too_much
                .check()
                .unwrap_err()
                .to_string()
                .contains("add up to at most 1")
        );
        let negative = Faults {
            hang_rate: -0.1,
            ..Faults::default()
        };
        assert!(negative.check().is_err());
    }
}
