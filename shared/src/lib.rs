//! gitsync-guard's shared crate.
//!
//! - [`domain`]: pure logic and values (event parsing, blockers, alerts), no AWS types, no I/O.
//! - [`ports`]: the traits the domain needs from the outside world.
//! - [`adapters`]: the AWS SDK implementations of the ports, and client construction.
//! - [`dedupe`]: publish an alert exactly once, through the ledger and notifier ports.
//! - [`config`] and [`telemetry`]: what every function does once at cold start.
//! - `fakes` (feature `fakes`): in-memory ports for handler tests.

pub mod adapters;
pub mod config;
pub mod dedupe;
pub mod domain;
#[cfg(any(test, feature = "fakes"))]
pub mod fakes;
pub mod ports;
pub mod telemetry;
