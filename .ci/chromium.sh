# shellcheck shell=bash
# .ci/chromium.sh: make a headless browser available to the browser tests
# (examples/webtom's TestBrowser drives Chromium through chromedp).
#
# Source it (". .ci/chromium.sh" or "source .ci/chromium.sh") before
# "go test work"; it exports TARGETDATA_CHROMIUM. Running it as a script
# ("bash .ci/chromium.sh") does the same work and prints the path.
#
# On a fresh Debian machine, as root, it installs Debian's chromium package
# when /usr/bin/chromium is missing, checks that the browser starts
# ("chromium --version"), and exports TARGETDATA_CHROMIUM=/usr/bin/chromium.
# Every step is idempotent: sourcing it again finds the browser in place. If
# TARGETDATA_CHROMIUM is already set, the script leaves it (and the machine)
# alone. With CI set, a test that finds no browser fails instead of skipping.

_targetdata_chromium_setup() (
	set -euo pipefail
	log() { echo "chromium.sh: $*" >&2; }

	if [ ! -x /usr/bin/chromium ]; then
		log "installing Debian's chromium package"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >&2
		apt-get install -y -qq chromium >&2
	fi
	# The sandbox-free headless start the tests use; a broken install fails here.
	/usr/bin/chromium --headless --no-sandbox --disable-gpu --version >&2 2>/dev/null
	echo /usr/bin/chromium
)

if [ -n "${TARGETDATA_CHROMIUM:-}" ]; then
	echo "chromium.sh: TARGETDATA_CHROMIUM is already set; leaving it alone" >&2
elif _targetdata_chromium_path=$(_targetdata_chromium_setup); then
	export TARGETDATA_CHROMIUM="$_targetdata_chromium_path"
	echo "chromium.sh: TARGETDATA_CHROMIUM=$TARGETDATA_CHROMIUM exported" >&2
	unset _targetdata_chromium_path
else
	echo "chromium.sh: could not set up Chromium" >&2
	unset _targetdata_chromium_path
	# "return" when sourced, "exit" when run as a script.
	return 1 2>/dev/null || exit 1
fi
unset -f _targetdata_chromium_setup
# When run as a script rather than sourced, show the path.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	echo "$TARGETDATA_CHROMIUM"
fi
