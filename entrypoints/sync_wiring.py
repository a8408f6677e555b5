"""Wiring the sync engine for this kiosk from its settings and its enrolment (the CLI and the app).

The engine gets its OWN connection to the outbox file: the UI thread keeps the one from
``build_services``, the sync thread this one, and SQLite's WAL lets them work side by side.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.catalogue_store import CatalogueStore
from kiosk.clock import utc_now
from kiosk.config import Settings
from kiosk.roles import HubPin, RoleStore
from offline.enrollment import NotEnrolled, load_enrollment
from offline.hub_client import HubClient
from offline.outbox import Outbox
from offline.ratings import SCORES, Ratings
from offline.sync import DocumentSinks, Health, SyncConfig, SyncEngine
from offline.sync_lock import SYNC_LOCK_FILE, SyncLock
from protocol import __version__

if TYPE_CHECKING:
    import requests  # imported where a request is made: it is not needed before the first frame

log = logging.getLogger(__name__)


def crl_folder(settings: Settings) -> Path:
    """Where the hub's CRLs are written: ``[card] crl_dir``, else ``<data_dir>/crl``."""
    return Path(settings.card.crl_dir) if settings.card.crl_dir else settings.kiosk.data_dir / "crl"


def rating_totals(ratings: Ratings) -> Callable[[], dict[str, int]]:
    """The heartbeat's ``{"1": n, ..., "5": n}``: every rating this kiosk has counted, summed over days."""

    def totals() -> dict[str, int]:
        summed = {str(score): 0 for score in SCORES}
        for day in ratings.counts().values():
            for score, n in day.items():
                summed[score] += n
        return summed

    return totals


def build_sync_engine(
    settings: Settings,
    *,
    on_catalogue: Callable[[bytes], object] | None = None,
    audit_checkpoint: Callable[[], dict[str, Any] | None] | None = None,
    printer_state: Callable[[], str] | None = None,
    reader_state: Callable[[], str] | None = None,
    session: requests.Session | None = None,
    clock: Callable[[], dt.datetime] = utc_now,
) -> SyncEngine:
    """The engine for this kiosk; ``NotEnrolled`` before ``kiosk enroll``, ``OutboxCorrupted`` on a damaged queue.

    ``on_catalogue`` defaults to a ``CatalogueStore`` on the data directory (the app passes its own,
    so the screens see a new catalogue at once). Call ``engine.close()`` when done. Every engine of one
    data folder, in any process, shares ``<data_dir>/sync.lock``: one sync at a time.
    """
    data = settings.kiosk.data_dir
    enrollment = load_enrollment(data)
    if enrollment is None:
        raise NotEnrolled("run kiosk enroll --hub URL --code CODE first")
    identity = enrollment.identity(data)
    import requests

    client = HubClient(session or requests.Session(), enrollment.hub_url, identity, clock=clock,
                       timeout_s=settings.hub.timeout_s)
    outbox = Outbox(data / "outbox.sqlite", settings.kiosk.kiosk_id, clock, zone=settings.kiosk.zone)
    health = Health(
        version=__version__,
        printer=printer_state or (lambda: "unknown"),
        reader=reader_state or (lambda: "unknown"),
        ratings=rating_totals(Ratings(outbox.db, clock, zone=settings.kiosk.zone)),
        audit_checkpoint=audit_checkpoint or (lambda: None),
    )
    sinks = DocumentSinks(
        on_catalogue=on_catalogue or CatalogueStore(data).on_catalogue,
        crl_dir=crl_folder(settings),
        on_roles=RoleStore(data, HubPin(identity.hub_sign_key, identity.kiosk_id)).save,
    )
    return SyncEngine(outbox=outbox, client=client, config=SyncConfig.from_settings(settings.hub), health=health,
                      documents=sinks, clock=clock, lock=SyncLock(data / SYNC_LOCK_FILE))


def printer_state(printer: Any) -> Callable[[], str]:
    """The printer's state in a word, for the heartbeat."""

    def state() -> str:
        if printer is None:
            return "none"
        try:
            status = printer.status()
        except Exception as exc:  # a heartbeat must go out whatever the printer does
            return f"error: {type(exc).__name__}"
        if status.ready:
            return "ready" if status.paper.value == "ok" else f"paper_{status.paper.value}"
        if not status.online:
            return "offline"
        return "cover_open" if status.cover_open else f"paper_{status.paper.value}"

    return state


def reader_state(reader: Any) -> Callable[[], str]:
    """The readers' state in a word, for the heartbeat."""

    def state() -> str:
        try:
            readers = reader.readers()
        except Exception as exc:  # the PC/SC service may be down: say so in the heartbeat
            return f"error: {type(exc).__name__}"
        return f"{len(readers)} reader(s)" if readers else "no reader"

    return state


class _AskedOnScreen:
    """Calls made while a villager waits (a short timeout); one kept-alive session per caller thread's use."""

    def __init__(self, settings: Settings, timeout_s: float) -> None:
        self._settings = settings
        self._timeout_s = timeout_s
        self._sessions: list[requests.Session] = []  # made at the first call

    def client(self) -> HubClient:
        """A client for the enrolled hub; HubUnreachable when this kiosk is not enrolled."""
        import requests

        from kiosk.my_requests import HubUnreachable

        data = self._settings.kiosk.data_dir
        try:
            enrollment = load_enrollment(data)
        except NotEnrolled:
            enrollment = None
        if enrollment is None:
            raise HubUnreachable("not enrolled")
        if not self._sessions:
            self._sessions.append(requests.Session())
        return HubClient(self._sessions[0], enrollment.hub_url, enrollment.identity(data), clock=utc_now,
                         timeout_s=self._timeout_s)


def enrolled_kiosk_id(settings: Settings) -> Callable[[], str]:
    """This kiosk's id as its hub knows it (the enrolment's), else the configured one; read at each login."""

    def kiosk_id() -> str:
        try:
            enrollment = load_enrollment(settings.kiosk.data_dir)
        except NotEnrolled:
            enrollment = None
        return enrollment.kiosk_id if enrollment is not None else settings.kiosk.kiosk_id

    return kiosk_id


def hub_nonce_source(settings: Settings, *, timeout_s: float = 5.0) -> Callable[[], str]:
    """Asks the enrolled hub for a presence nonce (``kiosk.presence.LoginChallenges`` calls it off the
    UI thread while the PIN is typed); raises on any failure, and the login goes on without one."""
    asked = _AskedOnScreen(settings, timeout_s)

    def nonce() -> str:
        return asked.client().presence_nonce()

    return nonce


def hub_requests_source(settings: Settings, *, timeout_s: float = 2.0) -> Callable[[Any], list[Any]]:
    """"My requests" from every centre, from the hub (the remote source of ``kiosk.my_requests.MyRequests``).

    Asked on the villager's screen, so the timeout is short; any failure — not enrolled, no link,
    a refusal (no hub nonce in this session's proof, a hub without trust anchors), a garbled answer —
    is ``HubUnreachable`` and the screen shows this kiosk's list.
    """
    from kiosk.my_requests import HubUnreachable, RequestSummary
    from offline.hub_client import HubError

    asked = _AskedOnScreen(settings, timeout_s)

    def remote(presence: Any) -> list[RequestSummary]:
        try:
            found = asked.client().my_requests(presence.to_json())
            return [RequestSummary(r["receipt_no"], r["service"], dt.datetime.fromisoformat(r["created_at"]),
                                   r["state"], str(r.get("centre") or "")) for r in found]
        except (HubError, KeyError, TypeError, ValueError) as exc:
            raise HubUnreachable(type(exc).__name__) from None

    return remote
