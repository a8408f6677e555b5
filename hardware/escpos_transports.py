"""How to reach an ESC/POS printer named by a URI, through python-escpos's printer classes.

``transport_for(uri, timeout_s)`` picks the transport by scheme from a plain dict
(``usb://VID:PID``, ``serial:///dev/ttyUSB0?baudrate=38400``, ``tcp://HOST:9100``,
``file:///path``); each gives a ``Link``: an opened python-escpos printer that can write and
read answers within a time limit, which python-escpos itself can't for every transport.
pyusb and pyserial are imported only when their scheme is used.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import SplitResult, parse_qs, urlsplit

from escpos.exceptions import Error as EscposError

DEFAULT_TCP_PORT = 9100

SLOWEST_BYTES_PER_S = 4096
"""A floor on how fast a printer takes in bytes (they take pictures at tens of KB/s): bounds
how long a receipt may take to send, and the answer after it, which queues behind it."""

# Failures of the link itself: socket and serial errors are OSErrors (pyserial's and pyusb's
# exceptions derive from IOError), python-escpos raises DeviceNotFoundError when opening fails.
LINK_ERRORS = (OSError, EscposError)


class Link:
    """A python-escpos printer: open it, write with a time limit, read answers with one."""

    def __init__(self, printer: Any) -> None:
        self.printer = printer

    def open(self) -> None:
        """Open the device (python-escpos raises DeviceNotFoundError when it can't)."""
        self.printer.open()

    def write(self, data: bytes, timeout_s: float) -> None:
        """Send ``data``; python-escpos's own ``_raw`` does the sending."""
        self.printer._raw(data)

    def read(self, timeout_s: float) -> bytes:
        """The bytes the printer sent within ``timeout_s``; b"" when it said nothing."""
        raise NotImplementedError

    def seconds_for(self, size: int) -> float:
        """The longest ``size`` bytes may take to reach a working printer."""
        return size / SLOWEST_BYTES_PER_S

    def close(self) -> None:
        """Release the device."""
        self.printer.close()


class _SocketLink(Link):
    """``escpos.printer.Network``: the socket's timeout is set per call."""

    def open(self) -> None:
        # Network.open() drops the socket unclosed when connecting fails; connect here instead.
        self.printer.device = socket.create_connection(
            (self.printer.host, self.printer.port), timeout=self.printer.timeout
        )

    def write(self, data: bytes, timeout_s: float) -> None:
        self.printer.device.settimeout(timeout_s)
        self.printer._raw(data)

    def read(self, timeout_s: float) -> bytes:
        self.printer.device.settimeout(timeout_s)
        try:
            chunk = self.printer._read()
        except TimeoutError:
            return b""
        if not chunk:
            raise ConnectionResetError("the printer closed the connection")
        return chunk


class _SerialLink(Link):
    """``escpos.printer.Serial``: pyserial's read waits for all it asks, so ask for one byte."""

    def write(self, data: bytes, timeout_s: float) -> None:
        self.printer.device.write_timeout = timeout_s
        self.printer._raw(data)

    def read(self, timeout_s: float) -> bytes:
        self.printer.device.timeout = timeout_s
        return self.printer.device.read(1)

    def seconds_for(self, size: int) -> float:
        # 10 bits a byte on the wire, and half as long again for the printer's flow control.
        return max(super().seconds_for(size), 1.5 * size * 10 / self.printer.baudrate)


class _UsbLink(Link):
    """``escpos.printer.Usb``: pyusb takes its timeouts in milliseconds."""

    def write(self, data: bytes, timeout_s: float) -> None:
        self.printer.timeout = max(1, int(timeout_s * 1000))
        self.printer._raw(data)

    def read(self, timeout_s: float) -> bytes:
        import usb.core

        try:
            return bytes(
                self.printer.device.read(self.printer.in_ep, 16, max(1, int(timeout_s * 1000)))
            )
        except usb.core.USBTimeoutError:
            return b""


class Transport(NamedTuple):
    """How to open a link to one printer, and whether it can answer status queries."""

    connect: Callable[[], Link]
    answers_status: bool


def _options(parts: SplitResult, allowed: dict[str, Callable[[str], Any]]) -> dict[str, Any]:
    """The URI's query parameters, converted; an unknown one is an error naming the valid ones."""
    options = {}
    for key, values in parse_qs(parts.query, keep_blank_values=True).items():
        if key not in allowed:
            valid = ", ".join(allowed) or "none"
            raise ValueError(f"printer URI parameter {key!r} is unknown; valid: {valid}")
        try:
            options[key] = allowed[key](values[-1])
        except ValueError:
            raise ValueError(f"printer URI parameter {key}={values[-1]!r} is not valid") from None
    return options


def _usb(parts: SplitResult, timeout_s: float) -> Transport:
    from escpos.printer import Usb

    try:
        vendor, product = (int(part, 16) for part in parts.netloc.split(":"))
    except ValueError:
        raise ValueError(f"usb:// needs VID:PID in hex, e.g. usb://04b8:0e15, not {parts.netloc!r}") from None
    endpoints = _options(parts, {"in_ep": lambda v: int(v, 0), "out_ep": lambda v: int(v, 0)})
    if not Usb.is_usable():
        raise ValueError("usb:// printers need pyusb and libusb: pip install pyusb")
    return Transport(lambda: _UsbLink(Usb(vendor, product, timeout=int(timeout_s * 1000), **endpoints)), True)


def _serial(parts: SplitResult, timeout_s: float) -> Transport:
    from escpos.printer import Serial

    if not parts.path or parts.netloc:
        raise ValueError("serial:// needs a device path, e.g. serial:///dev/ttyUSB0?baudrate=38400")
    settings = _options(parts, {"baudrate": int})
    if not Serial.is_usable():
        raise ValueError("serial:// printers need pyserial: pip install pyserial")
    return Transport(lambda: _SerialLink(Serial(parts.path, timeout=timeout_s, **settings)), True)


def _tcp(parts: SplitResult, timeout_s: float) -> Transport:
    from escpos.printer import Network

    try:
        host, port = parts.hostname, parts.port or DEFAULT_TCP_PORT
    except ValueError:
        raise ValueError(f"tcp:// has a bad port in {parts.netloc!r}") from None
    if not host or parts.path.strip("/") or parts.query:
        raise ValueError("tcp:// needs a host and optionally a port, e.g. tcp://192.168.1.50:9100")
    # The connect timeout is the status timeout: python-escpos would wait 60 s by default.
    return Transport(lambda: _SocketLink(Network(host, port, timeout=timeout_s)), True)


def _file(parts: SplitResult, timeout_s: float) -> Transport:
    from escpos.printer import File

    if parts.netloc or not parts.path:
        raise ValueError("file:// needs an absolute path with three slashes, e.g. file:///dev/usb/lp0")
    # Opened "wb" per receipt, as python-escpos does: right for /dev/usb/lp0, and a plain file
    # holds the last receipt. Nothing can be read back, so there is no status to ask.
    return Transport(lambda: Link(File(parts.path)), False)


TRANSPORTS: dict[str, Callable[[SplitResult, float], Transport]] = {
    "usb": _usb,
    "serial": _serial,
    "tcp": _tcp,
    "file": _file,
}
"""Printer URI scheme -> how to reach a printer that way."""

URI_EXAMPLES = (
    "usb://VID:PID",
    "serial:///dev/ttyUSB0?baudrate=38400",
    "tcp://HOST:9100",
    "file:///path",
)
"""What each scheme's URI looks like, for help texts and error messages."""


def transport_for(uri: str, timeout_s: float) -> Transport:
    """How to reach the printer at ``uri``; ``ValueError`` says what is wrong with it."""
    parts = urlsplit(uri)
    make = TRANSPORTS.get(parts.scheme)
    if make is None:
        raise ValueError(f"printer URI {uri!r}: unknown kind; use one of {', '.join(URI_EXAMPLES)}")
    return make(parts, timeout_s)
