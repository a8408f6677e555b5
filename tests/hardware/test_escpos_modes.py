"""The two ways of printing scripts the printer has no font for: raster pictures and downloaded
user-defined characters (udc); golden bytes for both, and every language we print."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageOps

from hardware.escpos_decoder import decode
from hardware.escpos_encoding import encode_receipt, encode_whole_image
from hardware.escpos_paper import printer_glyph
from hardware.escpos_udc import GEORGIAN_LETTERS, glyph_cell, plan_user_chars
from hardware.printer_profiles import PROFILES
from kiosk.ports import LineStyle, ReceiptLine
from tests.hardware.receipt_samples import make_receipt, read_qr_urls

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "escpos"
RASTER = b"\x1dv0"
DEFINE_USER_CHARS = b"\x1b&"
USER_CHARS_ON = b"\x1b%\x01"

ARMENIAN = "Հայցը հերթում է և կուղարկվի կապը վերականգնվելիս"
RUSSIAN = "Запрос в очереди и будет отправлен, когда связь восстановится"
GEORGIAN = "მოთხოვნა რიგშია და გაიგზავნება კავშირის აღდგენისას"

GOLDEN = {
    # file name: (language, profile, mode)
    "ka-raster-80mm.bin": ("ka", "80mm", "raster"),
    "ka-udc-80mm.bin": ("ka", "80mm", "udc"),
    "en-raster-58mm.bin": ("en", "58mm", "raster"),
}


def _same(a: Image.Image, b: Image.Image) -> bool:
    """Pixel for pixel the same (compared as greyscale: 1-bit images may store white as 1 or 255)."""
    return ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None


def _with_lines(*lines: ReceiptLine):
    return dataclasses.replace(make_receipt("ka"), lines=lines)


# --- golden bytes ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_receipt_bytes_match_the_golden_file(name):
    """GIVEN the fixed sample receipt (fixed words, date and ids)
    WHEN it is encoded for a printer profile in a mode
    THEN the bytes are exactly the golden file's.

    A difference means what the printer gets has changed. If that was meant, regenerate and
    look at the pictures before committing them:
        KIOSK_REGENERATE_GOLDEN=1 python -m pytest tests/hardware/test_escpos_modes.py
    then decode each file (hardware.escpos_decoder.decode(data, width)) and view the PNG.
    Glyph shapes come from Pillow's bundled FreeType: a Pillow upgrade may change the bytes.
    """
    language, profile, mode = GOLDEN[name]
    data = encode_receipt(make_receipt(language), PROFILES[profile], mode)
    golden = GOLDEN_DIR / name
    if os.environ.get("KIOSK_REGENERATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(data)
    assert data == golden.read_bytes(), f"{name} changed; see this test's docstring"


# --- user-defined characters ----------------------------------------------------------------


def test_udc_receipt_is_small_and_prints_its_georgian_as_text():
    """GIVEN the Georgian sample receipt
    WHEN it is encoded in udc mode for an 80 mm printer with native QR
    THEN it is at most 4 KB, has no pictures, downloads glyphs once, and the ASCII part of a
    mixed line goes as the printer's own text on the same line."""
    data = encode_receipt(make_receipt("ka"), PROFILES["80mm"], "udc")
    assert len(data) <= 4096
    assert RASTER not in data
    assert data.count(DEFINE_USER_CHARS) >= 1 and data.index(DEFINE_USER_CHARS) < data.index(USER_CHARS_ON)
    assert b": KS-2025-000123\n" in data


@pytest.mark.parametrize("language", ["ka", "en"])
def test_udc_receipt_prints_and_its_qr_scans(language):
    """GIVEN the sample receipt in Georgian or English
    WHEN it is encoded in udc mode and drawn back as the printer would print it
    THEN the paper is as wide as the head and the QR code scans to the receipt's URL."""
    receipt = make_receipt(language)
    image = decode(encode_receipt(receipt, PROFILES["80mm"], "udc"), 576)
    assert image.width == 576
    assert read_qr_urls(image) == [receipt.qr_url]


def test_udc_glyphs_print_where_their_letters_are():
    """GIVEN a line mixing Georgian letters, a symbol and ASCII digits
    WHEN it is encoded in udc mode and drawn back
    THEN each cell of the printed row is the glyph downloaded for its letter, and the
    ASCII cells are the printer's own characters, not a downloaded glyph."""
    text = "ნინო ₾ 42"
    image = decode(encode_receipt(_with_lines(ReceiptLine(text)), PROFILES["80mm"], "udc"), 576)
    row = image.crop((0, 0, 12 * len(text), 24))
    for i, char in enumerate(text):
        cell = row.crop((12 * i, 0, 12 * i + 12, 24))
        if char in "ნო₾":
            assert _same(cell, glyph_cell(char)), char
        elif char.isdigit():
            assert _same(cell, printer_glyph(char, False, False)), char


def test_udc_codes_never_hide_ascii_of_their_lines():
    """GIVEN receipt lines in Georgian with ASCII letters, digits and punctuation
    WHEN the user-defined characters are planned
    THEN every glyph gets a code no chosen line uses for ASCII, and the codes are distinct."""
    lines = [ln for ln in make_receipt("ka").lines if ln.style is not LineStyle.RULE]
    plan = plan_user_chars(lines)
    ascii_used = {ch for ln in plan.lines for ch in ln.text if ch.isascii()}
    assert {chr(code) for code in plan.codes.values()}.isdisjoint(ascii_used)
    assert len(set(plan.codes.values())) == len(plan.codes)
    assert set(plan.codes) <= set(GEORGIAN_LETTERS) | set("₾•")


@pytest.mark.parametrize("other", [ARMENIAN, RUSSIAN])
def test_udc_draws_the_scripts_it_cannot_download(other):
    """GIVEN a receipt with a Georgian line and an Armenian or Russian line
    WHEN it is encoded in udc mode
    THEN the Georgian line goes as text and the other as one raster picture."""
    data = encode_receipt(_with_lines(ReceiptLine(GEORGIAN), ReceiptLine(other)), PROFILES["80mm"], "udc")
    assert data.count(RASTER) == 1
    assert data.count(USER_CHARS_ON) == 1


def test_udc_beyond_95_codes_falls_back_to_pictures():
    """GIVEN a first line using 70 ASCII characters and a second using all 33 Georgian letters
    WHEN the receipt is encoded in udc mode
    THEN the first fits, the second would need more than the 95 codes and is drawn."""
    ascii_line = "".join(chr(c) for c in range(0x21, 0x21 + 70))
    lines = (ReceiptLine("ა" + ascii_line), ReceiptLine(GEORGIAN_LETTERS))
    data = encode_receipt(_with_lines(*lines), PROFILES["80mm"], "udc")
    assert data.count(USER_CHARS_ON) == 1
    assert data.count(RASTER) == 1


def test_udc_without_the_feature_is_raster():
    """GIVEN a printer profile without user-defined characters (cheap 58 mm printers)
    WHEN a receipt is encoded in udc mode
    THEN the bytes are the raster mode's."""
    receipt = make_receipt("ka")
    assert encode_receipt(receipt, PROFILES["58mm"], "udc") == encode_receipt(receipt, PROFILES["58mm"])


def test_udc_definitions_are_forgotten_at_the_next_receipt():
    """GIVEN a udc receipt followed by an English receipt on the same paper
    WHEN both are drawn
    THEN the second has no Georgian glyphs: ESC @ forgot them, as a printer does."""
    second = encode_receipt(make_receipt("en"), PROFILES["80mm"])
    alone = decode(second, 576)
    after = decode(encode_receipt(make_receipt("ka"), PROFILES["80mm"], "udc") + second, 576)
    tail = after.crop((0, after.height - alone.height, 576, after.height))
    assert _same(tail, alone)


# --- every language ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["ka", "en"])
@pytest.mark.parametrize("mode", ["raster", "udc"])
@pytest.mark.parametrize("profile", ["80mm", "58mm"])
def test_every_ui_language_prints_in_every_mode(language, mode, profile):
    """GIVEN the sample receipt in each UI language
    WHEN it is encoded in each mode for wide and narrow paper and drawn back
    THEN it prints and its QR code scans."""
    receipt = make_receipt(language)
    image = decode(encode_receipt(receipt, PROFILES[profile], mode), PROFILES[profile].width_dots)
    assert read_qr_urls(image) == [receipt.qr_url]


@pytest.mark.parametrize("text", [GEORGIAN, ARMENIAN, RUSSIAN, "Nino Beridze — 2.00 ₾"])
@pytest.mark.parametrize("style", [LineStyle.TITLE, LineStyle.NORMAL, LineStyle.SMALL])
def test_every_script_draws_as_raster(text, style):
    """GIVEN a line in Georgian, Armenian, Russian or Latin with symbols, in each style
    WHEN it is encoded in raster mode for 58 mm paper and drawn back
    THEN it is pictures only, with ink, within the paper."""
    data = encode_receipt(_with_lines(ReceiptLine(text, style)), PROFILES["58mm"])
    assert data.count(RASTER) == 2  # the line and the QR code
    image = decode(data, 384).convert("L")
    ink = ImageOps.invert(image).getbbox()
    assert ink is not None and ink[2] <= 384


def test_whole_image_baseline_costs_more_in_every_mode():
    """GIVEN the Georgian sample receipt on an 80 mm printer with native QR
    WHEN it is encoded as one picture, in raster mode and in udc mode
    THEN raster is under half of the picture, and udc a small part of raster."""
    receipt = make_receipt("ka")
    whole = len(encode_whole_image(receipt, PROFILES["80mm"]))
    raster = len(encode_receipt(receipt, PROFILES["80mm"], "raster"))
    udc = len(encode_receipt(receipt, PROFILES["80mm"], "udc"))
    assert raster <= whole / 2
    assert udc <= raster / 5
