#!/usr/bin/env bash
# Runs every check and test of gitsync-guard, as CI does: formatting, lints, the unit and
# handler tests, the emulator's protocol tests, the end-to-end tests.
# Installs what it needs itself (scripts/tools.sh) and builds the workspace once.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "test: cargo is not on PATH; install the Rust toolchain (rustup) first" >&2
  exit 1
fi
. scripts/tools.sh

step() { printf '\n==> %s\n' "$*" >&2; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "build the workspace (tests and binaries)"
cargo build --workspace --all-targets --locked
# What `cargo lambda watch` runs: each function package on its own, with its own features.
for function in $(scripts/functions.sh); do
  cargo build --locked -p "$function" --bins
done

step "cargo test"
cargo test --workspace --locked
