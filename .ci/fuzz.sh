#!/usr/bin/env bash
# Runs every fuzz target for a short time each (FUZZTIME, default 10s).
# The seed corpora also run as plain tests in `go test ./...`; this adds
# generated inputs. A long run: FUZZTIME=10m bash .ci/fuzz.sh. Minimizing a
# new interesting input is capped at 1 s, so that short runs mostly fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."
t=${FUZZTIME:-10s}
targets=(
  "FuzzProcessor ./atlas"
  "FuzzForm ./atlas"
  "FuzzProcessor ./panstarrs"
  "FuzzForm ./panstarrs"
  "FuzzProcessor ./ztf"
  "FuzzForcedPhotometryProcessor ./ztf"
  "FuzzForm ./ztf"
  "FuzzForcedPhotometryForm ./ztf"
  "FuzzPhotometryTable ./processor"
  "FuzzParseConfig ./singletarget"
  "FuzzReader ./internal/fits"
  "FuzzHeader ./internal/fits"
)
for entry in "${targets[@]}"; do
  read -r name pkg <<<"$entry"
  echo "== fuzz $name $pkg ($t)"
  go test -run '^$' -fuzz "^${name}\$" -fuzztime "$t" -fuzzminimizetime 1s "$pkg"
done
