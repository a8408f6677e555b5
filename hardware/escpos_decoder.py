"""A small ESC/POS interpreter that draws what a thermal printer would print from a byte stream.

``SimulatedPrinter`` and the tests use it to look at receipts without paper: the picture comes
from the bytes, so what you see is what those bytes would print. It knows the commands our
encoder and python-escpos send, and steps over the rest. Assumptions where printers differ:
one vertical motion unit is one dot, a line feeds by at least its tallest character, and
``ESC a`` justifies pictures and QR codes as well as text (Epson TM behaviour).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import qrcode
from PIL import Image

from hardware.escpos_paper import (
    Paper,
    PrintBuffer,
    emphasised,
    printer_glyph,
    qr_picture,
    user_glyph,
)

log = logging.getLogger(__name__)

ESC, GS, FS, DLE = b"\x1b", b"\x1d", b"\x1c", b"\x10"

DEFAULT_LINE_SPACING = 30  # 1/6 inch at 180 dpi, the ESC/POS power-on default

_QR_ERROR_LEVELS = {
    48: qrcode.constants.ERROR_CORRECT_L,
    49: qrcode.constants.ERROR_CORRECT_M,
    50: qrcode.constants.ERROR_CORRECT_Q,
    51: qrcode.constants.ERROR_CORRECT_H,
}


class EscposDecodeError(ValueError):
    """The byte stream ends in the middle of a command; ``offset`` is where that command starts."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} (command at byte {offset})")
        self.offset = offset


# --- state --------------------------------------------------------------------------------------


@dataclass
class _PrintMode:
    """Everything ``ESC @`` resets."""

    align: int = 0  # 0 left, 1 centre, 2 right
    bold: bool = False
    font_b: bool = False
    width_mul: int = 1
    height_mul: int = 1
    line_spacing: int = DEFAULT_LINE_SPACING
    user_chars: bool = False
    qr_module: int = 3
    qr_error: int = qrcode.constants.ERROR_CORRECT_L
    qr_data: bytes = b""


# --- the interpreter ----------------------------------------------------------------------------

# Commands we step over: prefix -> number of argument bytes.
_IGNORED = {
    ESC + b"t": 1,  # code page: we only draw ASCII
    ESC + b"-": 1,  # underline
    ESC + b"G": 1,  # double strike
    ESC + b"{": 1,  # upside down
    ESC + b"R": 1,  # international character set
    ESC + b" ": 1,  # character spacing
    ESC + b"p": 3,  # cash drawer pulse
    ESC + b"=": 1,  # peripheral select
    GS + b"B": 1,  # reverse printing
    GS + b"b": 1,  # smoothing
    GS + b"|": 1,  # print density
    DLE + b"\x04": 1,  # real-time status query
    DLE + b"\x05": 1,  # real-time request
    DLE + b"\x14": 3,  # real-time pulse
}


class _Interpreter:
    """Walks the byte stream once; each command's handler reads its own arguments."""

    def __init__(self, data: bytes, width_dots: int) -> None:
        self._data = data
        self._pos = 0
        self._start = 0  # where the current command began, for error messages
        self._mode = _PrintMode()
        self._line = PrintBuffer()
        self._paper = Paper(width_dots)
        # (font_b, code) -> glyph downloaded with ESC &; replaces the built-in one under ESC % 1.
        self._user_glyphs: dict[tuple[bool, int], Image.Image] = {}
        self._handlers = {
            b"\n": self._line_feed,
            ESC + b"@": self._initialise,
            ESC + b"a": self._justify,
            ESC + b"E": self._emphasis,
            ESC + b"!": self._print_mode,
            ESC + b"M": self._select_font,
            ESC + b"d": self._feed_lines,
            ESC + b"J": self._feed_dots,
            ESC + b"2": self._default_spacing,
            ESC + b"3": self._set_spacing,
            ESC + b"&": self._define_user_chars,
            ESC + b"%": self._select_user_chars,
            ESC + b"?": self._cancel_user_char,
            GS + b"!": self._character_size,
            GS + b"v0": self._raster_image,
            GS + b"(k": self._two_d_code,
            GS + b"(": self._skip_sized_function,
            GS + b"V": self._cut,
        }

    def run(self) -> Image.Image:
        """Interpret every byte and return the printed paper."""
        while self._pos < len(self._data):
            self._start = self._pos
            self._step()
        self._flush_line()
        return self._paper.picture()

    # -- reading ---------------------------------------------------------------------------------

    def _take(self, count: int) -> bytes:
        end = self._pos + count
        if end > len(self._data):
            raise EscposDecodeError(
                f"truncated command {self._data[self._start : self._start + 3]!r}", self._start
            )
        chunk = self._data[self._pos : end]
        self._pos = end
        return chunk

    def _byte(self) -> int:
        return self._take(1)[0]

    def _step(self) -> None:
        for size in (3, 2, 1):
            prefix = self._data[self._pos : self._pos + size]
            if prefix in self._handlers:
                self._pos += size
                self._handlers[prefix]()
                return
            if prefix in _IGNORED:
                self._pos += size
                self._take(_IGNORED[prefix])
                return
        byte = self._data[self._pos]
        if bytes([byte]) in (ESC, GS, FS, DLE):
            # Unknown command: we can't know its arguments, so step over the two command bytes.
            log.debug(
                "skipping unknown command %r at byte %d",
                self._data[self._pos : self._pos + 2],
                self._pos,
            )
            self._pos += 2
        elif byte < 0x20:
            self._pos += 1  # CR, HT and other controls move nothing on a receipt
        else:
            self._pos += 1
            self._print_char(byte)

    # -- text ------------------------------------------------------------------------------------

    def _print_char(self, code: int) -> None:
        mode = self._mode
        glyph = self._user_glyphs.get((mode.font_b, code)) if mode.user_chars else None
        if glyph is None:
            glyph = printer_glyph(bytes([code]).decode("cp437"), mode.font_b, mode.bold)
        elif mode.bold:
            glyph = emphasised(glyph)
        if mode.width_mul > 1 or mode.height_mul > 1:
            glyph = glyph.resize(
                (glyph.width * mode.width_mul, glyph.height * mode.height_mul), Image.Resampling.NEAREST
            )
        if self._line.width + glyph.width > self._paper.width:
            self._flush_line()  # the printer wraps at the right margin by itself
        self._line.add(glyph, mode.align)

    def _print_buffer(self) -> int | None:
        """Print the buffered characters without feeding; their height, None if there were none."""
        row = self._line.take_row()
        if row is None:
            return None
        self._paper.place(row, self._line.align)
        return row.height

    def _flush_line(self) -> bool:
        """Print the buffer and feed one line; False when there was nothing to print."""
        height = self._print_buffer()
        if height is None:
            return False
        self._paper.feed(max(0, self._mode.line_spacing - height))
        return True

    def _line_feed(self) -> None:
        if not self._flush_line():
            self._paper.feed(self._mode.line_spacing)

    def _feed_lines(self) -> None:
        count = self._byte()
        self._flush_line()
        self._paper.feed(count * self._mode.line_spacing)

    def _feed_dots(self) -> None:
        dots = self._byte()
        printed = (
            self._print_buffer() or 0
        )  # ESC J feeds instead of the line spacing, not on top of it
        self._paper.feed(max(0, dots - printed))

    # -- modes -----------------------------------------------------------------------------------

    def _initialise(self) -> None:
        self._mode = _PrintMode()
        self._line = PrintBuffer()  # ESC @ clears the print buffer without printing it
        self._user_glyphs.clear()  # ... and forgets the user-defined characters

    def _justify(self) -> None:
        self._mode.align = self._byte() % 48 % 3

    def _emphasis(self) -> None:
        self._mode.bold = bool(self._byte() & 1)

    def _print_mode(self) -> None:
        bits = self._byte()
        self._mode.font_b = bool(bits & 0x01)
        self._mode.bold = bool(bits & 0x08)
        self._mode.height_mul = 2 if bits & 0x10 else 1
        self._mode.width_mul = 2 if bits & 0x20 else 1

    def _select_font(self) -> None:
        self._mode.font_b = self._byte() in (1, 49)

    def _character_size(self) -> None:
        size = self._byte()
        self._mode.width_mul = (size >> 4 & 7) + 1
        self._mode.height_mul = (size & 7) + 1

    def _default_spacing(self) -> None:
        self._mode.line_spacing = DEFAULT_LINE_SPACING

    def _set_spacing(self) -> None:
        self._mode.line_spacing = self._byte()

    # -- user-defined characters -----------------------------------------------------------------

    def _define_user_chars(self) -> None:
        """ESC & y c1 c2 [x d1 ... d(y*x)]...: glyphs in column format, y bytes per column."""
        rows_bytes, first, last = self._take(3)
        for code in range(first, last + 1):
            width = self._byte()
            columns = self._take(rows_bytes * width)
            glyph = user_glyph(columns, rows_bytes, width, self._mode.font_b)
            self._user_glyphs[(self._mode.font_b, code)] = glyph

    def _select_user_chars(self) -> None:
        self._mode.user_chars = bool(self._byte() & 1)

    def _cancel_user_char(self) -> None:
        code = self._byte()
        self._user_glyphs.pop((self._mode.font_b, code), None)

    # -- pictures, QR codes, cutting -------------------------------------------------------------

    def _raster_image(self) -> None:
        """GS v 0 m xL xH yL yH d...: a 1-bit picture, ``x`` bytes wide, 1 bit = black dot."""
        mode, xl, xh, yl, yh = self._take(5)
        width_bytes, height = xl + 256 * xh, yl + 256 * yh
        bits = self._take(width_bytes * height)
        self._flush_line()
        image = Image.frombytes("1", (width_bytes * 8, height), bits, "raw", "1;I")
        scale = mode % 48  # bit 0 doubles the width, bit 1 the height
        if scale:
            image = image.resize(
                (image.width * (1 + (scale & 1)), image.height * (1 + (scale >> 1))), Image.Resampling.NEAREST
            )
        self._paper.place(image, self._mode.align)

    def _two_d_code(self) -> None:
        """GS ( k pL pH cn fn ...: we act on QR (cn 49) size, error level, store and print."""
        low, high = self._take(2)
        body = self._take(low + 256 * high)
        if len(body) < 2 or body[0] != 49:
            return  # PDF417 and friends: not on our receipts
        function, params = body[1], body[2:]
        if function == 67 and params:
            self._mode.qr_module = params[0]
        elif function == 69 and params:
            self._mode.qr_error = _QR_ERROR_LEVELS.get(params[0], self._mode.qr_error)
        elif function == 80:
            self._mode.qr_data = params[1:]  # params[0] is m = 48
        elif function == 81 and self._mode.qr_data:
            self._print_qr()

    def _print_qr(self) -> None:
        mode = self._mode
        self._flush_line()
        self._paper.place(qr_picture(mode.qr_data, mode.qr_module, mode.qr_error), mode.align)

    def _skip_sized_function(self) -> None:
        """GS ( fn pL pH ...: other functions (graphics, settings) say their own length."""
        _, low, high = self._take(3)
        self._take(low + 256 * high)

    def _cut(self) -> None:
        """GS V m [n]: functions B, C and D carry a feed amount before the cut."""
        function = self._byte()
        feed = self._byte() if function in (65, 66, 97, 98, 103, 104) else 0
        self._flush_line()
        self._paper.feed(feed)
        self._paper.cut_line()


def decode(data: bytes, width_dots: int) -> Image.Image:
    """Draw what ``data`` would print on paper ``width_dots`` wide: 1-bit, black on white."""
    return _Interpreter(data, width_dots).run()
