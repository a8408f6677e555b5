"""Enrolment: this kiosk gets its Ed25519 device key, a kiosk id, and pins the hub's two keys.

``kiosk enroll --hub URL --code CODE`` spends a one-time code made by the hub. The device key
is made first and kept as ``device-pending.key`` until the enrolment is written, so a kiosk
whose answer was lost on a bad link (or that was killed) asks again with the same key, and the
hub, which is idempotent per device key, gives the same kiosk id back. Files in ``data_dir``:

* ``enrollment.json`` — hub URL, kiosk id, the hub's sealing (X25519) and signing (Ed25519) keys;
* ``device-<fingerprint>.key`` — the device key's 32-byte seed, mode 0600.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import urllib.parse
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from nacl.signing import SigningKey, VerifyKey

from offline.atomic_files import write_atomic
from offline.hub_client import (
    HubAnswerInvalid,
    HubIdentity,
    HubRefused,
    decode_b64_key,
    json_answer,
    raise_for_answer,
    send,
)
from protocol.wire import API_PREFIX, canonical_json

if TYPE_CHECKING:
    import requests  # imported where a request is made: it is not needed before the first frame

ENROLLMENT_FILE = "enrollment.json"
PENDING_KEY_FILE = "device-pending.key"
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


class EnrollmentError(Exception):
    """Enrolment did not happen; nothing on the kiosk changed."""

    translation_key = "error.enroll"

    @property
    def params(self) -> dict[str, object]:
        """Values the translated message may use."""
        return {}


class AlreadyEnrolled(EnrollmentError):
    """This kiosk is enrolled already; re-enrolling needs ``--force``."""

    translation_key = "error.already_enrolled"


class EnrollmentCodeRefused(EnrollmentError):
    """The hub did not accept the code (unknown, expired, spent) or this device (revoked)."""

    translation_key = "error.enroll_code_refused"


class NotEnrolled(EnrollmentError):
    """This kiosk has no (readable) enrolment: it cannot talk to a hub yet."""

    translation_key = "error.not_enrolled"


@dataclass(frozen=True)
class Enrollment:
    """What enrolment pinned: the hub, this kiosk's id there, and the hub's keys (base64)."""

    hub_url: str
    kiosk_id: str
    hub_seal_public_key: str
    hub_sign_public_key: str
    enrolled_at: str
    device_key_file: str
    hub_public_url: str = ""  # where villagers' phones reach the hub (the receipt's QR); "" when it gave none
    sms_notifications: bool = False  # the hub texts villagers when their request changes

    def seal_key(self) -> bytes:
        """The hub's X25519 key that requests are sealed to."""
        return base64.b64decode(self.hub_seal_public_key)

    def identity(self, data_dir: Path) -> HubIdentity:
        """The device key and pinned hub signing key, for a ``HubClient``."""
        seed = (data_dir / self.device_key_file).read_bytes()
        return HubIdentity(self.kiosk_id, SigningKey(seed), VerifyKey(base64.b64decode(self.hub_sign_public_key)))


_REQUIRED = ("hub_url", "kiosk_id", "hub_seal_public_key", "hub_sign_public_key", "enrolled_at", "device_key_file")


def load_enrollment(data_dir: Path) -> Enrollment | None:
    """This kiosk's enrolment, None when it has none; ``NotEnrolled`` when the file is unreadable."""
    path = data_dir / ENROLLMENT_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        enrollment = Enrollment(**{k: str(raw[k]) for k in _REQUIRED},  # an older file lacks the optional two
                                hub_public_url=str(raw.get("hub_public_url") or ""),
                                sms_notifications=raw.get("sms_notifications") is True)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        raise NotEnrolled(f"{path} is unreadable") from None
    if not (data_dir / enrollment.device_key_file).is_file():
        raise NotEnrolled("device key file is missing")
    return enrollment


def check_hub_url(url: str, allow_http: bool) -> str:
    """The URL without a trailing slash; plain HTTP only to this machine unless allowed (the code travels in it)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) URL")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK and not allow_http:
        raise ValueError("plain http to another machine exposes the code; use https (or --allow-http)")
    return url.rstrip("/")


def enroll(session: requests.Session, hub_url: str, code: str, data_dir: Path, *, name: str,
           clock: Callable[[], dt.datetime], force: bool = False, timeout_s: float = 15.0) -> Enrollment:
    """Spend ``code`` at the hub, pin its keys and store the enrolment; the device key never leaves the kiosk."""
    data_dir.mkdir(parents=True, exist_ok=True)
    existing = _existing(data_dir)
    if existing is not None and not force:
        raise AlreadyEnrolled(f"enrolled with {existing} already")
    key = _pending_key(data_dir)
    body = canonical_json({"code": code.strip(), "name": name,
                           "device_public_key": base64.b64encode(bytes(key.verify_key)).decode("ascii")})
    now = clock()
    resp = send(session, "POST", hub_url + API_PREFIX + "/enroll", body=body,
                headers={"Content-Type": "application/json"}, timeout=timeout_s)
    if resp.status_code not in (200, 201):
        try:
            raise_for_answer(resp, now)
        except HubRefused as exc:
            if exc.status == 403:
                raise EnrollmentCodeRefused(exc.reason) from None
            raise
    answer = json_answer(resp)
    kiosk_id = answer.get("kiosk_id")
    if not isinstance(kiosk_id, str) or not kiosk_id:
        raise HubAnswerInvalid("enrolment answer has no kiosk id")
    seal, sign = decode_b64_key(answer.get("hub_seal_public_key")), decode_b64_key(answer.get("hub_sign_public_key"))
    fingerprint = hashlib.sha256(bytes(key.verify_key)).hexdigest()[:16]
    public_url = answer.get("hub_public_url")
    enrollment = Enrollment(hub_url, kiosk_id, base64.b64encode(seal).decode("ascii"),
                            base64.b64encode(sign).decode("ascii"), now.isoformat(), f"device-{fingerprint}.key",
                            hub_public_url=_public_url(public_url),
                            sms_notifications=answer.get("sms_notifications") is True)
    # Key first, then the enrolment that names it, then forget the pending key: a kill between
    # any two steps leaves either the old enrolment or the new one, never a mix.
    write_atomic(data_dir / enrollment.device_key_file, bytes(key), mode=0o600)
    write_atomic(data_dir / ENROLLMENT_FILE, json.dumps(asdict(enrollment), indent=2).encode("utf-8"))
    (data_dir / PENDING_KEY_FILE).unlink(missing_ok=True)
    return enrollment


def _public_url(given: object) -> str:
    """The hub's public URL if it is a plain https (or loopback http) URL, else "" (the receipt falls back)."""
    if not isinstance(given, str) or not given:
        return ""
    try:
        return check_hub_url(given, allow_http=False)
    except ValueError:
        return ""


def _existing(data_dir: Path) -> str | None:
    try:
        enrollment = load_enrollment(data_dir)
    except NotEnrolled:
        return "an unreadable enrolment"
    return f"{enrollment.hub_url} as {enrollment.kiosk_id}" if enrollment else None


def _pending_key(data_dir: Path) -> SigningKey:
    """The key being enrolled: the one from an interrupted attempt, or a new one kept before it is used."""
    path = data_dir / PENDING_KEY_FILE
    try:
        seed = path.read_bytes()
        if len(seed) == 32:
            return SigningKey(seed)
    except FileNotFoundError:
        pass
    key = SigningKey.generate()
    write_atomic(path, bytes(key), mode=0o600)
    return key
