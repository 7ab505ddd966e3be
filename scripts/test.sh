#!/usr/bin/env bash
# Runs every check and test of gitsync-guard, as CI does: formatting, lints, the unit,
# handler and property tests, the emulator's protocol tests, the end-to-end tests, the
# template checks and a quick benchmark run. Installs what it needs itself
# (scripts/tools.sh) and builds the workspace once.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "test: cargo is not on PATH; install the Rust toolchain (rustup) first" >&2
  exit 1
fi
started=$SECONDS
step() { printf '\n==> %s (%ds)\n' "$*" $((SECONDS - started)) >&2; }

step "tools"
. scripts/tools.sh all

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

step "template: cfn-lint, sam validate --lint, checkov"
cfn-lint template.yaml
sam validate --lint --template template.yaml
checkov -f template.yaml --framework cloudformation --skip-download --compact --quiet
cfn-lint org/hub.yaml
sam validate --lint --template org/hub.yaml
checkov -f org/hub.yaml --framework cloudformation --skip-download --compact --quiet
cfn-lint examples/*.yaml

step "templates: sam build (release, arm64, with cargo-lambda)"
sam build --template template.yaml
hub_build=$(mktemp -d)
sam build --template org/hub.yaml --build-dir "$hub_build"
rm -rf "$hub_build"

step "benchmarks, quick run (debug binaries, small sizes): they must complete and write their files"
bench_out=$(mktemp -d)
# The runner the workspace build made (cargo run -p bench would rebuild with bench's own features).
"${CARGO_TARGET_DIR:-target}/debug/gitsync-bench" --quick --profile debug --out "$bench_out"
test -s "$bench_out/BENCH.md" && test -s "$bench_out/results.json"
rm -rf "$bench_out"

step "all checks passed"
