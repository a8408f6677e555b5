"""The outbox: every request a villager submits, durably, until the hub has it.

One SQLite file in WAL mode with ``synchronous=FULL``: when ``enqueue`` returns, the request
survives a power cut, so the receipt may print. Payloads are sealed before they arrive here and
are never changed afterwards. States are an enum stored as text, each change timed.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import sqlite_utils
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("kiosk-outbox")


@MIGRATIONS()
def m001_submissions(db: sqlite_utils.Database) -> None:
    """Submissions and the per-day receipt counter."""
    db["submissions"].create(
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
    db["submissions"].create_index(["receipt_no"], unique=True)
    db["submissions"].create_index(["state", "created_at"])
    db["submissions"].create_index(["citizen_key"])
    db["receipt_counter"].create({"day": str, "seq": int}, pk="day")
    # Queued payloads are immutable: the database itself refuses a change.
    db.execute(
        """CREATE TRIGGER submissions_payload_immutable BEFORE UPDATE OF sealed, id, service,
           created_at ON submissions BEGIN SELECT RAISE(ABORT, 'submission payload is immutable'); END"""
    )


@MIGRATIONS()
def m002_reprints(db: sqlite_utils.Database) -> None:
    """Receipts that did not print, waiting for staff to reprint them."""
    db["reprints"].create(
        {"request_id": str, "reason": str, "queued_at": str, "printed_at": str},
        pk="request_id",
        foreign_keys=[("request_id", "submissions", "id")],
        not_null={"reason", "queued_at"},
    )


class SubmissionState(enum.Enum):
    """Where a submission is on its way to the hub."""

    QUEUED = "queued"
    SENDING = "sending"
    DELIVERED = "delivered"
    CLOSED = "closed"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Submission:
    """A submission's clear-text facts (the personal data stays sealed)."""

    id: str
    receipt_no: str
    service: str
    state: SubmissionState
    created_at: dt.datetime
    state_changed_at: dt.datetime
    reason: str | None = None
    synthetic: bool = False


def _row_to_submission(row: dict) -> Submission:
    return Submission(
        id=row["id"],
        receipt_no=row["receipt_no"],
        service=row["service"],
        state=SubmissionState(row["state"]),
        created_at=dt.datetime.fromisoformat(row["created_at"]),
        state_changed_at=dt.datetime.fromisoformat(row["state_changed_at"]),
        reason=row["reason"],
        synthetic=bool(row["synthetic"]),
    )


class Outbox:
    """The durable queue of submissions on one SQLite file."""

    def __init__(self, path: Path, kiosk_id: str, clock: Callable[[], dt.datetime]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._kiosk_id = kiosk_id
        self._clock = clock
        self.db = sqlite_utils.Database(path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        MIGRATIONS.apply(self.db)
        self._resume_in_flight()

    def _resume_in_flight(self) -> None:
        """What a crash left ``sending`` goes back to ``queued`` (the hub dedups by id)."""
        now = self._clock().isoformat()
        with self.db.atomic():
            self.db.execute(
                "UPDATE submissions SET state = ?, state_changed_at = ? WHERE state = ?",
                [SubmissionState.QUEUED.value, now, SubmissionState.SENDING.value],
            )

    def _next_receipt_no(self, now: dt.datetime) -> str:
        day = now.strftime("%y%m%d")
        row = self.db.execute(
            "INSERT INTO receipt_counter (day, seq) VALUES (?, 1) "
            "ON CONFLICT(day) DO UPDATE SET seq = seq + 1 RETURNING seq",
            [day],
        ).fetchone()
        return f"{self._kiosk_id}-{day}-{row[0]:04d}"

    def enqueue(
        self, *, service: str, sealed: bytes, citizen_key: str | None, synthetic: bool = False
    ) -> Submission:
        """Store a new sealed submission durably; its id is its idempotency key for ever."""
        now = self._clock()
        submission_id = str(uuid.uuid4())
        with self.db.atomic():
            receipt_no = self._next_receipt_no(now)
            self.db["submissions"].insert(
                {
                    "id": submission_id,
                    "receipt_no": receipt_no,
                    "service": service,
                    "state": SubmissionState.QUEUED.value,
                    "created_at": now.isoformat(),
                    "state_changed_at": now.isoformat(),
                    "sealed": sealed,
                    "citizen_key": citizen_key,
                    "reason": None,
                    "synthetic": int(synthetic),
                }
            )
        return self.get(submission_id)

    def get(self, submission_id: str) -> Submission:
        """One submission by id (KeyError if unknown)."""
        rows = list(self.db["submissions"].rows_where("id = ?", [submission_id]))
        if not rows:
            raise KeyError(submission_id)
        return _row_to_submission(rows[0])

    def list(self, state: SubmissionState | None = None, limit: int = 100) -> list[Submission]:
        """Newest first, optionally only in one state."""
        where, args = ("state = ?", [state.value]) if state else (None, [])
        rows = self.db["submissions"].rows_where(where, args, order_by="created_at desc", limit=limit)
        return [_row_to_submission(r) for r in rows]

    def queue_reprint(self, request_id: str, reason: str) -> None:
        """Remember that a receipt did not print (``reason`` is a translation key) for staff to reprint."""
        with self.db.atomic():
            self.db["reprints"].upsert(
                {"request_id": request_id, "reason": reason, "queued_at": self._clock().isoformat(),
                 "printed_at": None},
                pk="request_id",
            )

    def pending_reprints(self) -> list[tuple[Submission, str]]:
        """Submissions whose receipt still needs printing, oldest first, with why it did not print."""
        rows = self.db.execute(
            "SELECT s.*, r.reason AS reprint_reason FROM reprints r JOIN submissions s ON s.id = r.request_id "
            "WHERE r.printed_at IS NULL ORDER BY r.queued_at"
        )
        columns = [c[0] for c in rows.description]
        return [
            (_row_to_submission(row), row["reprint_reason"])
            for row in (dict(zip(columns, values)) for values in rows.fetchall())
        ]

    def mark_reprinted(self, request_id: str) -> None:
        """The receipt came out of the printer after all."""
        with self.db.atomic():
            self.db.execute(
                "UPDATE reprints SET printed_at = ? WHERE request_id = ?", [self._clock().isoformat(), request_id]
            )

    def stats(self) -> dict[str, float | int | None]:
        """Counts per state, the total, and the age in seconds of the oldest queued submission."""
        counts = {s.value: 0 for s in SubmissionState}
        for state, n in self.db.execute("SELECT state, count(*) FROM submissions GROUP BY state"):
            counts[state] = n
        oldest = self.db.execute(
            "SELECT min(created_at) FROM submissions WHERE state = ?", [SubmissionState.QUEUED.value]
        ).fetchone()[0]
        age = (self._clock() - dt.datetime.fromisoformat(oldest)).total_seconds() if oldest else None
        reprints = self.db.execute("SELECT count(*) FROM reprints WHERE printed_at IS NULL").fetchone()[0]
        return {**counts, "total": sum(counts.values()), "oldest_queued_age_s": age, "reprints_pending": reprints}

    def close(self) -> None:
        """Close the database file."""
        self.db.close()
