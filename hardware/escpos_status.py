"""Reading an ESC/POS printer's real-time status (``DLE EOT n``) into a ``PrinterStatus``.

The printer answers each query with one byte whose bits 1 and 4 are set and bits 0 and 7 clear
(``0xx1xx10``), so an answer is recognisable among stray bytes. We ask three things:

* n = 1, printer: bit 3 set = offline.
* n = 2, why offline: bit 2 = cover open, bit 5 = stopped at paper end, bit 6 = an error.
* n = 4, roll paper sensor: bits 2-3 = paper near its end, bits 5-6 = paper out.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.errors import CoverOpen, PaperOut, PrinterError, PrinterOffline
from kiosk.ports import PaperState, PrinterStatus

DLE_EOT = b"\x10\x04"
QUERY_PRINTER, QUERY_OFFLINE_CAUSE, QUERY_PAPER = 1, 2, 4
QUERIES = (QUERY_PRINTER, QUERY_OFFLINE_CAUSE, QUERY_PAPER)

_OFFLINE = 0x08
_COVER_OPEN = 0x04
_STOPPED_AT_PAPER_END = 0x20
_NEAR_END = 0x0C
_PAPER_END = 0x60


def query(n: int) -> bytes:
    """The real-time status request ``DLE EOT n``."""
    return DLE_EOT + bytes([n])


def is_status_byte(value: int) -> bool:
    """True when ``value`` has the fixed bits every ``DLE EOT`` answer has."""
    return value & 0x93 == 0x12


@dataclass(frozen=True)
class StatusReply:
    """The printer's answers to DLE EOT 1, 2 and 4; None where it gave none."""

    printer: int | None
    offline_cause: int | None = None
    paper: int | None = None

    @property
    def answered(self) -> bool:
        """True when the printer answered at all."""
        return self.printer is not None

    def status(self) -> PrinterStatus:
        """What the answers say, as the port's ``PrinterStatus``.

        ``online`` means "answers and, if it says it is offline, we know why": a printer that
        is offline with the cover open is reported as cover open, not as switched off.
        """
        if self.printer is None:
            return PrinterStatus(online=False)
        cause = self.offline_cause or 0
        paper_bits = self.paper or 0
        cover_open = bool(cause & _COVER_OPEN)
        if paper_bits & _PAPER_END or cause & _STOPPED_AT_PAPER_END:
            paper = PaperState.OUT
        elif paper_bits & _NEAR_END:
            paper = PaperState.NEAR_END
        else:
            paper = PaperState.OK
        explained = cover_open or paper is PaperState.OUT
        online = not (self.printer & _OFFLINE) or explained
        return PrinterStatus(online=online, paper=paper, cover_open=cover_open)


def error_for(status: PrinterStatus) -> PrinterError | None:
    """The error a print job would meet now, or None when the printer is ready.

    Offline first: a printer that doesn't answer can't tell us about its cover or paper.
    """
    if not status.online:
        return PrinterOffline()
    if status.cover_open:
        return CoverOpen()
    if status.paper is PaperState.OUT:
        return PaperOut()
    return None
