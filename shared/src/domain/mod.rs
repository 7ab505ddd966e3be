//! The domain: pure values and decisions. Nothing here performs I/O or knows AWS SDK types.

pub mod alert;
pub mod blocker_alert;
pub mod bus;
pub mod connections;
pub mod event;
pub mod org;
pub mod resolution;
pub mod selfwatch;
pub mod sync;
pub mod text;
pub mod topology;
