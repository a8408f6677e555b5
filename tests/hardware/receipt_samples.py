"""The fixed receipts the printer tests share: same words, date and ids every run.

The words are written out here rather than read from the translation catalogues, so that
editing a translation doesn't change the golden ESC/POS bytes.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import zxingcpp

from kiosk.ports import Receipt
from kiosk.receipts import build_receipt

GEORGIAN = {
    "receipt.state_delivered": "მოთხოვნა გაგზავნილია",
    "receipt.state_queued": "მოთხოვნა რიგშია და გაიგზავნება კავშირის აღდგენისას",
    "receipt.number": "ქვითრის ნომერი",
    "receipt.date": "თარიღი",
    "receipt.citizen": "მოქალაქე",
    "receipt.personal_number": "პირადი ნომერი",
    "receipt.fee": "საფასური",
    "receipt.scan_qr": "დაასკანერეთ QR კოდი სტატუსის სანახავად",
}
ENGLISH = {
    "receipt.state_delivered": "Request sent",
    "receipt.state_queued": "Request queued; it will be sent when the connection is back",
    "receipt.number": "Receipt No.",
    "receipt.date": "Date",
    "receipt.citizen": "Citizen",
    "receipt.personal_number": "Personal ID",
    "receipt.fee": "Fee",
    "receipt.scan_qr": "Scan the QR code to see the status",
}


def make_receipt(language: str = "ka", receipt_no: str = "KS-2025-000123") -> Receipt:
    """A receipt as the kiosk builds it, in Georgian or English."""
    words = GEORGIAN if language == "ka" else ENGLISH
    ka = language == "ka"
    return build_receipt(
        tr=lambda key, **params: words[key],
        language=language,
        request_id="3f2a9c1e-7b4d-4e8a-9f0c-2d6b1a5e8c47",
        receipt_no=receipt_no,
        agency="საჯარო სერვისების დარბაზი" if ka else "Public Service Hall",
        service="ცნობა მისამართის შესახებ" if ka else "Certificate of address",
        created_at=datetime(2025, 11, 21, 10, 31),
        citizen_name="ნინო ბერიძე" if ka else "Nino Beridze",
        personal_number="01024056789",
        fee=Decimal(2),
        delivered=False,
        next_steps="პასუხს მიიღებთ SMS-ით 5 სამუშაო დღეში."
        if ka
        else "You will get the answer by SMS.",
        centre_name="სოფელ ზემო ხოდაშენის სათემო ცენტრი"
        if ka
        else "Zemo Khodasheni Community Centre",
        qr_url=f"https://my.gov.ge/r/{receipt_no}",
    )


def read_qr_urls(image) -> list[str]:
    """Every QR code a phone would find on the printed paper."""
    return [found.text for found in zxingcpp.read_barcodes(image.convert("L"))]
