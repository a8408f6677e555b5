"""Drawing receipt lines and QR codes with the bundled Kiosk Sans font, as 1-bit pictures.

The ESC/POS encoder sends these pictures for lines the printer's own font can't show; the
whole-receipt picture is the browser-POS baseline it is measured against. Nothing here knows
ESC/POS: only paper widths in dots.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import qrcode
from PIL import Image, ImageDraw, ImageFont

from assets import font_path
from hardware.printer_profiles import PrinterProfile
from kiosk.ports import LineStyle, Receipt, ReceiptLine

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
class Style:
    """How one ``LineStyle`` is set, in the printer's font and in our drawn font."""

    bold: bool = False
    double: bool = False  # double width and height in the printer's font
    font_b: bool = False  # the printer's small font
    drawn_px: int = 24  # size of the bundled font when we draw the line ourselves


STYLES: dict[LineStyle, Style] = {
    LineStyle.TITLE: Style(bold=True, double=True, drawn_px=32),
    LineStyle.HEADING: Style(bold=True),
    LineStyle.NORMAL: Style(),
    LineStyle.SMALL: Style(font_b=True, drawn_px=20),
    LineStyle.RULE: Style(),
}
"""Every line style's look; the encoder and the drawing share it so both modes agree."""

# Glyphs that reach furthest up and down in each script, so every drawn row of one size has the
# same height whatever the text, and rows line up like the printer's own fixed line pitch.
_TALLEST_GLYPHS = "ÁÅЙЁქჭჯღյփՓԲgjyp|()"


def is_centred(line: ReceiptLine) -> bool:
    """True when ``line`` is set centred (titles always are)."""
    return line.centered or line.style is LineStyle.TITLE


@lru_cache(maxsize=16)
def bundled_font(px: int, bold: bool) -> ImageFont.FreeTypeFont:
    """Kiosk Sans at ``px`` pixels, cached: loading a font costs more than drawing a line."""
    return ImageFont.truetype(str(font_path(bold)), px)


@lru_cache(maxsize=16)
def _row_metrics(px: int, bold: bool) -> tuple[int, int]:
    """(row height, y to draw at) for one drawn row: the ink extent plus a printer-like gap."""
    _, top, _, bottom = bundled_font(px, bold).getbbox(_TALLEST_GLYPHS, anchor="la")
    gap = max(4, px // 4)
    return int(bottom - top + gap), int(gap // 2 - top)


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
    style = STYLES[line.style]
    font = bundled_font(style.drawn_px, style.bold)
    row_height, text_y = _row_metrics(style.drawn_px, style.bold)
    rows = _wrap_pixels(line.text, font, width_dots - 2 * DRAWN_MARGIN_DOTS)
    grey = Image.new("L", (width_dots, row_height * len(rows)), 255)
    draw = ImageDraw.Draw(grey)
    for i, row in enumerate(rows):
        x = (width_dots - font.getlength(row)) / 2 if is_centred(line) else DRAWN_MARGIN_DOTS
        draw.text((x, i * row_height + text_y), row, font=font, fill=0, anchor="la")
    # A fixed threshold, not dithering: dithered letter edges print as fuzz on thermal paper.
    return grey.point(lambda v: 255 if v >= 144 else 0, mode="1")


def render_rule(width_dots: int) -> Image.Image:
    """A dashed separator as wide as the paper, one normal row high."""
    row_height, _ = _row_metrics(STYLES[LineStyle.NORMAL].drawn_px, False)
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
    return image.resize((image.width * module_dots, image.height * module_dots), Image.Resampling.NEAREST)


def centred(image: Image.Image, width_dots: int) -> Image.Image:
    """``image`` in the middle of a white row as wide as the paper."""
    row = Image.new("1", (width_dots, image.height), 1)
    row.paste(image, ((width_dots - image.width) // 2, 0))
    return row


def render_receipt_image(receipt: Receipt, profile: PrinterProfile) -> Image.Image:
    """The whole receipt drawn as one paper-wide 1-bit image, the QR centred below the lines."""
    width = profile.width_dots
    blank_row = Image.new(
        "1", (width, _row_metrics(STYLES[LineStyle.NORMAL].drawn_px, False)[0]), 1
    )
    qr_row = centred(render_qr(receipt.qr_url, qr_module_dots(receipt.qr_url, width)), width)
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
