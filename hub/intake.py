"""What signed kiosks send and fetch: submissions, statuses, "my requests", heartbeats.

Each call runs in one transaction that also records the request's nonce, so a replay is
refused and a refused request leaves nothing behind.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.exc import IntegrityError

from hub.admission import Verdict
from hub.models import Heartbeat, HubState, SubmissionItem, rejection_reason
from hub.presence import PresenceRefused, record_session
from hub.schema import audit_heads, duplicates, heartbeat_latest, heartbeats, nonces, rejections, submissions
from hub.store import insert_ignoring, upsert
from protocol.wire import MAX_CLOCK_SKEW_S, ItemResult, SignatureProblem, SignedBy

log = logging.getLogger(__name__)

STATUS_PAGE = 1000
HEARTBEAT_HISTORY = dt.timedelta(days=30)
REQUESTS_PAGE = 100
MAX_CURSOR = 2**63 - 1  # the largest 64-bit integer, on either engine
_PRUNE_EVERY_S = 60.0


class NonceLedger:
    """Nonces seen per kiosk, forgotten once their date is too old to pass the skew check anyway."""

    def __init__(self) -> None:
        self._last_prune: dt.datetime | None = None

    def claim(self, db: Connection, signed: SignedBy, now: dt.datetime) -> None:
        """Record the nonce inside the caller's transaction; SignatureProblem("replay") if seen.

        The primary key decides, so two hub processes given the same request cannot both take it.
        """
        row = {"kiosk_id": signed.key_id, "nonce": signed.nonce, "signed_at": signed.date.isoformat()}
        try:
            with db.begin_nested():  # a savepoint: on PostgreSQL a failed insert would spoil the transaction
                db.execute(insert(nonces).values(**row))
        except IntegrityError:
            raise SignatureProblem("replay") from None
        if self._last_prune is None or (now - self._last_prune).total_seconds() > _PRUNE_EVERY_S:
            horizon = now - dt.timedelta(seconds=2 * MAX_CLOCK_SKEW_S)
            db.execute(delete(nonces).where(nonces.c.signed_at < horizon.isoformat()))
            self._last_prune = now


def accept_batch(db: Connection, kiosk_id: str, items: list[Any], now: str,
                 verdicts: list[Verdict] | None = None) -> list[dict[str, Any]]:
    """Store each well-formed new item; one verdict per item, in order (call inside ``write()``).

    A request is this kiosk's id: another kiosk sending the same id stores its own request under
    its own name and can neither claim nor block this one. ``verdicts`` (``hub.admission``, one per
    item) name each request's citizen and refuse those whose payload or proof of presence fails;
    a re-sent request the hub already has stays a duplicate whatever its verdict says now.
    """
    results: list[dict[str, Any]] = []
    taken = _tokens_taken(db, kiosk_id, items)
    for raw, verdict in zip(items, verdicts or [Verdict()] * len(items), strict=True):
        raw_id = raw.get("id") if isinstance(raw, dict) else None
        given_id = raw_id if isinstance(raw_id, str) else None
        try:
            item = SubmissionItem.model_validate(raw)
            if item.tracking_token is not None and taken.get(item.tracking_token, item.id) != item.id:
                raise ValueError("invalid:tracking_token_in_use")
            if verdict.refused is not None and not _stored(db, kiosk_id, item.id):
                raise ValueError(verdict.refused)
            if verdict.refused is None and verdict.presence is not None:
                record_session(db, verdict.presence, kiosk_id, now)
        except (ValidationError, ValueError, PresenceRefused) as exc:
            reason = rejection_reason(exc) if isinstance(exc, ValidationError) else str(exc)
            upsert(db, rejections, {"reason": reason, "count": 1, "last_at": now}, ["reason"],
                   {"count": rejections.c.count + 1, "last_at": now})
            if reason.startswith(("presence_", "sealed_")):
                log.warning("kiosk %s: request %s refused: %s", kiosk_id, given_id, reason)
            results.append({"id": given_id, "result": ItemResult.REJECTED.value, "reason": reason})
            continue
        if item.tracking_token is not None:
            taken[item.tracking_token] = item.id
        stored = insert_ignoring(db, submissions, {
            "kiosk_id": kiosk_id, "id": item.id, "receipt_no": item.receipt_no, "service": item.service,
            "created_at": item.created_at, "citizen": verdict.citizen, "synthetic": int(item.synthetic),
            "presence": verdict.presence.fingerprint if verdict.presence else None,
            "sealed": base64.b64decode(item.sealed), "received_at": now, "state": HubState.RECEIVED.value,
            "reason": None, "changed_at": now, "status_seq": None,
            "tracking_token": item.tracking_token, "language": item.language, "centre": item.centre,
        }, ["kiosk_id", "id"])
        if stored:
            results.append({"id": item.id, "result": ItemResult.ACCEPTED.value})
            continue
        upsert(db, duplicates, {"kiosk_id": kiosk_id, "submission_id": item.id, "count": 1, "last_at": now},
               ["kiosk_id", "submission_id"], {"count": duplicates.c.count + 1, "last_at": now})
        results.append({"id": item.id, "result": ItemResult.DUPLICATE.value})
    return results


def _stored(db: Connection, kiosk_id: str, request_id: str) -> bool:
    s = submissions.c
    return db.execute(select(s.id).where(s.kiosk_id == kiosk_id, s.id == request_id)).first() is not None


def _tokens_taken(db: Connection, kiosk_id: str, items: list[Any]) -> dict[str, str]:
    """Which of the batch's tracking tokens this kiosk already used, and for which request."""
    tokens = [raw["tracking_token"] for raw in items
              if isinstance(raw, dict) and isinstance(raw.get("tracking_token"), str)]
    if not tokens:
        return {}
    s = submissions.c
    rows = db.execute(select(s.tracking_token, s.id).where(s.kiosk_id == kiosk_id, s.tracking_token.in_(tokens)))
    return {row.tracking_token: row.id for row in rows}


def statuses_since(db: Connection, kiosk_id: str, cursor: int) -> dict[str, Any]:
    """This kiosk's submissions whose state the back office changed after ``cursor``."""
    s = submissions.c
    rows = db.execute(
        select(s.id, s.state, s.reason, s.changed_at, s.status_seq)
        .where(s.kiosk_id == kiosk_id, s.status_seq > cursor).order_by(s.status_seq).limit(STATUS_PAGE + 1)
    ).all()
    page = rows[:STATUS_PAGE]
    return {
        "statuses": [{"id": r[0], "state": r[1], "reason": r[2], "changed_at": r[3]} for r in page],
        "cursor": str(page[-1][4] if page else cursor),
        "more": len(rows) > STATUS_PAGE,
    }


def requests_of(db: Connection, citizen: str, asking_kiosk: str) -> list[dict[str, Any]]:
    """A citizen's requests from every centre (by the hub's lookup), newest first.

    The asking kiosk gets its own requests' ids (to match them with its outbox); another kiosk's
    idempotency ids are that kiosk's business and stay out.
    """
    s = submissions.c
    rows = db.execute(
        select(s.kiosk_id, s.id, s.receipt_no, s.service, s.centre, s.state, s.reason, s.created_at, s.changed_at)
        .where(s.citizen == citizen, s.synthetic == 0)
        .order_by(s.created_at.desc()).limit(REQUESTS_PAGE)
    ).mappings().all()
    return [{"id": r["id"] if r["kiosk_id"] == asking_kiosk else None, "receipt_no": r["receipt_no"],
             "service": r["service"], "centre": r["centre"] or "", "state": r["state"], "reason": r["reason"],
             "created_at": r["created_at"], "changed_at": r["changed_at"]} for r in rows]


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


def record_audit_head(db: Connection, kiosk_id: str, checkpoint: dict[str, object] | None,
                      now: str) -> str | None:
    """Keep the kiosk's audit head; a head that went back or forked is flagged and stays flagged.

    Returns the kiosk's standing problem (``went_back`` | ``forked``), None while its chain is whole.
    """
    a = audit_heads.c
    row = db.execute(select(a.seq, a.hash, a.problem, a.problem_at).where(a.kiosk_id == kiosk_id)
                     .with_for_update()).first()  # two heartbeats at once: one judges after the other
    standing = row.problem if row else None
    if not checkpoint:
        return standing
    seq, head = checkpoint.get("seq"), checkpoint.get("hash")
    if not isinstance(seq, int) or isinstance(seq, bool) or not isinstance(head, str):
        return standing
    problem = audit_head_problem((row.seq, row.hash) if row else None, seq, head)
    if problem is not None and row is not None:
        log.warning("kiosk %s: audit head %s (was %s entries, now %s)", kiosk_id, problem, row.seq, seq)
    upsert(db, audit_heads, {
        "kiosk_id": kiosk_id, "seq": seq, "hash": head, "reported_at": now, "problem": problem or standing,
        "problem_at": now if problem else (row.problem_at if row else None),
    }, ["kiosk_id"])
    return problem or standing


def record_heartbeat(db: Connection, kiosk_id: str, beat: Heartbeat, now: str) -> str | None:
    """Keep the heartbeat as the kiosk's latest and in its history (the last ``HEARTBEAT_HISTORY``),
    and its audit head; returns the kiosk's audit problem (went back or forked), if it has one."""
    audit_problem = record_audit_head(db, kiosk_id, beat.audit_checkpoint, now)
    body = json.dumps(beat.model_dump(), ensure_ascii=False, sort_keys=True)
    queue = beat.queue
    depth = sum(v for k, v in queue.items() if k in ("queued", "sending") and isinstance(v, int))
    depth = max(-MAX_CURSOR - 1, min(depth, MAX_CURSOR))  # two 64-bit counts may add past 64 bits
    oldest = queue.get("oldest_queued_age_s")
    db.execute(insert(heartbeats).values(kiosk_id=kiosk_id, received_at=now, body=body))
    horizon = dt.datetime.fromisoformat(now) - HEARTBEAT_HISTORY
    db.execute(delete(heartbeats).where(heartbeats.c.kiosk_id == kiosk_id,
                                        heartbeats.c.received_at < horizon.isoformat()))
    upsert(db, heartbeat_latest, {
        "kiosk_id": kiosk_id, "received_at": now, "version": beat.version, "queue_depth": depth,
        "oldest_queued_age_s": float(oldest) if isinstance(oldest, (int, float)) else None,
        "printer": beat.printer, "reader": beat.reader, "body": body,
    }, ["kiosk_id"])
    return audit_problem


def parse_cursor(text: str | None) -> int:
    """The statuses cursor as a number (empty = from the start); ValueError when it is not one.

    Plain ASCII digits only (no sign, spaces or other scripts' digits), at most the largest 64-bit integer.
    """
    if not text:
        return 0
    if len(text) > 19 or not (text.isascii() and text.isdigit()):
        raise ValueError("not a cursor")
    value = int(text)
    if value > MAX_CURSOR:
        raise ValueError("past the largest cursor")
    return value
