"""The back office: figures, the fleet, the list of submissions, opening one, changing its state."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from hub.keys import HubKeys
from hub.models import HubState
from hub.store import HubDatabase
from protocol.sealing import open_sealed

_SUMMARY = "id, kiosk_id, receipt_no, service, created_at, received_at, state, reason, changed_at, synthetic"


class UnknownSubmission(KeyError):
    """No submission has this id."""


def stats(store: HubDatabase) -> dict[str, Any]:
    """Submissions stored, re-sends answered ``duplicate``, counts per state, kiosks."""
    with store.read() as db:
        total = db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]
        duplicates = db.execute("SELECT COALESCE(SUM(count), 0) FROM duplicates").fetchone()[0]
        per_state = dict(db.execute("SELECT state, COUNT(*) FROM submissions GROUP BY state").fetchall())
        synthetic = db.execute("SELECT COUNT(*) FROM submissions WHERE synthetic = 1").fetchone()[0]
        kiosks = db.execute("SELECT COUNT(*), COALESCE(SUM(revoked), 0) FROM kiosks").fetchone()
    return {
        "submissions": total,
        "duplicates": duplicates,
        "states": {s.value: per_state.get(s.value, 0) for s in HubState},
        "synthetic": synthetic,
        "kiosks": kiosks[0],
        "kiosks_revoked": kiosks[1],
    }


def fleet(store: HubDatabase) -> list[dict[str, Any]]:
    """Every kiosk with its last heartbeat: when, version, queue depth, printer and reader state, and
    whether its audit chain's head ever went back or forked (``audit_problem``)."""
    now = store.clock()
    with store.read() as db:
        rows = db.execute(
            "SELECT k.id, k.name, k.enrolled_at, k.revoked, h.received_at, h.version, h.queue_depth,"
            " h.oldest_queued_age_s, h.printer, h.reader, h.body, a.problem, a.problem_at FROM kiosks k"
            " LEFT JOIN heartbeat_latest h ON h.kiosk_id = k.id"
            " LEFT JOIN audit_heads a ON a.kiosk_id = k.id ORDER BY k.name, k.id"
        ).fetchall()
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


def _summary(row: tuple) -> dict[str, Any]:
    keys = [k.strip() for k in _SUMMARY.split(",")]
    out = dict(zip(keys, row, strict=True))
    out["synthetic"] = bool(out["synthetic"])
    return out


def list_submissions(
    store: HubDatabase, state: HubState | None = None, kiosk_id: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Newest first, optionally by state and kiosk: clear-text facts only, never the sealed payload."""
    where, args = [], []
    if state is not None:
        where.append("state = ?")
        args.append(state.value)
    if kiosk_id is not None:
        where.append("kiosk_id = ?")
        args.append(kiosk_id)
    sql = f"SELECT {_SUMMARY} FROM submissions"
    if where:
        sql += " WHERE " + " AND ".join(where)
    with store.read() as db:
        rows = db.execute(sql + " ORDER BY received_at DESC, id LIMIT ?", [*args, limit]).fetchall()
    return [_summary(r) for r in rows]


def open_submission(store: HubDatabase, keys: HubKeys, submission_id: str) -> dict[str, Any]:
    """The submission's facts and its payload, opened with the hub's private key."""
    with store.read() as db:
        row = db.execute(f"SELECT {_SUMMARY}, sealed FROM submissions WHERE id = ?", [submission_id]).fetchone()
    if row is None:
        raise UnknownSubmission(submission_id)
    out = _summary(row[:-1])
    out["payload"] = open_sealed(keys.seal_private, bytes(row[-1]))
    return out


def set_status(store: HubDatabase, submission_id: str, state: HubState, reason: str | None = None) -> None:
    """Change a submission's state; it enters the statuses feed of the kiosk that sent it."""
    with store.write() as db:
        cursor = db.execute(
            "UPDATE submissions SET state = ?, reason = ?, changed_at = ?,"
            " status_seq = (SELECT COALESCE(MAX(status_seq), 0) + 1 FROM submissions) WHERE id = ?",
            [state.value, reason, store.now(), submission_id],
        )
        if cursor.rowcount != 1:
            raise UnknownSubmission(submission_id)
