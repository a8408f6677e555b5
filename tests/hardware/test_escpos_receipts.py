"""Receipts as ESC/POS bytes, drawn back into pictures: what a villager would take home."""

from __future__ import annotations

import dataclasses

import pytest
from PIL import ImageOps

from hardware.escpos_decoder import EscposDecodeError, decode
from hardware.escpos_encoding import encode_receipt, encode_whole_image
from hardware.printer_profiles import PROFILES, PrinterProfile, profile_for_width
from hardware.simulated_printer import SimulatedPrinter
from kiosk.errors import CoverOpen, PaperOut, PrinterOffline
from kiosk.ports import LineStyle, PaperState, ReceiptLine
from tests.hardware.receipt_samples import make_receipt, read_qr_urls

ESC_INIT = b"\x1b@"
RASTER = b"\x1dv0"
NATIVE_QR = b"\x1d(k"

# --- encoding ---------------------------------------------------------------------------------


def test_georgian_lines_go_as_raster_pictures():
    """GIVEN a Georgian receipt
    WHEN it is encoded for an 80 mm printer
    THEN the stream starts with ESC @ and every Georgian line is one GS v 0 picture."""
    receipt = make_receipt("ka")
    data = encode_receipt(receipt, PROFILES["80mm"])
    assert data.startswith(ESC_INIT)
    drawn = [ln for ln in receipt.lines if ln.style is not LineStyle.RULE]
    assert data.count(RASTER) == len(drawn)
    assert b"-" * PROFILES["80mm"].columns() in data  # rules stay text


def test_latin_and_digit_lines_go_as_printer_text():
    """GIVEN a Georgian receipt with a line of only Latin letters and digits, and an English receipt
    WHEN both are encoded
    THEN those lines are text bytes in the stream, not pictures."""
    receipt = make_receipt("ka")
    with_number = dataclasses.replace(
        receipt, lines=receipt.lines + (ReceiptLine("No. KS-2025-000123"),)
    )
    assert b"No. KS-2025-000123\n" in encode_receipt(with_number, PROFILES["80mm"])
    assert b"Receipt No.: KS-2025-000123\n" in encode_receipt(make_receipt("en"), PROFILES["80mm"])


def test_line_mixing_georgian_and_digits_is_one_picture():
    """GIVEN the Georgian receipt-number line (Georgian label, Latin number)
    WHEN it is encoded in raster mode
    THEN the whole line is drawn: GS v 0 cannot share a line with printer text."""
    receipt = make_receipt("ka")
    data = encode_receipt(receipt, PROFILES["80mm"])
    assert b"KS-2025-000123" not in data.replace(receipt.qr_url.encode(), b"")  # (the QR carries it: not as text)


def test_native_qr_only_when_the_profile_has_it():
    """GIVEN profiles with and without a native QR command
    WHEN the same receipt is encoded for each
    THEN GS ( k carries the URL only for the one that has it."""
    receipt = make_receipt("ka")
    native = encode_receipt(receipt, PROFILES["80mm"])
    basic = encode_receipt(receipt, PROFILES["80mm-basic"])
    assert NATIVE_QR in native and receipt.qr_url.encode() in native
    assert NATIVE_QR not in basic and receipt.qr_url.encode() not in basic
    assert len(basic) > len(native)


@pytest.mark.parametrize("name", ["80mm", "58mm"])
def test_whole_image_costs_more_than_raster_lines(name):
    """GIVEN a Georgian receipt
    WHEN it is encoded line by line and as one picture
    THEN the one picture (the browser-POS way) is larger."""
    receipt = make_receipt("ka")
    assert len(encode_whole_image(receipt, PROFILES[name])) > len(
        encode_receipt(receipt, PROFILES[name])
    )


def test_unknown_mode_is_refused_naming_the_valid_ones():
    """GIVEN a mode that doesn't exist
    WHEN a receipt is encoded with it
    THEN ValueError names the modes there are."""
    with pytest.raises(ValueError, match="raster"):
        encode_receipt(make_receipt(), PROFILES["80mm"], mode="morse")


# --- decoding: what the paper looks like -------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PROFILES))
@pytest.mark.parametrize("language", ["ka", "en"])
def test_printed_qr_scans_to_the_status_url(name, language):
    """GIVEN a receipt encoded for a printer with or without native QR
    WHEN the bytes are drawn as the printer would print them
    THEN the paper is as wide as the head and its QR code scans to exactly the receipt's URL."""
    profile = PROFILES[name]
    receipt = make_receipt(language)
    image = decode(encode_receipt(receipt, profile), profile.width_dots)
    assert image.width == profile.width_dots
    assert read_qr_urls(image) == [receipt.qr_url]


def test_the_qr_carries_the_receipt_number_never_the_request_id():
    """GIVEN a receipt WHEN its QR code is read off the paper THEN it opens the status URL of the receipt number;
    the request id (the hub's idempotency key, which would let its holder block the request) is nowhere on it."""
    receipt = make_receipt("en")
    image = decode(encode_receipt(receipt, PROFILES["80mm"]), 576)
    assert read_qr_urls(image) == ["https://my.gov.ge/r/KS-2025-000123"]
    assert all(receipt.request_id not in line.text for line in receipt.lines)


def test_whole_image_qr_scans_too():
    """GIVEN a receipt encoded as one picture
    WHEN it is drawn back
    THEN its QR code scans to the receipt's URL."""
    receipt = make_receipt("ka")
    image = decode(encode_whole_image(receipt, PROFILES["80mm"]), 576)
    assert read_qr_urls(image) == [receipt.qr_url]


@pytest.mark.parametrize("language", ["ka", "en"])
def test_title_is_centred(language):
    """GIVEN a receipt whose first line is the title
    WHEN it is printed
    THEN the title's ink has about the same white margin on the left and the right."""
    image = decode(encode_receipt(make_receipt(language), PROFILES["58mm"]), 384).convert("L")
    top = image.crop((0, 0, image.width, 40))
    left, _, right, _ = ImageOps.invert(top).getbbox()
    assert abs(left - (image.width - right)) <= 12


def test_truncated_raster_picture_is_reported_with_its_offset():
    """GIVEN a stream whose GS v 0 promises more bytes than follow
    WHEN it is decoded
    THEN EscposDecodeError says where that command starts."""
    data = ESC_INIT + b"Hi\n" + RASTER + bytes([0, 2, 0, 10, 0]) + b"\xff" * 5
    with pytest.raises(EscposDecodeError) as caught:
        decode(data, 384)
    assert caught.value.offset == len(ESC_INIT + b"Hi\n")


def test_unknown_commands_are_stepped_over():
    """GIVEN text around a command the decoder doesn't know
    WHEN it is decoded
    THEN the text is still printed and nothing fails."""
    graphics = b"\x1d(L" + bytes([4, 0]) + b"0p\x41\x42"  # sized GS ( L: skipped whole
    image = decode(ESC_INIT + b"A\n" + b"\x1b\x63" + graphics + b"B\n", 384)
    assert image.height == 2 * 30
    left, _, right, _ = ImageOps.invert(image.convert("L").crop((0, 30, 384, 60))).getbbox()
    assert right - left <= 12  # only "B": the graphics' own bytes were not printed as text
    assert image.convert("L").getextrema()[0] == 0


def test_user_defined_character_replaces_the_builtin_one():
    """GIVEN a solid 12x24 glyph downloaded for 'A' with ESC & and selected with ESC %
    WHEN 'A' is printed
    THEN its cell is solid black."""
    define = b"\x1b&" + bytes([3, 0x41, 0x41, 12]) + b"\xff" * 36
    image = decode(ESC_INIT + define + b"\x1b%\x01" + b"A\n", 384).convert("L")
    assert image.crop((0, 0, 12, 24)).getextrema() == (0, 0)


# --- profiles -------------------------------------------------------------------------------------


def test_profile_for_a_bare_width_is_the_cautious_one():
    """GIVEN only a paper width
    WHEN a profile is picked for it
    THEN it has no optional features; an unknown width is refused."""
    assert profile_for_width(576).native_qr is False
    with pytest.raises(ValueError, match="576"):
        profile_for_width(500)
    with pytest.raises(ValueError):
        PrinterProfile("odd", 500, native_qr=False, user_defined_chars=False)


# --- the simulated printer ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (lambda p: p.set_paper(PaperState.OUT), PaperOut),
        (lambda p: p.set_cover_open(), CoverOpen),
        (lambda p: p.set_online(False), PrinterOffline),
    ],
)
def test_simulated_printer_refuses_when_not_ready(fault, error):
    """GIVEN a simulated printer with a scripted fault
    WHEN a receipt is printed
    THEN the matching typed error is raised and nothing is recorded."""
    printer = SimulatedPrinter()
    fault(printer)
    assert not printer.status().ready
    with pytest.raises(error):
        printer.print_receipt(make_receipt())
    assert printer.receipts == []


def test_simulated_printer_keeps_bytes_and_picture(tmp_path):
    """GIVEN a simulated 58 mm printer whose paper is nearly out, saving to a folder
    WHEN a receipt is printed
    THEN it is kept with its bytes and their picture and saved as a PNG; clear() forgets it."""
    printer = SimulatedPrinter(profile=PROFILES["58mm"], out_dir=tmp_path)
    printer.set_paper(PaperState.NEAR_END)
    receipt = make_receipt("ka", receipt_no="KS/2025/7")
    printer.print_receipt(receipt)
    [printed] = printer.receipts
    assert printed.receipt is receipt
    assert printed.data == encode_receipt(receipt, PROFILES["58mm"])
    assert printed.image.width == 384
    assert (tmp_path / "receipt-KS_2025_7.png").is_file()
    printer.clear()
    assert printer.receipts == []


def test_overlong_word_is_broken_not_clipped():
    """GIVEN a line that is one Georgian word far wider than 58 mm paper
    WHEN it is encoded and printed
    THEN it is split over several rows and nothing is lost off the paper's edge."""
    receipt = make_receipt("ka")
    long_word = dataclasses.replace(receipt, lines=(ReceiptLine("ქართული" * 12),))
    data = encode_receipt(long_word, PROFILES["58mm"])
    header = data.index(RASTER) + len(RASTER)
    width_bytes, height = (
        data[header + 1] + 256 * data[header + 2],
        data[header + 3] + 256 * data[header + 4],
    )
    assert width_bytes * 8 <= 384
    assert height > 3 * 30  # several rows of letters in one picture
    image = decode(data, 384).convert("L")
    assert image.crop((image.width - 2, 0, image.width, height)).getextrema() == (255, 255)
