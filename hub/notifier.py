"""SMS when a request's state changes: a notification outbox at the hub, sent through Kannel's ``sendsms``.

``backoffice.set_status`` writes one ``notifications`` row in the same transaction as the change, so every
change is remembered exactly once whoever made it (the web, the command line) and whichever worker. Each
serving process with ``--sms-gateway`` runs a ``Notifier`` thread: it takes due rows under a lease
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, SQLite's one writer otherwise), opens the sealed payload to read
the phone and language (the phone is never stored in clear), texts, and records the gateway's answer.
While the gateway is down it retries with exponential backoff. A crash between Kannel's "accepted" and the
record can send one text twice; Kannel has no idempotency key to prevent that (said in the docs).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from sqlalchemy import or_, select, update

from hub.keys import HubKeys
from hub.page_texts import LANGUAGES, text
from hub.schema import notifications, submissions
from hub.status_page import find
from hub.store import HubDatabase
from protocol.sealing import open_sealed

log = logging.getLogger(__name__)
LEASE = dt.timedelta(seconds=60)
FIRST_RETRY_S, MAX_RETRY_S = 10.0, 3600.0
UCS2_TWO_SEGMENTS = 134  # two concatenated UCS-2 messages of 67 characters
_GEORGIAN_MOBILE = re.compile(r"^(?:\+?995)?(5\d{8})$")


@dataclass(frozen=True)
class Outcome:
    """What became of one notification: ``sent`` | ``no_phone`` | ``gone`` (final), or a retry."""

    word: str
    final: bool
    answer: str = ""


def phone_number(payload: dict[str, Any]) -> str | None:
    """The villager's Georgian mobile number from the sealed answers, as +9955XXXXXXXX, or None."""
    answers = payload.get("answers") if isinstance(payload.get("answers"), dict) else {}
    raw = answers.get("phone") if isinstance(answers, dict) else None
    if not isinstance(raw, str):
        return None
    match = _GEORGIAN_MOBILE.match(re.sub(r"[\s\-()]", "", raw))
    return f"+995{match.group(1)}" if match else None


def compose(language: str, service: str, state: str, receipt_no: str, url: str) -> str:
    """The text, at most two UCS-2 segments: the service title is shortened first, then the link dropped."""
    state_words = text(language, f"state.{state}")
    full = text(language, "sms", service=service, state=state_words, receipt=receipt_no, url=url)
    if len(full) <= UCS2_TWO_SEGMENTS:
        return full
    room = len(service) - (len(full) - UCS2_TWO_SEGMENTS) - 1
    if room >= 8:
        return text(language, "sms", service=service[:room] + "…", state=state_words, receipt=receipt_no, url=url)
    short = text(language, "sms", service=service, state=state_words, receipt=receipt_no, url="").rstrip(" .")
    return short[:UCS2_TWO_SEGMENTS]


class Notifier:
    """Sends due notifications from a background thread (``start``/``stop``), or one pass at a time (``run_once``)."""

    def __init__(self, store: HubDatabase, keys: HubKeys, gateway_url: str, public_url: str | None, *,
                 clock: Callable[[], dt.datetime] | None = None, interval_s: float = 2.0,
                 session: requests.Session | None = None) -> None:
        self.store, self.keys, self.gateway_url = store, keys, gateway_url
        self.public_url = (public_url or "").rstrip("/")
        self.clock = clock or store.clock
        self.interval_s = interval_s
        self.session = session or requests.Session()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Send in the background until ``stop``."""
        self._thread = threading.Thread(target=self._loop, name="sms-notifier", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Finish the pass under way and stop."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 — the database restarting must not end SMS for good
                log.exception("notification pass failed; trying again")
            self._stop.wait(self.interval_s)

    def run_once(self, limit: int = 20) -> int:
        """Send what is due now; how many notifications were settled or rescheduled."""
        taken = self._take(limit)
        for row in taken:
            outcome = self._send(row)
            self._record(row, outcome)
        return len(taken)

    def _take(self, limit: int) -> list[Any]:
        now = self.clock()
        n = notifications.c
        with self.store.write() as db:
            query = (select(n.id, n.kiosk_id, n.submission_id, n.state, n.attempts).where(
                n.done_at.is_(None), n.next_attempt_at <= now.isoformat(),
                or_(n.lease_until.is_(None), n.lease_until < now.isoformat()))
                .order_by(n.id).limit(limit).with_for_update(skip_locked=True))
            rows = db.execute(query).all()
            if rows:
                db.execute(update(notifications).where(n.id.in_([r.id for r in rows]))
                           .values(lease_until=(now + LEASE).isoformat()))
        return list(rows)

    def _send(self, row: Any) -> Outcome:
        s = submissions.c
        with self.store.read() as db:
            found = db.execute(select(s.sealed, s.tracking_token, s.language).where(
                s.kiosk_id == row.kiosk_id, s.id == row.submission_id)).first()
        if found is None:
            return Outcome("gone", True)
        payload = open_sealed(self.keys.seal_private, bytes(found.sealed))
        phone = phone_number(payload)
        if phone is None:
            return Outcome("no_phone", True)
        language = str(payload["language"]) if payload.get("language") in LANGUAGES else (found.language or "ka")
        view = find(self.store, row.kiosk_id, found.tracking_token or "", language) if found.tracking_token else None
        service = view.service_title if view else str(payload.get("service", ""))
        receipt = view.receipt_no if view else ""
        url = f"{self.public_url}/r/{row.kiosk_id}/{found.tracking_token}" if self.public_url and view else ""
        message = compose(language, service, row.state, receipt, url)
        query = urllib.parse.urlencode({"to": phone, "text": message, "charset": "UTF-8", "coding": "2"})
        separator = "&" if "?" in self.gateway_url else "?"
        try:
            answer = self.session.get(self.gateway_url + separator + query, timeout=15)
        except requests.RequestException as exc:
            return Outcome("gateway_unreachable", False, type(exc).__name__)
        said = answer.text.strip()[:200]
        if answer.status_code in (200, 202) and said.startswith("0:"):
            return Outcome("sent", True, said)
        if answer.status_code >= 500 or answer.status_code in (429, 503):
            return Outcome("gateway_busy", False, f"{answer.status_code} {said}")
        return Outcome(f"refused:{answer.status_code}", True, said)

    def _record(self, row: Any, outcome: Outcome) -> None:
        now = self.clock()
        attempts = row.attempts + 1
        values: dict[str, Any] = {"attempts": attempts, "outcome": outcome.word, "gateway_answer": outcome.answer,
                                  "lease_until": None}
        if outcome.final:
            values["done_at"] = now.isoformat()
        else:
            wait = min(MAX_RETRY_S, FIRST_RETRY_S * 2 ** (attempts - 1))
            values["next_attempt_at"] = (now + dt.timedelta(seconds=wait)).isoformat()
            log.warning("SMS for %s not sent (%s); trying again in %.0f s", row.submission_id, outcome.word, wait)
        with self.store.write() as db:
            db.execute(update(notifications).where(notifications.c.id == row.id).values(**values))
