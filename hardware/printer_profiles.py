"""What the kiosk knows about a receipt printer model: paper width in dots and its features.

The encoder decides from a profile whether the QR code goes as the printer's own ``GS ( k``
command (about 80 bytes) or as an image (several kilobytes), and later whether Georgian letters
may be downloaded as user-defined characters.
"""

from __future__ import annotations

from dataclasses import dataclass

PAPER_WIDTHS_DOTS = (384, 512, 576)
"""Printable widths we support: 58 mm paper at 203 dpi, 80 mm at 180 dpi, 80 mm at 203 dpi."""


@dataclass(frozen=True)
class PrinterProfile:
    """One printer model's paper width and features, as the ESC/POS encoder needs them."""

    name: str
    width_dots: int
    native_qr: bool
    user_defined_chars: bool
    font_a_width: int = 12
    font_b_width: int = 9

    def __post_init__(self) -> None:
        if self.width_dots not in PAPER_WIDTHS_DOTS:
            raise ValueError(
                f"printer profile {self.name!r}: width_dots {self.width_dots} "
                f"is not one of {PAPER_WIDTHS_DOTS}"
            )

    def columns(self, font_b: bool = False, double_width: bool = False) -> int:
        """How many printer-font characters fit on one line."""
        cell = self.font_b_width if font_b else self.font_a_width
        return self.width_dots // (cell * (2 if double_width else 1))


PROFILES: dict[str, PrinterProfile] = {
    # Epson TM-T20-class 80 mm printers at 203 dpi: native QR and ESC & user-defined characters.
    "80mm": PrinterProfile("80mm", 576, native_qr=True, user_defined_chars=True),
    # Epson TM-T88-class at 180 dpi print 512 dots on the same 80 mm paper.
    "80mm-512": PrinterProfile("80mm-512", 512, native_qr=True, user_defined_chars=True),
    # Unbranded 80 mm printers whose firmware ignores GS ( k.
    "80mm-basic": PrinterProfile("80mm-basic", 576, native_qr=False, user_defined_chars=False),
    # Cheap 58 mm printers (python-escpos lists the POS-5890 without QR support).
    "58mm": PrinterProfile("58mm", 384, native_qr=False, user_defined_chars=False),
}
"""The printer models the kiosk config may name."""


def profile_for_width(width_dots: int) -> PrinterProfile:
    """The most cautious known profile for a paper width, for a printer we know nothing else about.

    A printer that only told us its width gets the profile with the fewest features, because an
    image QR prints everywhere while an unsupported ``GS ( k`` prints nothing at all.
    """
    candidates = [p for p in PROFILES.values() if p.width_dots == width_dots]
    if not candidates:
        raise ValueError(
            f"no printer profile for {width_dots} dots; known widths: {PAPER_WIDTHS_DOTS}"
        )
    return min(candidates, key=lambda p: (p.native_qr, p.user_defined_chars))
