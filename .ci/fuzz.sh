#!/usr/bin/env bash
# Runs every fuzz target briefly (about 10 s each on the CI machine). The
# seed corpora also run as plain tests in `go test ./...`; this adds
# generated inputs.
#
# Each target gets a number of executions, not a duration: with a
# duration, Go 1.26's fuzz coordinator can report a spurious "context
# deadline exceeded" when the time runs out (go.dev/issue/75804). For a
# long run, give a duration: FUZZTIME=10m bash .ci/fuzz.sh
# Minimizing a new interesting input is capped at 1 s, so that short runs
# mostly fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."
# name package executions (about 10 s at the rates measured on 2 cores)
targets=(
  "FuzzProcessor ./atlas 15000"
  "FuzzForm ./atlas 60000"
  "FuzzProcessor ./panstarrs 10000"
  "FuzzForm ./panstarrs 50000"
  "FuzzProcessor ./ztf 20000"
  "FuzzForcedPhotometryProcessor ./ztf 10000"
  "FuzzForm ./ztf 50000"
  "FuzzForcedPhotometryForm ./ztf 50000"
  "FuzzProcessor ./alerce 4000"
  "FuzzForm ./alerce 20000"
  "FuzzPhotometryTable ./processor 100000"
  "FuzzSpectroscopy ./processor 50000"
  "FuzzPhotometryUnmarshal ./dataproduct 100000"
  "FuzzParseConfig ./singletarget 60000"
  "FuzzReader ./internal/fits 60000"
  "FuzzHeader ./internal/fits 60000"
  "FuzzParseFloat ./internal/textscan 200000"
  "FuzzParseInt ./internal/textscan 200000"
  "FuzzFields ./internal/textscan 60000"
  "FuzzLineReader ./internal/textscan 60000"
)
for entry in "${targets[@]}"; do
  read -r name pkg count <<<"$entry"
  t=${FUZZTIME:-${count}x}
  echo "== fuzz $name $pkg ($t)"
  go test -run '^$' -fuzz "^${name}\$" -fuzztime "$t" -fuzzminimizetime 1s "$pkg"
done
