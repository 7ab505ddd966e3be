//! gitsync-guard's shared crate.
//!
//! - [`domain`]: pure logic and values (event parsing, blockers, alerts), no AWS types, no I/O.
//! - [`ports`]: the traits the domain needs from the outside world.
//! - [`adapters`]: the AWS SDK implementations of the ports, and client construction.
//! - [`outbox`]: render and publish every message, exactly once, through the ledger.
//! - [`ledger`]: the ledger table's schema and its typed keys.
//! - [`inventory`]: what Git sync deploys here, the sweeps' starting point.
//! - [`config`] and [`telemetry`]: what every function does once at cold start.
//! - [`metrics`]: every metric of the project, written as CloudWatch embedded metric format.
//! - `fakes` (feature `fakes`): in-memory ports for handler tests.

pub mod adapters;
pub mod config;
pub mod domain;
#[cfg(any(test, feature = "fakes"))]
pub mod fakes;
pub mod inventory;
pub mod ledger;
pub mod metrics;
pub mod outbox;
pub mod ports;
pub mod telemetry;
