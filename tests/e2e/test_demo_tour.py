"""The headless tour: the real Kivy app, offscreen, driven by touches from card in to card out."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from hardware.demo_pki import DEMO_CITIZEN

REPO = Path(__file__).resolve().parents[2]
STEPS = ["attract", "card-inserted", "pin-wrong", "pin-typed", "services", "intro", "form-choice", "form-phone",
         "form-phone-typed", "form-consent", "confirm", "done", "services-again", "my-requests",
         "services-after-requests", "pin-change", "pin-change-old", "pin-change-new", "pin-change-repeat",
         "pin-change-done", "services-after-pin-change", "signed-intro", "signed-form", "signed-form-number",
         "signed-form-choice", "signed-form-phone", "signed-form-phone-typed", "signed-form-consent", "signed-confirm",
         "sign", "sign-typed", "signed-done", "rating", "rated", "card-removed", "blocked-card-inserted", "pin-wrong-2-left",
         "pin-wrong-final-try", "pin-blocked",
         "puk", "puk-new", "puk-repeat", "puk-done", "pin-after-puk", "blocked-card-removed"]


def run_tour(tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess, Path, Path]:
    out, data = tmp_path / "tour", tmp_path / "data"
    env = {**os.environ, "KIVY_HOME": str(tmp_path / "kivy"), "SDL_VIDEODRIVER": "offscreen"}
    proc = subprocess.run(
        [sys.executable, "-m", "entrypoints", "demo", "--tour", str(out), "--data-dir", str(data), *extra],
        capture_output=True, text=True, timeout=300, cwd=REPO, env=env,
    )
    return proc, out, data


@pytest.fixture(scope="module")
def tour(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path, Path]:
    return run_tour(tmp_path_factory.mktemp("ka"))


def test_tour_reaches_every_screen(tour) -> None:
    """GIVEN the demo WHEN the tour runs headless THEN every step reaches its screen and exit status is 0."""
    proc, out, _ = tour
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for step in STEPS:
        assert f"ok      {step}" in proc.stdout


def test_tour_writes_one_readable_picture_per_step(tour) -> None:
    """GIVEN the tour WHEN it finishes THEN DIR/NN-step.png exist at 1280×800 and are not blank."""
    _, out, _ = tour
    pictures = sorted(p for p in out.glob("[0-9][0-9]-*.png") if not p.stem.endswith("status-page"))
    assert [p.stem.split("-", 1)[1] for p in pictures] == STEPS
    for picture in pictures:
        with Image.open(picture) as image:
            assert image.size == (1280, 800)
            assert ImageStat.Stat(image.convert("L")).stddev[0] > 20, picture.name  # something is drawn


def test_tour_receipt_is_printed_and_its_qr_opens_the_requests_page(tour) -> None:
    """GIVEN the tour's two requests WHEN their receipt pictures are read THEN each QR decodes to the local hub's
    page for that request (/r/<kiosk>/<token>: never the request id), and the page the tour fetched from that
    URL shows the receipt number and the state in words."""
    import zxingcpp

    _, out, data = tour
    receipts = sorted(out.glob("receipt-*.png"))
    assert len(receipts) == 2  # the plain request and the signed one
    pages = sorted(out.glob("[0-9][0-9]-status-page.html"))
    assert len(pages) == 2
    ids = [row[0] for row in sqlite3.connect(data / "outbox.sqlite").execute("SELECT id FROM submissions")]
    for receipt, page in zip(receipts, pages, strict=True):
        with Image.open(receipt) as image:
            codes = zxingcpp.read_barcodes(image.convert("L"))
        assert len(codes) == 1 and codes[0].text.startswith("http://127.0.0.1:") and "/r/k-" in codes[0].text
        assert not any(request_id in codes[0].text for request_id in ids)
        html = page.read_text(encoding="utf-8")
        receipt_no = receipt.stem.removeprefix("receipt-")
        assert receipt_no in html and "მიღებულია" in html  # "received", in the request's language
        assert DEMO_CITIZEN["personal_number"] not in html and DEMO_CITIZEN["given_name"] not in html


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_tour_speaks_every_screen_in_georgian(tour) -> None:
    """GIVEN espeak-ng WHEN the tour runs headless THEN the spoken prompts are kept as Georgian WAV files."""
    _, out, _ = tour
    wavs = sorted((out / "audio").glob("*.wav"))
    assert len(wavs) >= 30 and all(p.stem.endswith("-ka") for p in wavs)
    assert all(p.stat().st_size > 10_000 for p in wavs)


def test_no_pin_or_personal_number_in_logs_or_database(tour) -> None:
    """GIVEN a full journey with PIN 1234 WHEN the logs and the database files are read THEN neither PIN nor number is there."""
    _, _, data = tour
    files = [p for p in data.rglob("*") if p.is_file() and (p.suffix in (".log", "") or "sqlite" in p.name)]
    logs = [p for p in files if p.suffix == ".log"]
    assert logs, "the kiosk writes a log"
    assert b"citizen authenticated" in b"".join(p.read_bytes() for p in logs)
    for path in files:
        blob = path.read_bytes()
        assert DEMO_CITIZEN["personal_number"].encode() not in blob, path
        assert b"PIN 1234" not in blob and b"pin=1234" not in blob, path


@pytest.mark.parametrize("size", ["1920x1080"])
def test_tour_at_full_hd(tmp_path: Path, size: str) -> None:
    """GIVEN a 1920×1080 screen WHEN the tour runs THEN it passes and pictures have that size."""
    proc, out, _ = run_tour(tmp_path, "--size", size, "--lang", "en")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with Image.open(next(out.glob("01-*.png"))) as image:
        assert image.size == (1920, 1080)
