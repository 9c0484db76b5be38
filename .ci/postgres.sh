# shellcheck shell=bash
# .ci/postgres.sh: make a local PostgreSQL server available to the tests.
#
# Source it (". .ci/postgres.sh" or "source .ci/postgres.sh") before
# "go test work"; it exports TARGETDATA_POSTGRES_URL. Running it as a
# script ("bash .ci/postgres.sh") does the same work and prints the URL.
#
# On a fresh Debian machine, as root, it:
#   1. installs Debian's postgresql package if no server is installed;
#   2. creates the cluster "<version> main" if there is none, and starts it
#      (it listens on localhost only, as Debian's default configuration has it);
#   3. waits until the server accepts connections on 127.0.0.1;
#   4. creates the role "targetdata" (password "targetdata") and the database
#      "targetdata_test" it owns, if they do not exist yet;
#   5. exports TARGETDATA_POSTGRES_URL=postgres://targetdata:...@127.0.0.1:PORT/targetdata_test.
#
# Every step is idempotent: sourcing it again finds everything in place. If
# TARGETDATA_POSTGRES_URL is already set, the script leaves it (and the
# machine) alone. The tests create and drop their own schemas inside that
# database, so one database serves parallel and repeated test runs.

_targetdata_pg_setup() (
	set -euo pipefail
	log() { echo "postgres.sh: $*" >&2; }

	if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
		log "installing Debian's postgresql package"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >&2
		apt-get install -y -qq postgresql >&2
	fi
	version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)

	if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" { found = 1 } END { exit !found }'; then
		log "creating cluster $version main"
		pg_createcluster "$version" main >&2
	fi
	port=$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" { print $3 }')
	status=$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" { print $4 }')
	if [ "$status" != "online" ]; then
		log "starting cluster $version main on port $port"
		pg_ctlcluster "$version" main start >&2
	fi

	for _ in $(seq 1 60); do
		if pg_isready -q -h 127.0.0.1 -p "$port"; then
			break
		fi
		sleep 0.5
	done
	pg_isready -h 127.0.0.1 -p "$port" >&2

	psql_admin() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$port" "$@"; }
	psql_admin -d postgres >&2 <<-'SQL'
		DO $$
		BEGIN
			IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'targetdata') THEN
				CREATE ROLE targetdata LOGIN PASSWORD 'targetdata';
			END IF;
		END
		$$;
	SQL
	if [ "$(psql_admin -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'targetdata_test'")" != "1" ]; then
		log "creating database targetdata_test"
		psql_admin -d postgres -c "CREATE DATABASE targetdata_test OWNER targetdata" >&2
	fi
	echo "postgres://targetdata:targetdata@127.0.0.1:${port}/targetdata_test?sslmode=disable"
)

if [ -n "${TARGETDATA_POSTGRES_URL:-}" ]; then
	echo "postgres.sh: TARGETDATA_POSTGRES_URL is already set; leaving it alone" >&2
elif _targetdata_pg_url=$(_targetdata_pg_setup); then
	export TARGETDATA_POSTGRES_URL="$_targetdata_pg_url"
	echo "postgres.sh: TARGETDATA_POSTGRES_URL exported (database targetdata_test on 127.0.0.1)" >&2
	unset _targetdata_pg_url
else
	echo "postgres.sh: could not set up PostgreSQL" >&2
	unset _targetdata_pg_url
	# "return" when sourced, "exit" when run as a script.
	return 1 2>/dev/null || exit 1
fi
unset -f _targetdata_pg_setup
# When run as a script rather than sourced, show the URL.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	echo "$TARGETDATA_POSTGRES_URL"
fi
