"""``kiosk hub migrate-db``: copy every row of one hub database into another, empty one.

The target gets the same schema first (Alembic, as ``init``), then each table is copied in pages
inside one transaction on the target: either every row arrives or none does. Row counts are compared
table by table afterwards, and PostgreSQL's sequences are moved past the copied ids.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, insert, select, text

from hub.schema import TABLES_IN_ORDER
from hub.store import HubDatabase

PAGE = 2000


class TransferError(RuntimeError):
    """The copy cannot start or did not arrive whole; the message says why."""


def copy_database(source: HubDatabase, target: HubDatabase,
                  progress: Callable[[str, int], None] = lambda _table, _rows: None) -> dict[str, int]:
    """Copy every table from ``source`` into the empty ``target``; rows per table."""
    if source.url == target.url:
        raise TransferError("the source and the target are the same database")
    with target.read() as db:
        filled = [t.name for t in TABLES_IN_ORDER
                  if t.name != "counters" and db.execute(select(func.count()).select_from(t)).scalar_one()]
    if filled:
        raise TransferError(f"the target is not empty ({', '.join(filled)}): give a new database")
    counts: dict[str, int] = {}
    with source.read() as src, target.write() as dst:
        for table in TABLES_IN_ORDER:
            if table.name == "counters":
                dst.execute(table.delete())  # the new database's own starting values make way for the pilot's
            copied = 0
            rows = src.execute(select(table)).mappings()
            while page := rows.fetchmany(PAGE):
                dst.execute(insert(table), [dict(r) for r in page])
                copied += len(page)
            counts[table.name] = copied
            progress(table.name, copied)
        if dst.dialect.name == "postgresql":
            for serial in ("heartbeats", "notifications", "office_audit"):
                dst.execute(text(f"SELECT setval(pg_get_serial_sequence('{serial}', 'id'),"
                                 f" GREATEST((SELECT MAX(id) FROM {serial}), 1))"))
    with target.read() as db:
        arrived = {t.name: db.execute(select(func.count()).select_from(t)).scalar_one() for t in TABLES_IN_ORDER}
    short = {name: (counts[name], arrived[name]) for name in counts if counts[name] != arrived[name]}
    if short:
        raise TransferError(f"row counts differ after the copy (sent, found): {short}")
    return counts
