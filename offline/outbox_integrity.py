"""A damaged outbox file is found at open, set aside (never deleted), and the kiosk stops taking requests.

A power cut during a write cannot corrupt SQLite in WAL mode with ``synchronous=FULL``; a failing
SD card or disk can. Then the file (with its ``-wal`` and ``-shm``) is renamed to
``outbox.sqlite.corrupt-<UTC time>`` for a technician to rescue what can be rescued, and a marker
file ``outbox.sqlite.corrupted`` keeps the kiosk from starting a fresh queue on its own: a fresh
queue would restart the day's receipt numbers and hide that requests may be lost.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from pathlib import Path

from offline.atomic_files import fsync_dir, write_atomic

# SQLite's primary result codes for a damaged file (sqlite3.h): SQLITE_CORRUPT, SQLITE_NOTADB.
_CORRUPT_CODES = {11, 26}


class OutboxCorrupted(Exception):
    """The outbox file is damaged and was set aside: no request can be taken until a technician looks."""

    translation_key = "error.outbox_corrupted"

    def __init__(self, moved_to: str | None) -> None:
        super().__init__(f"outbox damaged; set aside as {moved_to}")
        self.moved_to = moved_to

    @property
    def params(self) -> dict[str, object]:
        """Values the translated message may use."""
        return {}


def is_corruption(exc: sqlite3.DatabaseError) -> bool:
    """True for "file is not a database" / "database disk image is malformed", not for locks or a full disk."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in _CORRUPT_CODES


def marker_path(path: Path) -> Path:
    """The file that says "this outbox was set aside; wait for a technician"."""
    return path.with_name(path.name + ".corrupted")


def check_marker(path: Path) -> None:
    """Raise ``OutboxCorrupted`` while an earlier set-aside has not been cleared by a technician."""
    marker = marker_path(path)
    if marker.exists():
        try:
            moved_to = json.loads(marker.read_text(encoding="utf-8")).get("moved_to")
        except (OSError, ValueError):
            moved_to = None
        raise OutboxCorrupted(moved_to)


def set_aside(path: Path, now: dt.datetime) -> Path:
    """Rename the damaged file and its WAL/SHM out of the way, leave the marker, return the new name."""
    stamp = now.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    # The -wal keeps its SQLite name next to the set-aside file, so opening that file replays it.
    for suffix in ("-wal", "-shm"):
        sibling = path.with_name(path.name + suffix)
        if sibling.exists():
            os.replace(sibling, aside.with_name(aside.name + suffix))
    if path.exists():
        os.replace(path, aside)
    write_atomic(marker_path(path), json.dumps({"moved_to": aside.name, "at": now.isoformat()}).encode("utf-8"))
    return aside


def clear_marker(path: Path) -> str | None:
    """A technician has dealt with the set-aside file: allow a fresh outbox. Returns what was set aside."""
    marker = marker_path(path)
    try:
        moved_to = json.loads(marker.read_text(encoding="utf-8")).get("moved_to")
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        moved_to = None
    marker.unlink()
    fsync_dir(path.parent)
    return moved_to
