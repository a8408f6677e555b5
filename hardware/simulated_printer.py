"""A receipt printer you can look into: the twin of the ESC/POS printer for the demo and the tests.

Like python-escpos's ``Dummy`` with its ``output``, it keeps what it was asked to print, and more:
it encodes each receipt exactly as the real adapter would and draws those bytes back into a
picture, so what you see is what the bytes would print. Faults (paper out, cover open, offline)
are scripted by setting its status.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hardware.escpos_status import error_for
from hardware.printer_profiles import PROFILES, PrinterProfile
from kiosk.ports import PaperState, PrinterStatus, Receipt

if TYPE_CHECKING:
    from PIL import Image


@dataclass(frozen=True)
class PrintedReceipt:
    """One receipt the simulated printer printed: what was asked, the bytes, and the paper."""

    receipt: Receipt
    data: bytes
    image: Image.Image


class SimulatedPrinter:
    """A ``ReceiptPrinter`` printing into ``.receipts`` (and PNG files in ``out_dir``, if given)."""

    def __init__(
        self,
        profile: PrinterProfile | None = None,
        out_dir: Path | None = None,
        mode: str = "raster",
    ) -> None:
        self.profile = profile or PROFILES["80mm"]
        self.out_dir = out_dir
        self.mode = mode
        self.current_status = PrinterStatus(online=True)
        self.receipts: list[PrintedReceipt] = []

    # -- scripting faults --------------------------------------------------------------------

    def set_paper(self, paper: PaperState) -> None:
        """Pretend the paper sensor reads ``paper`` (OK, NEAR_END or OUT)."""
        self.current_status = dataclasses.replace(self.current_status, paper=paper)

    def set_cover_open(self, cover_open: bool = True) -> None:
        """Pretend the cover was opened (or closed again)."""
        self.current_status = dataclasses.replace(self.current_status, cover_open=cover_open)

    def set_online(self, online: bool = True) -> None:
        """Pretend the printer was unplugged (False) or came back (True)."""
        self.current_status = dataclasses.replace(self.current_status, online=online)

    # -- the ReceiptPrinter port -------------------------------------------------------------

    def status(self) -> PrinterStatus:
        """The scripted status; answers at once, as a real printer should within its timeout."""
        return self.current_status

    def print_receipt(self, receipt: Receipt) -> None:
        """Encode, 'print' and keep ``receipt``, or raise the error a real printer would cause."""
        self._raise_unless_ready()
        # python-escpos (its printer database), Pillow and qrcode load with the first receipt, not
        # at start-up: the kiosk draws its first screen without them (bench/bench_startup.py)
        from hardware.escpos_decoder import decode
        from hardware.escpos_encoding import encode_receipt

        data = encode_receipt(receipt, self.profile, self.mode)
        printed = PrintedReceipt(
            receipt=receipt, data=data, image=decode(data, self.profile.width_dots)
        )
        self.receipts.append(printed)
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            printed.image.save(self.out_dir / f"receipt-{_file_safe(receipt.receipt_no)}.png")

    def clear(self) -> None:
        """Forget the receipts printed so far (files already saved stay)."""
        self.receipts.clear()

    def _raise_unless_ready(self) -> None:
        # The same rule as the ESC/POS printer's, so the demo fails the way a real kiosk would.
        error = error_for(self.current_status)
        if error is not None:
            raise error


def _file_safe(name: str) -> str:
    # Receipt numbers like "KS/2024/17" must not turn into directories.
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)
