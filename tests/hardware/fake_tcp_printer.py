"""A network receipt printer on 127.0.0.1 that answers ``DLE EOT`` with scripted status bytes.

Like a real Ethernet printer on port 9100 it takes one connection at a time, keeps every byte
it receives (``received``), and answers each real-time status query found in the stream with
the byte its ``state`` says, or stays silent. ``drop_after`` makes it hang up (TCP reset) once
that many bytes have arrived, as a printer does when it is switched off mid-receipt.
"""

from __future__ import annotations

import re
import socket
import struct
import threading
from dataclasses import dataclass

_QUERY = re.compile(rb"\x10\x04([\x01-\x04])")


@dataclass(frozen=True)
class PrinterState:
    """The answers to DLE EOT 1 (printer), 2 (offline cause) and 4 (paper sensor)."""

    printer: int
    offline_cause: int
    paper: int

    def answer(self, n: int) -> int:
        """The byte a printer in this state sends for ``DLE EOT n``."""
        return {1: self.printer, 2: self.offline_cause, 3: 0x12, 4: self.paper}[n]


# Bytes as an Epson TM-T20 sends them: fixed bits 0x12, plus the flags of each state.
OK = PrinterState(printer=0x16, offline_cause=0x12, paper=0x12)
NEAR_END = PrinterState(printer=0x16, offline_cause=0x12, paper=0x1E)
PAPER_OUT = PrinterState(printer=0x1E, offline_cause=0x32, paper=0x72)
COVER_OPEN = PrinterState(printer=0x1E, offline_cause=0x16, paper=0x12)

STATUS_QUERIES = b"\x10\x04\x01\x10\x04\x02\x10\x04\x04"
"""What a status check sends before anything is printed."""


class FakeTcpPrinter:
    """A printer listening on ``127.0.0.1:port``; ``state`` None means it never answers."""

    def __init__(self, state: PrinterState | None = OK, drop_after: int | None = None) -> None:
        self.state = state
        self.drop_after = drop_after
        self.received = bytearray()
        self.connections = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.05)  # accept() polls, so close() doesn't wait for a client
        self.port = self._server.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name="fake-printer", daemon=True)
        self._thread.start()

    @property
    def uri(self) -> str:
        """The printer URI the kiosk would be configured with."""
        return f"tcp://127.0.0.1:{self.port}"

    def data(self) -> bytes:
        """Everything received so far, over every connection."""
        with self._lock:
            return bytes(self.received)

    def close(self) -> None:
        """Stop listening and wait for the serving thread to end."""
        self._stop.set()
        self._thread.join(timeout=5)
        self._server.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            with conn:
                self.connections += 1
                self._talk(conn)

    def _talk(self, conn: socket.socket) -> None:
        conn.settimeout(0.05)
        tail = b""
        total = 0
        while True:
            if self._stop.is_set():
                return
            try:
                chunk = conn.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                return
            with self._lock:
                self.received += chunk
            total += len(chunk)
            if self.drop_after is not None and total >= self.drop_after:
                # Linger 0: close with a reset, as a printer losing power would look.
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            window = tail + chunk
            answers = bytes(
                self.state.answer(m.group(1)[0])
                for m in _QUERY.finditer(window)
                if m.end() > len(tail)  # not one already answered in the last chunk
            ) if self.state is not None else b""
            if answers:
                conn.sendall(answers)
            tail = window[-2:]
