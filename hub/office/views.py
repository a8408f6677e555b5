"""What the office's pages show: requests found by the clerk's filters, one request opened on the server,
and the fleet with its unhealthy and silent kiosks first.

Nothing here renders HTML (``hub.office.pages`` does); these are the facts and the judgements.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from hub import backoffice
from hub.keys import HubKeys
from hub.presence import PresenceRefused, PresenceVerifier, check_request, personal_number_in
from hub.schema import heartbeat_latest, heartbeats, kiosks, rejections, submissions
from hub.store import HubDatabase
from protocol.certificates import personal_number
from protocol.presence import PAYLOAD_FIELD
from protocol.qualified_signature import SIGNATURE_FIELD, SignatureMismatch, signer_of
from protocol.sealing import open_sealed

PAGE = 200
SILENT_AFTER = dt.timedelta(minutes=30)  # a kiosk beats every few minutes: half an hour of silence is news
QUEUE_TOO_OLD_S = 3600.0

_s = submissions.c


@dataclass(frozen=True)
class Filters:
    """What the clerk asked for; empty means any."""

    centre: str = ""
    service: str = ""
    state: str = ""
    day_from: dt.date | None = None
    day_to: dt.date | None = None
    receipt: str = ""


def find_requests(store: HubDatabase, f: Filters) -> list[dict[str, Any]]:
    """Real (not synthetic) requests matching ``f``, newest first, at most ``PAGE``: clear facts only."""
    query = (select(_s.kiosk_id, _s.id, _s.receipt_no, _s.service, _s.centre, _s.state, _s.received_at,
                    _s.changed_at, kiosks.c.name)
             .select_from(submissions.outerjoin(kiosks, kiosks.c.id == _s.kiosk_id)).where(_s.synthetic == 0))
    if f.centre:
        query = query.where(_s.centre == f.centre)
    if f.service:
        query = query.where(_s.service == f.service)
    if f.state:
        query = query.where(_s.state == f.state)
    if f.day_from:
        query = query.where(_s.received_at >= dt.datetime.combine(f.day_from, dt.time(), dt.UTC).isoformat())
    if f.day_to:
        end = dt.datetime.combine(f.day_to + dt.timedelta(days=1), dt.time(), dt.UTC)
        query = query.where(_s.received_at < end.isoformat())
    if f.receipt:
        query = query.where(_s.receipt_no == f.receipt.strip())
    with store.read() as db:
        rows = db.execute(query.order_by(_s.received_at.desc(), _s.kiosk_id, _s.id).limit(PAGE)).mappings().all()
    return [dict(r) for r in rows]


def choices(store: HubDatabase) -> dict[str, list[str]]:
    """The centres and services requests came from, for the filters' lists."""
    with store.read() as db:
        centres = [c for c in db.execute(select(_s.centre).distinct().order_by(_s.centre)).scalars() if c]
        services = list(db.execute(select(_s.service).distinct().order_by(_s.service)).scalars())
    return {"centres": centres, "services": services}


@dataclass
class OpenedRequest:
    """One request opened for an authorised clerk: its facts, its payload and what was verified."""

    facts: dict[str, Any]
    payload: dict[str, Any]
    signature: str  # verified | failed | none
    presence: str  # verified | failed:<reason> | none
    answers: list[tuple[str, str]] = field(default_factory=list)


_FACTS = (_s.kiosk_id, _s.id, _s.receipt_no, _s.service, _s.centre, _s.state, _s.reason, _s.created_at,
          _s.received_at, _s.changed_at, _s.status_seq, _s.language)


def _one(kiosk_id: str, request_id: str) -> tuple[Any, ...]:
    return _s.kiosk_id == kiosk_id, _s.id == request_id, _s.synthetic == 0


def request_facts(store: HubDatabase, kiosk_id: str, request_id: str) -> dict[str, Any] | None:
    """A request's clear facts (service, language, state…) without opening its payload; None when unknown."""
    with store.read() as db:
        row = db.execute(select(*_FACTS).where(*_one(kiosk_id, request_id))).mappings().first()
    return dict(row) if row else None


def open_request(store: HubDatabase, keys: HubKeys, presence: PresenceVerifier | None, kiosk_id: str,
                 request_id: str) -> OpenedRequest | None:
    """The request opened on the server (None when there is no such request)."""
    with store.read() as db:
        row = db.execute(select(*_FACTS, _s.sealed).where(*_one(kiosk_id, request_id))).mappings().first()
    if row is None:
        return None
    facts = {k: v for k, v in row.items() if k != "sealed"}
    payload = open_sealed(keys.seal_private, bytes(row["sealed"]))
    return OpenedRequest(facts, payload, _signature_check(payload), _presence_check(presence, payload, kiosk_id),
                         [(str(k), str(v)) for k, v in sorted(dict(payload.get("answers") or {}).items())])


def _signature_check(payload: dict[str, Any]) -> str:
    if SIGNATURE_FIELD not in payload:
        return "none"
    try:
        signer = signer_of(payload)
    except (SignatureMismatch, ValueError):
        return "failed"
    try:
        same_person = personal_number(signer) == personal_number_in(payload)
    except ValueError:
        same_person = False
    return "verified" if same_person else "failed"


def _presence_check(verifier: PresenceVerifier | None, payload: dict[str, Any], kiosk_id: str) -> str:
    if payload.get(PAYLOAD_FIELD) is None:
        return "none"
    if verifier is None:
        return "failed:presence_unchecked"
    try:
        check_request(verifier.verify(payload[PAYLOAD_FIELD], kiosk_id=kiosk_id), payload)
    except PresenceRefused as exc:
        return f"failed:{exc.reason}"
    return "verified"


def citizen_name(payload: dict[str, Any]) -> str:
    """The citizen's name as the payload gives it."""
    citizen = payload.get("citizen")
    if not isinstance(citizen, dict):
        return ""
    return f"{citizen.get('given_name', '')} {citizen.get('surname', '')}".strip()


@dataclass(frozen=True)
class KioskHealth:
    """One kiosk as the fleet page shows it: its problems (text keys with parameters), worst first."""

    row: dict[str, Any]
    problems: list[tuple[str, dict[str, Any]]]
    silent: bool

    @property
    def healthy(self) -> bool:
        """No problem at all."""
        return not self.problems


def fleet_health(store: HubDatabase) -> list[KioskHealth]:
    """Every kiosk judged; silent ones first (longest silence first), then the others with problems, then the rest."""
    judged = []
    for row in backoffice.fleet(store):
        problems: list[tuple[str, dict[str, Any]]] = []
        age = row["heartbeat_age_s"]
        silent = not row["revoked"] and (age is None or age > SILENT_AFTER.total_seconds())
        if row["revoked"]:
            problems.append(("health.revoked", {}))
        elif age is None:
            problems.append(("health.never", {}))
        elif silent:
            problems.append(("health.silent", {"age": age}))
        if row["audit_problem"]:
            problems.append(("health.audit", {}))
        printer = row["printer"] or ""
        if printer == "paper_out":
            problems.append(("health.paper_out", {}))
        elif printer == "paper_near_end":
            problems.append(("health.paper_low", {}))
        elif printer and printer not in ("ready", "none", "unknown"):
            problems.append(("health.printer", {"state": printer}))
        if row["reader"] in ("no reader",) or str(row["reader"] or "").startswith("error"):
            problems.append(("health.no_reader", {}))
        oldest = row["oldest_queued_age_s"]
        if isinstance(oldest, (int, float)) and oldest > QUEUE_TOO_OLD_S:
            problems.append(("health.queue", {}))
        judged.append(KioskHealth(row, problems, silent))
    return sorted(judged, key=lambda k: (not k.silent, k.healthy, -(k.row["heartbeat_age_s"] or 10**12)
                                         if k.silent else 0, k.row["name"], k.row["kiosk_id"]))


def kiosk_history(store: HubDatabase, kiosk_id: str, since: dt.datetime) -> list[tuple[dt.datetime, float]]:
    """The kiosk's queue depth at each heartbeat since ``since`` (its history keeps 30 days)."""
    h = heartbeats.c
    with store.read() as db:
        rows = db.execute(select(h.received_at, h.body)
                          .where(h.kiosk_id == kiosk_id, h.received_at >= since.isoformat())
                          .order_by(h.received_at)).all()
    points = []
    for received_at, body in rows:
        queue = json.loads(body).get("queue", {}) if body else {}
        depth = sum(v for k, v in queue.items() if k in ("queued", "sending") and isinstance(v, int))
        points.append((dt.datetime.fromisoformat(received_at), float(depth)))
    return points


@dataclass(frozen=True)
class Figures:
    """The supervisors' figures over a period: each a list of (label, value) rows, largest first."""

    start: dt.date
    end: dt.date
    by_centre: list[tuple[str, float]]
    by_service: list[tuple[str, float]]
    by_day: list[tuple[str, float]]
    hours_to_close: list[tuple[str, float]]  # median per service, of the requests closed in the period
    rejections: list[tuple[str, float]]  # the back office's reasons
    refusals: list[tuple[str, float]]  # what the hub refused at intake (all time)
    ratings: list[tuple[str, float]]  # "1".."5": the kiosks' latest totals


def figures(store: HubDatabase, start: dt.date, end: dt.date) -> Figures:
    """Requests received from ``start`` to ``end`` (inclusive), real ones only."""
    low = dt.datetime.combine(start, dt.time(), dt.UTC).isoformat()
    high = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), dt.UTC).isoformat()
    with store.read() as db:
        rows = db.execute(select(_s.centre, _s.kiosk_id, _s.service, _s.received_at, _s.changed_at, _s.state, _s.reason)
                          .where(_s.synthetic == 0, _s.received_at >= low, _s.received_at < high)).all()
        refused = db.execute(select(rejections.c.reason, rejections.c.count)).all()
        latest = db.execute(select(heartbeat_latest.c.body)).scalars().all()
    centres = Counter(r.centre or r.kiosk_id for r in rows)
    services = Counter(r.service for r in rows)
    days = Counter(r.received_at[:10] for r in rows)
    closing: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        if r.state == "closed":
            took = dt.datetime.fromisoformat(r.changed_at) - dt.datetime.fromisoformat(r.received_at)
            closing[r.service].append(round(took.total_seconds() / 3600, 1))
    reasons = Counter(r.reason for r in rows if r.state == "rejected" and r.reason)
    stars: Counter[str] = Counter()
    for body in latest:
        for score, n in (json.loads(body).get("ratings") or {}).items() if body else ():
            if score in {"1", "2", "3", "4", "5"} and isinstance(n, int):
                stars[score] += n
    every_day = [(start + dt.timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]
    def ranked(counts: Counter[str]) -> list[tuple[str, float]]:
        return [(label, float(n)) for label, n in counts.most_common()]

    return Figures(
        start, end, ranked(centres), ranked(services), [(d, float(days.get(d, 0))) for d in every_day],
        sorted(((s, statistics.median(v)) for s, v in closing.items()), key=lambda p: -p[1]),
        ranked(reasons), sorted(((r, float(n)) for r, n in refused), key=lambda p: -p[1]),
        [(score, float(stars.get(score, 0))) for score in ("5", "4", "3", "2", "1")])
