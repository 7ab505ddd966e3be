#!/usr/bin/env bash
# Installs the non-Rust tools gitsync-guard's demo and tests use, idempotently:
# a Python venv with moto's server, the AWS CLI and cargo-lambda (which brings zig).
# Source it (`. scripts/tools.sh`) to get the venv's bin on PATH; quick when already done.
#
# GITSYNC_GUARD_TOOLS overrides where the tools live (default: ~/.cache/gitsync-guard).
set -euo pipefail

tools_home="${GITSYNC_GUARD_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/gitsync-guard}"
venv="$tools_home/venv"
# Bump the stamp whenever a pin changes so that existing venvs are upgraded.
pins=(
  "moto[server]==5.2.5"
  "awscli==1.46.3"
  "cargo-lambda==1.9.2"
)
stamp="$venv/.gitsync-guard-$(printf '%s\n' "${pins[@]}" | sha256sum | cut -c1-16)"

if [ ! -f "$stamp" ]; then
  echo "tools: installing ${pins[*]} into $venv" >&2
  mkdir -p "$tools_home"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${pins[@]}"
  rm -f "$venv"/.gitsync-guard-*
  touch "$stamp"
fi

export PATH="$venv/bin:$PATH"
export GITSYNC_GUARD_VENV="$venv"
