"""The back office's people: argon2id password hashes, an optional TOTP second factor, roles, lock-out.

A failed login counts; from the fifth one in a row the account locks for a time that doubles with each
further failure (1, 2, 4 … minutes, at most a day), so guessing is slow but a clerk who mistyped is
not shut out for long. The TOTP secret is kept sealed with a key derived from the hub's sealing key:
a copy of the database alone does not give out second factors.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from nacl.secret import SecretBox
from sqlalchemy import insert, select, update

from hub.keys import HubKeys
from hub.schema import office_users
from hub.store import HubDatabase

TOTP_PURPOSE = "kiosk-hub office totp v1"
FREE_FAILURES = 4  # failures before the first lock
MAX_LOCK = dt.timedelta(days=1)
MIN_PASSWORD = 10
_HASHER = PasswordHasher()  # argon2id, the library's current defaults
_NOBODY = _HASHER.hash("a password nobody has")  # verified against for unknown names: the same time either way


class Role(enum.Enum):
    """What a member of the back office may do."""

    CLERK = "clerk"  # requests
    SUPERVISOR = "supervisor"  # figures
    TECHNICIAN = "technician"  # fleet
    ADMIN = "admin"  # catalogue, roles, users — and everything above


class AccountError(ValueError):
    """A user cannot be added or changed as asked; the message says why."""


class LoginRefused(Exception):
    """The login did not succeed; ``reason`` is a text key (never says whether the name exists)."""

    def __init__(self, reason: str, minutes: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.minutes = minutes


@dataclass(frozen=True)
class OfficeUser:
    """A signed-in member of the back office."""

    username: str
    role: Role

    def may(self, *roles: Role) -> bool:
        """Whether this user has one of ``roles`` (an admin has them all)."""
        return self.role is Role.ADMIN or self.role in roles


class Accounts:
    """Users in the hub's database."""

    def __init__(self, store: HubDatabase, keys: HubKeys) -> None:
        self._store = store
        self._box = SecretBox(keys.derived_key(TOTP_PURPOSE))

    def add(self, username: str, role: Role, password: str, *, totp: bool = False) -> str | None:
        """A new user; with ``totp`` their second factor's ``otpauth://`` URI (shown once)."""
        if not username or not username.replace(".", "").replace("-", "").replace("_", "").isalnum():
            raise AccountError("a username is letters, digits, dots, dashes and underscores")
        _check_password(password)
        secret = pyotp.random_base32() if totp else None
        now = self._store.now()
        with self._store.write() as db:
            if db.execute(select(office_users.c.username).where(office_users.c.username == username)).first():
                raise AccountError(f"{username} exists already")
            db.execute(insert(office_users).values(
                username=username, role=role.value, password_hash=_HASHER.hash(password),
                totp=self._box.encrypt(secret.encode()) if secret else None, disabled=0, failures=0,
                created_at=now, password_changed_at=now))
        return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="Kiosk back office") if secret else None

    def disable(self, username: str) -> None:
        """The user can no longer sign in; their open sessions end (``OfficeSessions.end_all``)."""
        self._change(username, disabled=1)

    def reset(self, username: str, password: str) -> None:
        """A new password (and the lock lifted); the account is enabled again."""
        _check_password(password)
        self._change(username, password_hash=_HASHER.hash(password), disabled=0, failures=0, locked_until=None,
                     password_changed_at=self._store.now())

    def _change(self, username: str, **values: object) -> None:
        with self._store.write() as db:
            done = db.execute(update(office_users).where(office_users.c.username == username).values(**values))
            if done.rowcount == 0:
                raise AccountError(f"no user {username}")

    def login(self, username: str, password: str, totp: str | None) -> OfficeUser:
        """The user, when the password (and the code, if enrolled) are right; LoginRefused otherwise.

        Reasons: ``wrong`` (name or password or code), ``code_needed`` (password right, code not given),
        ``locked`` (with the minutes left), ``disabled``.
        """
        u = office_users.c
        now = self._store.clock()
        with self._store.read() as db:
            row = db.execute(select(u.role, u.password_hash, u.totp, u.disabled, u.failures, u.locked_until)
                             .where(u.username == username)).first()
        if row is None:
            _verify(_NOBODY, password)
            raise LoginRefused("wrong")
        if row.locked_until and dt.datetime.fromisoformat(row.locked_until) > now:
            left = dt.datetime.fromisoformat(row.locked_until) - now
            raise LoginRefused("locked", max(1, round(left.total_seconds() / 60)))
        if not _verify(row.password_hash, password):
            self._failed(username)
            raise LoginRefused("wrong")
        if row.totp is not None:
            if not totp:
                raise LoginRefused("code_needed")
            secret = self._box.decrypt(bytes(row.totp)).decode()
            if not pyotp.TOTP(secret).verify(totp.strip(), for_time=now, valid_window=1):
                self._failed(username)
                raise LoginRefused("wrong")
        if row.disabled:
            raise LoginRefused("disabled")
        with self._store.write() as db:
            db.execute(update(office_users).where(u.username == username).values(failures=0, locked_until=None))
        return OfficeUser(username, Role(row.role))

    def totp_now(self, username: str) -> str:
        """The current code of a user's second factor (for the demo's printed login and for tests)."""
        with self._store.read() as db:
            sealed = db.execute(select(office_users.c.totp).where(office_users.c.username == username)).scalar_one()
        return pyotp.TOTP(self._box.decrypt(bytes(sealed)).decode()).at(self._store.clock())

    def _failed(self, username: str) -> None:
        u = office_users.c
        with self._store.write() as db:  # counted by the database: two wrong tries at once both count
            failures = db.execute(update(office_users).where(u.username == username)
                                  .values(failures=u.failures + 1).returning(u.failures)).scalar_one()
            if failures > FREE_FAILURES:
                lock = min(dt.timedelta(minutes=2 ** (failures - FREE_FAILURES - 1)), MAX_LOCK)
                db.execute(update(office_users).where(u.username == username)
                           .values(locked_until=(self._store.clock() + lock).isoformat()))

    def role_of(self, username: str) -> OfficeUser | None:
        """The user as they are now (None when gone or disabled): checked on every request of a session."""
        u = office_users.c
        with self._store.read() as db:
            row = db.execute(select(u.role, u.disabled).where(u.username == username)).first()
        return None if row is None or row.disabled else OfficeUser(username, Role(row.role))


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password has at least {MIN_PASSWORD} characters")


def _verify(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
