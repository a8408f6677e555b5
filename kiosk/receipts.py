"""The receipt a villager takes home, independent of any printer.

A ``Receipt`` (a value in ``kiosk.ports``, since printers take it) carries its facts (number,
service, state...) for the screen and the same facts as ordered, already translated
``ReceiptLine``s for printers, plus the URL its QR code encodes.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from kiosk.ports import LineStyle, Receipt, ReceiptLine


def mask_personal_number(number: str) -> str:
    """Show only the last three digits of an 11-digit personal number."""
    return "•" * max(0, len(number) - 3) + number[-3:]


def format_fee(fee: Decimal) -> str:
    """A fee in lari as printed and shown: ``2.00 ₾``."""
    return f"{fee:.2f} ₾"


@dataclass(frozen=True)
class HubPage:
    """What the enrolled hub said about itself: where phones reach it, this kiosk's id there, whether it texts."""

    public_url: str
    kiosk_id: str
    sms: bool


def status_link(template: str, receipt_no: str, tracking_token: str | None, page: HubPage | None) -> str:
    """What the receipt's QR opens: the hub's page for this request (``<public url>/r/<kiosk>/<token>``) when
    the hub gave a public URL, else ``receipt.status_url`` with the receipt number. Never the request id."""
    if page is not None and page.public_url and tracking_token:
        return f"{page.public_url}/r/{urllib.parse.quote(page.kiosk_id, safe='')}/{tracking_token}"
    return template.format(receipt=urllib.parse.quote(receipt_no, safe=""))


def promises_sms(page: HubPage | None) -> bool:
    """The receipt promises an SMS only when the hub it is enrolled with sends them; else it points to the QR."""
    return page is not None and page.sms


def build_receipt(
    *,
    tr: Callable[..., str],
    language: str,
    request_id: str,
    receipt_no: str,
    agency: str,
    service: str,
    created_at: datetime,
    citizen_name: str,
    personal_number: str,
    fee: Decimal,
    delivered: bool,
    next_steps: str,
    centre_name: str,
    qr_url: str,
) -> Receipt:
    """Assemble a receipt; ``tr(key, **params)`` translates into ``language``."""
    masked = mask_personal_number(personal_number)
    state_text = tr("receipt.state_delivered" if delivered else "receipt.state_queued")
    when = created_at.strftime("%d.%m.%Y %H:%M")
    lines = (
        ReceiptLine(agency, LineStyle.TITLE, centered=True),
        ReceiptLine(centre_name, LineStyle.SMALL, centered=True),
        ReceiptLine("", LineStyle.RULE),
        ReceiptLine(service, LineStyle.HEADING),
        ReceiptLine(f"{tr('receipt.number')}: {receipt_no}"),
        ReceiptLine(f"{tr('receipt.date')}: {when}"),
        ReceiptLine(f"{tr('receipt.citizen')}: {citizen_name}"),
        ReceiptLine(f"{tr('receipt.personal_number')}: {masked}"),
        ReceiptLine(f"{tr('receipt.fee')}: {format_fee(fee) if fee else tr('services.free')}"),
        ReceiptLine("", LineStyle.RULE),
        ReceiptLine(state_text, LineStyle.HEADING),
        ReceiptLine(next_steps, LineStyle.SMALL),
        ReceiptLine(tr("receipt.scan_qr"), LineStyle.SMALL, centered=True),
    )
    return Receipt(
        request_id=request_id,
        receipt_no=receipt_no,
        language=language,
        agency=agency,
        service=service,
        created_at=created_at,
        citizen_name=citizen_name,
        masked_personal_number=masked,
        fee=fee,
        delivered=delivered,
        state_text=state_text,
        next_steps=next_steps,
        qr_url=qr_url,
        lines=lines,
    )
