#!/usr/bin/env bash
# Installs the non-Rust tools gitsync-guard's demo and tests use, idempotently, each in a
# Python venv of its own (their pins conflict):
#   venv     moto's server, the AWS CLI, cargo-lambda (which brings zig)
#   sam      the AWS SAM CLI and cfn-lint (a dependency of it)
#   checkov  checkov
# Source it to get them on PATH; it is quick when already done. It installs only what the
# caller needs:
#   . scripts/tools.sh            everything (the tests)
#   . scripts/tools.sh run        the venv only (the demo, the benchmarks)
#
# GITSYNC_GUARD_TOOLS overrides where the tools live (default: ~/.cache/gitsync-guard).
set -euo pipefail

tools_home="${GITSYNC_GUARD_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/gitsync-guard}"
mkdir -p "$tools_home/bin"

# install_venv NAME PIN...: a venv at $tools_home/NAME with exactly these pins; a stamp
# named after the pins makes a changed pin reinstall.
install_venv() {
  local name=$1
  shift
  local venv="$tools_home/$name"
  local stamp
  stamp="$venv/.gitsync-guard-$(printf '%s\n' "$@" | sha256sum | cut -c1-16)"
  [ -f "$stamp" ] && return 0
  echo "tools: installing $* into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
  touch "$stamp"
}

if ! command -v python3 >/dev/null 2>&1; then
  echo "tools: python3 is not on PATH; install Python 3 (with venv) first" >&2
  exit 1
fi

# The installs are independent: run them side by side.
pids=()
install_venv venv "moto[server]==5.2.5" "awscli==1.46.3" "cargo-lambda==1.9.2" &
pids+=($!)
if [ "${1:-all}" != run ]; then
  install_venv sam "aws-sam-cli==1.170.0" &
  pids+=($!)
  install_venv checkov "checkov==3.3.30" &
  pids+=($!)
fi
for pid in "${pids[@]}"; do
  if ! wait "$pid"; then
    echo "tools: an install failed (see above); run again to retry" >&2
    exit 1
  fi
done

if [ "${1:-all}" != run ]; then
  ln -sf "$tools_home/sam/bin/sam" "$tools_home/bin/sam"
  ln -sf "$tools_home/sam/bin/cfn-lint" "$tools_home/bin/cfn-lint"
  ln -sf "$tools_home/checkov/bin/checkov" "$tools_home/bin/checkov"
fi
export PATH="$tools_home/bin:$tools_home/venv/bin:$PATH"
export GITSYNC_GUARD_VENV="$tools_home/venv"
export SAM_CLI_TELEMETRY=0
