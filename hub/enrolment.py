"""Kiosk enrolment: one-time codes for technicians, device keys for kiosks, revocation."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from nacl.signing import VerifyKey
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from hub.schema import enrol_codes
from hub.schema import kiosks as kiosks_table
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
        db.execute(insert(enrol_codes).values(code_hash=_hash_code(raw), created_at=now.isoformat(),
                                              expires_at=(now + valid_for).isoformat()))
    return "-".join(raw[i:i + 4] for i in range(0, CODE_LENGTH, 4))


def enrol(store: HubDatabase, code: str, device_key: bytes, name: str) -> str:
    """Spend ``code`` for the kiosk holding ``device_key``; returns its kiosk id.

    Idempotent for the same device: a kiosk whose answer was lost on a bad link may ask again
    with the same code (or a new one) and gets the same kiosk id back. The code's row is locked for
    the transaction, so two hub processes cannot spend one code twice.
    """
    try:
        return _enrol_once(store, code, device_key, name)
    except IntegrityError:  # the same new device enrolled by another process a moment ago: now it is known
        return _enrol_once(store, code, device_key, name)


def _enrol_once(store: HubDatabase, code: str, device_key: bytes, name: str) -> str:
    now = store.clock()
    c, k = enrol_codes.c, kiosks_table.c
    with store.write() as db:
        row = db.execute(select(c.expires_at, c.spent_at, c.kiosk_id).where(c.code_hash == _hash_code(code))
                         .with_for_update()).first()
        if row is None:
            raise EnrolmentRefused("bad_code")
        spent_by_key = None if row.kiosk_id is None else db.execute(
            select(k.verify_key).where(k.id == row.kiosk_id)).scalar()
        if row.spent_at is not None and spent_by_key != device_key:
            raise EnrolmentRefused("bad_code")
        if row.spent_at is None and dt.datetime.fromisoformat(row.expires_at) < now:
            raise EnrolmentRefused("bad_code")
        known = db.execute(select(k.id, k.revoked).where(k.verify_key == device_key)).first()
        if known is not None and known.revoked:
            raise EnrolmentRefused("revoked")
        if known is None:
            kiosk_id = "k-" + secrets.token_hex(8)
            db.execute(insert(kiosks_table).values(id=kiosk_id, verify_key=device_key, name=name[:100],
                                                   enrolled_at=now.isoformat(), revoked=0))
        else:
            kiosk_id = known.id
        if row.spent_at is None:
            db.execute(update(enrol_codes).where(c.code_hash == _hash_code(code))
                       .values(spent_at=now.isoformat(), kiosk_id=kiosk_id))
    return str(kiosk_id)


def verify_key_for(store: HubDatabase, kiosk_id: str) -> VerifyKey | None:
    """The device key of an enrolled, unrevoked kiosk, or None."""
    k = kiosks_table.c
    with store.read() as db:
        key = db.execute(select(k.verify_key).where(k.id == kiosk_id, k.revoked == 0)).scalar()
    return None if key is None else VerifyKey(bytes(key))


def revoke(store: HubDatabase, kiosk_id: str) -> bool:
    """Refuse every further request from this kiosk (a stolen one); False if unknown."""
    k = kiosks_table.c
    with store.write() as db:
        changed = db.execute(update(kiosks_table).where(k.id == kiosk_id, k.revoked == 0)
                             .values(revoked=1, revoked_at=store.now())).rowcount
    return changed == 1


def kiosks(store: HubDatabase) -> list[Kiosk]:
    """Every kiosk ever enrolled, oldest first."""
    k = kiosks_table.c
    with store.read() as db:
        rows = db.execute(select(k.id, k.name, k.enrolled_at, k.revoked).order_by(k.enrolled_at, k.id)).all()
    return [Kiosk(r.id, r.name or "", r.enrolled_at, bool(r.revoked)) for r in rows]
