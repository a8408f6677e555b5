"""The office's audit log: every action, append-only, each entry chained to the one before.

The database refuses to change or delete an entry (triggers, migration 0005); the chain of hashes
makes a rewrite by someone who drops the triggers visible: ``verify`` walks it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import Connection, insert, select, text

from hub.schema import office_audit

GENESIS = "0" * 64


def _entry_hash(previous: str, at: str, username: str, action: str, target: str | None, detail: str | None) -> str:
    blob = json.dumps([previous, at, username, action, target, detail], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def record(db: Connection, at: str, username: str, action: str, target: str | None = None,
           detail: dict[str, Any] | None = None) -> None:
    """Append one entry inside the caller's transaction (the action and its record commit together)."""
    a = office_audit.c
    if db.dialect.name == "postgresql":  # one writer of the chain at a time (SQLite's writes are one at a time)
        db.execute(text("LOCK TABLE office_audit IN SHARE ROW EXCLUSIVE MODE"))
    last = db.execute(select(a.hash).order_by(a.id.desc()).limit(1)).scalar()
    body = json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None
    db.execute(insert(office_audit).values(at=at, username=username, action=action, target=target, detail=body,
                                           hash=_entry_hash(last or GENESIS, at, username, action, target, body)))


def verify(db: Connection) -> int | None:
    """The id of the first entry whose hash does not follow from the one before, or None when whole."""
    previous = GENESIS
    for row in db.execute(select(office_audit).order_by(office_audit.c.id)):
        if row.hash != _entry_hash(previous, row.at, row.username, row.action, row.target, row.detail):
            return int(row.id)
        previous = row.hash
    return None
