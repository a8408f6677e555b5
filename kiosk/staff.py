"""What centre staff do at the kiosk, as core verbs the staff screens call: each one is audited.

Reprint a receipt that did not print, cancel a queued request with a reason from a fixed list,
and help a villager through an assisted session (its requests are logged as "assisted by" the
staff member). A reprint carries no name or personal number: the kiosk sealed them and cannot
read them back; the receipt number and QR code are what the villager needs.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from decimal import Decimal

from kiosk.audit import Actor, AuditAction, AuditLog
from kiosk.diag_system import redact
from kiosk.errors import KioskError, PrinterError, PrinterOffline
from kiosk.i18n import Translator
from kiosk.ports import Receipt, ReceiptPrinter
from kiosk.receipts import build_receipt, promises_sms, status_link
from kiosk.roles import Role
from kiosk.session import CitizenSession, Step
from kiosk.submission import SubmitterConfig
from offline.outbox import Outbox, Submission, SubmissionState
from protocol.catalogue import Catalogue, localized

log = logging.getLogger(__name__)


# The hub's refusals staff can act on, in plain words (the code stays beside them for a technician).
_REFUSALS = {
    "presence_other_person": "staff.rejected.other_person",
    "presence_outside_session": "staff.rejected.outside_session",
    "sealed_unreadable": "staff.rejected.unreadable",
}


def refusal_key(reason: str | None) -> str | None:
    """The translation key explaining the hub's refusal ``reason`` to staff, or None for other reasons."""
    if not reason:
        return None
    if reason in _REFUSALS:
        return _REFUSALS[reason]
    return "staff.rejected.no_card_proof" if reason.startswith("presence_") else None


class CancelReason(enum.Enum):
    """Why staff cancel a queued request; a fixed list, so no free text (or personal data) is kept."""

    CITIZEN_ASKED = "citizen_asked"
    DUPLICATE = "duplicate"
    WRONG_SERVICE = "wrong_service"
    TEST = "test"

    @property
    def translation_key(self) -> str:
        """The words for the staff screen."""
        return f"staff.cancel_reason.{self.value}"


class StaffError(KioskError):
    """A staff action that cannot be done; names a translation key."""

    translation_key = "error.staff"


class NotAllowed(StaffError):
    """This role may not do that."""

    translation_key = "error.staff_not_allowed"


class NotCancellable(StaffError):
    """Only a request still waiting in the queue can be cancelled; this one has left or ended."""

    translation_key = "error.not_cancellable"


DONE_STATES = (SubmissionState.DELIVERED, SubmissionState.CLOSED)
NOTE_MAX = 120  # characters of a cancellation note kept in the audit log


class StaffDesk:
    """The staff verbs over the outbox, the printer and the audit log."""

    def __init__(self, *, outbox: Outbox, audit: AuditLog, printer: ReceiptPrinter | None,
                 catalogue: Callable[[], Catalogue], tr: Translator, config: SubmitterConfig) -> None:
        self._outbox = outbox
        self._audit = audit
        self._printer = printer
        self._catalogue = catalogue
        self._tr = tr
        self._config = config
        self.assisted_by: Actor | None = None
        self._assisted_started = False  # the villager's session has begun

    @staticmethod
    def _require(actor: Actor, *roles: Role) -> None:
        if actor.role not in {r.value for r in roles}:
            raise NotAllowed()

    # -- the queue -----------------------------------------------------------------------------

    def queue(self, state: SubmissionState | None = None, limit: int = 100) -> list[Submission]:
        """Requests with their states and ages (no personal data: it is sealed)."""
        return self._outbox.list(state, limit)

    def cancel(self, actor: Actor, request_id: str, reason: CancelReason, note: str = "") -> Submission:
        """Cancel a request still waiting to be sent; ``NotCancellable`` once it has left.

        ``note`` (optional words typed by staff) goes to the audit log only, redacted and cut short.
        """
        self._require(actor, Role.STAFF, Role.TECHNICIAN)
        extra = {"note": redact(note.strip())[:NOTE_MAX]} if note.strip() else {}
        try:
            submission = self._outbox.cancel(request_id, reason.value)
        except (KeyError, ValueError):
            self._audit.append(actor, AuditAction.CANCEL,
                               {"request_id": request_id, "reason": reason.value, "outcome": "refused"})
            raise NotCancellable() from None
        self._audit.append(actor, AuditAction.CANCEL, {"request_id": request_id, "receipt_no": submission.receipt_no,
                                                       "reason": reason.value, "outcome": "cancelled", **extra})
        log.info("request %s cancelled by %s", submission.receipt_no, actor.role)
        return submission

    # -- reprints ------------------------------------------------------------------------------

    def pending_reprints(self) -> list[tuple[Submission, str]]:
        """Receipts that did not print, with why (a translation key)."""
        return self._outbox.pending_reprints()

    def reprint(self, actor: Actor, request_id: str) -> Receipt:
        """Print a request's receipt again; raises the ``PrinterError`` (after logging it) when it can't."""
        self._require(actor, Role.STAFF, Role.TECHNICIAN)
        submission = self._outbox.get(request_id)
        receipt = self._receipt(submission)
        details = {"request_id": request_id, "receipt_no": submission.receipt_no}
        try:
            if self._printer is None:
                raise PrinterOffline()
            self._printer.print_receipt(receipt)
        except PrinterError as exc:
            self._audit.append(actor, AuditAction.REPRINT, {**details, "outcome": exc.translation_key})
            raise
        self._outbox.mark_reprinted(request_id)
        self._audit.append(actor, AuditAction.REPRINT, {**details, "outcome": "printed"})
        return receipt

    def _receipt(self, submission: Submission) -> Receipt:
        language = self._tr.language
        catalogue = self._catalogue()
        page = self._config.hub_page()
        try:
            service = catalogue.service(submission.service)
            title, fee, days = localized(service.title, language), service.fee, service.processing_days
            agency = localized(catalogue.agencies[service.agency], language) if service.agency else ""
        except KeyError:  # a service the catalogue no longer lists: the id still identifies it
            title, fee, days, agency = submission.service, None, None, ""
        return build_receipt(
            tr=lambda key, **params: self._tr(key, language, **params),
            language=language,
            request_id=submission.id,
            receipt_no=submission.receipt_no,
            agency=agency,
            service=title,
            created_at=submission.created_at.astimezone(self._config.zone),
            citizen_name="—",
            personal_number="—",
            fee=fee if fee is not None else Decimal("0.00"),
            delivered=submission.state in DONE_STATES,
            next_steps="" if days is None else self._tr("receipt.next_steps", language, days=days) if promises_sms(page)
            else self._tr("receipt.next_steps_qr", language, days=days),
            centre_name=self._config.centre_name,
            qr_url=status_link(self._config.status_url, submission.receipt_no, submission.tracking_token, page),
        )

    # -- assisted sessions ---------------------------------------------------------------------

    def start_assisted(self, actor: Actor) -> None:
        """The staff member will help the next villager; their requests are logged as assisted."""
        self._require(actor, Role.STAFF)
        self.assisted_by, self._assisted_started = actor, False
        self._audit.append(actor, AuditAction.ASSISTED_START, {})

    def end_assisted(self, reason: str = "staff") -> None:
        """The assisted session is over (the villager's session ended, or staff ended it)."""
        if self.assisted_by is not None:
            self._audit.append(self.assisted_by, AuditAction.ASSISTED_END, {"reason": reason})
            self.assisted_by = None

    def on_step(self, step: Step, session: CitizenSession) -> None:
        """Journey listener: log each request made while assisted, end the assisted session with the visit."""
        if self.assisted_by is None:
            return
        if step is Step.DONE and session.result is not None:
            receipt = session.result.receipt
            self._audit.append(self.assisted_by, AuditAction.ASSISTED_REQUEST,
                               {"request_id": receipt.request_id, "receipt_no": receipt.receipt_no})
        if step is Step.ATTRACT and self._assisted_started:
            self.end_assisted("session_ended")
        elif step is not Step.ATTRACT:
            self._assisted_started = True
