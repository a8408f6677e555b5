#!/usr/bin/env bash
# Nightly dump of the kiosk hub's PostgreSQL database (run by kiosk-hub-backup.service as postgres).
#
# Writes BACKUP_DIR/<db>-<UTC time>.dump (pg_dump custom format) under a temporary name, checks
# that pg_restore can read it, fsyncs it, renames it into place and fsyncs the folder; then
# deletes dumps older than KEEP_DAYS and, when COPY_TO is set, copies the dumps the other side
# lacks with rsync over ssh. Any failure exits non-zero, so systemd marks the run failed.
#
# Settings (environment, or /etc/kiosk-hub/backup.env through the unit):
#   DB_NAME     database to dump (default kiosk_hub)
#   BACKUP_DIR  where dumps go (default /var/backups/kiosk-hub)
#   KEEP_DAYS   days to keep dumps here (default 14)
#   COPY_TO     rsync destination off this machine, e.g. hubbackup@backup.example.ge: (default none)
# PGHOST, PGPORT and the other libpq variables apply as usual (default: the local socket, peer auth).
# The hub's keys are NOT in the dump, and must never be copied next to it (see README.md).
set -euo pipefail

DB_NAME=${DB_NAME:-kiosk_hub}
BACKUP_DIR=${BACKUP_DIR:-/var/backups/kiosk-hub}
KEEP_DAYS=${KEEP_DAYS:-14}
COPY_TO=${COPY_TO:-}

fail() { echo "kiosk-hub-backup: $*" >&2; exit 1; }

[[ $KEEP_DAYS =~ ^[1-9][0-9]*$ ]] || fail "KEEP_DAYS must be a whole number of days, not '$KEEP_DAYS'"
[[ -d $BACKUP_DIR && -w $BACKUP_DIR ]] || fail "$BACKUP_DIR is not a folder this user ($(id -un)) can write"
umask 077   # the dump holds staff names and personal numbers: owner only

stamp=$(date -u +%Y%m%dT%H%M%SZ)
final="$BACKUP_DIR/$DB_NAME-$stamp.dump"
partial="$BACKUP_DIR/.$DB_NAME-$stamp.dump.partial"
trap 'rm -f -- "$partial"' EXIT

# -w: never wait for a password prompt; fail instead.
pg_dump -w --format=custom --file="$partial" --dbname="$DB_NAME" || fail "pg_dump of $DB_NAME failed"
# The archive's table of contents reads back, and holds the tables' rows.
contents=$(pg_restore --list "$partial") || fail "pg_restore cannot read the new dump $partial"
grep -q ' TABLE DATA ' <<<"$contents" || fail "the dump of $DB_NAME holds no table data"
sync -- "$partial"   # the bytes are on disk before the name says the dump is complete
mv -- "$partial" "$final"
trap - EXIT
sync -- "$BACKUP_DIR"   # and so is the rename
echo "kiosk-hub-backup: wrote $final ($(stat -c %s "$final") bytes)"

# Prune only after a good dump, so the newest dumps always survive. Leftovers of killed runs go too.
find "$BACKUP_DIR" -maxdepth 1 -type f -name "$DB_NAME-*.dump" -mmin +$((KEEP_DAYS * 24 * 60)) \
    -print -delete | sed 's/^/kiosk-hub-backup: deleted old /'
find "$BACKUP_DIR" -maxdepth 1 -type f -name ".$DB_NAME-*.dump.partial" -mmin +1440 -delete

if [[ -n $COPY_TO ]]; then
    # Every dump the other side lacks (so a missed night catches up), never partial ones; the
    # other side keeps its own history (rrsync -wo -no-del -no-overwrite: see README.md).
    rsync --recursive --times --ignore-existing --include="$DB_NAME-*.dump" --exclude='*' \
        -e 'ssh -o BatchMode=yes' -- "$BACKUP_DIR/" "$COPY_TO" \
        || fail "copying the dumps to $COPY_TO failed (they are kept in $BACKUP_DIR)"
    echo "kiosk-hub-backup: copied to $COPY_TO"
fi
