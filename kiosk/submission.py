"""Turning a confirmed form into a durable, sealed submission and a receipt.

Order matters: the request is committed to the outbox (fsync'd) before the receipt prints or
the "done" screen shows, so whatever the villager is told has really been kept.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk.errors import KioskError, PrinterError
from kiosk.i18n import Translator
from kiosk.identity import Citizen
from kiosk.ports import Receipt, ReceiptPrinter, Sealer
from kiosk.receipts import HubPage, build_receipt, promises_sms, status_link
from offline.outbox import Outbox
from protocol.catalogue import Catalogue, Service, localized
from protocol.presence import PAYLOAD_FIELD, PresenceToken, holder_key
from protocol.qualified_signature import SIGNATURE_FIELD

log = logging.getLogger(__name__)

PAYLOAD_SCHEMA = 1


class RequestNotQueued(KioskError):
    """The outbox could not keep the request: nothing was queued, nothing may be printed."""

    translation_key = "error.not_queued"


@dataclass(frozen=True)
class SubmissionResult:
    """What happened: the receipt, and whether it came out of the printer."""

    receipt: Receipt
    printed: bool
    print_error: str | None = None  # translation key when not printed


@dataclass(frozen=True)
class SubmitterConfig:
    """The settings a submission needs."""

    kiosk_id: str
    centre_name: str
    status_url: str
    zone: dt.tzinfo  # the kiosk's time zone: the receipt shows local time
    hub_page: Callable[[], HubPage | None] = lambda: None  # read at each receipt: an enrolment changes it


class Submitter:
    """Seals, enqueues, then prints: the one way a request leaves a citizen session."""

    def __init__(
        self,
        *,
        outbox: Outbox,
        sealer: Sealer,
        printer: ReceiptPrinter | None,
        catalogue: Callable[[], Catalogue],
        tr: Translator,
        config: SubmitterConfig,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self._outbox = outbox
        self._sealer = sealer
        self._printer = printer
        self._catalogue = catalogue
        self._tr = tr
        self._config = config
        self._clock = clock

    def submit(
        self,
        citizen: Citizen,
        service: Service,
        answers: dict[str, str],
        *,
        synthetic: bool = False,
        sign: Callable[[dict[str, Any]], dict[str, str]] | None = None,
        assisted_by: str | None = None,
        presence: PresenceToken | None = None,
    ) -> SubmissionResult:
        """Keep the request durably, then print its receipt (or say why it did not print).

        ``sign(payload)`` returns the qualified signature over the payload as built (see
        ``kiosk.signing``); it travels sealed with it. If ``sign`` raises, nothing is queued.
        ``assisted_by`` (a staff member's masked id) travels sealed too, for an assisted request.
        ``presence``, the session's proof that the card was there (``protocol.presence``), travels sealed:
        the hub refuses a request without one. It also files the request under the card holder for
        "my requests" offline.
        """
        language = self._tr.language
        payload = {
            "schema": PAYLOAD_SCHEMA,
            "kiosk_id": self._config.kiosk_id,
            "service": service.id,
            "language": language,
            "submitted_at": self._clock().isoformat(),
            "citizen": {
                "personal_number": citizen.personal_number,
                "given_name": citizen.given_name,
                "surname": citizen.surname,
            },
            "answers": dict(answers),
            "synthetic": synthetic,
        }
        if assisted_by:
            payload["assisted_by"] = assisted_by
        if presence is not None:
            payload[PAYLOAD_FIELD] = presence.to_json()
        if sign is not None:
            payload[SIGNATURE_FIELD] = sign(payload)
        try:
            submission = self._outbox.enqueue(
                service=service.id,
                sealed=self._sealer.seal(payload),
                holder=holder_key(self._config.kiosk_id, presence.certificate) if presence else None,
                synthetic=synthetic,
                language=language,
                centre=self._config.centre_name,
            )
        except (sqlite3.Error, OSError) as exc:
            log.error("request for service %s not queued: %s", service.id, type(exc).__name__)
            raise RequestNotQueued() from exc
        log.info("request %s queued for service %s", submission.receipt_no, service.id)
        catalogue = self._catalogue()
        page = self._config.hub_page()
        receipt = build_receipt(
            tr=self._tr,
            language=language,
            request_id=submission.id,
            receipt_no=submission.receipt_no,
            agency=localized(catalogue.agencies[service.agency], language) if service.agency else "",
            service=localized(service.title, language),
            created_at=submission.created_at.astimezone(self._config.zone),
            citizen_name=citizen.full_name,
            personal_number=citizen.personal_number,
            fee=service.fee,
            delivered=False,
            next_steps=self._tr("receipt.next_steps", days=service.processing_days) if promises_sms(page)
            else self._tr("receipt.next_steps_qr", days=service.processing_days),
            centre_name=self._config.centre_name,
            qr_url=status_link(self._config.status_url, submission.receipt_no, submission.tracking_token, page),
        )
        return self._print(receipt)

    def _print(self, receipt: Receipt) -> SubmissionResult:
        if self._printer is None:
            return SubmissionResult(receipt, printed=False, print_error="error.printer_missing")
        try:
            self._printer.print_receipt(receipt)
        except PrinterError as exc:
            log.warning("receipt %s not printed: %s; reprint queued", receipt.receipt_no, type(exc).__name__)
            self._outbox.queue_reprint(receipt.request_id, exc.translation_key)
            return SubmissionResult(receipt, printed=False, print_error=exc.translation_key)
        return SubmissionResult(receipt, printed=True)
