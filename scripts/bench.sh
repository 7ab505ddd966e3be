#!/usr/bin/env bash
# The benchmarks, in full: release binaries; the cold path of each function, hello-lambda and a
# boto3 handler, 20 runs per case, at Lambda's CPU share for 128 MB and 1,769 MB (CPU cgroups:
# run as root where cgroup v1's cpu hierarchy or cgroup v2's cpu.max is writable), over TLS and
# plain HTTP; sweeps over 100 to 10,000 stacks with 25 ms per call, arm64 package sizes,
# emulator throughput. Writes BENCH.md at the top of the repository and
# bench-results/results.json. Takes about fifteen minutes after the release build. Arguments go
# to the runner (e.g. --quick, --skip-package, --only cold-path, --arm LABEL=DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/tools.sh run
target="${CARGO_TARGET_DIR:-target}"
for package in connections-emulator bench $(scripts/functions.sh); do
  cargo build --release --quiet -p "$package" --bins
done
"$target/release/gitsync-bench" --profile release --out bench-results "$@"
cp bench-results/BENCH.md BENCH.md
