"""The sample receipt a technician prints to check a printer (``kiosk print-test``, the technician screen)."""

from __future__ import annotations

from datetime import datetime

from assets import ASSETS_DIR
from kiosk.config import Settings
from kiosk.i18n import Translator
from kiosk.ports import Receipt
from kiosk.receipts import build_receipt, status_link
from protocol.catalogue import load_catalogue, localized

SAMPLE_REQUEST_ID = "00000000-0000-4000-8000-000000000000"
"""The sample request's id: as long as a real one, so the QR code is as large as a real one's."""

SAMPLE_CITIZEN = {"ka": "ნინო ბერიძე", "en": "Nino Beridze", "ru": "Нино Беридзе", "az": "Nino Beridze",
                  "hy": "Նինո Բերիձե"}
SAMPLE_PERSONAL_NUMBER = "01024056789"


def sample_receipt(tr: Translator, language: str, settings: Settings, created_at: datetime) -> Receipt:
    """A receipt for the catalogue's first service, as a villager would get it, in ``language``."""
    catalogue = load_catalogue(ASSETS_DIR / "catalogue" / "catalogue.json")
    service = catalogue.services[0]
    receipt_no = f"{settings.kiosk.kiosk_id}-{created_at:%y%m%d}-TEST"
    return build_receipt(
        tr=lambda key, **params: tr(key, language, **params),
        language=language,
        request_id=SAMPLE_REQUEST_ID,
        receipt_no=receipt_no,
        agency=localized(catalogue.agencies[service.agency], language) if service.agency else "",
        service=localized(service.title, language),
        created_at=created_at,
        citizen_name=SAMPLE_CITIZEN[language],
        personal_number=SAMPLE_PERSONAL_NUMBER,
        fee=service.fee,
        delivered=False,
        next_steps=tr("receipt.next_steps_qr", language, days=service.processing_days),
        centre_name=settings.kiosk.centre_name,
        qr_url=status_link(settings.receipt.status_url, receipt_no, None, None),
    )
