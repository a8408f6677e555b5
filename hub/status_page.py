"""The public page behind a receipt's QR code, ``/r/<kiosk_id>/<token>``: what happened to the request.

For a villager on a cheap phone on 2G: server-rendered HTML, no JavaScript, a few KB, large text, dark on
white. It says the service, the receipt number, the state in words with its date, what happens next and
where, and the centre: never a name, a personal number or an answer (those stay sealed). Shown in the
request's language, switchable to the other four; an unknown token gets a kind 404 in any of them.
"""

from __future__ import annotations

import datetime as dt
import time
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy import select

from assets import ASSETS_DIR
from hub import documents
from hub.page_texts import LANGUAGE_NAMES, LANGUAGES, text, working_days
from hub.schema import submissions
from hub.store import HubDatabase

TBILISI = zoneinfo.ZoneInfo("Asia/Tbilisi")
FONT_DIR = ASSETS_DIR / "fonts"
_TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
                                autoescape=True, trim_blocks=True, lstrip_blocks=True)


@dataclass(frozen=True)
class StatusView:
    """The public facts of one request."""

    state: str
    reason: str | None
    since: str
    receipt_no: str
    service_title: str
    processing_days: int | None
    centre: str
    language: str


def _words(value: Any, lang: str, fallback: str) -> str:
    return (value.get(lang) or value.get("en") or fallback) if isinstance(value, dict) else fallback


def service_words(store: HubDatabase, service_id: str, lang: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """A service's title in ``lang``, its fields' labels and its choices' labels (by id), from the catalogue in
    force; ids stand in for what the catalogue does not name."""
    service = documents.services_in(documents.catalogue_in_force(store)).get(service_id, {})
    fields = [f for f in service.get("fields", []) if isinstance(f, dict) and "id" in f]
    labels = {f["id"]: _words(f.get("label"), lang, f["id"]) for f in fields}
    options = {f"{f['id']}={c['id']}": _words(c.get("label"), lang, c["id"]) for f in fields
               for c in f.get("choices", []) if isinstance(c, dict) and "id" in c}
    return _words(service.get("title"), lang, service_id), labels, options


def service_titles(store: HubDatabase, lang: str) -> dict[str, str]:
    """Every service's title in ``lang`` (one read of the catalogue in force)."""
    return {sid: _words(s.get("title"), lang, sid)
            for sid, s in documents.services_in(documents.catalogue_in_force(store)).items()}


def service_reasons(store: HubDatabase, service_id: str) -> dict[str, dict[str, str]]:
    """The service's own reasons for rejecting (id → text per language), {} when the catalogue gives none."""
    service = documents.services_in(documents.catalogue_in_force(store)).get(service_id, {})
    return {r["id"]: r["label"] for r in service.get("rejection_reasons", [])
            if isinstance(r, dict) and "id" in r and isinstance(r.get("label"), dict)}


def find(store: HubDatabase, kiosk_id: str, token: str, language: str | None) -> StatusView | None:
    """The request behind a QR code, in ``language`` (chosen on the page) or else the request's own, or None."""
    s = submissions.c
    with store.read() as db:
        row = db.execute(select(s.state, s.reason, s.changed_at, s.receipt_no, s.service, s.centre, s.language)
                         .where(s.kiosk_id == kiosk_id, s.tracking_token == token)).first()
    if row is None:
        return None
    lang = language if language in LANGUAGES else (row.language if row.language in LANGUAGES else "ka")
    service = documents.services_in(documents.catalogue_in_force(store)).get(row.service, {})
    since = dt.datetime.fromisoformat(row.changed_at).astimezone(TBILISI).strftime("%d.%m.%Y")
    days = service.get("processing_days")
    return StatusView(row.state, row.reason, since, row.receipt_no, _words(service.get("title"), lang, row.service),
                      days if isinstance(days, int) else None, row.centre or "", lang)


def render(view: StatusView | None, language: str, *, busy: bool = False) -> bytes:
    """The page (or the kind 404 when ``view`` is None, or "try again in a minute" when ``busy``) as UTF-8 HTML."""
    lang = view.language if view else (language if language in LANGUAGES else "ka")

    def t(key: str) -> str:
        return text(lang, key)

    next_steps = ""
    if view is not None:
        centre = view.centre or text(lang, "centre")
        days = working_days(lang, view.processing_days) if view.processing_days else "…"
        next_steps = text(lang, f"next.{view.state}", days=days, centre=centre, reason=view.reason or "—")
    html = _TEMPLATES.get_template("status.html").render(
        view=view, lang=lang, t=t, next_steps=next_steps, languages=list(LANGUAGE_NAMES.items()), busy=busy)
    return html.encode("utf-8")


def preferred_language(accept_language: str | None) -> str | None:
    """The first of our five languages the phone asks for, if any."""
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return None


class RateLimit:
    """At most ``per_minute`` page views per client address in this process (a token bucket): guessing tokens
    is hopeless anyway (128 bits), this keeps a scraper from loading the database."""

    def __init__(self, per_minute: int = 60, clock: Any = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(per_minute)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, client: str) -> bool:
        """Take one view for ``client``; False when its bucket is empty."""
        now = self.clock()
        if len(self._buckets) > 10_000:  # forget the quiet ones rather than grow without end
            self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 60}
        tokens, last = self._buckets.get(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1:
            self._buckets[client] = (tokens, now)
            return False
        self._buckets[client] = (tokens - 1, now)
        return True
