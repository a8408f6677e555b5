"""Mode "udc": Georgian letters downloaded as user-defined characters, lines printed as text.

ESC/POS lets a receipt redefine the 95 printable ASCII codes (``ESC &``) and switch to them
(``ESC % 1``); a code left undefined keeps printing the printer's own character. So a receipt
downloads the Mkhedruli letters (and a few symbols such as ₾) it uses into codes its Georgian
lines don't need for ASCII, and a line like "ქვითრის ნომერი: KS-2025-000123" becomes one text
line of 30 bytes instead of a picture of 1.8 KB. ``ESC @`` forgets the definitions, so every
receipt carries its own. Lines with other scripts (Armenian, Cyrillic...), or beyond the 95
codes, go to the fallback mode (raster pictures).
"""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from PIL import Image, ImageDraw, ImageFont

from assets import font_path
from hardware.printer_profiles import PrinterProfile
from hardware.receipt_drawing import STYLES, is_centred
from kiosk.ports import ReceiptLine

log = logging.getLogger(__name__)

ESC = b"\x1b"
SELECT_FONT_A = ESC + b"M\x00"  # definitions belong to the font selected when they are made
USER_CHARS_ON = ESC + b"%\x01"
USER_CHARS_OFF = ESC + b"%\x00"

DEFINABLE_CODES = range(0x20, 0x7F)
"""The 95 codes ``ESC &`` may redefine: space to tilde."""

GEORGIAN_LETTERS = "".join(chr(c) for c in range(0x10D0, 0x10F1))
"""The 33 letters of modern Mkhedruli, ა to ჰ."""

SYMBOLS = "₾•—–«»„“”№…"
"""Non-ASCII symbols our receipts use (lari sign, masking bullet, dashes, quotes), cheap to add."""

# Font A cell of 80 mm Epson-class printers: 12 x 24 dots, so 3 bytes per column.
CELL_WIDTH, CELL_HEIGHT = 12, 24
COLUMN_BYTES = CELL_HEIGHT // 8
INK_COLUMNS = 11  # one white column keeps neighbouring letters apart

# Measured on Kiosk Sans: Georgian ascenders reach 0.77 em above the baseline and descenders
# 0.25 em below, so 22 px with the baseline on row 18 uses the cell's full height. Mkhedruli is
# wide (ლ is 1.1 em), so letters are condensed to 65 % and the widest squeezed into the cell;
# symbols keep their shape and only the widest (₾, —) are squeezed.
GLYPH_PX = 22
BASELINE_ROW = 18
CONDENSE = 0.65
SUPERSAMPLE = 8  # draw large, then shrink: smoother 1-bit letters than hinting at 22 px


def udc_can_print(char: str) -> bool:
    """True when ``char`` may be downloaded as a user-defined character."""
    return char in GEORGIAN_LETTERS or char in SYMBOLS


def _is_ascii(char: str) -> bool:
    return " " <= char <= "~"


@lru_cache(maxsize=1)
def _big_font() -> ImageFont.FreeTypeFont:
    # The bold face: the printer's own font has strokes two dots wide, the regular face one.
    return ImageFont.truetype(str(font_path(bold=True)), GLYPH_PX * SUPERSAMPLE)


@lru_cache(maxsize=128)
def glyph_cell(char: str) -> Image.Image:
    """``char`` drawn into a 12 x 24 font-A cell, 1-bit, black on white, on the printer baseline."""
    font = _big_font()
    left, _, right, _ = font.getbbox(char, anchor="ls")
    ink_width = max(1, int(right - left))
    big = Image.new("L", (ink_width, CELL_HEIGHT * SUPERSAMPLE), 255)
    ImageDraw.Draw(big).text(
        (-left, BASELINE_ROW * SUPERSAMPLE), char, font=font, fill=0, anchor="ls"
    )
    condense = CONDENSE if char in GEORGIAN_LETTERS else 1.0  # a condensed • looks like '
    width = max(1, min(INK_COLUMNS, round(ink_width * condense / SUPERSAMPLE)))
    small = big.resize((width, CELL_HEIGHT), Image.Resampling.LANCZOS)
    cell = Image.new("L", (CELL_WIDTH, CELL_HEIGHT), 255)
    cell.paste(small, ((INK_COLUMNS - width) // 2, 0))
    return cell.point(lambda v: 0 if v < 128 else 255, mode="1")


def column_format(cell: Image.Image) -> bytes:
    """``x d1...d(3x)`` for ``ESC &``: columns left to right, top dot in the high bit.

    Blank columns on the right are left out: the printer leaves them white anyway.
    """
    pixels = cell.load()
    assert pixels is not None  # a drawn cell is loaded
    columns = []
    for x in range(cell.width):
        column = bytearray(COLUMN_BYTES)
        for y in range(cell.height):
            if pixels[x, y] == 0:
                column[y // 8] |= 0x80 >> (y % 8)
        columns.append(bytes(column))
    while columns and not any(columns[-1]):
        columns.pop()
    return bytes([len(columns)]) + b"".join(columns)


def define_user_chars(codes: dict[str, int]) -> bytes:
    """``ESC &`` commands downloading each glyph of ``codes`` into its code, one per code run."""
    out = bytearray()
    by_code = sorted((code, char) for char, code in codes.items())
    start = 0
    while start < len(by_code):
        end = start
        while end + 1 < len(by_code) and by_code[end + 1][0] == by_code[end][0] + 1:
            end += 1
        out += ESC + b"&" + bytes([COLUMN_BYTES, by_code[start][0], by_code[end][0]])
        for _, char in by_code[start : end + 1]:
            out += column_format(glyph_cell(char))
        start = end + 1
    return bytes(out)


@dataclass(frozen=True)
class UdcPlan:
    """Which glyph goes into which code, and which lines print as text with them."""

    codes: dict[str, int]
    lines: frozenset[ReceiptLine]

    def encode(self, text: str) -> bytes:
        """``text`` as the byte codes to print under ``ESC % 1`` (ASCII stays itself)."""
        return bytes(self.codes.get(ch, ord(ch)) for ch in text)


def plan_user_chars(lines: Sequence[ReceiptLine]) -> UdcPlan:
    """Choose the lines that fit the 95 codes, in receipt order, and give each glyph a code.

    A glyph may only take a code that none of those lines prints as ASCII, because under
    ``ESC % 1`` a redefined code prints the glyph everywhere on the line.
    """
    glyphs: set[str] = set()
    ascii_used: set[str] = set()
    chosen: set[ReceiptLine] = set()
    for line in lines:
        chars = set(line.text)
        foreign = {ch for ch in chars if not _is_ascii(ch)}
        if not all(udc_can_print(ch) for ch in foreign):
            continue
        more_glyphs, more_ascii = glyphs | foreign, ascii_used | (chars - foreign)
        if len(more_glyphs) + len(more_ascii) > len(DEFINABLE_CODES):
            log.debug("line does not fit the %d definable codes; drawn instead", len(DEFINABLE_CODES))
            continue
        glyphs, ascii_used = more_glyphs, more_ascii
        chosen.add(line)
    free = [code for code in DEFINABLE_CODES if chr(code) not in ascii_used]
    # there are more free codes than glyphs: the spare codes stay unused
    return UdcPlan(dict(zip(sorted(glyphs), free, strict=False)), frozenset(chosen))


class _Printer(Protocol):
    """The two python-escpos methods this mode uses."""

    def set(self, **kwargs: object) -> None: ...

    def _raw(self, msg: bytes) -> None: ...


class _LineMode(Protocol):
    """How lines the printer's font can't show are sent (the fallback's interface)."""

    def prepare(self, lines: Sequence[ReceiptLine]) -> None: ...

    def write_line(self, line: ReceiptLine) -> None: ...


class UdcLines:
    """Mode "udc": download the receipt's Georgian glyphs once, then print those lines as text."""

    def __init__(self, printer: _Printer, profile: PrinterProfile, fallback: _LineMode) -> None:
        self._printer = printer
        self._profile = profile
        self._fallback = fallback
        self._plan = UdcPlan({}, frozenset())

    def prepare(self, lines: Sequence[ReceiptLine]) -> None:
        """Plan the codes for ``lines`` and send their ``ESC &`` definitions (font A)."""
        if not self._profile.user_defined_chars:
            log.info("printer profile %r has no user-defined characters; drawing lines instead",
                     self._profile.name)
            self._plan = UdcPlan({}, frozenset())
        else:
            self._plan = plan_user_chars(lines)
        if self._plan.codes:
            self._printer._raw(SELECT_FONT_A + define_user_chars(self._plan.codes))
        self._fallback.prepare([ln for ln in lines if ln not in self._plan.lines])

    def write_line(self, line: ReceiptLine) -> None:
        """Print ``line`` as font-A text with the downloaded glyphs, or hand it to the fallback."""
        if line not in self._plan.lines:
            self._fallback.write_line(line)
            return
        style = STYLES[line.style]
        # Font A even for small lines: only font A has the glyphs; font B would print ASCII.
        self._printer.set(
            align="center" if is_centred(line) else "left",
            bold=style.bold,
            font="a",
            normal_textsize=not style.double,
            double_width=style.double,
            double_height=style.double,
        )
        columns = self._profile.columns(double_width=style.double)
        rows = textwrap.wrap(line.text, columns) or [""]
        self._printer._raw(
            USER_CHARS_ON + b"".join(self._plan.encode(row) + b"\n" for row in rows) + USER_CHARS_OFF
        )
