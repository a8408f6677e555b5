"""A hub database as hubs made it before Alembic: sqlite-utils migrations m001 and m002, verbatim.

Pilot centres run hubs made this way; ``hub.store.migrate`` must adopt them without losing a row.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

LEGACY = Migrations("reference-hub")


@LEGACY()
def m001_hub(db: sqlite_utils.Database) -> None:
    """Kiosks, enrolment codes, submissions, duplicates, nonces, heartbeats, documents, roles."""
    db.table("kiosks").create(
        {"id": str, "verify_key": bytes, "name": str, "enrolled_at": str, "revoked": int, "revoked_at": str},
        pk="id", not_null={"verify_key", "enrolled_at"}, defaults={"revoked": 0},
    )
    db.table("kiosks").create_index(["verify_key"], unique=True)
    # Codes are stored as a hash: a copy of the database does not hand out enrolments.
    db.table("enrol_codes").create(
        {"code_hash": str, "created_at": str, "expires_at": str, "spent_at": str, "kiosk_id": str},
        pk="code_hash", not_null={"created_at", "expires_at"},
    )
    db.table("submissions").create(
        {
            "id": str, "kiosk_id": str, "receipt_no": str, "service": str, "created_at": str,
            "citizen_key": str, "synthetic": int, "sealed": bytes, "received_at": str,
            "state": str, "reason": str, "changed_at": str, "status_seq": int,
        },
        pk="id",  # the idempotency key, unique for ever
        not_null={"kiosk_id", "receipt_no", "service", "created_at", "sealed", "received_at", "state", "changed_at"},
        defaults={"synthetic": 0},
    )
    db.table("submissions").create_index(["kiosk_id", "status_seq"])
    db.table("submissions").create_index(["status_seq"], unique=True)  # NULLs allowed: never changed yet
    db.table("submissions").create_index(["kiosk_id", "citizen_key"])
    db.table("submissions").create_index(["state"])
    db.table("duplicates").create(
        {"submission_id": str, "kiosk_id": str, "count": int, "last_at": str}, pk="submission_id",
    )
    db.table("nonces").create({"kiosk_id": str, "nonce": str, "signed_at": str}, pk=("kiosk_id", "nonce"))
    db.table("nonces").create_index(["signed_at"])
    db.table("heartbeat_latest").create(
        {"kiosk_id": str, "received_at": str, "version": str, "queue_depth": int,
         "oldest_queued_age_s": float, "printer": str, "reader": str, "body": str},
        pk="kiosk_id",
    )
    db.table("heartbeats").create({"id": int, "kiosk_id": str, "received_at": str, "body": str}, pk="id")
    db.table("heartbeats").create_index(["kiosk_id", "received_at"])
    db.table("documents").create(
        {"name": str, "body": bytes, "etag": str, "signature": str, "published_at": str}, pk="name",
    )
    db.table("roles").create(
        {"personal_number": str, "role": str, "name": str, "added_at": str}, pk=("personal_number", "role"),
    )


@LEGACY()
def m002_audit_heads(db: sqlite_utils.Database) -> None:
    """Each kiosk's audit-chain head as last reported, and what went wrong with it (sticky)."""
    db.table("audit_heads").create(
        {"kiosk_id": str, "seq": int, "hash": str, "reported_at": str, "problem": str, "problem_at": str},
        pk="kiosk_id", not_null={"seq", "hash", "reported_at"},
    )


def make_legacy_hub(path: Path) -> sqlite_utils.Database:
    """An empty hub database of the first kind at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite_utils.Database(sqlite3.connect(str(path)))
    LEGACY.apply(db)
    return db
