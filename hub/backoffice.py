"""The back office: figures, the fleet, the list of submissions, opening one, changing its state."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update

from hub.keys import HubKeys
from hub.models import HubState
from hub.schema import (
    audit_heads,
    counters,
    duplicates,
    heartbeat_latest,
    kiosks,
    notifications,
    rejections,
    submissions,
)
from hub.store import HubDatabase
from protocol.sealing import open_sealed

_s = submissions.c
_SUMMARY = (_s.id, _s.kiosk_id, _s.receipt_no, _s.service, _s.created_at, _s.received_at, _s.state, _s.reason,
            _s.changed_at, _s.synthetic)


class UnknownSubmission(KeyError):
    """No submission has this id (from that kiosk)."""


class AmbiguousSubmission(LookupError):
    """More than one kiosk sent a request with this id: name the kiosk too."""

    def __init__(self, submission_id: str, kiosk_ids: list[str]) -> None:
        super().__init__(submission_id)
        self.kiosk_ids = kiosk_ids


def stats(store: HubDatabase) -> dict[str, Any]:
    """Submissions stored, re-sends answered ``duplicate``, counts per state, kiosks."""
    with store.read() as db:
        total = db.execute(select(func.count()).select_from(submissions)).scalar_one()
        resent = db.execute(select(func.coalesce(func.sum(duplicates.c.count), 0))).scalar_one()
        per_state = {row[0]: row[1] for row in db.execute(select(_s.state, func.count()).group_by(_s.state))}
        synthetic = db.execute(select(func.count()).select_from(submissions).where(_s.synthetic == 1)).scalar_one()
        refused = {row[0]: int(row[1]) for row in db.execute(select(rejections.c.reason, rejections.c.count))}
        fleet_size = db.execute(select(func.count(), func.coalesce(func.sum(kiosks.c.revoked), 0))).one()
    return {
        "submissions": int(total),
        "duplicates": int(resent),
        "rejections": refused,
        "states": {s.value: int(per_state.get(s.value, 0)) for s in HubState},
        "synthetic": int(synthetic),
        "kiosks": int(fleet_size[0]),
        "kiosks_revoked": int(fleet_size[1]),
    }


def fleet(store: HubDatabase) -> list[dict[str, Any]]:
    """Every kiosk with its last heartbeat: when, version, queue depth, printer and reader state, and
    whether its audit chain's head ever went back or forked (``audit_problem``)."""
    now = store.clock()
    k, h, a = kiosks.c, heartbeat_latest.c, audit_heads.c
    with store.read() as db:
        rows = db.execute(
            select(k.id, k.name, k.enrolled_at, k.revoked, h.received_at, h.version, h.queue_depth,
                   h.oldest_queued_age_s, h.printer, h.reader, h.body, a.problem, a.problem_at)
            .select_from(kiosks.outerjoin(heartbeat_latest, h.kiosk_id == k.id)
                         .outerjoin(audit_heads, a.kiosk_id == k.id))
            .order_by(k.name, k.id)
        ).all()
    fleet_rows = []
    for r in rows:
        body = json.loads(r[10]) if r[10] else {}
        fleet_rows.append({
            "kiosk_id": r[0], "name": r[1] or "", "enrolled_at": r[2], "revoked": bool(r[3]),
            "last_heartbeat": r[4],
            "heartbeat_age_s": None if r[4] is None else round((now - dt.datetime.fromisoformat(r[4])).total_seconds()),
            "version": r[5], "queue_depth": r[6], "oldest_queued_age_s": r[7],
            "printer": r[8], "reader": r[9], "audit_checkpoint": body.get("audit_checkpoint"),
            "audit_problem": r[11], "audit_problem_at": r[12],  # went_back | forked: the chain was rewritten
        })
    return fleet_rows


def _summary(row: Row[Any, *tuple[Any, ...]]) -> dict[str, Any]:
    out = {column.name: row._mapping[column.name] for column in _SUMMARY}
    out["synthetic"] = bool(out["synthetic"])
    return out


def list_submissions(
    store: HubDatabase, state: HubState | None = None, kiosk_id: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Newest first, optionally by state and kiosk: clear-text facts only, never the sealed payload."""
    query = select(*_SUMMARY)
    if state is not None:
        query = query.where(_s.state == state.value)
    if kiosk_id is not None:
        query = query.where(_s.kiosk_id == kiosk_id)
    with store.read() as db:
        rows = db.execute(query.order_by(_s.received_at.desc(), _s.kiosk_id, _s.id).limit(limit)).all()
    return [_summary(r) for r in rows]


def _which_kiosk(db: Connection, submission_id: str, kiosk_id: str | None) -> str:
    """The kiosk whose request ``submission_id`` is: given, or the only one holding that id."""
    query = select(_s.kiosk_id).where(_s.id == submission_id)
    if kiosk_id is not None:
        query = query.where(_s.kiosk_id == kiosk_id)
    holders = sorted(db.execute(query).scalars())
    if not holders:
        raise UnknownSubmission(submission_id)
    if len(holders) > 1:
        raise AmbiguousSubmission(submission_id, holders)
    return str(holders[0])


def open_submission(store: HubDatabase, keys: HubKeys, submission_id: str,
                    kiosk_id: str | None = None) -> dict[str, Any]:
    """The submission's facts and its payload, opened with the hub's private key."""
    with store.read() as db:
        kiosk_id = _which_kiosk(db, submission_id, kiosk_id)
        row = db.execute(select(*_SUMMARY, _s.sealed).where(_s.kiosk_id == kiosk_id, _s.id == submission_id)).one()
    out = _summary(row)
    out["payload"] = open_sealed(keys.seal_private, bytes(row.sealed))
    return out


def next_status_seq(db: Connection) -> int:
    """The next status number, taken under the counter's row lock (held until commit).

    A second transaction waits for the first to commit before it gets its number, so numbers become
    visible in order and a kiosk's ``since`` cursor never skips a change committed late.
    """
    row = db.execute(update(counters).where(counters.c.name == "status_seq")
                     .values(value=counters.c.value + 1).returning(counters.c.value)).first()
    if row is None:
        raise RuntimeError("the counters table has no status_seq row: run `kiosk hub init`")
    return int(row[0])


class StatusConflict(Exception):
    """The request changed since the clerk looked at it: ``state`` is what it is now."""

    def __init__(self, state: str) -> None:
        super().__init__(state)
        self.state = state


_ANY = object()


def set_status(store: HubDatabase, submission_id: str, state: HubState, reason: str | None = None,
               kiosk_id: str | None = None, *, expect_seq: object = _ANY,
               also: Callable[[Connection], None] | None = None) -> int:
    """Change a submission's state; it enters the statuses feed of the kiosk that sent it. Returns its status number.

    ``expect_seq``: the status number the change was decided on (None: never changed); when the request
    moved on meanwhile, ``StatusConflict`` and nothing changes (two clerks never overwrite each other).
    ``also(db)`` runs in the same transaction (the office's audit entry).
    """
    now = store.now()
    with store.write() as db:
        kiosk_id = _which_kiosk(db, submission_id, kiosk_id)
        where = [_s.kiosk_id == kiosk_id, _s.id == submission_id]
        if expect_seq is not _ANY:
            where.append(_s.status_seq.is_not_distinct_from(expect_seq))
        seq = next_status_seq(db)
        done = db.execute(update(submissions).where(*where)
                          .values(state=state.value, reason=reason, changed_at=now, status_seq=seq))
        if done.rowcount == 0:
            current = db.execute(select(_s.state).where(_s.kiosk_id == kiosk_id, _s.id == submission_id)).scalar_one()
            raise StatusConflict(current)  # the transaction rolls back: the status number taken too
        if state is not HubState.RECEIVED:  # one SMS per change, sent by a serving hub (hub.notifier)
            db.execute(insert(notifications).values(kiosk_id=kiosk_id, submission_id=submission_id, status_seq=seq,
                                                    state=state.value, created_at=now, next_attempt_at=now))
        if also is not None:
            also(db)
    return seq
