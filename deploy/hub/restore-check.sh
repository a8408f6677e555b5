#!/usr/bin/env bash
# Restore drill: the newest dump (or the one named) goes into a scratch database; the rows of each
# table are printed beside the live database's, `kiosk hub stats` reads the copy, and the scratch
# database is dropped again. Exit 0 only when all of that worked.
#
# Usage, as root (or postgres):  restore-check.sh [DUMP]
# Settings (environment): DB_NAME (kiosk_hub), BACKUP_DIR (/var/backups/kiosk-hub),
#   SCRATCH_DB (kiosk_hub_restore_check), KIOSK (/opt/kiosk-hub/venv/bin/kiosk),
#   MAX_AGE_HOURS (36: the newest dump must be younger); PGHOST/PGPORT as for any libpq tool.
# It needs no key: `kiosk hub stats` reads only what is stored in clear.
set -euo pipefail

DB_NAME=${DB_NAME:-kiosk_hub}
BACKUP_DIR=${BACKUP_DIR:-/var/backups/kiosk-hub}
SCRATCH_DB=${SCRATCH_DB:-kiosk_hub_restore_check}
KIOSK=${KIOSK:-/opt/kiosk-hub/venv/bin/kiosk}
MAX_AGE_HOURS=${MAX_AGE_HOURS:-36}

fail() { echo "restore-check: $*" >&2; exit 1; }

[[ $SCRATCH_DB != "$DB_NAME" ]] || fail "SCRATCH_DB must not be the live database ($DB_NAME)"
if [[ $(id -un) == postgres ]]; then
    as_postgres() { "$@"; }
elif [[ $(id -u) -eq 0 ]]; then
    as_postgres() { runuser -u postgres -- "$@"; }
else
    fail "run as root or as postgres"
fi
cd /   # postgres may not read the caller's working folder

if [[ $# -ge 1 ]]; then
    dump=$1
    [[ -f $dump && -r $dump ]] || fail "cannot read $dump"
else
    dump=$(find "$BACKUP_DIR" -maxdepth 1 -type f -name "$DB_NAME-*.dump" -printf '%T@ %p\n' \
           | sort -n | tail -n 1 | cut -d' ' -f2-)
    [[ -n $dump ]] || fail "no $DB_NAME-*.dump in $BACKUP_DIR"
    age_hours=$(( ($(date +%s) - $(stat -c %Y "$dump")) / 3600 ))
    (( age_hours <= MAX_AGE_HOURS )) \
        || fail "the newest dump, $dump, is $age_hours hours old: is kiosk-hub-backup.timer running?"
fi
echo "dump: $dump ($(stat -c %s "$dump") bytes, $(date -r "$dump" '+%F %T %Z'))"

# The kiosk command's cache goes here, not into postgres's home (root's folder: postgres cannot
# write it, and the command goes without).
scratch_cache=$(mktemp -d)
drop_scratch() { as_postgres env PGOPTIONS='-c client_min_messages=warning' dropdb --if-exists "$SCRATCH_DB"; }
cleanup() {
    drop_scratch || echo "restore-check: could not drop $SCRATCH_DB: drop it by hand" >&2
    rm -rf -- "$scratch_cache"
}
drop_scratch   # left by a drill that was killed
as_postgres createdb "$SCRATCH_DB"
trap cleanup EXIT

# Read from our own descriptor (the dump is postgres's 0600 file, or one copied back by root).
# --no-owner/--no-privileges: the drill also works on a machine without the kiosk_hub role.
as_postgres pg_restore --exit-on-error --single-transaction --no-owner --no-privileges \
    --dbname="$SCRATCH_DB" <"$dump" || fail "pg_restore of $dump failed"

# Rows per table, for any schema version: count(*) of each table through query_to_xml.
count_sql="SELECT table_name, (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I',
  table_schema, table_name), false, true, '')))[1]::text FROM information_schema.tables
  WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
counts() { as_postgres psql -X -q -At -F ' ' -v ON_ERROR_STOP=1 -d "$1" -c "$count_sql" | LC_ALL=C sort; }

restored=$(counts "$SCRATCH_DB")
[[ -n $restored ]] || fail "the restored database has no tables"
live=""
if as_postgres psql -X -q -At -d "$DB_NAME" -c 'SELECT 1' >/dev/null 2>&1; then
    live=$(counts "$DB_NAME")
fi
revision=$(as_postgres psql -X -q -At -v ON_ERROR_STOP=1 -d "$SCRATCH_DB" -c 'SELECT version_num FROM alembic_version') \
    || fail "the restored database has no alembic_version: not a hub database?"
echo "schema revision in the dump: $revision"
echo
LC_ALL=C join -a 1 -e - -o 0,1.2,2.2 <(echo "$restored") <(echo "${live:-}") \
    | awk 'BEGIN { printf "%-20s %12s %12s\n", "table", "in the dump", "live now" }
           { printf "%-20s %12s %12s\n", $1, $2, $3 }'
echo

if [[ -x $KIOSK ]]; then
    # As postgres over the local socket (peer authentication); the copy is a throwaway, so this
    # user may also bring its schema up to date if the dump is older than the installed hub.
    socket=${PGHOST:-/var/run/postgresql}
    url="postgresql://postgres@/$SCRATCH_DB?host=$socket&port=${PGPORT:-5432}"
    echo "kiosk hub stats on the restored copy:"
    as_postgres env XDG_CACHE_HOME="$scratch_cache" "$KIOSK" hub stats --db "$url" \
        || fail "kiosk hub stats could not read the restored copy"
else
    echo "($KIOSK is not here: kiosk hub stats skipped)"
fi
echo
echo "restore check passed: $dump restores; $SCRATCH_DB is dropped again"
