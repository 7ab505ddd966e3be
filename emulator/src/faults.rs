//! Fault injection for API calls: added latency, throttling and server errors at given
//! rates, drawn from a seeded generator so that a run is reproducible.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::api_error::{ApiError, ErrorKind};
use crate::operation::Operation;

/// Longest latency a fault may add: long enough for any timeout test, short enough that a
/// typo cannot park requests for hours.
const MAX_LATENCY_MS: u64 = 120_000;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct FaultConfig {
    #[serde(default)]
    pub latency_ms: u64,
    /// Probability, 0.0 to 1.0, that a call answers `ThrottlingException`.
    #[serde(default)]
    pub throttle_rate: f64,
    /// Probability, 0.0 to 1.0, that a call answers `InternalServerException`.
    #[serde(default)]
    pub server_error_rate: f64,
    #[serde(default)]
    pub seed: u64,
    /// Only these operations are faulted; all of them when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operations: Option<Vec<Operation>>,
}

impl FaultConfig {
    pub fn check(&self) -> Result<(), String> {
        for (name, rate) in [
            ("ThrottleRate", self.throttle_rate),
            ("ServerErrorRate", self.server_error_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be between 0.0 and 1.0, got {rate}"));
            }
        }
        if self.latency_ms > MAX_LATENCY_MS {
            return Err(format!(
                "LatencyMs must be at most {MAX_LATENCY_MS}, got {}",
                self.latency_ms
            ));
        }
        Ok(())
    }
}

/// What to do to one call.
#[derive(Debug)]
pub struct Fault {
    pub latency: Option<Duration>,
    pub error: Option<ApiError>,
}

#[derive(Debug, Clone)]
pub struct Faults {
    config: FaultConfig,
    random: StdRng,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            config: FaultConfig::default(),
            random: StdRng::seed_from_u64(0),
        }
    }
}

impl Faults {
    pub fn new(config: FaultConfig) -> Result<Self, String> {
        config.check()?;
        let random = StdRng::seed_from_u64(config.seed);
        Ok(Self { config, random })
    }

    pub fn config(&self) -> &FaultConfig {
        &self.config
    }

    /// Decides the fault for one call, if any. Each configured rate draws once per call,
    /// throttling first, so a seed gives the same sequence of outcomes for the same calls.
    pub fn decide(&mut self, operation: Operation) -> Option<Fault> {
        let config = &self.config;
        if config
            .operations
            .as_ref()
            .is_some_and(|operations| !operations.contains(&operation))
        {
            return None;
        }
        let throttled =
            config.throttle_rate > 0.0 && self.random.random::<f64>() < config.throttle_rate;
        let failed = config.server_error_rate > 0.0
            && self.random.random::<f64>() < config.server_error_rate;
        let error = if throttled {
            Some(ApiError::new(
                ErrorKind::Throttling,
                "Rate exceeded (injected by the emulator's faults)",
            ))
        } else if failed {
            Some(ApiError::new(
                ErrorKind::InternalServer,
                "An internal error occurred (injected by the emulator's faults)",
            ))
        } else {
            None
        };
        let latency = (config.latency_ms > 0).then(|| Duration::from_millis(config.latency_ms));
        if latency.is_none() && error.is_none() {
            return None;
        }
        Some(Fault { latency, error })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcomes(config: FaultConfig, calls: usize) -> Vec<Option<ErrorKind>> {
        let mut faults = Faults::new(config).expect("valid");
        (0..calls)
            .map(|_| {
                faults
                    .decide(Operation::GetConnection)
                    .and_then(|fault| fault.error.map(|error| error.kind))
            })
            .collect()
    }

    #[test]
    fn no_configuration_means_no_faults() {
        let mut faults = Faults::default();
        assert!(faults.decide(Operation::GetConnection).is_none());
    }

    #[test]
    fn a_seed_gives_the_same_outcomes() {
        let config = FaultConfig {
            throttle_rate: 0.3,
            server_error_rate: 0.3,
            seed: 7,
            ..FaultConfig::default()
        };
        let first = outcomes(config.clone(), 200);
        assert_eq!(first, outcomes(config, 200));
        let throttled = first
            .iter()
            .filter(|o| **o == Some(ErrorKind::Throttling))
            .count();
        let failed = first
            .iter()
            .filter(|o| **o == Some(ErrorKind::InternalServer))
            .count();
        assert!((30..90).contains(&throttled), "{throttled}");
        assert!((20..70).contains(&failed), "{failed}");
    }

    #[test]
    fn rate_one_always_faults_and_operations_filter() {
        let config = FaultConfig {
            server_error_rate: 1.0,
            operations: Some(vec![Operation::ListHosts]),
            ..FaultConfig::default()
        };
        let mut faults = Faults::new(config).expect("valid");
        assert!(faults.decide(Operation::GetConnection).is_none());
        let fault = faults.decide(Operation::ListHosts).expect("faulted");
        assert_eq!(fault.error.map(|e| e.kind), Some(ErrorKind::InternalServer));
        assert_eq!(fault.latency, None);
    }

    #[test]
    fn latency_alone_is_a_fault_without_error() {
        let config = FaultConfig {
            latency_ms: 25,
            ..FaultConfig::default()
        };
        let fault = Faults::new(config)
            .expect("valid")
            .decide(Operation::ListHosts)
            .expect("faulted");
        assert_eq!(fault.latency, Some(Duration::from_millis(25)));
        assert!(fault.error.is_none());
    }

    #[test]
    fn out_of_range_settings_are_rejected() {
        let config = FaultConfig {
            throttle_rate: 1.5,
            ..FaultConfig::default()
        };
        assert_eq!(
            Faults::new(config).map(|_| ()),
            Err("ThrottleRate must be between 0.0 and 1.0, got 1.5".to_owned())
        );
        let config = FaultConfig {
            latency_ms: MAX_LATENCY_MS + 1,
            ..FaultConfig::default()
        };
        assert!(Faults::new(config).is_err());
    }
}
