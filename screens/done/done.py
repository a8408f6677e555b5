"""The receipt screen: request number, its state in words, the QR code, and whether it printed."""

from __future__ import annotations

import io

import qrcode
from kivy.core.image import Image as CoreImage
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty

from screens.base import KioskScreen


def qr_texture(url: str):  # noqa: ANN201 - a Kivy Texture
    """A crisp QR code texture for ``url`` (a phone can photograph it from the screen)."""
    image = qrcode.make(url, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    buffer.seek(0)
    texture = CoreImage(buffer, ext="png").texture
    texture.mag_filter = "nearest"
    return texture


class DoneScreen(KioskScreen):
    """"Your request is received" with the receipt's facts."""

    receipt_no = StringProperty("")
    state_text = StringProperty("")
    print_text = StringProperty("")
    printed = BooleanProperty(True)
    qr = ObjectProperty(None, allownone=True)

    def refresh(self) -> None:
        result = self.journey.session.result
        if result is None:
            return
        receipt = result.receipt
        self.receipt_no = receipt.receipt_no
        self.state_text = self.tr.t("receipt.state_delivered" if receipt.delivered else "receipt.state_queued")
        self.printed = result.printed
        if result.printed:
            self.print_text = self.tr.t("done.take_receipt")
        else:
            self.print_text = self.tr.t("done.not_printed", reason=self.tr.t(result.print_error or "error.printer"))
        self.qr = qr_texture(receipt.qr_url)

    def wipe(self) -> None:
        self.receipt_no = self.state_text = self.print_text = ""
        self.qr = None
