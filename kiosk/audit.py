"""The audit log: every privileged action, append-only and hash-chained, in its own SQLite file.

Each entry's ``hash`` is SHA-256 over the canonical JSON of its fields including ``prev_hash``,
the hash of the entry before it, so changing, removing, reordering or slipping in an entry
breaks the chain from that point on and ``verify`` names the first entry that no longer fits.
Triggers refuse UPDATE and DELETE, but the chain is the real guarantee: it does not trust the
file. Cutting entries off the end leaves a valid chain, which is why ``checkpoint()`` travels to
the hub with each heartbeat and ``verify(expected=...)`` compares against it.

Entries never hold personal data: actors are a role and a masked id, and ``append`` refuses any
detail that contains an 11-digit run (a personal number).
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import hashlib
import json
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

from protocol.wire import canonical_json

GENESIS_HASH = "0" * 64
PERSONAL_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{11}(?![0-9A-Za-z])")  # not inside a hex id or fingerprint
MIGRATIONS = Migrations("kiosk-audit")


@MIGRATIONS()
def m001_entries(db: sqlite_utils.Database) -> None:
    """The entries, and triggers that make the table append-only."""
    db.execute(
        """CREATE TABLE entries (seq INTEGER PRIMARY KEY, time TEXT NOT NULL, actor_role TEXT NOT NULL,
           actor_id TEXT NOT NULL, action TEXT NOT NULL, details TEXT NOT NULL, prev_hash TEXT NOT NULL,
           hash TEXT NOT NULL)"""
    )
    db.execute("CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries "
               "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END")
    db.execute("CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries "
               "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END")


class AuditAction(enum.Enum):
    """What was done; stored as text."""

    ROLE_LOGIN = "role.login"
    ROLE_REFUSED = "role.refused"
    ROLE_LOGOUT = "role.logout"
    PASSCODE_OK = "passcode.ok"
    PASSCODE_REFUSED = "passcode.refused"
    PASSCODE_LOCKED = "passcode.locked"
    ENROLMENT = "enrolment"
    CONFIG_CHANGED = "config.changed"
    REPRINT = "staff.reprint"
    CANCEL = "staff.cancel"
    ASSISTED_START = "assisted.start"
    ASSISTED_REQUEST = "assisted.request"
    ASSISTED_END = "assisted.end"
    DIAG_BUNDLE = "diag.bundle"
    DAY_SUMMARY = "staff.day_summary"


def mask_id(personal_number: str) -> str:
    """A personal number with all but its last four digits hidden: ``*******5083``."""
    return "*" * max(0, len(personal_number) - 4) + personal_number[-4:]


@dataclass(frozen=True)
class Actor:
    """Who acts: a role (``staff``, ``technician``, ``citizen``, ``system``) and a masked id."""

    role: str
    masked_id: str
    display_name: str = field(default="", compare=False)  # for the screen only; never written to the log

    @classmethod
    def system(cls) -> Actor:
        """The kiosk itself (start-up checks, detected changes)."""
        return cls("system", "-")


@dataclass(frozen=True)
class AuditEntry:
    """One link of the chain."""

    seq: int
    time: str
    actor_role: str
    actor_id: str
    action: str
    details: dict[str, Any]
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        """The entry as plain JSON-able data."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class Checkpoint:
    """The chain's head: its last sequence number and hash (0 and the genesis hash when empty)."""

    seq: int
    hash: str


@dataclass(frozen=True)
class Verification:
    """What ``verify`` found: ``broken_seq`` is the first entry that does not fit (None: intact)."""

    entries: int
    broken_seq: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        """True when the whole chain holds."""
        return self.broken_seq is None


def entry_hash(seq: int, time: str, actor_role: str, actor_id: str, action: str,
               details: Mapping[str, Any], prev_hash: str) -> str:
    """SHA-256 hex over the canonical JSON of an entry's fields."""
    body = {"seq": seq, "time": time, "actor_role": actor_role, "actor_id": actor_id, "action": action,
            "details": dict(details), "prev_hash": prev_hash}
    return hashlib.sha256(canonical_json(body)).hexdigest()


def _check_details(details: Mapping[str, Any]) -> None:
    text = json.dumps(details, ensure_ascii=False)
    if PERSONAL_NUMBER.search(text):
        raise ValueError("audit details must not contain a personal number")


def _row(row: tuple) -> AuditEntry:
    seq, time, role, actor_id, action, details, prev_hash, digest = row
    return AuditEntry(seq, time, role, actor_id, action, json.loads(details), prev_hash, digest)


class AuditLog:
    """The hash-chained log in one SQLite file (WAL, ``synchronous=FULL``)."""

    def __init__(self, path: Path, clock: Callable[[], dt.datetime], *, read_only: bool = False) -> None:
        """``read_only`` opens an existing log for reading only (``sqlite3.OperationalError`` when there is none):
        no migration, and ``append`` fails; for readers in another process, e.g. ``kiosk sync``'s heartbeat."""
        self.path = path
        self._clock = clock
        self._lock = threading.Lock()  # the sync thread reads checkpoints while the UI appends
        # The sync thread reads the chain head for the heartbeat; the lock serialises all use.
        if read_only:
            self.db = sqlite_utils.Database(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                                            check_same_thread=False))
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite_utils.Database(sqlite3.connect(str(path), check_same_thread=False))
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        MIGRATIONS.apply(self.db)

    def append(self, actor: Actor, action: AuditAction, details: Mapping[str, Any] | None = None) -> AuditEntry:
        """Add one entry durably after the current head; refuses details holding a personal number."""
        details = dict(details or {})
        _check_details(details)
        time = self._clock().astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")
        conn = self.db.conn
        with self._lock:
            # IMMEDIATE: another process (the CLI) appending at the same moment waits, so two
            # entries can never claim the same predecessor.
            conn.execute("BEGIN IMMEDIATE")
            try:
                head = conn.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
                seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
                digest = entry_hash(seq, time, actor.role, actor.masked_id, action.value, details, prev)
                conn.execute(
                    "INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (seq, time, actor.role, actor.masked_id, action.value,
                     canonical_json(details).decode("utf-8"), prev, digest),
                )
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        return AuditEntry(seq, time, actor.role, actor.masked_id, action.value, details, prev, digest)

    def _rows(self, sql: str, args: tuple = ()) -> list[AuditEntry]:
        with self._lock:
            return [_row(r) for r in self.db.conn.execute(sql, args).fetchall()]

    def entries(self, after_seq: int = 0) -> Iterator[AuditEntry]:
        """Entries in stored order (rowid), from ``after_seq`` on."""
        yield from self._rows(
            "SELECT seq, time, actor_role, actor_id, action, details, prev_hash, hash FROM entries "
            "WHERE seq > ? ORDER BY rowid", (after_seq,)
        )

    def tail(self, count: int = 50) -> list[AuditEntry]:
        """The last ``count`` entries, oldest first."""
        rows = self._rows(
            "SELECT seq, time, actor_role, actor_id, action, details, prev_hash, hash FROM entries "
            "ORDER BY seq DESC LIMIT ?", (count,)
        )
        return rows[::-1]

    def last(self, action: AuditAction) -> AuditEntry | None:
        """The newest entry of one kind."""
        rows = self._rows(
            "SELECT seq, time, actor_role, actor_id, action, details, prev_hash, hash FROM entries "
            "WHERE action = ? ORDER BY seq DESC LIMIT 1", (action.value,)
        )
        return rows[0] if rows else None

    def checkpoint(self) -> Checkpoint:
        """The head of the chain, for the heartbeat."""
        with self._lock:
            head = self.db.conn.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
        return Checkpoint(*head) if head else Checkpoint(0, GENESIS_HASH)

    def verify(self, expected: Checkpoint | None = None) -> Verification:
        """Walk the chain in stored order; name the first entry that was edited, removed, moved or added.

        ``expected`` (a checkpoint the hub holds) also catches entries cut off the end.
        """
        prev, want_seq, count = GENESIS_HASH, 1, 0
        by_seq: dict[int, str] = {}
        for entry in self.entries():
            count += 1
            if entry.seq != want_seq:  # seq is the rowid, so only a gap can show here
                return Verification(count, want_seq, f"entry {want_seq} is missing (deleted): "
                                    f"entry {entry.seq} follows entry {want_seq - 1}")
            if entry.prev_hash != prev:
                return Verification(count, entry.seq, f"entry {entry.seq} does not link to entry {entry.seq - 1}")
            digest = entry_hash(entry.seq, entry.time, entry.actor_role, entry.actor_id, entry.action,
                                entry.details, entry.prev_hash)
            if digest != entry.hash:
                return Verification(count, entry.seq, f"entry {entry.seq} was changed after it was written")
            by_seq[entry.seq] = entry.hash
            prev, want_seq = entry.hash, want_seq + 1
        if expected is not None and expected.seq > 0:
            if by_seq.get(expected.seq) != expected.hash:
                return Verification(count, min(expected.seq, want_seq),
                                    f"checkpoint {expected.seq} does not match: entries were cut off or replaced")
        return Verification(count)

    def close(self) -> None:
        """Close the file."""
        self.db.close()


def record_configuration(log: AuditLog, config_view: Mapping[str, Any]) -> AuditEntry | None:
    """Log a ``config.changed`` entry when the configuration differs from the last one logged.

    ``config_view`` is the configuration with secrets already hidden; only the names of the
    settings that changed are written, with a digest of the whole, never their values.
    """
    flat = _flatten(config_view)
    # base64, not hex: 16 hex characters too often hold an 11-digit run, which details refuse
    digests = {key: base64.urlsafe_b64encode(hashlib.sha256(canonical_json(value)).digest()[:9]).decode()
               for key, value in flat.items()}
    previous = log.last(AuditAction.CONFIG_CHANGED)
    before = previous.details.get("digests", {}) if previous else {}
    if before == digests:
        return None
    changed = sorted(k for k in set(before) | set(digests) if before.get(k) != digests.get(k))
    return log.append(Actor.system(), AuditAction.CONFIG_CHANGED,
                      {"changed": changed if previous else ["(first start)"], "digests": digests})


def _flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, Mapping):
            out.update(_flatten(item, f"{name}."))
        else:
            out[name] = item
    return out


def open_audit_log(data_dir: Path, clock: Callable[[], dt.datetime], *, read_only: bool = False) -> AuditLog:
    """The kiosk's audit log, ``<data_dir>/audit.sqlite`` (``read_only``: an existing one, for reading)."""
    return AuditLog(data_dir / "audit.sqlite", clock, read_only=read_only)
