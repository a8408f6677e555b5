"""The outbox's schema, one ``Migrations`` step at a time (never edit a step that has shipped)."""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("kiosk-outbox")


@MIGRATIONS()
def m001_submissions(db: sqlite_utils.Database) -> None:
    """Submissions and the per-day receipt counter."""
    db.table("submissions").create(
        {
            "id": str,
            "receipt_no": str,
            "service": str,
            "state": str,
            "created_at": str,
            "state_changed_at": str,
            "sealed": bytes,
            "citizen_key": str,
            "reason": str,
            "synthetic": int,
        },
        pk="id",
        not_null={"receipt_no", "service", "state", "created_at", "state_changed_at", "sealed"},
        defaults={"synthetic": 0},
    )
    db.table("submissions").create_index(["receipt_no"], unique=True)
    db.table("submissions").create_index(["state", "created_at"])
    db.table("submissions").create_index(["citizen_key"])
    db.table("receipt_counter").create({"day": str, "seq": int}, pk="day")
    # Queued payloads are immutable: the database itself refuses a change.
    db.execute(
        """CREATE TRIGGER submissions_payload_immutable BEFORE UPDATE OF sealed, id, service,
           created_at ON submissions BEGIN SELECT RAISE(ABORT, 'submission payload is immutable'); END"""
    )


@MIGRATIONS()
def m002_reprints(db: sqlite_utils.Database) -> None:
    """Receipts that did not print, waiting for staff to reprint them."""
    db.table("reprints").create(
        {"request_id": str, "reason": str, "queued_at": str, "printed_at": str},
        pk="request_id",
        foreign_keys=[("request_id", "submissions", "id")],
        not_null={"reason", "queued_at"},
    )


@MIGRATIONS()
def m003_sync(db: sqlite_utils.Database) -> None:
    """What the hub says about each request ("my requests"), and the sync engine's cursors and ETags."""
    db.table("submissions").add_column("hub_state", str)
    db.table("submissions").add_column("hub_reason", str)
    db.table("submissions").add_column("hub_changed_at", str)
    db.table("sync_meta").create({"key": str, "value": str}, pk="key", not_null={"value"})


@MIGRATIONS()
def m004_tracking(db: sqlite_utils.Database) -> None:
    """Each request's public tracking token (its QR page), and its language and centre for that page."""
    db.table("submissions").add_column("tracking_token", str)
    db.table("submissions").add_column("language", str)
    db.table("submissions").add_column("centre", str)
    db.table("submissions").create_index(["tracking_token"], unique=True)


@MIGRATIONS()
def m005_holder(db: sqlite_utils.Database) -> None:
    """"My requests" offline finds a card holder's requests by a hash of the card's certificate
    (``protocol.presence.holder_key``): the old keyed hashes of personal numbers are cleared, their key
    file deleted at start (``kiosk.my_requests.retire_citizen_secret``)."""
    db.execute("DROP INDEX IF EXISTS idx_submissions_citizen_key")
    db.execute("ALTER TABLE submissions RENAME COLUMN citizen_key TO holder")
    db.execute("UPDATE submissions SET holder = NULL")
    db.table("submissions").create_index(["holder"])
