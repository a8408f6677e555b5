"""What each part of the kiosk reports, for ``kiosk diag`` and the technician screen.

Sections ``card``, ``printer``, ``hub``, ``queue`` and ``system``, each a dict with ``status``
(``ok`` | ``warning`` | ``error``), ``reason`` in a technician's words and details. Every section
is worked out on its own, so one broken part (or a bad setting) never hides what the others say.
Nothing here asks for a PIN or shows personal data.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from kiosk.clock import utc_now
from kiosk.config import ConfigError, Settings
from kiosk.diag_system import DEFAULT_DISK, DiskThresholds, system_section
from kiosk.errors import HardwareError, ReaderUnavailable
from kiosk.ports import CardReader, PaperState, PrinterStatus, ReceiptPrinter
from offline.outbox import Outbox

if TYPE_CHECKING:
    import requests  # imported where a request is made: it is not needed before the first frame

__all__ = ["DiskThresholds", "Status", "card_section", "diagnose", "exit_code", "hub_section",
           "printer_section", "queue_section", "system_section"]

SECTIONS = ("card", "printer", "hub", "queue", "system")


class Status(enum.Enum):
    """How a part is doing."""

    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


def section(status: Status, reason: str, **details: Any) -> dict[str, Any]:
    """One section of the report."""
    return {"status": status.value, "reason": reason, **details}


def card_section(reader: CardReader) -> dict[str, Any]:
    """The readers, and whether the PC/SC service answers at all."""
    try:
        readers = reader.readers()
    except ReaderUnavailable as exc:
        return section(Status.ERROR, f"card readers cannot be asked: {exc or 'the PC/SC service is not running'}",
                       pcsc_answers=False, readers=[])
    listed = [{"name": r.name, "has_pinpad": r.has_pinpad, "card_present": r.card_present,
               "atr": r.atr.hex() if r.atr else None} for r in readers]
    if not readers:
        return section(Status.ERROR, "no card reader is attached", pcsc_answers=True, readers=[])
    cards = sum(r.card_present for r in readers)
    words = f"{len(readers)} reader{'s' * (len(readers) > 1)}, " + (f"{cards} with a card" if cards else "no card in")
    return section(Status.OK, words, pcsc_answers=True, readers=listed)


def describe_printer(status: PrinterStatus) -> str:
    """The printer's status in a technician's words."""
    if not status.online:
        return "printer not answering"
    paper = {PaperState.OK: "paper ok", PaperState.NEAR_END: "paper near its end: change the roll soon",
             PaperState.OUT: "paper out"}[status.paper]
    return ", ".join(["online", "cover OPEN" if status.cover_open else "cover closed", paper])


def printer_section(printer: ReceiptPrinter | None, uri: str = "") -> dict[str, Any]:
    """The printer's real-time status; no printer configured is a warning (receipts on screen only)."""
    if printer is None:
        return section(Status.WARNING, "no printer configured: receipts are shown on screen only", configured=False)
    started = time.monotonic()
    try:
        status = printer.status()
    except HardwareError as exc:
        return section(Status.ERROR, f"printer error: {type(exc).__name__}", configured=True, uri=uri)
    details = {"configured": True, "uri": uri, "online": status.online, "paper": status.paper.value,
               "cover_open": status.cover_open, "answered_in_ms": round((time.monotonic() - started) * 1000)}
    if not status.ready:
        return section(Status.ERROR, describe_printer(status), **details)
    if status.paper is PaperState.NEAR_END:
        return section(Status.WARNING, describe_printer(status), **details)
    return section(Status.OK, describe_printer(status), **details)


def hub_section(url: str, *, timeout_s: float = 3.0, session: requests.Session | None = None,
                slow_ms: float = 2000.0) -> dict[str, Any]:
    """Whether the hub answers an HTTP GET, and how fast; no hub configured is a warning."""
    if not url:
        return section(Status.WARNING, "no hub configured: requests stay queued on this kiosk", url=None)
    import requests

    http = session or requests.Session()
    started = time.monotonic()
    try:
        answer = http.get(url, timeout=timeout_s, allow_redirects=False)
    except requests.Timeout:
        return section(Status.ERROR, f"hub did not answer within {timeout_s:g} s", url=url, reachable=False)
    except requests.RequestException as exc:
        return section(Status.ERROR, f"hub unreachable ({type(exc).__name__})", url=url, reachable=False)
    finally:
        if session is None:
            http.close()
    latency = round((time.monotonic() - started) * 1000)
    details = {"url": url, "reachable": True, "latency_ms": latency, "http_status": answer.status_code}
    if answer.status_code >= 500:
        return section(Status.WARNING, f"hub reachable but answers {answer.status_code}", **details)
    if latency > slow_ms:
        return section(Status.WARNING, f"hub reachable but slow: {latency} ms", **details)
    return section(Status.OK, f"hub reachable in {latency} ms", **details)


def queue_section(stats: Callable[[], dict[str, Any]], *, old_after_s: float = 86_400) -> dict[str, Any]:
    """Requests per state, the oldest waiting one, rejections and reprints pending."""
    try:
        figures = stats()
    except Exception as exc:  # noqa: BLE001 — a queue that cannot be read is the finding itself
        key = getattr(exc, "translation_key", None)
        return section(Status.ERROR, f"the request queue cannot be read ({type(exc).__name__})", error_key=key)
    problems = []
    if figures.get("rejected"):
        problems.append(f"{figures['rejected']} rejected by the hub")
    if figures.get("reprints_pending"):
        problems.append(f"{figures['reprints_pending']} receipts to reprint")
    age = figures.get("oldest_queued_age_s")
    if age is not None and age > old_after_s:
        problems.append(f"oldest waiting request is {age / 3600:.0f} h old")
    words = f"{figures.get('queued', 0)} queued, {figures.get('total', 0)} in all"
    if problems:
        return section(Status.WARNING, f"{words}; " + "; ".join(problems), **figures)
    return section(Status.OK, words, **figures)


def configured_hub_url(settings: Settings) -> str:
    """``[hub] url``, else the URL the kiosk enrolled with."""
    if settings.hub.url:
        return settings.hub.url
    import json

    try:
        enrolment = json.loads((settings.kiosk.data_dir / "enrollment.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    return str(enrolment.get("hub_url") or enrolment.get("hub") or "")


class DiagnosedParts(Protocol):
    """What ``diagnose`` looks at of a wired kiosk (``Services`` has these; so does the technician's desk)."""

    @property
    def card_reader(self) -> CardReader:
        """The card reader."""

    @property
    def printer(self) -> ReceiptPrinter | None:
        """The receipt printer, None when none is configured."""

    @property
    def outbox(self) -> Outbox:
        """The request queue."""


def diagnose(settings: Settings, services: DiagnosedParts | None, *, start_problem: BaseException | None = None,
             disk: DiskThresholds = DEFAULT_DISK, hub_timeout_s: float = 3.0,
             log_path: Path | None = None) -> dict[str, Any]:
    """Every section for this kiosk, plus ``status`` (the worst of them) and any start-up problem.

    ``services``: the kiosk's (the technician screen's, or those ``kiosk diag`` wired); None when they
    could not be wired, and ``start_problem`` says why (a configuration error, a damaged queue file).
    """
    from protocol import __version__

    report: dict[str, Any] = {"kiosk_id": settings.kiosk.kiosk_id, "version": __version__,
                              "checked_at": utc_now().isoformat(timespec="seconds")}
    if isinstance(start_problem, ConfigError):
        report["config_error"] = str(start_problem)
    elif start_problem is not None:
        report["start_error"] = f"{type(start_problem).__name__}: {start_problem}"
    if services is None:
        why = report.get("config_error") or report.get("start_error")
        report["card"] = section(Status.ERROR, f"not checked: {why}")
        report["printer"] = section(Status.ERROR, f"not checked: {why}")
        report["queue"] = queue_section(lambda: _queue_stats_alone(settings))
    else:
        report["card"] = card_section(services.card_reader)
        report["printer"] = printer_section(services.printer, settings.printer.uri)
        report["queue"] = queue_section(services.outbox.stats)
    report["hub"] = hub_section(configured_hub_url(settings), timeout_s=hub_timeout_s)
    report["system"] = system_section(settings, disk=disk,
                                      log_path=log_path or settings.kiosk.data_dir / "logs" / "kiosk.log")
    report["status"] = worst(report[name]["status"] for name in SECTIONS).value
    return {k: report[k] for k in ("kiosk_id", "version", "checked_at", "status", *SECTIONS)} | \
        {k: v for k, v in report.items() if k.endswith("_error")}


def _queue_stats_alone(settings: Settings) -> dict[str, Any]:
    """The queue's figures when the rest of the kiosk could not be wired."""
    from kiosk.clock import utc_now
    from offline.outbox import Outbox

    outbox = Outbox(settings.kiosk.data_dir / "outbox.sqlite", settings.kiosk.kiosk_id, utc_now,
                  zone=settings.kiosk.zone)
    try:
        return outbox.stats()
    finally:
        outbox.close()


def worst(statuses: Any) -> Status:
    """The worst of several statuses."""
    order = [Status.OK, Status.WARNING, Status.ERROR]
    return max((Status(s) for s in statuses), key=order.index, default=Status.OK)


def exit_code(report: dict[str, Any]) -> int:
    """0 unless some section is ``error``."""
    return 1 if report.get("status") == Status.ERROR.value else 0
