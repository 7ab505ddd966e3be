#!/usr/bin/env bash
# The benchmarks, in full: release binaries; the cold path of each function, hello-lambda and a
# boto3 handler, 20 runs per case, at Lambda's CPU share for 128 MB and 1,769 MB (CPU cgroups:
# run as root where cgroup v1's cpu hierarchy or cgroup v2's cpu.max is writable), over TLS and
# plain HTTP; sweeps over 100 to 10,000 stacks with 25 ms per call, arm64 package sizes,
# emulator throughput. Writes BENCH.md at the top of the repository and
# bench-results/results.json. Besides the current build, the cold path measures the cuts that
# made it (scripts/bench-arms.sh builds each as it shipped; --no-arms or --quick skips them).
# Takes about 12 minutes after the release builds. Other arguments go to the runner (e.g.
# --quick, --skip-package, --only cold-path, --arm LABEL=DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/tools.sh run
target="${CARGO_TARGET_DIR:-target}"
for package in connections-emulator bench $(scripts/functions.sh); do
  cargo build --release --quiet -p "$package" --bins
done
args=()
arms=yes
for arg in "$@"; do
  case "$arg" in
    --no-arms) arms=no ;;
    --quick) arms=no; args+=("$arg") ;;
    *) args+=("$arg") ;;
  esac
done
if [ "$arms" = yes ]; then
  arm_args=$(scripts/bench-arms.sh)
  mapfile -t arm_lines <<<"$arm_args"
  args+=("${arm_lines[@]}")
fi
"$target/release/gitsync-bench" --profile release --out bench-results ${args[@]+"${args[@]}"}
cp bench-results/BENCH.md BENCH.md
# What the runner cannot measure itself: where init goes, measured with callgrind (dated).
cat bench/obstacles.md >> BENCH.md
