"""Proof that the card was there: the login challenge the card signs, made evidence.

Web eID's authentication token is the model: the card's authentication certificate, the challenge
and the card's signature over it. At login the kiosk builds a ``Challenge`` that binds its own id,
a fresh session id, the time, random bytes and — when the hub answered moments before — a nonce
the hub issued (``POST /v1/presence-nonce``). The card signs the challenge's canonical bytes after
the PIN (RSA PKCS#1 v1.5 SHA-256, or ECDSA SHA-256) and the kiosk checks the signature before the
session starts. The ``PresenceToken`` travels sealed inside every request of that session, and to
the hub for "my requests"; the hub verifies it (``hub.presence``). A stolen kiosk's device key
signs requests but cannot make a card sign: without the card there is no token.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

FORMAT = "kiosk-presence-1"
# A request made later than this after login is not that session's (the idle timeout ends sessions long before).
SESSION_LIFETIME = dt.timedelta(hours=2)
HUB_NONCE_LIFETIME = dt.timedelta(minutes=10)  # the card must sign within this of the hub issuing the nonce
PAYLOAD_FIELD = "presence"  # where the token sits in a sealed payload

_WORD = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")  # ids, nonces and randoms: no separator can hide in them
_MAX_CERTIFICATE = 8192
_MAX_SIGNATURE = 1024


class PresenceMalformed(ValueError):
    """A token that cannot even be read: missing fields, wrong types, bad base64."""


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: object, limit: int) -> bytes:
    if not isinstance(text, str) or len(text) > limit * 2:
        raise PresenceMalformed("not base64 text")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise PresenceMalformed("not base64 text") from None
    if not raw or len(raw) > limit:
        raise PresenceMalformed("empty or too long")
    return raw


def _word(value: object, name: str) -> str:
    if not isinstance(value, str) or not _WORD.match(value):
        raise PresenceMalformed(f"{name} is not a plain word")
    return value


@dataclass(frozen=True)
class Challenge:
    """What the card signs at login."""

    kiosk_id: str
    session_id: str
    issued_at: dt.datetime  # UTC, whole seconds, on the kiosk's clock
    random: str
    hub_nonce: str | None = None

    @classmethod
    def fresh(cls, kiosk_id: str, now: dt.datetime, hub_nonce: str | None = None) -> Challenge:
        """A new session's challenge: a random session id and 32 random bytes."""
        return cls(kiosk_id, secrets.token_urlsafe(16), now.astimezone(dt.UTC).replace(microsecond=0),
                   secrets.token_urlsafe(32), hub_nonce)

    def to_be_signed(self) -> bytes:
        """The canonical bytes the card signs: one field per line, a fixed order, a format word first."""
        fields = (FORMAT, self.kiosk_id, self.session_id, self.issued_at.isoformat(), self.random,
                  self.hub_nonce or "-")
        return "\n".join(fields).encode("ascii")


@dataclass(frozen=True)
class PresenceToken:
    """The card's certificate, the challenge and the card's signature over it."""

    challenge: Challenge
    certificate: bytes  # DER, the card's authentication certificate
    signature: bytes

    @property
    def fingerprint(self) -> str:
        """The token's name at the hub (SHA-256 of the signature): one session, one fingerprint."""
        return hashlib.sha256(self.signature).hexdigest()

    def to_json(self) -> dict[str, Any]:
        """The token as it travels: plain JSON, binary in base64."""
        c = self.challenge
        value: dict[str, Any] = {
            "format": FORMAT, "kiosk_id": c.kiosk_id, "session_id": c.session_id,
            "issued_at": c.issued_at.isoformat(), "random": c.random,
            "certificate": _b64(self.certificate), "signature": _b64(self.signature),
        }
        if c.hub_nonce:
            value["hub_nonce"] = c.hub_nonce
        return value

    @classmethod
    def from_json(cls, value: object) -> PresenceToken:
        """Read a token (PresenceMalformed when its shape is wrong; nothing is verified here)."""
        if not isinstance(value, dict) or value.get("format") != FORMAT:
            raise PresenceMalformed("not a presence token")
        issued = value.get("issued_at")
        if not isinstance(issued, str):
            raise PresenceMalformed("issued_at is missing")
        try:
            issued_at = dt.datetime.fromisoformat(issued)
        except ValueError:
            raise PresenceMalformed("issued_at is not a time") from None
        if issued_at.tzinfo is None or issued_at.isoformat() != issued:  # one spelling: what was signed
            raise PresenceMalformed("issued_at is not in canonical form")
        nonce = value.get("hub_nonce")
        challenge = Challenge(
            _word(value.get("kiosk_id"), "kiosk_id"), _word(value.get("session_id"), "session_id"), issued_at,
            _word(value.get("random"), "random"), None if nonce is None else _word(nonce, "hub_nonce"))
        return cls(challenge, _unb64(value.get("certificate"), _MAX_CERTIFICATE),
                   _unb64(value.get("signature"), _MAX_SIGNATURE))


def holder_key(kiosk_id: str, certificate_der: bytes) -> str:
    """This kiosk's local name for a card holder's requests ("my requests" offline).

    A hash of the card's certificate, salted with the kiosk id: no secret on the kiosk, and nothing to
    try personal numbers against — a thief with the disk needs the person's certificate to find them.
    """
    digest = hashlib.sha256()
    for part in (b"kiosk-holder-1", kiosk_id.encode("utf-8"), certificate_der):
        digest.update(len(part).to_bytes(4, "big") + part)
    return digest.hexdigest()
