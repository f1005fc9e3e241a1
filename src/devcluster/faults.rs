//! Fault injection for reliability tests: fractions of requests answered 500
//! or 429, or whose connection is dropped, plus added latency. Off by
//! default; set by flags and at run time through `/tokensmith/v1/faults`.

use std::time::Duration;

use rand::RngExt;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultConfig {
    /// Fraction (0..=1) of requests answered 500 InternalError.
    #[serde(default)]
    pub error_rate: f64,
    /// Fraction of requests answered 429 TooManyRequests with Retry-After.
    #[serde(default)]
    pub throttle_rate: f64,
    /// Seconds in the 429's Retry-After header.
    #[serde(default = "default_retry_after")]
    pub retry_after_seconds: u64,
    /// Fraction of requests whose connection is closed without an answer.
    #[serde(default)]
    pub drop_rate: f64,
    /// Added to every faultable request before it is served.
    #[serde(default)]
    pub latency_ms: u64,
}

fn default_retry_after() -> u64 {
    1
}

impl FaultConfig {
    pub fn none() -> Self {
        FaultConfig {
            retry_after_seconds: 1,
            ..FaultConfig::default()
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            ("errorRate", self.error_rate),
            ("throttleRate", self.throttle_rate),
            ("dropRate", self.drop_rate),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("{name} must be between 0 and 1, got {v}"));
            }
        }
        if self.error_rate + self.throttle_rate + self.drop_rate > 1.0 {
            return Err("errorRate + throttleRate + dropRate must not exceed 1".into());
        }
        Ok(())
    }

    pub fn latency(&self) -> Duration {
        Duration::from_millis(self.latency_ms)
    }

    /// Draws the fate of one request.
    pub fn draw(&self) -> Fault {
        if self.error_rate == 0.0 && self.throttle_rate == 0.0 && self.drop_rate == 0.0 {
            return Fault::None;
        }
        let x: f64 = rand::rng().random();
        if x < self.drop_rate {
            Fault::Drop
        } else if x < self.drop_rate + self.error_rate {
            Fault::Error
        } else if x < self.drop_rate + self.error_rate + self.throttle_rate {
            Fault::Throttle(self.retry_after_seconds)
        } else {
            Fault::None
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    Error,
    Throttle(u64),
    Drop,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certain_faults_always_fire_and_none_never_does() {
        let all_errors = FaultConfig {
            error_rate: 1.0,
            ..FaultConfig::none()
        };
        assert!((0..100).all(|_| all_errors.draw() == Fault::Error));
        assert!((0..100).all(|_| FaultConfig::none().draw() == Fault::None));
    }

    #[test]
    fn rates_outside_zero_to_one_are_refused() {
        let bad = FaultConfig {
            drop_rate: 1.5,
            ..FaultConfig::none()
        };
        assert!(bad.validate().is_err());
        let too_much = FaultConfig {
            drop_rate: 0.6,
            error_rate: 0.6,
            ..FaultConfig::none()
        };
        assert!(too_much.validate().is_err());
    }

    #[test]
    fn json_uses_camel_case_and_defaults() {
        let f: FaultConfig = serde_json::from_str(r#"{"throttleRate": 0.5}"#).expect("parse");
        assert_eq!(f.throttle_rate, 0.5);
        assert_eq!(f.retry_after_seconds, 1);
        assert!(serde_json::from_str::<FaultConfig>(r#"{"bogus": 1}"#).is_err());
    }
}
