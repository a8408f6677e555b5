"""Turn a ``Receipt`` into the ESC/POS bytes a thermal printer prints.

ESC/POS printers have no Georgian or Armenian code page. Lines that are plain ASCII go in the
printer's own font (a few bytes each); every other line is drawn with the bundled Kiosk Sans
font and sent as a ``GS v 0`` raster picture. The QR code goes as the printer's own ``GS ( k``
command when the profile says the printer has one, as a picture otherwise.

``encode_whole_image`` draws the entire receipt as one picture, the way browser-based POS
software prints; it exists as the baseline to measure the byte savings against.
"""

from __future__ import annotations

import copy
import textwrap
from dataclasses import dataclass
from functools import lru_cache

import qrcode
from escpos.capabilities import Profile as EscposProfile
from escpos.constants import QR_ECLEVEL_M
from escpos.printer import Dummy
from PIL import Image, ImageDraw, ImageFont, ImageOps

from assets import font_path
from hardware.printer_profiles import PrinterProfile
from kiosk.receipts import LineStyle, Receipt, ReceiptLine

QR_TARGET_DOTS = 224
"""Side of the QR code we aim for: 28 mm at 203 dpi, so an old phone camera reads it easily."""

QR_MAX_SHARE_OF_WIDTH = 0.6
"""On 58 mm paper the QR may not take more than this, or it crowds out the text."""

DRAWN_MARGIN_DOTS = 2
"""White left and right of drawn lines: some letters overhang their box and would be clipped."""

# A printer quiet-zone is 4 modules; we feed one text line (30 dots) above and below the QR, so
# larger modules would eat into it. 3 dots is the smallest module cheap phone cameras still read.
QR_MODULE_DOTS = range(3, 8)


@dataclass(frozen=True)
class _Style:
    """How one ``LineStyle`` is set, in the printer's font and in our drawn font."""

    bold: bool = False
    double: bool = False  # double width and height in the printer's font
    font_b: bool = False  # the printer's small font
    drawn_px: int = 24  # size of the bundled font when we draw the line ourselves


_STYLES: dict[LineStyle, _Style] = {
    LineStyle.TITLE: _Style(bold=True, double=True, drawn_px=32),
    LineStyle.HEADING: _Style(bold=True),
    LineStyle.NORMAL: _Style(),
    LineStyle.SMALL: _Style(font_b=True, drawn_px=20),
    LineStyle.RULE: _Style(),
}

# Glyphs that reach furthest up and down in each script, so every drawn row of one size has the
# same height whatever the text, and rows line up like the printer's own fixed line pitch.
_TALLEST_GLYPHS = "ÁÅЙЁქჭჯღյփՓԲgjyp|()"


# --- drawing with the bundled font (shared by raster lines and the whole-image baseline) -------


@lru_cache(maxsize=16)
def _font(px: int, bold: bool) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(bold)), px)


@lru_cache(maxsize=16)
def _row_metrics(px: int, bold: bool) -> tuple[int, int]:
    """(row height, y to draw at) for one drawn row: the ink extent plus a printer-like gap."""
    _, top, _, bottom = _font(px, bold).getbbox(_TALLEST_GLYPHS, anchor="la")
    gap = max(4, px // 4)
    return bottom - top + gap, gap // 2 - top


def _wrap_pixels(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Greedy word wrap to ``width`` pixels; a word longer than a row is split between letters."""
    rows: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if font.getlength(candidate) <= width:
            current = candidate
            continue
        if current:
            rows.append(current)
        current = word
        while font.getlength(current) > width:
            cut = max(
                (i for i in range(1, len(current)) if font.getlength(current[:i]) <= width),
                default=1,
            )
            rows.append(current[:cut])
            current = current[cut:]
    rows.append(current)
    return rows


def render_line(line: ReceiptLine, width_dots: int) -> Image.Image:
    """Draw one receipt line (wrapped, aligned) in the bundled font as a 1-bit, paper-wide image."""
    style = _STYLES[line.style]
    font = _font(style.drawn_px, style.bold)
    row_height, text_y = _row_metrics(style.drawn_px, style.bold)
    rows = _wrap_pixels(line.text, font, width_dots - 2 * DRAWN_MARGIN_DOTS)
    grey = Image.new("L", (width_dots, row_height * len(rows)), 255)
    draw = ImageDraw.Draw(grey)
    for i, row in enumerate(rows):
        x = (width_dots - font.getlength(row)) / 2 if _is_centred(line) else DRAWN_MARGIN_DOTS
        draw.text((x, i * row_height + text_y), row, font=font, fill=0, anchor="la")
    # A fixed threshold, not dithering: dithered letter edges print as fuzz on thermal paper.
    return grey.point(lambda v: 255 if v >= 144 else 0, mode="1")


def render_rule(width_dots: int) -> Image.Image:
    """A dashed separator as wide as the paper, one normal row high."""
    row_height, _ = _row_metrics(_STYLES[LineStyle.NORMAL].drawn_px, False)
    image = Image.new("1", (width_dots, row_height), 1)
    draw = ImageDraw.Draw(image)
    for x in range(0, width_dots, 12):
        draw.rectangle((x + 1, row_height // 2 - 1, x + 9, row_height // 2), fill=0)
    return image


def _qr_matrix(url: str) -> list[list[bool]]:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(url)
    code.make(fit=True)
    return code.get_matrix()


def qr_module_dots(url: str, width_dots: int) -> int:
    """Module size in dots bringing the QR for ``url`` near ``QR_TARGET_DOTS``, within the paper."""
    modules = len(_qr_matrix(url))
    module = min(
        round(QR_TARGET_DOTS / modules), int(width_dots * QR_MAX_SHARE_OF_WIDTH) // modules
    )
    return min(max(module, QR_MODULE_DOTS.start), QR_MODULE_DOTS.stop - 1)


def render_qr(url: str, module_dots: int) -> Image.Image:
    """The QR code for ``url`` (error level M, no quiet zone) as a 1-bit image."""
    matrix = _qr_matrix(url)
    image = Image.new("1", (len(matrix), len(matrix)), 1)
    image.putdata([0 if dark else 1 for row in matrix for dark in row])
    return image.resize((image.width * module_dots, image.height * module_dots), Image.NEAREST)


def _centred(image: Image.Image, width_dots: int) -> Image.Image:
    row = Image.new("1", (width_dots, image.height), 1)
    row.paste(image, ((width_dots - image.width) // 2, 0))
    return row


def _trim_right(image: Image.Image) -> Image.Image:
    """Drop the white right of the ink (to a whole byte): GS v 0 pays for every white dot sent."""
    ink = ImageOps.invert(image.convert("L")).getbbox()
    right = (ink[2] + 7) // 8 * 8 if ink else 8
    return image.crop((0, 0, min(image.width, right), image.height))


def render_receipt_image(receipt: Receipt, profile: PrinterProfile) -> Image.Image:
    """The whole receipt drawn as one paper-wide 1-bit image, the QR centred below the lines."""
    width = profile.width_dots
    blank_row = Image.new(
        "1", (width, _row_metrics(_STYLES[LineStyle.NORMAL].drawn_px, False)[0]), 1
    )
    qr_row = _centred(render_qr(receipt.qr_url, qr_module_dots(receipt.qr_url, width)), width)
    parts = [
        render_rule(width) if ln.style is LineStyle.RULE else render_line(ln, width)
        for ln in receipt.lines
    ]
    parts += [blank_row, qr_row, blank_row]
    whole = Image.new("1", (width, sum(p.height for p in parts)), 1)
    y = 0
    for part in parts:
        whole.paste(part, (0, y))
        y += part.height
    return whole


# --- ESC/POS byte streams -----------------------------------------------------------------------


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


def _is_centred(line: ReceiptLine) -> bool:
    return line.centered or line.style is LineStyle.TITLE


def is_printer_text(text: str) -> bool:
    """True when the printer's own font can print ``text``: ASCII, the same in every code page."""
    return all(" " <= ch <= "~" for ch in text)


def _write_printer_text(printer: Dummy, line: ReceiptLine, profile: PrinterProfile) -> None:
    style = _STYLES[line.style]
    printer.set(
        align="center" if _is_centred(line) else "left",
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


def _send_picture(printer: Dummy, paper_wide: Image.Image) -> None:
    # Pictures are positioned by their own white left margin, because not every printer applies
    # ESC a to GS v 0 (python-escpos centres the same way); only the right margin is left out.
    printer.set(align="left")
    printer.image(_trim_right(paper_wide))


class _RasterLines:
    """Mode "raster": a line the printer's font can't show goes as a ``GS v 0`` picture."""

    def __init__(self, printer: Dummy, profile: PrinterProfile) -> None:
        self._printer = printer
        self._profile = profile

    def prepare(self, receipt: Receipt) -> None:
        """Nothing to send before the lines: every picture carries its own glyphs."""

    def write_line(self, line: ReceiptLine) -> None:
        """Send ``line`` as a picture, without the white to the right of its ink."""
        _send_picture(self._printer, render_line(line, self._profile.width_dots))


# Mode "udc" (user-defined characters) will go here: prepare() downloads the receipt's Georgian
# letters with ESC & into the 95 definable codes, write_line() selects them with ESC % 1 and
# sends the line as text, so a receipt costs a few hundred bytes instead of tens of kilobytes.
_MODES = {"raster": _RasterLines}


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
        _send_picture(printer, _centred(render_qr(url, module), profile.width_dots))
    printer.set(align="left")
    printer.ln()  # quiet zone below


def _finish(printer: Dummy) -> bytes:
    printer.cut(mode="PART")  # feeds the last line past the cutter first
    return printer.output


def encode_receipt(receipt: Receipt, profile: PrinterProfile, mode: str = "raster") -> bytes:
    """ESC/POS bytes for ``receipt``: ASCII lines as text, others per ``mode``, then QR and cut."""
    if mode not in _MODES:
        raise ValueError(f"unknown receipt encoding mode {mode!r}; valid: {', '.join(_MODES)}")
    printer = _new_printer(profile)
    foreign = _MODES[mode](printer, profile)
    foreign.prepare(receipt)
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
