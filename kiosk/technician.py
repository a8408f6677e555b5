"""Technician actions that change who this kiosk trusts, and their trace in the audit log.

Enrolment pins the hub's keys, so it is audited whichever way it happened: ``enrol`` (the
technician screen) writes the entry itself; an enrolment made with ``kiosk enroll`` on a shell is
noticed at the next start by ``record_enrolment`` and written then, as seen by the system.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from nacl.signing import VerifyKey

from kiosk.audit import Actor, AuditAction, AuditEntry, AuditLog
from kiosk.receipts import HubPage
from kiosk.roles import HubPin, Role
from kiosk.staff import NotAllowed
from offline.enrollment import Enrollment, EnrollmentError, enroll, load_enrollment

if TYPE_CHECKING:
    import requests  # imported where a request is made: it is not needed before the first frame


def _fingerprint(enrollment: Enrollment) -> str:
    """Which enrolment this is, without repeating its keys."""
    text = "|".join((enrollment.hub_url, enrollment.kiosk_id, enrollment.hub_sign_public_key, enrollment.enrolled_at))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _details(enrollment: Enrollment, how: str) -> dict[str, str]:
    return {"hub_url": enrollment.hub_url, "kiosk_id": enrollment.kiosk_id, "enrolment": _fingerprint(enrollment),
            "how": how}


def pinned_hub_sign_key(data_dir: Path) -> VerifyKey | None:
    """The hub's Ed25519 key pinned at enrolment (None before enrolment or when it is unreadable)."""
    pin = pinned_hub(data_dir)
    return pin.key if pin else None


def _readable_enrollment(data_dir: Path) -> Enrollment | None:
    """This kiosk's enrolment, or None before enrolment or when it is unreadable."""
    try:
        return load_enrollment(data_dir)
    except EnrollmentError:
        return None


def pinned_hub(data_dir: Path) -> HubPin | None:
    """The hub's key and this kiosk's id as pinned at enrolment (None before enrolment or when unreadable)."""
    enrollment = _readable_enrollment(data_dir)
    if enrollment is None:
        return None
    return HubPin(VerifyKey(base64.b64decode(enrollment.hub_sign_public_key)), enrollment.kiosk_id)


def current_hub_page(data_dir: Path) -> HubPage | None:
    """What the enrolled hub said about itself (public URL, this kiosk's id, SMS), read fresh; None before enrolment."""
    enrollment = _readable_enrollment(data_dir)
    if enrollment is None:
        return None
    return HubPage(enrollment.hub_public_url, enrollment.kiosk_id, enrollment.sms_notifications)


def record_enrolment(audit: AuditLog, data_dir: Path) -> AuditEntry | None:
    """Log an enrolment made outside the kiosk app (``kiosk enroll``) the first time it is seen."""
    try:
        enrollment = load_enrollment(data_dir)
    except EnrollmentError:
        return None
    if enrollment is None:
        return None
    last = audit.last(AuditAction.ENROLMENT)
    if last is not None and last.details.get("enrolment") == _fingerprint(enrollment):
        return None
    return audit.append(Actor.system(), AuditAction.ENROLMENT, _details(enrollment, "found_at_start"))


def enrol(actor: Actor, audit: AuditLog, *, session: requests.Session, hub_url: str, code: str, data_dir: Path,
          name: str, clock: Callable[[], dt.datetime], force: bool = False) -> Enrollment:
    """Enrol this kiosk with the hub from the technician screen; the outcome is audited (never the code)."""
    if actor.role != Role.TECHNICIAN.value:
        raise NotAllowed()
    try:
        enrollment = enroll(session, hub_url, code, data_dir, name=name, clock=clock, force=force)
    except Exception as exc:
        audit.append(actor, AuditAction.ENROLMENT, {"hub_url": hub_url, "outcome": type(exc).__name__})
        raise
    audit.append(actor, AuditAction.ENROLMENT, _details(enrollment, "technician_screen"))
    return enrollment
