#!/usr/bin/env bash
# The benchmarks, in full: release binaries, 20 cold starts each, sweeps over 100 to 10,000
# stacks with 25 ms per call, arm64 package sizes, emulator throughput. Writes BENCH.md at the
# top of the repository and bench-results/results.json. Takes about ten minutes after the
# release build. Arguments go to the runner (e.g. --quick, --skip-package).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/tools.sh run
target="${CARGO_TARGET_DIR:-target}"
for package in connections-emulator bench $(scripts/functions.sh); do
  cargo build --release --quiet -p "$package" --bins
done
"$target/release/gitsync-bench" --profile release --out bench-results "$@"
cp bench-results/BENCH.md BENCH.md
