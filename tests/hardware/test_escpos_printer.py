"""The ESC/POS printer adapter against a local TCP printer, a file, and URIs it must refuse."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from hardware.escpos_decoder import decode
from hardware.escpos_encoding import encode_receipt
from hardware.escpos_printer import EscposReceiptPrinter, open_printer
from hardware.escpos_status import StatusReply, error_for
from hardware.printer_profiles import PROFILES
from kiosk.errors import CoverOpen, PaperOut, PrinterOffline
from kiosk.ports import PaperState, PrinterStatus
from tests.hardware.fake_tcp_printer import (
    COVER_OPEN,
    NEAR_END,
    OK,
    PAPER_OUT,
    STATUS_QUERIES,
    FakeTcpPrinter,
    PrinterState,
)
from tests.hardware.receipt_samples import make_receipt, read_qr_urls

PROFILE = PROFILES["80mm"]
FAST = 0.3  # status timeout for tests where the printer answers; silence tests use the default


@pytest.fixture
def tcp_printer(request: pytest.FixtureRequest) -> Iterator[FakeTcpPrinter]:
    """A fake network printer in the state the test names (``indirect`` parameter)."""
    state, drop_after = getattr(request, "param", (OK, None))
    fake = FakeTcpPrinter(state, drop_after=drop_after)
    yield fake
    fake.close()


def _printer(fake: FakeTcpPrinter, mode: str = "raster") -> EscposReceiptPrinter:
    return open_printer(fake.uri, PROFILE, mode=mode, status_timeout_s=FAST)  # type: ignore[return-value]


# --- status bytes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (OK, PrinterStatus(online=True)),
        (NEAR_END, PrinterStatus(online=True, paper=PaperState.NEAR_END)),
        (PAPER_OUT, PrinterStatus(online=True, paper=PaperState.OUT)),
        (COVER_OPEN, PrinterStatus(online=True, cover_open=True)),
    ],
)
def test_status_bytes_are_read_into_printer_status(state: PrinterState, expected: PrinterStatus):
    """GIVEN the bytes an Epson printer answers to DLE EOT 1, 2 and 4 in some state
    WHEN they are read
    THEN the status says online, paper and cover as the printer meant."""
    assert StatusReply(state.printer, state.offline_cause, state.paper).status() == expected


def test_offline_without_a_known_cause_or_answer_is_offline():
    """GIVEN a printer that says offline for a reason we don't know, and one that is silent
    WHEN the status is read
    THEN both are offline, and the error a job would meet is PrinterOffline."""
    for reply in (StatusReply(0x1E, 0x52, 0x12), StatusReply(None)):
        status = reply.status()
        assert not status.online
        assert isinstance(error_for(status), PrinterOffline)


# --- a network printer ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tcp_printer", "error", "paper", "cover_open"),
    [
        ((PAPER_OUT, None), PaperOut, PaperState.OUT, False),
        ((COVER_OPEN, None), CoverOpen, PaperState.OK, True),
    ],
    indirect=["tcp_printer"],
)
def test_printer_not_ready_gets_nothing_but_the_question(tcp_printer, error, paper, cover_open):
    """GIVEN a network printer out of paper, or with its cover open
    WHEN its status is asked and a receipt is printed
    THEN the status says why, the typed error is raised, and only status queries were sent."""
    printer = _printer(tcp_printer)
    status = printer.status()
    assert (status.paper, status.cover_open, status.ready) == (paper, cover_open, False)
    with pytest.raises(error):
        printer.print_receipt(make_receipt("ka"))
    assert tcp_printer.data() == STATUS_QUERIES * 2


@pytest.mark.parametrize(
    ("tcp_printer", "paper"),
    [((OK, None), PaperState.OK), ((NEAR_END, None), PaperState.NEAR_END)],
    indirect=["tcp_printer"],
)
@pytest.mark.parametrize("mode", ["raster", "udc"])
def test_ready_printer_gets_the_receipt_in_one_piece(tcp_printer, paper, mode):
    """GIVEN a network printer that is ready (paper fine or nearly out)
    WHEN a Georgian receipt is printed
    THEN it received the status queries, the receipt's bytes, and one query after them; the
    bytes print a picture whose QR code scans to the receipt's URL."""
    printer = _printer(tcp_printer, mode)
    assert printer.status().paper is paper
    receipt = make_receipt("ka")
    printer.print_receipt(receipt)
    job = encode_receipt(receipt, PROFILE, mode)
    assert tcp_printer.data() == STATUS_QUERIES * 2 + job + b"\x10\x04\x01"
    assert read_qr_urls(decode(tcp_printer.data(), PROFILE.width_dots)) == [receipt.qr_url]


@pytest.mark.parametrize("tcp_printer", [(None, None)], indirect=True)
def test_silent_printer_is_offline_after_the_short_timeout(tcp_printer):
    """GIVEN a printer that accepts the connection but never answers (default 1 s timeout)
    WHEN a receipt is printed and the status asked
    THEN PrinterOffline comes within seconds, not python-escpos's 60, and nothing was printed."""
    printer = open_printer(tcp_printer.uri, PROFILE)
    started = time.monotonic()
    with pytest.raises(PrinterOffline):
        printer.print_receipt(make_receipt("ka"))
    assert time.monotonic() - started < 5
    assert printer.status() == PrinterStatus(online=False)
    assert tcp_printer.data() == b"\x10\x04\x01" * 2


@pytest.mark.parametrize("tcp_printer", [(OK, 2000)], indirect=True)
def test_connection_dropped_mid_receipt_is_offline(tcp_printer):
    """GIVEN a printer that hangs up after 2,000 bytes of a 20 KB receipt
    WHEN the receipt is printed
    THEN PrinterOffline is raised (not success, not a socket error), quickly."""
    printer = _printer(tcp_printer)
    started = time.monotonic()
    with pytest.raises(PrinterOffline) as caught:
        printer.print_receipt(make_receipt("ka"))
    assert time.monotonic() - started < 5
    assert isinstance(caught.value.__cause__, OSError)


def test_nobody_listening_is_offline():
    """GIVEN a TCP address where no printer listens
    WHEN the status is asked and a receipt printed
    THEN the printer is offline and PrinterOffline is raised."""
    fake = FakeTcpPrinter()
    fake.close()  # the port is now free and refuses connections
    printer = open_printer(fake.uri, PROFILE, status_timeout_s=FAST)
    assert printer.status() == PrinterStatus(online=False)
    with pytest.raises(PrinterOffline):
        printer.print_receipt(make_receipt("ka"))


# --- a device file --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["raster", "udc"])
def test_file_printer_writes_a_receipt_that_prints(tmp_path, mode):
    """GIVEN a file:// printer (a device file such as /dev/usb/lp0, here a plain file)
    WHEN its status is asked and a receipt printed
    THEN it is assumed online without touching the file, and the file holds bytes whose
    picture has the receipt's QR code."""
    target = tmp_path / "receipt.bin"
    printer = open_printer(f"file://{target}", PROFILE, mode=mode)
    assert printer.status() == PrinterStatus(online=True)
    assert not target.exists()
    receipt = make_receipt("ka")
    printer.print_receipt(receipt)
    assert target.read_bytes() == encode_receipt(receipt, PROFILE, mode)
    assert read_qr_urls(decode(target.read_bytes(), PROFILE.width_dots)) == [receipt.qr_url]


def test_file_printer_in_a_missing_folder_is_offline(tmp_path):
    """GIVEN a file:// printer whose device doesn't exist (unplugged /dev/usb/lp0)
    WHEN a receipt is printed
    THEN PrinterOffline is raised."""
    printer = open_printer(f"file://{tmp_path}/no/such/dir/lp0", PROFILE)
    with pytest.raises(PrinterOffline):
        printer.print_receipt(make_receipt("en"))


# --- URIs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("lpt://1", "usb://VID:PID, serial:///dev/ttyUSB0"),
        ("printer.local:9100", "tcp://HOST:9100"),
        ("tcp://", "needs a host"),
        ("tcp://printer:port", "bad port"),
        ("file://relative/r.bin", "three slashes"),
        ("usb://epson", "VID:PID in hex"),
        ("usb://04b8:0e15?speed=fast", "'speed' is unknown; valid: in_ep, out_ep"),
        ("serial://ttyUSB0", "device path"),
        ("serial:///dev/ttyUSB0?baudrate=fast", "baudrate='fast'"),
    ],
)
def test_bad_uri_is_refused_saying_what_would_do(uri, message):
    """GIVEN a printer URI that is wrong
    WHEN the printer is opened
    THEN ValueError says what a valid one looks like."""
    with pytest.raises(ValueError) as caught:
        open_printer(uri, PROFILE)
    assert message in str(caught.value)


def test_unknown_mode_is_refused_before_any_printing():
    """GIVEN a mode that doesn't exist
    WHEN the printer is opened
    THEN ValueError names the valid modes."""
    with pytest.raises(ValueError, match="raster, udc"):
        open_printer("file:///dev/null", PROFILE, mode="morse")


@pytest.mark.parametrize(
    ("uri", "module", "library"),
    [("usb://04b8:0e15?out_ep=0x01", "usb", "pyusb"), ("serial:///dev/ttyUSB0?baudrate=38400", "serial", "pyserial")],
)
def test_usb_and_serial_need_their_library_only_when_used(uri, module, library):
    """GIVEN a USB or serial printer URI
    WHEN the printer is opened (nothing is touched yet)
    THEN it works if pyusb/pyserial is installed, else ValueError names the library."""
    try:
        __import__(module)
    except ImportError:
        with pytest.raises(ValueError, match=library):
            open_printer(uri, PROFILE)
    else:
        assert isinstance(open_printer(uri, PROFILE), EscposReceiptPrinter)
