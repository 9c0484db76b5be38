#!/usr/bin/env bash
# Builds throw-away programs outside the repository, each importing one
# package the way a TOM would (GOWORK=off; `replace` directives point the
# repository's modules at this checkout, as the tags will once they exist),
# and counts the modules in their `go list -m all`: what a team gets in its
# go.sum and its dependency audit.
#
# Budgets (the figure reached, not the issue's goal of 20 for atlas; see the
# README's "Modules" section for why each module is there):
#   dataproduct  18: the program, targetdata, and targetdata's go.mod
#                (validator/v10 + locales, universal-translator, go-urn,
#                mimetype, x/crypto, x/sys, x/text; form/v4; yaml v3;
#                go-retryablehttp, go-cleanhttp; x/time; the test-only
#                testify, httpmock, goleak)
#   atlas        31: the 18 above and the go.mod requirements of what atlas
#                compiles: go-playground/assert/v2 (form, validator),
#                go-hclog, fatih/color, go-colorable, go-isatty
#                (go-retryablehttp), go-spew, go-difflib, gopkg.in/yaml.v3
#                (go-urn), x/net, x/term (x/crypto), x/tools, x/mod,
#                x/sync (x/text)
# Neither may bring any module of the heavy parts (the SQL store, River,
# gocloud, plots, the browser driver).
#
# Run from anywhere: bash .ci/consumers.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^const Version = "\(.*\)"$/\1/p' "$root/doc.go")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export GOWORK=off GOFLAGS=-mod=mod

heavy='jackc/pgx|riverqueue|gocloud.dev|modernc.org|gonum.org|chromedp|google.golang.org|opentelemetry|aws-sdk'
failed=0

# consumer PACKAGE BUDGET MODULE...: a program importing PACKAGE, requiring
# the repository's MODULEs (relative directories, "." for the root).
consumer() {
  local pkg=$1 budget=$2
  shift 2
  local dir="$tmp/$(echo "$pkg" | tr / _)"
  mkdir -p "$dir"
  {
    printf 'module example.com/consumer\n\ngo 1.26.8\n\n'
    for m in "$@"; do
      local path=github.com/tomgo/targetdata
      [ "$m" = . ] || path=$path/$m
      printf 'require %s v%s\n' "$path" "$version"
      printf 'replace %s => %s\n' "$path" "$root/$m"
    done
  } >"$dir/go.mod"
  printf 'package main\n\nimport _ "github.com/tomgo/targetdata/%s"\n\nfunc main() {}\n' "$pkg" >"$dir/main.go"
  (cd "$dir" && go mod tidy && go build -o /dev/null .)
  local mods n
  mods=$(cd "$dir" && go list -m all)
  n=$(echo "$mods" | wc -l)
  echo "== a program importing only $pkg: $n modules (budget: ${budget:-none})"
  echo "$mods" | sed 's/^/   /'
  if [ -n "$budget" ]; then
    if [ "$n" -gt "$budget" ]; then
      echo "FAIL: $pkg brings $n modules, more than its budget of $budget" >&2
      failed=1
    fi
    if echo "$mods" | grep -E "$heavy" >/dev/null; then
      echo "FAIL: $pkg brings a heavy module: $(echo "$mods" | grep -E "$heavy" | tr '\n' ' ')" >&2
      failed=1
    fi
  fi
}

consumer dataproduct 18 .
consumer atlas 31 .
# For the record (no budget): the heavy modules a program asks for.
consumer dataproduct/sqlstore "" . dataproduct/sqlstore
consumer singletarget/riverexec "" . singletarget/riverexec
consumer builtin "" . dataproduct/sqlstore singletarget/riverexec builtin
exit $failed
