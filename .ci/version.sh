#!/usr/bin/env bash
# Sets the version of every module of the repository before a release:
# targetdata.Version in doc.go, and the version at which each module
# requires the others (their `replace` directives stay, for working from a
# checkout). CHANGELOG.md must already have the "## [X.Y.Z] - YYYY-MM-DD"
# section; the release tests then check that all of them agree, and the
# script prints the tags to make at the release commit.
#
#   bash .ci/version.sh 0.2.0
set -euo pipefail
cd "$(dirname "$0")/.."
v=${1:?usage: bash .ci/version.sh X.Y.Z}
[[ $v =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "not a version: $v" >&2; exit 2; }
grep -q "^## \[$v\] - " CHANGELOG.md || { echo "CHANGELOG.md has no \"## [$v] - \" section" >&2; exit 1; }
sed -i "s/^const Version = \".*\"$/const Version = \"$v\"/" doc.go
mapfile -t modules < <(go list -m -f '{{.Dir}}')
for m in "${modules[@]}"; do
  # "<tab>github.com/tomgo/targetdata/... vX.Y.Z" in a require block, or
  # "require github.com/tomgo/targetdata/... vX.Y.Z"; replace lines hold "=>".
  sed -i -E "s#^((require)?[[:space:]]*github\.com/tomgo/targetdata[^[:space:]]*) v[0-9]+\.[0-9]+\.[0-9]+( // indirect)?\$#\1 v$v\3#" "$m/go.mod"
done
go test -count=1 -run 'TestVersionMatchesChangelog|TestModulesAreOneRelease' .
echo "Commit, then tag that commit and push the tags:"
for m in "${modules[@]}"; do
  rel=${m#"$PWD"}
  rel=${rel#/}
  case $rel in examples | internal/*) continue ;; esac # not published
  echo "  git tag -a ${rel:+$rel/}v$v -m \"targetdata ${rel:+$rel }v$v\""
done
