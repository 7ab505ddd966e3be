//! connections-emulator: a local AWS CodeStar Connections and AWS CodeConnections emulator
//! speaking both APIs' real wire protocols over one in-memory state, per account.
//!
//! Layers, each using only those below it: the APIs, the models, validation, the wire
//! encodings, ARNs, errors and the state at the bottom; the service (state and rules); the wire protocol (`protocol`,
//! `ops`), the admin API and scenarios on top of it; the server; the binary. `launcher`
//! starts the built binary for other crates' tests and benchmarks.

mod admin;
mod api;
mod api_error;
mod arn;
mod faults;
pub mod launcher;
mod model;
mod operation;
mod ops;
mod pagination;
mod protocol;
mod scenario;
mod server;
mod service;
mod state;
mod validate;
mod wire;

pub use server::{Options, StartError, run};
