"""``Services``: everything a running kiosk is made of, wired once by the composition root
(``entrypoints.bootstrap.build_services``) and never changed afterwards.

The Kivy app, the CLI commands, the tours and the tests all receive one; nothing else builds the
parts. Simulated devices, when configured, are reachable through ``demo`` for tours and tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kiosk.audit import AuditLog
from kiosk.catalogue_store import CatalogueStore
from kiosk.clock import LocalTime
from kiosk.config import Settings
from kiosk.i18n import Translator
from kiosk.identity import CertificateValidator
from kiosk.journey import Journey
from kiosk.ports import CardOpener, CardReader, DemoDevices, ReceiptPrinter
from kiosk.roles import AccessGate
from kiosk.speech import AudioGuide
from kiosk.staff import StaffDesk
from kiosk.staff_session import RoleModes
from kiosk.submission import Submitter
from kiosk.sync_supervisor import SyncSupervisor
from kiosk.technician_desk import TechnicianDesk
from offline.outbox import Outbox
from offline.ratings import Ratings


@dataclass(frozen=True)
class Privileged:
    """What the staff and technician modes run on: the audit log, the role gate, the staff desk."""

    audit: AuditLog
    access: AccessGate
    staff: StaffDesk

    def audit_checkpoint(self) -> dict[str, object]:
        """The audit chain's head for the heartbeat (``{"seq", "hash"}``)."""
        head = self.audit.checkpoint()
        return {"seq": head.seq, "hash": head.hash}


@dataclass(frozen=True)
class Services:
    """Everything the kiosk runs on, wired once."""

    settings: Settings
    translator: Translator
    catalogue: CatalogueStore  # call it for the catalogue in force; the sync engine feeds on_catalogue(bytes)
    card_reader: CardReader
    open_card: CardOpener
    printer: ReceiptPrinter | None  # None: no printer configured, receipts are shown on screen only
    outbox: Outbox
    journey: Journey
    local_time: LocalTime  # the kiosk's own time zone, for what people read
    submitter: Submitter  # the one path a request takes into the outbox (also `kiosk dev load`)
    audio: AudioGuide  # spoken prompts; the app attaches it to the journey
    ratings: Ratings  # satisfaction counts, for the heartbeat and the day report
    privileged: Privileged  # audit log, role gate, staff desk (staff and technician modes)
    validator: CertificateValidator  # for the card diagnostics (`kiosk diag card`)
    modes: RoleModes  # citizen / role login / staff / technician mode
    sync: SyncSupervisor  # background sync: started by the entry point, restarted after an enrolment
    technician: TechnicianDesk  # the technician mode's checks, bundle and enrolment
    demo: DemoDevices | None = None  # the simulated twins, when the settings chose them
    closers: tuple[Callable[[], None], ...] = ()  # closed in reverse order by close()

    def close(self) -> None:
        """Stop devices and background sync, close files."""
        self.card_reader.stop()
        self.sync.close()
        for close in reversed(self.closers):
            close()
