#!/usr/bin/env bash
# Lists the Lambda function packages, one per line: the folders under functions/.
cd "$(dirname "$0")/../functions" && for dir in */; do printf '%s\n' "${dir%/}"; done
