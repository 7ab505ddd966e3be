#!/usr/bin/env bash
# The cuts of BENCH.md's cold path, each built as it shipped, so that one benchmark run measures
# them side by side: sync-watcher's release binary at the revision before and after each cut,
# or with the one build setting a cut changes. Prints the runner's --arm arguments, one per
# line, for scripts/bench.sh. Each arm's binary lands in $CARGO_TARGET_DIR/arms/LABEL/;
# builds are incremental, so a second run costs only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-$PWD/target}"
root="$target/arms"
mkdir -p "$root/src"

# Before the cuts: every SDK client with its own default HTTPS client (rustls on aws-lc).
BEFORE=43111a6
# One HTTPS client shared by every SDK client, still on aws-lc.
SHARED_CLIENT=07db0e7
# That client on ring; SSL_CERT_FILE in the template.
RING=a4b85e2
# Credentials and region straight from Lambda's environment variables.
ENV_CREDENTIALS=4ca9be9

# arm LABEL REVISION TARGET_SUBDIR [ENV=VALUE ...] [-- CARGO_ARGS...]: builds sync-watcher at
# REVISION (a clean export of it; HEAD means the working tree) into a target directory shared
# by the arms with the same dependency build, and keeps the binary under the arm's label.
arm() {
  local label=$1 revision=$2 subdir=$3
  shift 3
  local -a build_env=() cargo_args=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do build_env+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  cargo_args=("$@")
  local src=$PWD
  if [ "$revision" != HEAD ]; then
    src="$root/src/$revision"
    if [ ! -f "$src/Cargo.toml" ]; then
      mkdir -p "$src"
      git archive "$revision" | tar -x -C "$src"
    fi
  fi
  echo "arms: $label (sync-watcher at $revision${build_env[*]:+, ${build_env[*]}}${cargo_args[*]:+, ${cargo_args[*]}})" >&2
  (cd "$src" && env ${build_env[@]+"${build_env[@]}"} CARGO_TARGET_DIR="$root/$subdir" \
    cargo build --release --quiet -p sync-watcher ${cargo_args[@]+"${cargo_args[@]}"})
  mkdir -p "$root/$label"
  cp "$root/$subdir/release/sync-watcher" "$root/$label/sync-watcher"
  echo "--arm"
  echo "$label=$root/$label"
}

# note LABEL TEXT: what the arm changes, for BENCH.md.
note() {
  echo "--arm-note"
  echo "$1:$2"
}

# default_trust_store LABEL: the arm reads its CA certificates as provided.al2023 does when the
# template sets no SSL_CERT_FILE: the bundle file and then every file of the cert directories.
default_trust_store() {
  echo "--arm-env"
  echo "$1:SSL_CERT_DIR={al2023_certs}"
}

arm sdk-default-clients "$BEFORE" aws-lc
default_trust_store sdk-default-clients
note sdk-default-clients "Before the cuts: each SDK client builds the SDK's default HTTPS client (rustls on aws-lc), so four TLS configurations and pools; the default trust store."
arm one-shared-client "$SHARED_CLIENT" aws-lc
default_trust_store one-shared-client
note one-shared-client "Cut 1: one HTTPS client for every SDK client, still on aws-lc."
arm shared-client-no-jitter "$SHARED_CLIENT" aws-lc-no-jitter AWS_LC_SYS_NO_JITTER_ENTROPY=1
default_trust_store shared-client-no-jitter
note shared-client-no-jitter "Cut 1 built with AWS_LC_SYS_NO_JITTER_ENTROPY=1: aws-lc seeds from the OS alone, without CPU jitter entropy (what the jitter costs)."
arm ring-provider "$RING" ring
default_trust_store ring-provider
note ring-provider "Cut 2: rustls on ring instead of aws-lc (so no jitter entropy), still the default trust store."
arm ring-cert-file "$RING" ring
note ring-cert-file "Cut 3: the same binary with SSL_CERT_FILE alone, as the template sets it: the bundle read once."
arm env-credentials "$ENV_CREDENTIALS" ring
note env-credentials "Cut 4: credentials and region read from Lambda's environment variables, without building the rest of the SDK's default chains (opt-level 3, as until then)."
arm regex-lite HEAD ring -- --config 'profile.release.opt-level=3'
note regex-lite "Cut 5: the configuration's patterns on regex-lite; the base build at opt-level 3."
arm opt-level-z HEAD opt-z -- --config 'profile.release.opt-level="z"'
note opt-level-z "The base build at opt-level z. The base itself is cut 6: opt-level s."
