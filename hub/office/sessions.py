"""Signed-in sessions of the back office, kept by the hub (not in the cookie), and their CSRF tokens.

The cookie holds 32 random bytes; the table holds their SHA-256, the user, a CSRF token for the
session's forms and an end time (8 hours: a working day). Every form carries the CSRF token and every
POST is refused without the session's own. Disabling a user ends their sessions at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, insert, select

from hub.office.accounts import Accounts, OfficeUser
from hub.schema import office_sessions
from hub.store import HubDatabase

COOKIE = "office_session"
LIFETIME = dt.timedelta(hours=8)


@dataclass(frozen=True)
class Session:
    """A live session: who, and the token its forms must carry."""

    user: OfficeUser
    csrf: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


class OfficeSessions:
    """Opens, finds and ends sessions."""

    def __init__(self, store: HubDatabase, accounts: Accounts) -> None:
        self._store = store
        self._accounts = accounts

    def open(self, user: OfficeUser) -> str:
        """A new session for ``user``; the cookie's value."""
        token = secrets.token_urlsafe(32)
        now = self._store.clock()
        with self._store.write() as db:
            db.execute(delete(office_sessions).where(office_sessions.c.expires_at < now.isoformat()))
            db.execute(insert(office_sessions).values(
                token_hash=_digest(token), username=user.username, csrf=secrets.token_urlsafe(32),
                created_at=now.isoformat(), expires_at=(now + LIFETIME).isoformat()))
        return token

    def find(self, token: str | None) -> Session | None:
        """The session a cookie names, if it is live and its user still may sign in."""
        if not token or len(token) > 100:
            return None
        s = office_sessions.c
        with self._store.read() as db:
            row = db.execute(select(s.username, s.csrf, s.expires_at).where(s.token_hash == _digest(token))).first()
        if row is None or dt.datetime.fromisoformat(row.expires_at) <= self._store.clock():
            return None
        user = self._accounts.role_of(row.username)
        return Session(user, row.csrf) if user else None

    def end(self, token: str | None) -> None:
        """Sign out: the session is gone from the table."""
        if token:
            with self._store.write() as db:
                db.execute(delete(office_sessions).where(office_sessions.c.token_hash == _digest(token)))

    def end_all(self, username: str) -> None:
        """Every session of ``username`` (disabled, or their password reset)."""
        with self._store.write() as db:
            db.execute(delete(office_sessions).where(office_sessions.c.username == username))


def csrf_ok(session: Session, sent: str | None) -> bool:
    """Whether a form carried this session's CSRF token."""
    return bool(sent) and hmac.compare_digest(session.csrf.encode(), (sent or "").encode())
