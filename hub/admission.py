"""What the hub checks inside a request before it keeps it.

It opens the sealed payload, names the citizen by the hub's own lookup key (an HMAC of the personal
number under a secret only the hub holds: "my requests" from every centre, and nothing on a kiosk to
try personal numbers against), and — when the hub has trust anchors — verifies the card's proof of
presence (``hub.presence``). All of it is CPU work done before the write transaction; what must be
decided by the database (a hub nonce spent by one session only) is done inside it, by ``intake``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
from dataclasses import dataclass
from typing import Any

from nacl.exceptions import CryptoError
from sqlalchemy import update

from hub.keys import HubKeys
from hub.presence import Presence, PresenceRefused, PresenceVerifier, check_request, personal_number_in
from hub.schema import submissions
from hub.store import HubDatabase
from protocol.presence import PAYLOAD_FIELD
from protocol.sealing import open_sealed

log = logging.getLogger(__name__)

LOOKUP_PURPOSE = "kiosk-hub citizen lookup v1"
_INDEX_PAGE = 500


@dataclass(frozen=True)
class Verdict:
    """One item's check: its citizen lookup, its verified session, or why it is refused."""

    citizen: str | None = None
    presence: Presence | None = None
    refused: str | None = None


class Admission:
    """Opens, names and (with anchors) checks the presence of each request of a batch."""

    def __init__(self, keys: HubKeys, presence: PresenceVerifier | None) -> None:
        self._seal_private = keys.seal_private
        self._lookup_key = keys.derived_key(LOOKUP_PURPOSE)
        self.presence = presence

    def citizen(self, personal_number: str) -> str:
        """The hub's lookup value for a personal number."""
        return hmac.new(self._lookup_key, personal_number.encode("utf-8"), hashlib.sha256).hexdigest()

    def open(self, sealed: bytes) -> dict[str, Any] | None:
        """A sealed payload opened, or None when it cannot be (another hub's key, damaged)."""
        try:
            payload = open_sealed(self._seal_private, sealed)
        except (CryptoError, ValueError, TypeError):
            return None
        return payload if isinstance(payload, dict) else None

    def check(self, kiosk_id: str, raw: Any) -> Verdict:
        """The verdict on one batch item as sent (its shape is checked by ``intake`` afterwards)."""
        sealed = raw.get("sealed") if isinstance(raw, dict) else None
        if not isinstance(sealed, str):
            return Verdict()
        try:
            payload = self.open(base64.b64decode(sealed, validate=True))
        except (binascii.Error, ValueError):
            return Verdict()  # the item's own validation says "bad base64"
        if payload is None:
            return Verdict(refused="sealed_unreadable")
        number = personal_number_in(payload)
        citizen = self.citizen(number) if number else ""
        if self.presence is None:
            return Verdict(citizen)
        if raw.get("synthetic") is True and payload.get("synthetic") is True:
            return Verdict(citizen)  # a technician's test request: no citizen, no clerk acts on it
        try:
            presence = self.presence.verify(payload.get(PAYLOAD_FIELD), kiosk_id=kiosk_id)
            check_request(presence, payload)
        except PresenceRefused as exc:
            return Verdict(citizen, refused=exc.reason)
        return Verdict(citizen, presence)


def index_missing(store: HubDatabase, admission: Admission) -> int:
    """Fill in the citizen lookup of requests stored before the hub kept one (at ``serve``'s start).

    A payload that cannot be opened gets "" so it is not tried again. Returns how many were filled.
    """
    s = submissions.c
    done = 0
    while True:
        with store.read() as db:
            rows = db.execute(submissions.select().with_only_columns(s.kiosk_id, s.id, s.sealed)
                              .where(s.citizen.is_(None)).limit(_INDEX_PAGE)).all()
        if not rows:
            return done
        with store.write() as db:
            for kiosk_id, request_id, sealed in rows:
                payload = admission.open(bytes(sealed))
                number = personal_number_in(payload) if payload else None
                db.execute(update(submissions).where(s.kiosk_id == kiosk_id, s.id == request_id)
                           .values(citizen=admission.citizen(number) if number else ""))
        done += len(rows)
        log.info("citizen lookup filled in for %s earlier requests", done)
