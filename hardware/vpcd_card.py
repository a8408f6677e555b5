"""A card for vsmartcard's vpcd reader driver: a program that connects to vpcd's port *is* the card.

vpcd is a PC/SC reader driver that listens on a TCP port per slot; connecting is inserting the card,
hanging up is pulling it. Every message carries a 2-byte big-endian length; one-byte messages are
control codes (0 power off, 1 power on, 2 reset, 4 "send your ATR"), anything longer is a command APDU
answered with a response APDU. ``VirtualCard`` speaks that protocol for an APDU handler (the tests'
cards, and ``hardware.virtual_piv`` behind ``kiosk dev virtual-card``).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable

LOCALHOST = "127.0.0.1"
VPCD_DEFAULT_PORT = 35963  # 0x8C7B, vpcd's own default
VPCD_SLOTS = 2  # vpcd opens two slots per driver entry, on port and port + 1
VPCD_FRIENDLY_NAME = "Virtual PCD"

# An ATR shaped like a contact ID card's (T=1); the reader only passes it through.
TEST_ATR = bytes.fromhex("3BDB960080B1FE451F830031C064C7FC100001900074")

CTRL_POWER_OFF, CTRL_POWER_ON, CTRL_RESET, CTRL_ATR = 0, 1, 2, 4
SW_OK = b"\x90\x00"
SW_INS_NOT_SUPPORTED = b"\x6d\x00"
INS_SELECT = 0xA4

ApduHandler = Callable[[bytes], bytes]


def vpcd_reader_name(slot: int = 0, index: int = 0) -> str:
    """The PC/SC name pcscd gives vpcd's ``slot`` (``"Virtual PCD 00 00"`` for the first)."""
    return f"{VPCD_FRIENDLY_NAME} {index:02X} {slot:02X}"


def select_ok_handler(apdu: bytes) -> bytes:
    """Answer SELECT with 9000 and any other instruction with 6D00 (not supported)."""
    if len(apdu) >= 4 and apdu[1] == INS_SELECT:
        return SW_OK
    return SW_INS_NOT_SUPPORTED


class VirtualCard:
    """One card for one vpcd slot: ``insert()`` connects to vpcd, ``remove()`` hangs up.

    ``apdus`` records every command APDU the card received, so a test can see what reached it.
    """

    def __init__(
        self,
        port: int = VPCD_DEFAULT_PORT,
        *,
        atr: bytes = TEST_ATR,
        handler: ApduHandler = select_ok_handler,
        host: str = LOCALHOST,
        on_power: Callable[[], None] | None = None,
    ) -> None:
        self.port = port
        self.on_power = on_power  # called at each power-on and reset: the chip forgets a verified PIN
        self.host = host
        self.atr = atr
        self.handler = handler
        self.apdus: list[bytes] = []
        self.powered = False
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    @property
    def inserted(self) -> bool:
        """True while the card is connected to vpcd (pcscd exiting hangs up on it)."""
        return self._sock is not None and self._thread is not None and self._thread.is_alive()

    def insert(self, timeout_s: float = 5.0) -> None:
        """Put the card into the slot: connect to vpcd and start answering it."""
        if self.inserted:
            raise RuntimeError("the virtual card is already inserted")
        self.remove()  # drop a connection a departed pcscd left behind
        sock = socket.create_connection((self.host, self.port), timeout=timeout_s)
        sock.settimeout(None)
        # Answers must leave at once: with Nagle on, each APDU costs ~44 ms.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, args=(sock,), name="vpcd-card", daemon=True)
        self._thread.start()

    def remove(self) -> None:
        """Take the card out: close the connection (vpcd then reports the slot empty)."""
        sock, self._sock = self._sock, None
        if sock is None:
            return
        with contextlib.suppress(OSError):  # vpcd may have hung up first; the card is out either way
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        self.powered = False

    def _serve(self, sock: socket.socket) -> None:
        try:
            while True:
                message = _recv_message(sock)
                if message is None:
                    return
                reply = self._answer(message)
                if reply is not None:
                    sock.sendall(struct.pack(">H", len(reply)) + reply)
        except OSError:
            return  # removed while vpcd was talking to us

    def _answer(self, message: bytes) -> bytes | None:
        if len(message) == 1:
            return self._control(message[0])
        self.apdus.append(message)
        return self.handler(message)

    def _control(self, code: int) -> bytes | None:
        if code == CTRL_ATR:
            return self.atr
        if code in (CTRL_POWER_ON, CTRL_RESET):
            self.powered = True
            if self.on_power is not None:
                self.on_power()
        elif code == CTRL_POWER_OFF:
            self.powered = False
        return None  # power and reset messages get no answer


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        # Delayed ACKs would otherwise hold vpcd's next write back by tens of milliseconds.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _recv_message(sock: socket.socket) -> bytes | None:
    header = _recv_exact(sock, 2)
    if header is None:
        return None
    (length,) = struct.unpack(">H", header)
    return _recv_exact(sock, length) if length else b""


# -- pcscd ------------------------------------------------------------------------------------
