"""What a technician does at the kiosk, as core verbs the technician screen calls.

The card check and a card test, the printer and a test print, the hub and the queue, one sync cycle
now, the system facts, the redacted diagnostic bundle and enrolment with a hub. Each returns plain
values: a ``kiosk diag`` section, the card report, or an ``Outcome`` (a translation key and its
parameters) for the screen to say. Nothing here knows a screen, and every verb may run on the
screen's worker thread: the two that write the audit log open a connection of their own there and
close it again (a SQLite connection belongs to the thread that uses it).
"""

from __future__ import annotations

import datetime as dt
import glob
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk import card_diag
from kiosk.audit import Actor, AuditLog
from kiosk.clock import LocalTime
from kiosk.config import Settings
from kiosk.diag_bundle import write_bundle
from kiosk.diag_system import system_section
from kiosk.diagnostics import card_section, configured_hub_url, diagnose, hub_section, printer_section, queue_section
from kiosk.errors import PrinterError
from kiosk.i18n import Translator
from kiosk.identity import CertificateValidator
from kiosk.ports import CardOpener, CardReader, ReceiptPrinter
from kiosk.roles import AccessGate
from kiosk.sample_receipt import sample_receipt
from kiosk.sync_supervisor import SyncSupervisor
from kiosk.technician import enrol, pinned_hub
from offline.outbox import Outbox

if TYPE_CHECKING:
    import requests  # imported where a request is made: it is not needed before the first frame

Section = dict[str, Any]
"""One ``kiosk diag`` section: ``status`` (ok | warning | error), ``reason`` and details."""

HUB_TIMEOUT_S = 3.0  # a technician is watching: the hub check and the bundle's report wait no longer
MOUNT_GLOBS = ("/media/*/*", "/run/media/*/*", "/mnt/*")  # where a USB stick shows up


class PrinterMissing(PrinterError):
    """No printer is configured: receipts are shown on screen only."""

    translation_key = "error.printer_missing"


@dataclass(frozen=True)
class Outcome:
    """How a technician's action went: a translation key and its parameters.

    ``reason_key``, when set, is said as the ``reason`` parameter; kept as a key so that a language
    switch says the reason again in the new language too.
    """

    key: str
    params: dict[str, object] = field(default_factory=dict)
    reason_key: str | None = None

    def words(self, t: Callable[..., str]) -> str:
        """The outcome in words, through ``t(key, **params)`` (a translator)."""
        params = dict(self.params)
        if self.reason_key is not None:
            params["reason"] = t(self.reason_key)
        return t(self.key, **params)


def failure(key: str, exc: BaseException) -> Outcome:
    """``key`` with what went wrong (the error's kind and words) as its ``reason``."""
    return Outcome(key, {"reason": f"{type(exc).__name__}: {exc}"})


@dataclass(frozen=True)
class _Parts:
    """The parts of the kiosk that ``diagnose`` looks at."""

    card_reader: CardReader
    printer: ReceiptPrinter | None
    outbox: Outbox


class TechnicianDesk:
    """The technician's checks and actions over the devices, the hub, the queue and the audit log."""

    def __init__(self, *, settings: Settings, translator: Translator, local_time: LocalTime, card_reader: CardReader,
                 open_card: CardOpener, validator: CertificateValidator, printer: ReceiptPrinter | None,
                 outbox: Outbox, access: AccessGate, sync: SyncSupervisor,
                 open_audit: Callable[[], AuditLog], clock: Callable[[], dt.datetime],
                 session: Callable[[], requests.Session] | None = None) -> None:
        self._settings = settings
        self._tr = translator
        self._local_time = local_time
        self._card_reader = card_reader
        self._printer = printer
        self._outbox = outbox
        self._open_card = open_card
        self._validator = validator
        self._access = access
        self._sync = sync
        self._open_audit = open_audit  # a fresh connection per audited action, on the caller's thread
        self._clock = clock
        self._session = session  # None: a new requests.Session per enrolment

    def _new_session(self) -> requests.Session:
        if self._session is not None:
            return self._session()
        import requests

        return requests.Session()

    # -- card ------------------------------------------------------------------------------------

    def card(self) -> Section:
        """The readers, whether a card is in each, and whether the PC/SC service answers."""
        return card_section(self._card_reader)

    def test_card(self) -> dict[str, Any]:
        """Read the card in the reader and check its certificates, as ``kiosk diag card`` (no PIN asked).

        The card report: ``card_read``, ``error``, ``holder`` (the number masked) and ``certificates``.
        """
        return card_diag.card_report(self._card_reader, self._open_card, self._validator,
                                     self._settings.card.personal_number_field)

    # -- printer ---------------------------------------------------------------------------------

    def printer(self) -> Section:
        """The printer's real-time status (no printer configured is a warning)."""
        return printer_section(self._printer, self._settings.printer.uri)

    def test_print(self, language: str) -> Outcome:
        """Print the sample receipt in ``language``; a printer error gives its translation key as the reason."""
        try:
            if self._printer is None:
                raise PrinterMissing()
            self._printer.print_receipt(sample_receipt(self._tr, language, self._settings, self._local_time.now()))
        except PrinterError as exc:
            return Outcome("tech.printer.failed", reason_key=exc.translation_key)
        return Outcome("tech.printer.printed")

    # -- network and sync ------------------------------------------------------------------------

    def queue(self) -> Section:
        """Requests per state, the oldest waiting one, rejections and reprints pending."""
        return queue_section(self._outbox.stats)

    def hub(self) -> Section:
        """Whether the hub (``[hub] url``, else the enrolled one) answers, and how fast; waits on the network."""
        return hub_section(configured_hub_url(self._settings), timeout_s=HUB_TIMEOUT_S)

    def sync_now(self) -> Outcome:
        """One whole sync cycle now: send the queue, fetch statuses, documents and the role list."""
        try:
            report = self._sync.sync_once()
        except Exception as exc:  # noqa: BLE001 — not enrolled, or no hub: the technician reads which
            return failure("tech.sync.failed", exc)
        if report.error is not None:
            return Outcome("tech.sync.failed", {"reason": type(report.error).__name__})
        return Outcome("tech.sync.done", {"sent": sum(report.results.values()), "left": report.remaining_queued})

    # -- system ----------------------------------------------------------------------------------

    def system(self) -> Section:
        """Versions, disk, memory, temperatures, the configuration (secrets hidden) and the last errors logged."""
        settings = self._settings
        return system_section(settings, log_path=settings.kiosk.data_dir / "logs" / "kiosk.log")

    # -- bundle ----------------------------------------------------------------------------------

    @staticmethod
    def usb_folders(limit: int = 3) -> list[str]:
        """Mounted removable media a bundle can go to (what the desktop mounts under /media)."""
        found = [p for pattern in MOUNT_GLOBS for p in sorted(glob.glob(pattern)) if Path(p).is_dir()]
        return found[:limit]

    @staticmethod
    def bundle_folder(typed: str) -> Path | None:
        """The folder a bundle goes to, from what was typed; None unless it is an absolute path."""
        folder = typed.strip()
        return Path(folder) if folder.startswith("/") else None

    def write_bundle(self, actor: Actor, folder: Path) -> Outcome:
        """Write the redacted diagnostic zip into ``folder`` (audited with ``actor``); waits on the hub and the disk."""
        try:
            report = diagnose(self._settings, _Parts(self._card_reader, self._printer, self._outbox),
                              hub_timeout_s=HUB_TIMEOUT_S)
            audit = self._open_audit()
            try:
                path = write_bundle(self._settings, folder, report, outbox=self._outbox, audit=audit, actor=actor,
                                    clock=self._clock)
            finally:
                audit.close()
        except Exception as exc:  # noqa: BLE001 — a full stick, a read-only folder: the technician reads which
            return failure("tech.bundle.failed", exc)
        return Outcome("tech.bundle.written", {"path": str(path)})

    # -- enrolment -------------------------------------------------------------------------------

    def enrol(self, actor: Actor, url: str, code: str) -> Outcome:
        """Enrol this kiosk with the hub at ``url`` using the one-time ``code`` (audited, never the code)."""
        data_dir = self._settings.kiosk.data_dir
        try:
            audit = self._open_audit()
            try:
                with self._new_session() as session:
                    enrollment = enrol(actor, audit, session=session, hub_url=url, code=code, data_dir=data_dir,
                                       name=self._settings.kiosk.kiosk_id, clock=self._clock)
            finally:
                audit.close()
        except Exception as exc:  # noqa: BLE001 — a refused code, no hub there: audited; the technician reads which
            return failure("tech.enrol.failed", exc)
        # role lists from this hub are checked against the key just pinned, without a restart
        self._access.pin_hub(pinned_hub(data_dir))
        # new requests are sealed to this hub at once (the sealer re-reads the enrolment); sync follows it too
        self._sync.restart()
        return Outcome("tech.enrol.done", {"hub": enrollment.hub_url, "kiosk": enrollment.kiosk_id})
