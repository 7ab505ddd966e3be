#!/usr/bin/env bash
# The local demo: installs the tools, builds once, then runs the emulator (demo scenario),
# moto and the functions under cargo lambda watch, drives them with Git sync events and
# prints the alerts that reached the SNS topic. Everything it starts stops when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null 2>&1; then
  echo "demo: cargo is not on PATH; install the Rust toolchain (rustup) first" >&2
  exit 1
fi
. scripts/tools.sh run
echo "demo: building (the first build of the AWS SDK crates takes several minutes)" >&2
for package in connections-emulator e2e $(scripts/functions.sh); do
  cargo build --quiet -p "$package" --bins
done
exec "${CARGO_TARGET_DIR:-target}/debug/demo"
