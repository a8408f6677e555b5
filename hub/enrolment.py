"""Kiosk enrolment: one-time codes for technicians, device keys for kiosks, revocation."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from nacl.signing import VerifyKey

from hub.store import HubDatabase

# No 0/O, 1/I/L: a technician reads the code off a phone and types it on a touch screen.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12  # ~59 bits: with expiry and single use, guessing is hopeless
DEFAULT_CODE_VALIDITY = dt.timedelta(hours=24)


class EnrolmentRefused(Exception):
    """The enrolment cannot go ahead; ``reason`` is the word in the 403 answer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Kiosk:
    """An enrolled kiosk as the fleet view lists it."""

    id: str
    name: str
    enrolled_at: str
    revoked: bool


def normalise_code(code: str) -> str:
    """Upper case without the dashes and spaces people type."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _hash_code(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode("ascii", "replace")).hexdigest()


def make_code(store: HubDatabase, valid_for: dt.timedelta = DEFAULT_CODE_VALIDITY) -> str:
    """A new one-time enrolment code, e.g. ``ABCD-EFGH-JKMN``; only its hash is kept."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    now = store.clock()
    with store.write() as db:
        db.table("enrol_codes").insert({
            "code_hash": _hash_code(raw), "created_at": now.isoformat(),
            "expires_at": (now + valid_for).isoformat(), "spent_at": None, "kiosk_id": None,
        })
    return "-".join(raw[i:i + 4] for i in range(0, CODE_LENGTH, 4))


def enrol(store: HubDatabase, code: str, device_key: bytes, name: str) -> str:
    """Spend ``code`` for the kiosk holding ``device_key``; returns its kiosk id.

    Idempotent for the same device: a kiosk whose answer was lost on a bad link may ask again
    with the same code (or a new one) and gets the same kiosk id back.
    """
    now = store.clock()
    with store.write() as db:
        row = db.execute(
            "SELECT c.expires_at, c.spent_at, k.verify_key FROM enrol_codes c "
            "LEFT JOIN kiosks k ON k.id = c.kiosk_id WHERE c.code_hash = ?", [_hash_code(code)]
        ).fetchone()
        if row is None:
            raise EnrolmentRefused("bad_code")
        expires_at, spent_at, spent_by_key = row
        if spent_at is not None and spent_by_key != device_key:
            raise EnrolmentRefused("bad_code")
        if spent_at is None and dt.datetime.fromisoformat(expires_at) < now:
            raise EnrolmentRefused("bad_code")
        known = db.execute("SELECT id, revoked FROM kiosks WHERE verify_key = ?", [device_key]).fetchone()
        if known is not None and known[1]:
            raise EnrolmentRefused("revoked")
        if known is None:
            kiosk_id = "k-" + secrets.token_hex(8)
            db.table("kiosks").insert({"id": kiosk_id, "verify_key": device_key, "name": name[:100],
                                 "enrolled_at": now.isoformat(), "revoked": 0, "revoked_at": None})
        else:
            kiosk_id = known[0]
        if spent_at is None:
            db.execute("UPDATE enrol_codes SET spent_at = ?, kiosk_id = ? WHERE code_hash = ?",
                       [now.isoformat(), kiosk_id, _hash_code(code)])
    return kiosk_id


def verify_key_for(store: HubDatabase, kiosk_id: str) -> VerifyKey | None:
    """The device key of an enrolled, unrevoked kiosk, or None."""
    with store.read() as db:
        row = db.execute("SELECT verify_key FROM kiosks WHERE id = ? AND revoked = 0", [kiosk_id]).fetchone()
    return None if row is None else VerifyKey(row[0])


def revoke(store: HubDatabase, kiosk_id: str) -> bool:
    """Refuse every further request from this kiosk (a stolen one); False if unknown."""
    with store.write() as db:
        cursor = db.execute("UPDATE kiosks SET revoked = 1, revoked_at = ? WHERE id = ? AND revoked = 0",
                            [store.now(), kiosk_id])
    return cursor.rowcount == 1


def kiosks(store: HubDatabase) -> list[Kiosk]:
    """Every kiosk ever enrolled, oldest first."""
    with store.read() as db:
        rows = db.execute("SELECT id, name, enrolled_at, revoked FROM kiosks ORDER BY enrolled_at").fetchall()
    return [Kiosk(r[0], r[1] or "", r[2], bool(r[3])) for r in rows]
