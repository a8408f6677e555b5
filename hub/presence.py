"""The hub's side of the proof of presence: it issues nonces and verifies the card's tokens.

A nonce needs no table: it is the issue time, random bytes and a MAC (under a key derived from the
hub's sealing key) over them and the kiosk's id, so any worker can check any nonce. A token is
verified against the trust anchors *at the time the card signed* (requests arrive days later from
offline kiosks), then bound to the kiosk that sends it and to the request's own time; the table
``presence_sessions`` makes each hub nonce serve one session only (``record_session``).

Refusal reasons are words a member of staff can read next to the request (``presence_...``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from hub.keys import HubKeys
from hub.schema import presence_sessions
from protocol.certificates import PathUntrusted, TrustAnchors, card_signature_valid, personal_number
from protocol.presence import HUB_NONCE_LIFETIME, SESSION_LIFETIME, PresenceMalformed, PresenceToken

NONCE_PURPOSE = "kiosk-hub presence nonce v1"  # the nonces' MAC key, derived from the hub's sealing key
MAX_CLOCK_SKEW = dt.timedelta(minutes=5)  # between a kiosk's clock and the hub's, for the nonce window
_CACHE = 4096  # tokens whose path and signature already verified (each session sends several requests)


class PresenceRefused(Exception):
    """The proof does not hold; ``reason`` is the word the kiosk and the back office show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Presence:
    """A verified token: who the card says, and the session it opened."""

    personal_number: str
    fingerprint: str
    session_id: str
    issued_at: dt.datetime
    hub_nonce: str | None


class NonceIssuer:
    """Stateless hub nonces: ``<issued unix seconds>.<random>.<MAC>``, bound to one kiosk."""

    def __init__(self, key: bytes, clock: Callable[[], dt.datetime]) -> None:
        self._key = key
        self._clock = clock

    def _mac(self, kiosk_id: str, issued: int, random: str) -> str:
        mac = hmac.new(self._key, f"{kiosk_id}\n{issued}\n{random}".encode(), hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")

    def issue(self, kiosk_id: str) -> tuple[str, dt.datetime]:
        """A fresh nonce for ``kiosk_id`` and when it stops being accepted."""
        now = self._clock()
        issued, random = int(now.timestamp()), secrets.token_urlsafe(16)
        return f"{issued}.{random}.{self._mac(kiosk_id, issued, random)}", now + HUB_NONCE_LIFETIME

    def issued_at(self, nonce: str, kiosk_id: str) -> dt.datetime:
        """When the hub issued ``nonce`` to ``kiosk_id``; PresenceRefused("presence_bad_nonce") if it did not."""
        try:
            issued_text, random, mac = nonce.split(".")
            issued = int(issued_text)
            ok = hmac.compare_digest(mac, self._mac(kiosk_id, issued, random))
            when = dt.datetime.fromtimestamp(issued, dt.UTC)
        except (ValueError, OverflowError, OSError, binascii.Error):
            ok = False
        if not ok:
            raise PresenceRefused("presence_bad_nonce")
        return when


class PresenceVerifier:
    """Checks tokens: shape, kiosk, hub nonce, certificate path at signing time, signature, personal number."""

    def __init__(self, anchors: list[x509.Certificate], nonces: NonceIssuer, *,
                 number_field: str = "serialNumber") -> None:
        self._anchors = TrustAnchors(anchors)
        self.nonces = nonces
        self._number_field = number_field
        self._verified: OrderedDict[str, str] = OrderedDict()  # fingerprint → personal number

    def verify(self, value: Any, *, kiosk_id: str, fresh_at: dt.datetime | None = None) -> Presence:
        """The token ``value`` (JSON), sent by ``kiosk_id``; PresenceRefused with the reason otherwise.

        ``fresh_at``: the token must carry a hub nonce issued at most ``HUB_NONCE_LIFETIME`` before this
        time ("my requests", answered only to a card that is at the kiosk now).
        """
        if value is None:
            raise PresenceRefused("presence_missing")
        try:
            token = PresenceToken.from_json(value)
        except PresenceMalformed:
            raise PresenceRefused("presence_malformed") from None
        challenge = token.challenge
        if challenge.kiosk_id != kiosk_id:
            raise PresenceRefused("presence_other_kiosk")
        if challenge.hub_nonce is not None:
            nonce_at = self.nonces.issued_at(challenge.hub_nonce, kiosk_id)
            if not nonce_at - MAX_CLOCK_SKEW <= challenge.issued_at <= nonce_at + HUB_NONCE_LIFETIME + MAX_CLOCK_SKEW:
                raise PresenceRefused("presence_stale_nonce")
            if fresh_at is not None and fresh_at - nonce_at > HUB_NONCE_LIFETIME:
                raise PresenceRefused("presence_stale_nonce")
        elif fresh_at is not None:
            raise PresenceRefused("presence_no_hub_nonce")
        number = self._verified.get(token.fingerprint)
        if number is None:
            number = self._verify_card(token)
            self._verified[token.fingerprint] = number
            if len(self._verified) > _CACHE:
                self._verified.popitem(last=False)
        return Presence(number, token.fingerprint, challenge.session_id, challenge.issued_at, challenge.hub_nonce)

    def _verify_card(self, token: PresenceToken) -> str:
        try:
            cert = x509.load_der_x509_certificate(token.certificate)
        except ValueError:
            raise PresenceRefused("presence_malformed") from None
        try:
            self._anchors.verify_path(cert, token.challenge.issued_at)
        except PathUntrusted:
            raise PresenceRefused("presence_untrusted") from None
        if not card_signature_valid(cert, token.challenge.to_be_signed(), token.signature):
            raise PresenceRefused("presence_bad_signature")
        try:
            return personal_number(cert, self._number_field)
        except ValueError:
            raise PresenceRefused("presence_no_personal_number") from None


def verifier_for(keys: HubKeys, anchors: list[x509.Certificate], clock: Callable[[], dt.datetime], *,
                 number_field: str = "serialNumber") -> PresenceVerifier:
    """The verifier of a hub with these keys and trust anchors."""
    return PresenceVerifier(anchors, NonceIssuer(keys.derived_key(NONCE_PURPOSE), clock), number_field=number_field)


def personal_number_in(payload: dict[str, Any]) -> str | None:
    """The citizen's personal number in a request's payload, if it has one."""
    citizen = payload.get("citizen")
    number = citizen.get("personal_number") if isinstance(citizen, dict) else None
    return number if isinstance(number, str) else None


def check_request(presence: Presence, payload: dict[str, Any]) -> None:
    """A request's payload against its session's proof: the same person, made within the session."""
    if personal_number_in(payload) != presence.personal_number:
        raise PresenceRefused("presence_other_person")
    made = payload.get("submitted_at")
    try:
        made_at = dt.datetime.fromisoformat(made) if isinstance(made, str) else None
    except ValueError:
        made_at = None
    if made_at is None or made_at.tzinfo is None:
        raise PresenceRefused("presence_outside_session")
    if not presence.issued_at <= made_at <= presence.issued_at + SESSION_LIFETIME:
        raise PresenceRefused("presence_outside_session")


def record_session(db: Connection, presence: Presence, kiosk_id: str, now: str) -> None:
    """Remember the session (inside the caller's transaction); a hub nonce already spent by another
    session → PresenceRefused("presence_nonce_reused"). The same session again is fine."""
    p = presence_sessions.c
    if db.execute(select(p.token).where(p.token == presence.fingerprint)).first() is not None:
        return
    row = {"token": presence.fingerprint, "kiosk_id": kiosk_id, "session_id": presence.session_id,
           "hub_nonce": presence.hub_nonce, "issued_at": presence.issued_at.isoformat(), "first_seen_at": now}
    try:
        with db.begin_nested():  # a savepoint: on PostgreSQL a failed insert would spoil the transaction
            db.execute(insert(presence_sessions).values(**row))
    except IntegrityError:
        if db.execute(select(p.token).where(p.token == presence.fingerprint)).first() is None:
            raise PresenceRefused("presence_nonce_reused") from None
