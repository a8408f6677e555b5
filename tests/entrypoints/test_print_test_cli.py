"""``kiosk print-test``: a sample receipt to a printer URI, and the reason when it can't print."""

from __future__ import annotations

import argparse
import dataclasses
from datetime import datetime
from pathlib import Path

import pytest
from PIL import ImageChops

from assets import ASSETS_DIR
from entrypoints import print_test_cli
from hardware.escpos_decoder import decode
from hardware.receipt_drawing import render_line
from kiosk import sample_receipt as samples
from kiosk.config import LANGUAGES, ConfigError, Settings, load_settings
from kiosk.i18n import Translator
from kiosk.ports import LineStyle
from tests.hardware.fake_tcp_printer import PAPER_OUT, FakeTcpPrinter
from tests.hardware.receipt_samples import read_qr_urls


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Default settings with the data directory in a temp dir and no printer configured."""
    loaded = load_settings(None, env={})
    return dataclasses.replace(loaded, kiosk=dataclasses.replace(loaded.kiosk, data_dir=tmp_path / "data"))


def run(settings: Settings, *argv: str) -> int:
    """``kiosk print-test ARGV`` through the subcommand's own parser."""
    parser = argparse.ArgumentParser(prog="kiosk")
    print_test_cli.add_parser(parser.add_subparsers(dest="command"), argparse.ArgumentParser(add_help=False))
    return print_test_cli.run(settings, parser.parse_args(["print-test", *argv]))


def expected_url(settings: Settings) -> str:
    """The sample's QR: the status URL with the sample's receipt number (made from the kiosk's local day), never
    the request id."""
    today = datetime.now(settings.kiosk.zone)
    url = settings.receipt.status_url.format(receipt=f"{settings.kiosk.kiosk_id}-{today:%y%m%d}-TEST")
    assert samples.SAMPLE_REQUEST_ID not in url
    return url


def test_georgian_sample_to_a_file_reads_and_scans(settings, tmp_path, capsys):
    """GIVEN `kiosk print-test --printer file:///.../r.bin --lang ka`
    WHEN it runs
    THEN it exits 0; the file's picture starts with the Georgian agency title exactly as drawn
    and its QR code scans to the status URL of the sample request."""
    target = tmp_path / "r.bin"
    assert run(settings, "--printer", f"file://{target}", "--lang", "ka") == 0
    out = capsys.readouterr().out
    assert "online" in out and expected_url(settings) in out
    image = decode(target.read_bytes(), settings.printer.paper_width_dots)
    assert read_qr_urls(image) == [expected_url(settings)]
    tr = Translator(ASSETS_DIR / "locale", LANGUAGES, "ka")
    receipt = samples.sample_receipt(tr, "ka", settings, datetime(2025, 1, 1))
    title = receipt.lines[0]
    assert title.style is LineStyle.TITLE and not title.text.isascii()
    drawn = render_line(title, image.width)
    printed = image.crop((0, 0, image.width, drawn.height))
    assert ImageChops.difference(printed.convert("L"), drawn.convert("L")).getbbox() is None


def test_udc_sample_is_small_and_scans(settings, tmp_path):
    """GIVEN `print-test --mode udc --profile 80mm --lang ka` to a file
    WHEN it runs
    THEN the receipt is at most 4 KB and its QR code scans."""
    target = tmp_path / "r.bin"
    assert run(settings, "--printer", f"file://{target}", "--mode", "udc", "--profile", "80mm") == 0
    assert len(target.read_bytes()) <= 4096
    assert read_qr_urls(decode(target.read_bytes(), 576)) == [expected_url(settings)]


def test_printer_out_of_paper_exits_1_saying_so(settings, capsys):
    """GIVEN a network printer that is out of paper
    WHEN `print-test --lang en` runs against it
    THEN it exits 1 and says the printer is out of paper."""
    fake = FakeTcpPrinter(PAPER_OUT)
    try:
        assert run(settings, "--printer", fake.uri, "--lang", "en") == 1
    finally:
        fake.close()
    captured = capsys.readouterr()
    assert "paper OUT" in captured.out
    assert "not printed: the printer is out of paper" in captured.err


def test_unreachable_printer_exits_1_in_both_languages(settings, capsys):
    """GIVEN a TCP printer address where nothing listens
    WHEN `print-test` runs (Georgian receipt)
    THEN it exits 1 saying in English and Georgian that the printer is off."""
    fake = FakeTcpPrinter()
    fake.close()
    assert run(settings, "--printer", fake.uri) == 1
    assert "not printed: the printer is off (პრინტერი გამორთულია)" in capsys.readouterr().err


def test_no_printer_or_a_bad_uri_is_reported(settings, capsys):
    """GIVEN no printer configured, then a URI of an unknown kind
    WHEN `print-test` runs
    THEN the first exits 1 saying how to name one, the second is a configuration error."""
    assert run(settings) == 1
    assert "--printer URI" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="tcp://HOST:9100"):
        run(settings, "--printer", "lpt1")


def test_simulated_printer_saves_the_picture(settings):
    """GIVEN `print-test --printer simulated`
    WHEN it runs
    THEN the receipt is drawn into the data directory as a PNG."""
    assert run(settings, "--printer", "simulated", "--lang", "en") == 0
    assert len(list((settings.kiosk.data_dir / "receipts").glob("receipt-*.png"))) == 1
