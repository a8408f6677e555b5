"""Turn a ``Receipt`` into the ESC/POS bytes a thermal printer prints.

ESC/POS printers have no Georgian or Armenian code page. Lines that are plain ASCII go in the
printer's own font (a few bytes each); every other line goes per the chosen mode:

* ``raster`` (default): drawn with the bundled Kiosk Sans font and sent as a ``GS v 0`` picture.
* ``udc``: Georgian letters downloaded as user-defined characters and the line sent as text
  (``hardware.escpos_udc``), for slow serial links; other scripts still go as pictures.

The QR code goes as the printer's own ``GS ( k`` command when the profile says the printer has
one, as a picture otherwise. ``encode_whole_image`` draws the entire receipt as one picture, the
way browser-based POS software prints; it exists as the baseline to measure the savings against.
"""

from __future__ import annotations

import copy
import textwrap
from collections.abc import Callable, Sequence
from typing import Protocol

from escpos.capabilities import Profile as EscposProfile
from escpos.constants import QR_ECLEVEL_M
from escpos.printer import Dummy
from PIL import Image, ImageOps

from hardware.escpos_udc import UdcLines
from hardware.printer_profiles import PrinterProfile
from hardware.receipt_drawing import (
    STYLES,
    centred,
    is_centred,
    qr_module_dots,
    render_line,
    render_qr,
    render_receipt_image,
)
from kiosk.ports import LineStyle, Receipt, ReceiptLine


def _escpos_profile(profile: PrinterProfile) -> EscposProfile:
    """A python-escpos profile that knows our paper width, so its image width checks work.

    The stock profiles keep their data in a class attribute shared by every instance; we give
    ours a private copy instead of editing theirs.
    """
    escpos_profile = EscposProfile(
        columns=profile.columns(),
        features={
            "bitImageRaster": True,
            "paperFullCut": True,
            "paperPartCut": True,
            "qrCode": profile.native_qr,
        },
    )
    data = copy.deepcopy(EscposProfile.profile_data)
    data["media"] = {"dpi": "Unknown", "width": {"mm": "Unknown", "pixels": profile.width_dots}}
    data["features"] = escpos_profile.features
    escpos_profile.profile_data = data
    return escpos_profile


def is_printer_text(text: str) -> bool:
    """True when the printer's own font can print ``text``: ASCII, the same in every code page."""
    return all(" " <= ch <= "~" for ch in text)


def _write_printer_text(printer: Dummy, line: ReceiptLine, profile: PrinterProfile) -> None:
    style = STYLES[line.style]
    printer.set(
        align="center" if is_centred(line) else "left",
        bold=style.bold,
        font="b" if style.font_b else "a",
        normal_textsize=not style.double,
        double_width=style.double,
        double_height=style.double,
    )
    columns = profile.columns(font_b=style.font_b, double_width=style.double)
    for row in textwrap.wrap(line.text, columns) or [""]:
        printer.textln(row)


def _write_rule(printer: Dummy, profile: PrinterProfile) -> None:
    printer.set(align="left", bold=False, font="a", normal_textsize=True)
    printer.textln("-" * profile.columns())


def _trim_right(image: Image.Image) -> Image.Image:
    """Drop the white right of the ink (to a whole byte): GS v 0 pays for every white dot sent."""
    ink = ImageOps.invert(image.convert("L")).getbbox()
    right = (ink[2] + 7) // 8 * 8 if ink else 8
    return image.crop((0, 0, min(image.width, right), image.height))


def _send_picture(printer: Dummy, paper_wide: Image.Image) -> None:
    # Pictures are positioned by their own white left margin, because not every printer applies
    # ESC a to GS v 0 (python-escpos centres the same way); only the right margin is left out.
    printer.set(align="left")
    printer.image(_trim_right(paper_wide))


class _LineMode(Protocol):
    """How the lines the printer's own font can't show are sent."""

    def prepare(self, lines: Sequence[ReceiptLine]) -> None:
        """See every such line of the receipt before the first is written."""

    def write_line(self, line: ReceiptLine) -> None:
        """Send one such line."""


class _RasterLines:
    """Mode "raster": a line the printer's font can't show goes as a ``GS v 0`` picture."""

    def __init__(self, printer: Dummy, profile: PrinterProfile) -> None:
        self._printer = printer
        self._profile = profile

    def prepare(self, lines: Sequence[ReceiptLine]) -> None:
        """Nothing to send before the lines: every picture carries its own glyphs."""

    def write_line(self, line: ReceiptLine) -> None:
        """Send ``line`` as a picture, without the white to the right of its ink."""
        _send_picture(self._printer, render_line(line, self._profile.width_dots))


def _udc_lines(printer: Dummy, profile: PrinterProfile) -> _LineMode:
    return UdcLines(printer, profile, fallback=_RasterLines(printer, profile))


_MODES: dict[str, Callable[[Dummy, PrinterProfile], _LineMode]] = {
    "raster": _RasterLines,
    "udc": _udc_lines,
}

ENCODING_MODES = tuple(_MODES)
"""The valid ``mode`` names, for config and command-line choices."""


def check_mode(mode: str) -> None:
    """Raise ``ValueError`` naming the valid modes unless ``mode`` is one."""
    if mode not in _MODES:
        raise ValueError(f"unknown receipt encoding mode {mode!r}; valid: {', '.join(_MODES)}")


def _new_printer(profile: PrinterProfile) -> Dummy:
    printer = Dummy(profile=_escpos_profile(profile))
    # python-escpos never resets the printer itself; a style left from the last job would leak in.
    printer.hw("INIT")
    return printer


def _write_qr(printer: Dummy, url: str, profile: PrinterProfile) -> None:
    module = qr_module_dots(url, profile.width_dots)
    printer.set(align="center", bold=False, font="a", normal_textsize=True)
    printer.ln()  # quiet zone above
    if profile.native_qr:
        printer.qr(url, ec=QR_ECLEVEL_M, size=module, native=True)
    else:
        _send_picture(printer, centred(render_qr(url, module), profile.width_dots))
    printer.set(align="left")
    printer.ln()  # quiet zone below


def _finish(printer: Dummy) -> bytes:
    printer.cut(mode="PART")  # feeds the last line past the cutter first
    return printer.output


def encode_receipt(receipt: Receipt, profile: PrinterProfile, mode: str = "raster") -> bytes:
    """ESC/POS bytes for ``receipt``: ASCII lines as text, others per ``mode``, then QR and cut."""
    check_mode(mode)
    printer = _new_printer(profile)
    foreign = _MODES[mode](printer, profile)
    foreign.prepare(
        [ln for ln in receipt.lines if ln.style is not LineStyle.RULE and not is_printer_text(ln.text)]
    )
    for line in receipt.lines:
        if line.style is LineStyle.RULE:
            _write_rule(printer, profile)
        elif is_printer_text(line.text):
            _write_printer_text(printer, line, profile)
        else:
            foreign.write_line(line)
    _write_qr(printer, receipt.qr_url, profile)
    return _finish(printer)


def encode_whole_image(receipt: Receipt, profile: PrinterProfile) -> bytes:
    """The ESC/POS bytes for ``receipt`` drawn as one picture (the browser-POS baseline)."""
    printer = _new_printer(profile)
    printer.image(render_receipt_image(receipt, profile))
    return _finish(printer)
