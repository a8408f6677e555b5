"""Who may open the staff and technician modes: the hub's signed role list, and the local passcode.

The hub signs the role list with its Ed25519 key, pinned at enrolment; the kiosk keeps the signed
bytes in its data directory and checks the signature every time it reads them, so a list edited
on disk counts as no list. A list past its ``expires_at`` refuses everyone (a revoked technician
must not keep access on a kiosk that stays offline), and then only the technician passcode opens
the technician mode. Every login, admitted or refused, is written to the audit log.

A list older than the cached one (an earlier ``issued_at``) is refused even when validly signed:
replaying an old list must not bring back someone the hub has since removed. A list made for
another kiosk is refused too, and the list names people by a slow keyed hash of their personal
number (``protocol.roles``), never by the number itself.
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nacl.signing import VerifyKey

from kiosk.audit import Actor, AuditAction, AuditLog, mask_id
from kiosk.errors import KioskError
from kiosk.identity import Citizen
from kiosk.passcode import PasscodeError, PasscodeGate, PasscodeLocked, PasscodeRefused
from offline.atomic_files import write_atomic
from protocol.roles import PersonHash
from protocol.wire import verify_document

log = logging.getLogger(__name__)

ROLE_LIST_FILE = "roles.signed.json"


class Role(enum.Enum):
    """The privileged roles; ``TECHNICIAN`` ranks above ``STAFF``."""

    STAFF = "staff"
    TECHNICIAN = "technician"


class RoleListInvalid(ValueError):
    """A role list that cannot be trusted; the message is one word (``expired``, ``bad_signature``...)."""

    translation_key = "error.role_list_invalid"


class RoleRefused(KioskError):
    """This card does not open a privileged mode; ``reason`` is a short word for the audit log."""

    translation_key = "error.role_refused"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class HubPin:
    """What enrolment pinned: the hub's signing key, and the id the hub gave this kiosk."""

    key: VerifyKey
    kiosk_id: str


@dataclass(frozen=True)
class RoleList:
    """The roles as the hub issued them for this kiosk."""

    roles: dict[str, frozenset[Role]]  # person hash -> roles
    names: dict[str, str]  # person hash -> the name the hub gave, for the screen
    issued_at: dt.datetime
    expires_at: dt.datetime
    hashing: PersonHash

    def person(self, personal_number: str) -> str:
        """How this list names the holder of ``personal_number``."""
        return self.hashing.of(personal_number)

    def roles_of(self, personal_number: str) -> frozenset[Role]:
        """The roles one person holds (empty for anyone else)."""
        return self.roles.get(self.person(personal_number), frozenset())

    def name_of(self, personal_number: str) -> str:
        """The name the hub gave this person, or ""."""
        return self.names.get(self.person(personal_number), "")


def _when(value: object) -> dt.datetime:
    if not isinstance(value, str):
        raise RoleListInvalid("malformed")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RoleListInvalid("malformed") from None
    if parsed.tzinfo is None:
        raise RoleListInvalid("malformed")
    return parsed


def parse_role_list(body: bytes, signature: str, pin: HubPin) -> RoleList:
    """Check the hub's signature over ``body`` and that it was made for this kiosk, then read it;
    ``RoleListInvalid`` otherwise (``bad_signature``, ``other_kiosk``, ``malformed``)."""
    if not verify_document(pin.key, body, signature):
        raise RoleListInvalid("bad_signature")
    try:
        data = json.loads(body)
        made_for = data["kiosk_id"]
        hashing = PersonHash.from_list(data["person_hash"])
        roles: dict[str, set[Role]] = {}
        names: dict[str, str] = {}
        for entry in data["roles"]:
            person = str(entry["person"])
            if len(person) != 64:
                raise RoleListInvalid("malformed")
            roles.setdefault(person, set()).add(Role(entry["role"]))
            names[person] = str(entry.get("name") or "")
    except (ValueError, KeyError, TypeError):
        raise RoleListInvalid("malformed") from None
    if made_for != pin.kiosk_id:
        raise RoleListInvalid("other_kiosk")
    return RoleList({n: frozenset(r) for n, r in roles.items()}, names,
                    _when(data.get("issued_at")), _when(data.get("expires_at")), hashing)


def _highest(held: frozenset[Role]) -> Role | None:
    return Role.TECHNICIAN if Role.TECHNICIAN in held else Role.STAFF if Role.STAFF in held else None


class RoleStore:
    """The signed role list cached in the data directory for offline use."""

    def __init__(self, data_dir: Path, pin: HubPin | None) -> None:
        self.path = data_dir / ROLE_LIST_FILE
        self._pin = pin

    def save(self, body: bytes, signature: str) -> RoleList:
        """Keep a role list the hub sent, if it verifies and is not older than the cached one.

        Otherwise ``RoleListInvalid`` (``bad_signature``, ``older_than_cached``...) and the cached list
        stays. A list issued at the same moment as the cached one changes nothing (returns the cached one).
        """
        if self._pin is None:
            raise RoleListInvalid("no_hub_key")
        parsed = parse_role_list(body, signature, self._pin)
        try:
            cached: RoleList | None = self.load()
        except RoleListInvalid:  # none yet, damaged, or signed by a hub no longer pinned: nothing to compare
            cached = None
        if cached is not None:
            if parsed.issued_at < cached.issued_at:
                log.warning("role list issued %s refused: older than the cached one (issued %s)",
                            parsed.issued_at.isoformat(), cached.issued_at.isoformat())
                raise RoleListInvalid("older_than_cached")
            if parsed.issued_at == cached.issued_at:
                return cached
        self.path.parent.mkdir(parents=True, exist_ok=True)
        blob = json.dumps({"body": base64.b64encode(body).decode("ascii"), "signature": signature})
        write_atomic(self.path, blob.encode("utf-8"))
        return parsed

    def pin(self, pin: HubPin | None) -> None:
        """Verify role lists with this hub key and kiosk id from now on (pinned by a new enrolment)."""
        self._pin = pin

    def load(self) -> RoleList:
        """The cached list, verified again now; ``RoleListInvalid`` when there is none to trust."""
        if self._pin is None:
            raise RoleListInvalid("no_hub_key")
        try:
            cached = json.loads(self.path.read_text(encoding="utf-8"))
            body = base64.b64decode(cached["body"], validate=True)
            signature = str(cached["signature"])
        except FileNotFoundError:
            raise RoleListInvalid("missing") from None
        except (ValueError, KeyError, TypeError):
            raise RoleListInvalid("damaged") from None
        return parse_role_list(body, signature, self._pin)


class AccessGate:
    """Decides who enters the staff and technician modes, and writes each decision to the audit log."""

    def __init__(self, store: RoleStore, passcode: PasscodeGate, audit: AuditLog,
                 clock: Callable[[], dt.datetime]) -> None:
        self._store = store
        self._passcode = passcode
        self._audit = audit
        self._clock = clock

    def _current_list(self) -> RoleList:
        roles = self._store.load()
        now = self._clock()
        if now >= roles.expires_at:
            raise RoleListInvalid("expired")
        if now < roles.issued_at - dt.timedelta(minutes=10):
            raise RoleListInvalid("issued_in_future")  # a wrong kiosk clock must not stretch validity
        return roles

    def roles_for(self, citizen: Citizen) -> frozenset[Role]:
        """The roles the current, valid role list gives this person (none when there is no valid list)."""
        try:
            return self._current_list().roles_of(citizen.personal_number)
        except RoleListInvalid:
            return frozenset()

    def role_for(self, citizen: Citizen) -> Role | None:
        """The highest role this person holds: technician, staff, or None."""
        return _highest(self.roles_for(citizen))

    def login_with_card(self, citizen: Citizen, wanted: Role | None = None) -> Actor:
        """Admit someone whose card was authenticated (certificate + PIN + challenge) by the caller.

        ``wanted`` asks for one mode; None takes the highest role held. Raises ``RoleRefused``.
        """
        masked = mask_id(citizen.personal_number)
        try:
            roles = self._current_list()
        except RoleListInvalid as exc:
            raise self._refuse(masked, f"role_list_{exc}", wanted) from None
        held = roles.roles_of(citizen.personal_number)
        role = _highest(held) if wanted is None else wanted if wanted in held else None
        if role is None:
            raise self._refuse(masked, "no_such_role" if held else "unknown_person", wanted)
        actor = Actor(role.value, masked, roles.name_of(citizen.personal_number))
        self._audit.append(actor, AuditAction.ROLE_LOGIN, {"method": "card", "role": role.value})
        return actor

    def _refuse(self, masked: str, reason: str, wanted: Role | None) -> RoleRefused:
        """Audit a refusal; the caller raises what this returns."""
        self._audit.append(Actor("unknown", masked), AuditAction.ROLE_REFUSED,
                           {"method": "card", "reason": reason, "wanted": wanted.value if wanted else None})
        return RoleRefused(reason)

    def login_with_passcode(self, passcode: str) -> Actor:
        """Admit a technician by the local passcode; raises a ``PasscodeError`` (wrong, locked, not set)."""
        try:
            self._passcode.check(passcode)
        except PasscodeLocked as exc:
            self._audit.append(Actor("unknown", "passcode"), AuditAction.PASSCODE_LOCKED,
                               {"seconds_left": round(exc.seconds_left)})
            raise
        except PasscodeRefused as exc:
            self._audit.append(Actor("unknown", "passcode"), AuditAction.PASSCODE_REFUSED,
                               {"tries_left": exc.tries_left})
            raise
        except PasscodeError as exc:
            self._audit.append(Actor("unknown", "passcode"), AuditAction.PASSCODE_REFUSED,
                               {"reason": type(exc).__name__})
            raise
        actor = Actor(Role.TECHNICIAN.value, "passcode")
        self._audit.append(actor, AuditAction.PASSCODE_OK, {"role": Role.TECHNICIAN.value})
        return actor

    def pin_hub(self, pin: HubPin | None) -> None:
        """Check role lists against this pin from now on (an enrolment from the technician screen made it)."""
        self._store.pin(pin)

    def logout(self, actor: Actor) -> None:
        """The staff member or technician left the privileged mode."""
        self._audit.append(actor, AuditAction.ROLE_LOGOUT, {})
