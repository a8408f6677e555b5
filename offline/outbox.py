"""The outbox: every request a villager submits, durably, until the hub has it.

One SQLite file in WAL mode with ``synchronous=FULL``: when ``enqueue`` returns, the request
survives a power cut, so the receipt may print. Payloads are sealed before they arrive here and
are never changed afterwards. States are an enum stored as text, each change timed::

    queued ─claim─▶ sending ─accepted/duplicate─▶ delivered ─hub closed it─▶ closed
     │ ▲               │ └──────rejected (hub's reason)──────▶ rejected
     │ └──release/crash┘
     └─staff─▶ cancelled (never sent)

Only a sync holding the data folder's sync lock (``offline.sync_lock``) claims rows, so what is
``sending`` belongs to the lock holder; rows a crashed sync left ``sending`` go back to ``queued``
through ``resume_in_flight``, which the sync engine calls once it holds the lock. Opening the
outbox changes nothing: another process may be sending those rows right now.

A damaged file is set aside at open and ``OutboxCorrupted`` raised (see ``outbox_integrity``).
"""

from __future__ import annotations

import builtins
import datetime as dt
import functools
import secrets
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils

from offline.outbox_integrity import OutboxCorrupted, check_marker, is_corruption, set_aside
from offline.outbox_schema import MIGRATIONS
from offline.sync_types import HubState, HubStatus, ItemOutcome, OutgoingItem, Submission, SubmissionState
from protocol.wire import ItemResult

__all__ = ["MIGRATIONS", "HubState", "ItemOutcome", "HubStatus", "OutgoingItem", "Outbox",
           "OutboxCorrupted", "Submission", "SubmissionState"]

# Size of one item on the wire before gzip: base64 of the sealed payload plus its clear fields.
_WIRE_SIZE_SQL = "((length(sealed) + 2) / 3 * 4 + 256)"


_F = TypeVar("_F", bound=Callable[..., Any])


def _locked(method: _F) -> _F:
    """One thread at a time on the connection: the UI enqueues while the sync thread claims and applies."""

    @functools.wraps(method)
    def wrapper(self: Outbox, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


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
        hub_state=HubState(row["hub_state"]) if row.get("hub_state") else None,
        hub_reason=row.get("hub_reason"),
        tracking_token=row.get("tracking_token"),
        centre=row.get("centre"),
    )


class Outbox:
    """The durable queue of submissions on one SQLite file."""

    def __init__(self, path: Path, kiosk_id: str, clock: Callable[[], dt.datetime], *,
                 zone: dt.tzinfo = dt.timezone.utc) -> None:
        """``zone`` is the kiosk's own time zone: receipt numbers count requests per local day."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._kiosk_id = kiosk_id
        self._clock = clock
        self._zone = zone
        self._lock = threading.RLock()
        check_marker(path)
        try:
            self.db = self._open_checked(path)
        except sqlite3.DatabaseError as exc:
            if not is_corruption(exc):
                raise
            raise OutboxCorrupted(set_aside(path, clock()).name) from None

    @staticmethod
    def _open_checked(path: Path) -> sqlite_utils.Database:
        """Check every page cheaply, then open and migrate; a damaged file raises a corruption DatabaseError."""
        if path.exists():
            # Read-only first: closing a read-write connection would checkpoint or delete the WAL,
            # and a technician needs the damaged files exactly as they were.
            probe = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                problems = [row[0] for row in probe.execute("PRAGMA quick_check").fetchall()]
            finally:
                probe.close()
            if problems != ["ok"]:
                error = sqlite3.DatabaseError("quick_check: " + "; ".join(problems[:3]))
                error.sqlite_errorcode = 11  # SQLITE_CORRUPT
                raise error
        db = sqlite_utils.Database(sqlite3.connect(str(path), check_same_thread=False))
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            MIGRATIONS.apply(db)
        except BaseException:
            db.close()
            raise
        return db

    @_locked
    def resume_in_flight(self) -> int:
        """What a crashed sync left ``sending`` goes back to ``queued`` (the hub dedups by id); returns how many.

        Call it only while holding the data folder's sync lock (the sync engine does, at the start of
        each cycle): then no other live process is sending, and every ``sending`` row is a leftover.
        """
        now = self._clock().isoformat()
        with self.db.atomic():
            cur = self.db.execute(
                "UPDATE submissions SET state = ?, state_changed_at = ? WHERE state = ?",
                [SubmissionState.QUEUED.value, now, SubmissionState.SENDING.value],
            )
        return cur.rowcount

    def _next_receipt_no(self, now: dt.datetime) -> str:
        day = now.astimezone(self._zone).strftime("%y%m%d")
        row = self.db.execute(
            "INSERT INTO receipt_counter (day, seq) VALUES (?, 1) "
            "ON CONFLICT(day) DO UPDATE SET seq = seq + 1 RETURNING seq",
            [day],
        ).fetchone()
        return f"{self._kiosk_id}-{day}-{row[0]:04d}"

    @_locked
    def enqueue(
        self, *, service: str, sealed: bytes, holder: str | None, synthetic: bool = False,
        language: str | None = None, centre: str | None = None,
    ) -> Submission:
        """Store a new sealed submission durably; its id is its idempotency key for ever (never printed), its
        tracking token (128 random bits) is public: the receipt's QR code opens the hub's page for it."""
        now = self._clock()
        submission_id = str(uuid.uuid4())
        with self.db.atomic():
            receipt_no = self._next_receipt_no(now)
            self.db.table("submissions").insert(
                {
                    "id": submission_id,
                    "receipt_no": receipt_no,
                    "service": service,
                    "state": SubmissionState.QUEUED.value,
                    "created_at": now.isoformat(),
                    "state_changed_at": now.isoformat(),
                    "sealed": sealed,
                    "holder": holder,
                    "reason": None,
                    "synthetic": int(synthetic),
                    "tracking_token": secrets.token_urlsafe(16),
                    "language": language,
                    "centre": centre,
                }
            )
        return self.get(submission_id)

    @_locked
    def get(self, submission_id: str) -> Submission:
        """One submission by id (KeyError if unknown)."""
        rows = list(self.db["submissions"].rows_where("id = ?", [submission_id]))
        if not rows:
            raise KeyError(submission_id)
        return _row_to_submission(rows[0])

    @_locked
    def list(self, state: SubmissionState | None = None, limit: int = 100) -> list[Submission]:
        """Newest first, optionally only in one state."""
        where, args = ("state = ?", [state.value]) if state else (None, [])
        rows = self.db["submissions"].rows_where(where, args, order_by="created_at desc", limit=limit)
        return [_row_to_submission(r) for r in rows]

    @_locked
    def requests_for(self, holder: str, limit: int = 50) -> builtins.list[Submission]:
        """One card holder's requests (``protocol.presence.holder_key``), newest first, with what the hub
        last said: "my requests" offline."""
        rows = self.db["submissions"].rows_where(
            "holder = ?", [holder], order_by="created_at desc", limit=limit
        )
        return [_row_to_submission(r) for r in rows]

    # --- the sync engine's side -------------------------------------------------------------

    @_locked
    def claim_batch(self, max_items: int, max_bytes: int) -> builtins.list[OutgoingItem]:
        """Move the oldest queued items to ``sending``, as many as fit both caps (at least one), oldest first."""
        now = self._clock().isoformat()
        with self.db.atomic():
            # One statement picks and claims, so two processes syncing at once never claim the same row.
            rows = self.db.execute(
                f"""UPDATE submissions SET state = :sending, state_changed_at = :now WHERE id IN (
                      SELECT id FROM (
                        SELECT id, row_number() OVER w AS n, sum({_WIRE_SIZE_SQL}) OVER w AS running
                        FROM submissions WHERE state = :queued
                        WINDOW w AS (ORDER BY created_at, rowid) ORDER BY created_at, rowid LIMIT :items)
                      WHERE n = 1 OR running <= :bytes)
                    RETURNING id, receipt_no, service, created_at, synthetic, sealed, tracking_token,
                              language, centre""",
                {"sending": SubmissionState.SENDING.value, "queued": SubmissionState.QUEUED.value,
                 "now": now, "items": max(1, max_items), "bytes": max_bytes},
            ).fetchall()
        items = [OutgoingItem(r[0], r[1], r[2], r[3], bool(r[4]), r[5], r[6], r[7], r[8]) for r in rows]
        return sorted(items, key=lambda item: item.created_at)

    @_locked
    def release(self, ids: Iterable[str]) -> None:
        """A send failed before the hub answered: these go back to ``queued`` to be sent again."""
        self._move(ids, SubmissionState.QUEUED, from_states=(SubmissionState.SENDING,))

    @_locked
    def requeue_rejected(self, ids: Iterable[str] | None = None) -> int:
        """A technician sends rejected requests again (all of them when ``ids`` is None); returns how many."""
        now = self._clock().isoformat()
        where, args = "state = ?", [SubmissionState.REJECTED.value]
        chosen = list(ids) if ids is not None else None
        if chosen is not None:
            where += f" AND id IN ({','.join('?' * len(chosen))})"
            args += chosen
        with self.db.atomic():
            cur = self.db.execute("UPDATE submissions SET state = ?, state_changed_at = ?, reason = NULL "
                                  f"WHERE {where}",
                                  [SubmissionState.QUEUED.value, now, *args])
        return cur.rowcount

    @_locked
    def apply_results(self, outcomes: Iterable[ItemOutcome]) -> dict[ItemResult, int]:
        """Record the hub's per-item verdicts in one transaction; duplicate counts as delivered."""
        counts = {result: 0 for result in ItemResult}
        now = self._clock().isoformat()
        open_states = (SubmissionState.QUEUED.value, SubmissionState.SENDING.value)
        with self.db.atomic():
            for outcome in outcomes:
                counts[outcome.result] += 1
                rejected = outcome.result is ItemResult.REJECTED
                state = SubmissionState.REJECTED if rejected else SubmissionState.DELIVERED
                self.db.execute(
                    "UPDATE submissions SET state = ?, state_changed_at = ?, reason = ? "
                    "WHERE id = ? AND state IN (?, ?)",
                    [state.value, now, (outcome.reason or "rejected")[:200] if rejected else None,
                     outcome.id, *open_states],
                )
        return counts

    @_locked
    def apply_statuses(self, statuses: Iterable[HubStatus], cursor: str | None) -> int:
        """Remember what the hub says about each request, and the cursor after them, atomically."""
        now = self._clock().isoformat()
        known = 0
        with self.db.atomic():
            for status in statuses:
                row = self.db.execute("SELECT state FROM submissions WHERE id = ?", [status.id]).fetchone()
                if row is None:
                    continue
                known += 1
                current = SubmissionState(row[0])
                finished = status.state in (HubState.CLOSED, HubState.REJECTED)
                # The hub has it, whatever this kiosk last knew (a crash may have lost the hub's answer).
                target = SubmissionState.CLOSED if finished or current is SubmissionState.CLOSED \
                    else SubmissionState.DELIVERED
                self.db.execute(
                    "UPDATE submissions SET hub_state = ?, hub_reason = ?, hub_changed_at = ? WHERE id = ?",
                    [status.state.value, status.reason[:200] if status.reason else None, status.changed_at,
                     status.id],
                )
                if target is not current:
                    self.db.execute(
                        "UPDATE submissions SET state = ?, state_changed_at = ? WHERE id = ?",
                        [target.value, now, status.id],
                    )
            if cursor is not None:
                self._set_meta("status_cursor", cursor)
        return known

    @_locked
    def meta(self, key: str) -> str | None:
        """A value the sync engine keeps between runs (status cursor, ETags)."""
        row = self.db.execute("SELECT value FROM sync_meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    @_locked
    def set_meta(self, key: str, value: str) -> None:
        """Keep ``value`` under ``key``, durably."""
        with self.db.atomic():
            self._set_meta(key, value)

    def _set_meta(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO sync_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, value],
        )

    def _move(self, ids: Iterable[str], to: SubmissionState, from_states: tuple[SubmissionState, ...]) -> None:
        now = self._clock().isoformat()
        marks = ",".join("?" * len(from_states))
        with self.db.atomic():
            for submission_id in ids:
                self.db.execute(
                    f"UPDATE submissions SET state = ?, state_changed_at = ? WHERE id = ? AND state IN ({marks})",
                    [to.value, now, submission_id, *(s.value for s in from_states)],
                )

    @_locked
    def cancel(self, request_id: str, reason: str) -> Submission:
        """Staff cancel a request still ``queued`` (``reason`` is a word).

        KeyError if unknown, ValueError if it already left."""
        with self.db.atomic():
            row = self.db.execute(
                "UPDATE submissions SET state = ?, state_changed_at = ?, reason = ? WHERE id = ? AND state = ? "
                "RETURNING id",
                [SubmissionState.CANCELLED.value, self._clock().isoformat(), reason[:200], request_id,
                 SubmissionState.QUEUED.value],
            ).fetchone()
        if row is None:
            raise ValueError(f"request is {self.get(request_id).state.value}, not queued")
        return self.get(request_id)

    # --- receipts that did not print --------------------------------------------------------

    @_locked
    def queue_reprint(self, request_id: str, reason: str) -> None:
        """Remember that a receipt did not print (``reason`` is a translation key) for staff to reprint."""
        with self.db.atomic():
            self.db.table("reprints").upsert(
                {"request_id": request_id, "reason": reason, "queued_at": self._clock().isoformat(),
                 "printed_at": None},
                pk="request_id",
            )

    @_locked
    def pending_reprints(self) -> builtins.list[tuple[Submission, str]]:
        """Submissions whose receipt still needs printing, oldest first, with why it did not print."""
        rows = self.db.execute(
            "SELECT s.*, r.reason AS reprint_reason FROM reprints r JOIN submissions s ON s.id = r.request_id "
            "WHERE r.printed_at IS NULL ORDER BY r.queued_at"
        )
        columns = [c[0] for c in rows.description]
        return [
            (_row_to_submission(row), row["reprint_reason"])
            for row in (dict(zip(columns, values, strict=True)) for values in rows.fetchall())
        ]

    @_locked
    def mark_reprinted(self, request_id: str) -> None:
        """The receipt came out of the printer after all."""
        with self.db.atomic():
            self.db.execute(
                "UPDATE reprints SET printed_at = ? WHERE request_id = ?", [self._clock().isoformat(), request_id]
            )

    @_locked
    def stats(self) -> dict[str, float | int | None]:
        """Counts per state, the total, synthetic ones, and the age in seconds of the oldest queued submission."""
        counts = {s.value: 0 for s in SubmissionState}
        for state, n in self.db.execute("SELECT state, count(*) FROM submissions GROUP BY state"):
            counts[state] = n
        oldest = self.db.execute(
            "SELECT min(created_at) FROM submissions WHERE state = ?", [SubmissionState.QUEUED.value]
        ).fetchone()[0]
        age = (self._clock() - dt.datetime.fromisoformat(oldest)).total_seconds() if oldest else None
        reprints = self.db.execute("SELECT count(*) FROM reprints WHERE printed_at IS NULL").fetchone()[0]
        synthetic = self.db.execute("SELECT count(*) FROM submissions WHERE synthetic = 1").fetchone()[0]
        return {**counts, "total": sum(counts.values()), "oldest_queued_age_s": age,
                "reprints_pending": reprints, "synthetic": synthetic}

    @_locked
    def close(self) -> None:
        """Close the database file."""
        self.db.close()
