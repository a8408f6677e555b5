"""The kiosk ↔ hub sync protocol: names, limits, and request signing, shared by both sides.

Every call except enrolment is signed by the kiosk's Ed25519 device key over a canonical string::

    KIOSK-SIG-1\\n<METHOD>\\n<path with query>\\n<date>\\n<nonce>\\n<sha256 hex of the body as sent>

and carries ``X-Kiosk-Key`` (the kiosk id the hub gave at enrolment), ``X-Kiosk-Date`` (UTC,
ISO 8601 with ``Z``), ``X-Kiosk-Nonce`` (32 hex digits, single use) and ``X-Kiosk-Signature``
(base64). The hub refuses unknown keys, bad signatures, dates more than ``MAX_CLOCK_SKEW_S`` away
from its own clock, and a nonce it has already seen from that kiosk (replay).

Documents the hub hands out for offline use (the role list, the catalogue, the CRL bundle) are
signed with the hub's own Ed25519 key, pinned by the kiosk at enrolment: ``X-Hub-Signature``
is the base64 signature of the response body bytes.
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

VERSION = "KIOSK-SIG-1"
API_PREFIX = "/v1"

HEADER_KEY = "X-Kiosk-Key"
HEADER_DATE = "X-Kiosk-Date"
HEADER_NONCE = "X-Kiosk-Nonce"
HEADER_SIGNATURE = "X-Kiosk-Signature"
HEADER_HUB_SIGNATURE = "X-Hub-Signature"

MAX_CLOCK_SKEW_S = 300  # kiosks keep time by NTP when online; five minutes either way is allowed
MAX_BATCH_ITEMS = 500  # the hub answers 413 above this
MAX_BODY_BYTES = 4_000_000  # uncompressed request body; the hub answers 413 above this


class ItemResult(enum.Enum):
    """The hub's verdict on one submission of a batch."""

    ACCEPTED = "accepted"  # stored now
    DUPLICATE = "duplicate"  # the hub already had this id: the kiosk treats it as delivered
    REJECTED = "rejected"  # refused for good, with a reason (bad item); the kiosk stops sending it


class SignatureProblem(Exception):
    """A signed request cannot be accepted; ``reason`` is a short machine word for the 401 body."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON bytes (sorted keys, no spaces, UTF-8) for hashing and signing."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def format_date(when: dt.datetime) -> str:
    """UTC ISO 8601 with a trailing Z, second precision."""
    return when.astimezone(dt.timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _string_to_sign(method: str, path: str, date: str, nonce: str, body: bytes) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return "\n".join((VERSION, method.upper(), path, date, nonce, digest)).encode("utf-8")


def sign_request(
    key: SigningKey, key_id: str, method: str, path: str, body: bytes, now: dt.datetime
) -> dict[str, str]:
    """The four headers that authenticate one request (``path`` includes any query string)."""
    date = format_date(now)
    nonce = secrets.token_hex(16)
    signature = key.sign(_string_to_sign(method, path, date, nonce, body)).signature
    return {
        HEADER_KEY: key_id,
        HEADER_DATE: date,
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: base64.b64encode(signature).decode("ascii"),
    }


@dataclass(frozen=True)
class SignedBy:
    """Who signed a request that verified, and its nonce (for the hub's replay check)."""

    key_id: str
    nonce: str
    date: dt.datetime


def verify_request(
    headers: Mapping[str, str],
    method: str,
    path: str,
    body: bytes,
    verify_key_for: Any,
    now: dt.datetime,
) -> SignedBy:
    """Check the signature headers; ``verify_key_for(key_id)`` returns a ``VerifyKey`` or None.

    Raises ``SignatureProblem`` with one of ``missing_headers``, ``unknown_kiosk``, ``bad_date``,
    ``stale_date``, ``bad_nonce``, ``bad_signature``. The replay check (nonce already seen) is the
    caller's, since only it keeps state.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        key_id = lowered[HEADER_KEY.lower()]
        date = lowered[HEADER_DATE.lower()]
        nonce = lowered[HEADER_NONCE.lower()]
        signature = base64.b64decode(lowered[HEADER_SIGNATURE.lower()], validate=True)
    except (KeyError, ValueError):
        raise SignatureProblem("missing_headers") from None
    verify_key = verify_key_for(key_id)
    if verify_key is None:
        raise SignatureProblem("unknown_kiosk")
    try:
        when = dt.datetime.strptime(date, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        raise SignatureProblem("bad_date") from None
    if abs((now - when).total_seconds()) > MAX_CLOCK_SKEW_S:
        raise SignatureProblem("stale_date")
    if len(nonce) != 32 or any(c not in "0123456789abcdef" for c in nonce):
        raise SignatureProblem("bad_nonce")
    try:
        verify_key.verify(_string_to_sign(method, path, date, nonce, body), signature)
    except (BadSignatureError, ValueError):  # ValueError: a signature that is not 64 bytes long
        raise SignatureProblem("bad_signature") from None
    return SignedBy(key_id, nonce, when)


ANSWER_VERSION = "KIOSK-ANSWER-1"


def _answer_to_sign(nonce: str, status: int, body: bytes) -> bytes:
    return "\n".join((ANSWER_VERSION, nonce, str(status), hashlib.sha256(body).hexdigest())).encode("utf-8")


def sign_answer(key: SigningKey, nonce: str, status: int, body: bytes) -> str:
    """The hub's ``X-Hub-Signature`` over an answer: the request's nonce, the status and the body.

    Bound to the nonce, an answer cannot be replayed to another request; signed by the key the kiosk
    pinned at enrolment, it cannot come from anyone else (a fake hub behind a swapped URL).
    """
    return base64.b64encode(key.sign(_answer_to_sign(nonce, status, body)).signature).decode("ascii")


def verify_answer(key: VerifyKey, nonce: str, status: int, body: bytes, signature: str) -> bool:
    """True when ``signature`` is the pinned hub key's signature of this answer to the request with ``nonce``."""
    try:
        key.verify(_answer_to_sign(nonce, status, body), base64.b64decode(signature, validate=True))
    except (BadSignatureError, ValueError):
        return False
    return True


def sign_document(key: SigningKey, body: bytes) -> str:
    """The hub's ``X-Hub-Signature`` over a document it hands out."""
    return base64.b64encode(key.sign(body).signature).decode("ascii")


def verify_document(key: VerifyKey, body: bytes, signature: str) -> bool:
    """True when ``signature`` (base64) is the pinned hub key's signature of ``body``."""
    try:
        key.verify(body, base64.b64decode(signature, validate=True))
    except (BadSignatureError, ValueError):
        return False
    return True
