"""What signed kiosks send and fetch: submissions, statuses, "my requests", heartbeats.

Each call runs in one transaction that also records the request's nonce, so a replay is
refused and a refused request leaves nothing behind.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import sqlite3
from typing import Any

import sqlite_utils
from pydantic import ValidationError

from hub.models import Heartbeat, HubState, SubmissionItem, rejection_reason
from protocol.wire import MAX_CLOCK_SKEW_S, ItemResult, SignatureProblem, SignedBy

log = logging.getLogger(__name__)

STATUS_PAGE = 1000
HEARTBEAT_HISTORY = dt.timedelta(days=30)
REQUESTS_PAGE = 100
MAX_CURSOR = 2**63 - 1  # SQLite's largest integer
_PRUNE_EVERY_S = 60.0
_INSERT = (
    "INSERT INTO submissions (id, kiosk_id, receipt_no, service, created_at, citizen_key, synthetic, sealed,"
    " received_at, state, reason, changed_at, status_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, NULL)"
    " ON CONFLICT(id) DO NOTHING"
)
_COUNT_DUPLICATE = (
    "INSERT INTO duplicates (submission_id, kiosk_id, count, last_at) VALUES (?, ?, 1, ?)"
    " ON CONFLICT(submission_id) DO UPDATE SET count = count + 1, last_at = excluded.last_at"
)


class NonceLedger:
    """Nonces seen per kiosk, forgotten once their date is too old to pass the skew check anyway."""

    def __init__(self) -> None:
        self._last_prune: dt.datetime | None = None

    def claim(self, db: sqlite_utils.Database, signed: SignedBy, now: dt.datetime) -> None:
        """Record the nonce inside the caller's transaction; SignatureProblem("replay") if seen."""
        try:
            db.execute("INSERT INTO nonces (kiosk_id, nonce, signed_at) VALUES (?, ?, ?)",
                       [signed.key_id, signed.nonce, signed.date.isoformat()])
        except sqlite3.IntegrityError:
            raise SignatureProblem("replay") from None
        if self._last_prune is None or (now - self._last_prune).total_seconds() > _PRUNE_EVERY_S:
            horizon = now - dt.timedelta(seconds=2 * MAX_CLOCK_SKEW_S)
            db.execute("DELETE FROM nonces WHERE signed_at < ?", [horizon.isoformat()])
            self._last_prune = now


def accept_batch(db: sqlite_utils.Database, kiosk_id: str, items: list[Any], now: str) -> list[dict[str, Any]]:
    """Store each well-formed new item; one verdict per item, in order (call inside ``write()``)."""
    results: list[dict[str, Any]] = []
    cursor = db.conn.cursor()
    for raw in items:
        raw_id = raw.get("id") if isinstance(raw, dict) else None
        given_id = raw_id if isinstance(raw_id, str) else None
        try:
            item = SubmissionItem.model_validate(raw)
        except ValidationError as exc:
            results.append({"id": given_id, "result": ItemResult.REJECTED.value, "reason": rejection_reason(exc)})
            continue
        cursor.execute(_INSERT, (
            item.id, kiosk_id, item.receipt_no, item.service, item.created_at, item.citizen_key,
            int(item.synthetic), base64.b64decode(item.sealed), now, HubState.RECEIVED.value, now,
        ))
        if cursor.rowcount == 1:
            results.append({"id": item.id, "result": ItemResult.ACCEPTED.value})
            continue
        owner = cursor.execute("SELECT kiosk_id FROM submissions WHERE id = ?", (item.id,)).fetchone()[0]
        if owner != kiosk_id:  # a UUID collision or a kiosk guessing ids: never let it hide a request
            results.append({"id": item.id, "result": ItemResult.REJECTED.value, "reason": "id_in_use"})
            continue
        cursor.execute(_COUNT_DUPLICATE, (item.id, kiosk_id, now))
        results.append({"id": item.id, "result": ItemResult.DUPLICATE.value})
    return results


def statuses_since(db: sqlite_utils.Database, kiosk_id: str, cursor: int) -> dict[str, Any]:
    """This kiosk's submissions whose state the back office changed after ``cursor``."""
    rows = db.execute(
        "SELECT id, state, reason, changed_at, status_seq FROM submissions"
        " WHERE kiosk_id = ? AND status_seq > ? ORDER BY status_seq LIMIT ?",
        [kiosk_id, cursor, STATUS_PAGE + 1],
    ).fetchall()
    page = rows[:STATUS_PAGE]
    return {
        "statuses": [{"id": r[0], "state": r[1], "reason": r[2], "changed_at": r[3]} for r in page],
        "cursor": str(page[-1][4] if page else cursor),
        "more": len(rows) > STATUS_PAGE,
    }


def requests_for(db: sqlite_utils.Database, kiosk_id: str, citizen_key: str) -> list[dict[str, Any]]:
    """A citizen's requests made at this kiosk (the key is this kiosk's keyed hash), newest first."""
    rows = db.execute(
        "SELECT id, receipt_no, service, state, created_at, changed_at FROM submissions"
        " WHERE kiosk_id = ? AND citizen_key = ? ORDER BY created_at DESC LIMIT ?",
        [kiosk_id, citizen_key, REQUESTS_PAGE],
    ).fetchall()
    keys = ("id", "receipt_no", "service", "state", "created_at", "changed_at")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def audit_head_problem(before: tuple[int, str] | None, seq: int, head: str) -> str | None:
    """What a reported audit head says about the kiosk's chain, given the head reported before.

    ``went_back``: fewer entries than before (entries were removed or the chain rewritten shorter);
    ``forked``: as many entries as before but another last hash (an entry was rewritten). A longer
    chain is taken as it is: only the kiosk can check entries the hub never saw.
    """
    if before is None:
        return None
    if seq < before[0]:
        return "went_back"
    if seq == before[0] and head != before[1]:
        return "forked"
    return None


def record_audit_head(db: sqlite_utils.Database, kiosk_id: str, checkpoint: dict[str, object] | None,
                      now: str) -> str | None:
    """Keep the kiosk's audit head; a head that went back or forked is flagged and stays flagged."""
    if not checkpoint:
        return None
    seq, head = checkpoint.get("seq"), checkpoint.get("hash")
    if not isinstance(seq, int) or isinstance(seq, bool) or not isinstance(head, str):
        return None
    row = db.execute("SELECT seq, hash, problem, problem_at FROM audit_heads WHERE kiosk_id = ?", [kiosk_id]).fetchone()
    problem = audit_head_problem((row[0], row[1]) if row else None, seq, head)
    if problem is not None:
        log.warning("kiosk %s: audit head %s (was %s entries, now %s)", kiosk_id, problem, row[0], seq)
    kept_problem = problem or (row[2] if row else None)
    db.table("audit_heads").upsert({
        "kiosk_id": kiosk_id, "seq": seq, "hash": head, "reported_at": now, "problem": kept_problem,
        "problem_at": now if problem else (row[3] if row else None),
    }, pk="kiosk_id")
    return problem


def record_heartbeat(db: sqlite_utils.Database, kiosk_id: str, beat: Heartbeat, now: str) -> None:
    """Keep the heartbeat as the kiosk's latest and in its history (the last ``HEARTBEAT_HISTORY``),
    and its audit head, flagged when it went back or forked."""
    record_audit_head(db, kiosk_id, beat.audit_checkpoint, now)
    body = json.dumps(beat.model_dump(), ensure_ascii=False, sort_keys=True)
    queue = beat.queue
    depth = sum(v for k, v in queue.items() if k in ("queued", "sending") and isinstance(v, int))
    depth = max(-MAX_CURSOR - 1, min(depth, MAX_CURSOR))  # two 64-bit counts may add past 64 bits
    oldest = queue.get("oldest_queued_age_s")
    db.table("heartbeats").insert({"kiosk_id": kiosk_id, "received_at": now, "body": body})
    horizon = dt.datetime.fromisoformat(now) - HEARTBEAT_HISTORY
    db.execute("DELETE FROM heartbeats WHERE kiosk_id = ? AND received_at < ?", [kiosk_id, horizon.isoformat()])
    db.table("heartbeat_latest").upsert({
        "kiosk_id": kiosk_id, "received_at": now, "version": beat.version, "queue_depth": depth,
        "oldest_queued_age_s": float(oldest) if isinstance(oldest, (int, float)) else None,
        "printer": beat.printer, "reader": beat.reader, "body": body,
    }, pk="kiosk_id")


def parse_cursor(text: str | None) -> int:
    """The statuses cursor as a number (empty = from the start); ValueError when it is not one.

    Plain ASCII digits only (no sign, spaces or other scripts' digits), at most SQLite's largest integer.
    """
    if not text:
        return 0
    if len(text) > 19 or not (text.isascii() and text.isdigit()):
        raise ValueError("not a cursor")
    value = int(text)
    if value > MAX_CURSOR:
        raise ValueError("past the largest cursor")
    return value
