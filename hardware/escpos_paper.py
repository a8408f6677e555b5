"""The paper and the printer's own font for the ESC/POS decoder: what gets drawn, not parsed.

``Paper`` is a roll as wide as the print head that grows as things are printed; ``PrintBuffer``
holds a line's characters until it is printed; ``printer_glyph`` draws one character of the
printer's resident font into its cell, from a monospace system font; ``user_glyph`` one
downloaded with ``ESC &``; ``qr_picture`` what ``GS ( k`` prints.
"""

from __future__ import annotations

import logging
from functools import lru_cache

import qrcode
from PIL import Image, ImageChops, ImageDraw, ImageFont

log = logging.getLogger(__name__)

FONT_A_CELL = (12, 24)
FONT_B_CELL = (9, 17)
CUT_GAP = 12  # dots of paper drawn around the dashed cut line

# File names resolve through Pillow's own search of the system font folders.
MONO_FONT_FILES = {
    False: ("DejaVuSansMono.ttf",),
    True: ("DejaVuSansMono-Bold.ttf", "DejaVuSansMono.ttf"),
}


@lru_cache(maxsize=8)
def _mono_font(
    cell_w: int, cell_h: int, bold: bool
) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """The largest monospace font whose characters fit a ``cell_w`` x ``cell_h`` printer cell."""
    for name in MONO_FONT_FILES[bold]:
        for px in range(cell_h, 4, -1):
            try:
                font = ImageFont.truetype(name, px)
            except OSError:
                break  # not installed; try the next name
            ascent, descent = font.getmetrics()
            if font.getlength("M") <= cell_w + 0.5 and ascent + descent <= cell_h + 2:
                return font
    log.debug("no monospace TrueType font found; drawing printer text with Pillow's default font")
    return ImageFont.load_default(size=cell_h - 6)


@lru_cache(maxsize=1024)
def printer_glyph(char: str, font_b: bool, bold: bool) -> Image.Image:
    """One resident character drawn in its printer cell (1-bit, white background)."""
    cell_w, cell_h = FONT_B_CELL if font_b else FONT_A_CELL
    image = Image.new("1", (cell_w, cell_h), 1)
    font = _mono_font(cell_w, cell_h, bold)
    ImageDraw.Draw(image).text((cell_w / 2, cell_h * 0.78), char, font=font, fill=0, anchor="ms")
    return image


def user_glyph(columns: bytes, rows_bytes: int, width: int, font_b: bool) -> Image.Image:
    """A character downloaded with ``ESC &``, in column format (top dot in the high bit).

    It fills its font's whole cell: columns the download left out on the right print white.
    """
    cell_w, _ = FONT_B_CELL if font_b else FONT_A_CELL
    glyph = Image.new("1", (max(cell_w, width), rows_bytes * 8), 1)
    pixels = glyph.load()
    assert pixels is not None  # an image made just above is loaded
    for x in range(width):
        for y in range(rows_bytes * 8):
            if columns[x * rows_bytes + y // 8] & (0x80 >> (y % 8)):
                pixels[x, y] = 0
    return glyph


def emphasised(glyph: Image.Image) -> Image.Image:
    """``glyph`` as emphasised mode prints it: every dot printed again one dot to the right."""
    shifted = Image.new("1", glyph.size, 1)
    shifted.paste(glyph.crop((0, 0, glyph.width - 1, glyph.height)), (1, 0))
    return ImageChops.logical_and(glyph, shifted)  # white is 1: AND keeps black from either


def qr_picture(data: bytes, module_dots: int, error_level: int) -> Image.Image:
    """The QR code a printer's ``GS ( k`` draws for ``data``: no quiet zone, 1-bit."""
    code = qrcode.QRCode(error_correction=error_level, box_size=module_dots, border=0)
    code.add_data(data)
    code.make(fit=True)
    return code.make_image().get_image().convert("1")


class PrintBuffer:
    """Characters waiting for the next line feed, and the justification of their line."""

    def __init__(self) -> None:
        self.glyphs: list[Image.Image] = []
        self.align = 0

    @property
    def width(self) -> int:
        """Dots taken so far."""
        return sum(g.width for g in self.glyphs)

    def add(self, glyph: Image.Image, align: int) -> None:
        """Add a character; the first one fixes the line's justification (ESC a counts there)."""
        if not self.glyphs:
            self.align = align
        self.glyphs.append(glyph)

    def take_row(self) -> Image.Image | None:
        """The buffered characters as one row on a shared baseline, emptying the buffer."""
        if not self.glyphs:
            return None
        height = max(g.height for g in self.glyphs)
        row = Image.new("1", (self.width, height), 1)
        x = 0
        for glyph in self.glyphs:
            row.paste(glyph, (x, height - glyph.height))
            x += glyph.width
        self.glyphs = []
        return row


class Paper:
    """A roll of paper as wide as the print head that grows as things are printed."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.y = 0
        self._image = Image.new("1", (width, 1024), 1)

    def place(self, image: Image.Image, align: int) -> None:
        """Print ``image`` at the current position, justified per ``align``, and move past it."""
        x = {0: 0, 1: (self.width - image.width) // 2, 2: self.width - image.width}[align]
        self._grow(self.y + image.height)
        self._image.paste(image, (max(0, x), self.y))
        self.y += image.height

    def feed(self, dots: int) -> None:
        """Advance the paper without printing."""
        self.y += dots

    def cut_line(self) -> None:
        """Draw where the cutter went through, as a dashed line with a little paper either side."""
        self._grow(self.y + 2 * CUT_GAP)
        draw = ImageDraw.Draw(self._image)
        for x in range(0, self.width, 16):
            draw.line((x, self.y + CUT_GAP, x + 8, self.y + CUT_GAP), fill=0, width=2)
        self.y += 2 * CUT_GAP

    def picture(self) -> Image.Image:
        """The printed paper so far."""
        return self._image.crop((0, 0, self.width, max(1, self.y)))

    def _grow(self, height: int) -> None:
        if height <= self._image.height:
            return
        bigger = Image.new("1", (self.width, max(height, 2 * self._image.height)), 1)
        bigger.paste(self._image, (0, 0))
        self._image = bigger
