"""Receipt size and build time per encoding mode, against the whole receipt as one picture.

The standard receipt is ``kiosk print-test``'s Georgian sample (the catalogue's first service)
on 80 mm paper, 576 dots. For each mode (raster, udc) with the printer's own QR command and
with the QR as a picture: bytes, the time those bytes take on a 115,200-baud serial link
(10 bits a byte), and the median build time of several runs; the whole receipt drawn as one
picture, as browser-based point-of-sale software prints, is measured in the same run.

Run from anywhere: ``python bench/bench_receipts.py [--runs N]``; prints JSON.
Goals (issue 5): build <= 50 ms, raster <= 50 % of the whole-picture bytes, udc <= 4 KB.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # run as a plain script, the repository's packages importable

from assets import ASSETS_DIR
from hardware.escpos_encoding import encode_receipt, encode_whole_image
from hardware.printer_profiles import PROFILES
from kiosk.config import LANGUAGES, load_settings
from kiosk.i18n import Translator
from kiosk.ports import Receipt
from kiosk.sample_receipt import sample_receipt

BAUD = 115_200
BITS_PER_BYTE = 10  # start bit, 8 data bits, stop bit
GOAL_BUILD_MS = 50.0
GOAL_RASTER_SHARE = 0.5
GOAL_UDC_BYTES = 4096

NATIVE_QR = PROFILES["80mm"]
IMAGE_QR = dataclasses.replace(NATIVE_QR, name="80mm-image-qr", native_qr=False)


def standard_receipt() -> Receipt:
    """The Georgian print-test receipt, dated so that every run builds the same bytes."""
    settings = load_settings(None, env={})
    tr = Translator(ASSETS_DIR / "locale", LANGUAGES, "ka")
    return sample_receipt(tr, "ka", settings, datetime(2025, 11, 21, 10, 31))


def timed(build: Callable[[], bytes], runs: int) -> tuple[bytes, dict[str, float]]:
    """The bytes ``build`` makes, and its cold, median and fastest time in milliseconds."""
    times = []
    data = b""
    for _ in range(runs + 1):
        started = time.perf_counter()
        data = build()
        times.append((time.perf_counter() - started) * 1000)
    cold, warm = times[0], times[1:]
    return data, {
        "cold": round(cold, 2),
        "median": round(statistics.median(warm), 2),
        "min": round(min(warm), 2),
    }


def _size(data: bytes, whole_image: int) -> dict[str, float]:
    return {
        "bytes": len(data),
        "transfer_s": round(len(data) * BITS_PER_BYTE / BAUD, 3),
        "share_of_whole_image": round(len(data) / whole_image, 3),
    }


def measure(runs: int) -> dict[str, object]:
    """Every number of the benchmark, with the goals and whether each is met."""
    receipt = standard_receipt()
    whole, whole_ms = timed(lambda: encode_whole_image(receipt, NATIVE_QR), runs)
    report: dict[str, object] = {
        "receipt": {"language": receipt.language, "width_dots": NATIVE_QR.width_dots,
                    "lines": len(receipt.lines), "qr_url": receipt.qr_url},
        "runs": runs,
        "baud": BAUD,
        "whole_image": {**_size(whole, len(whole)), "build_ms": whole_ms},
    }
    modes: dict[str, dict[str, object]] = {}
    for mode in ("raster", "udc"):
        result: dict[str, object] = {}
        for label, profile in (("native_qr", NATIVE_QR), ("image_qr", IMAGE_QR)):
            data, build_ms = timed(lambda p=profile, m=mode: encode_receipt(receipt, p, m), runs)
            result[label] = {**_size(data, len(whole)), "build_ms": build_ms}
        modes[mode] = result
    report["modes"] = modes
    report["goals"] = _goals(modes)
    return report


def _goals(modes: dict[str, dict[str, object]]) -> dict[str, object]:
    def value(mode: str, qr: str, key: str) -> float:
        return modes[mode][qr][key]  # type: ignore[index]

    def build(mode: str) -> float:
        return max(value(mode, qr, "build_ms")["median"] for qr in ("native_qr", "image_qr"))  # type: ignore[index]

    return {
        "build_ms_max": GOAL_BUILD_MS,
        "raster_build_ok": build("raster") <= GOAL_BUILD_MS,
        "udc_build_ok": build("udc") <= GOAL_BUILD_MS,
        "raster_share_max": GOAL_RASTER_SHARE,
        "raster_native_qr_share_ok": value("raster", "native_qr", "share_of_whole_image") <= GOAL_RASTER_SHARE,
        "raster_image_qr_share_ok": value("raster", "image_qr", "share_of_whole_image") <= GOAL_RASTER_SHARE,
        "udc_bytes_max": GOAL_UDC_BYTES,
        "udc_native_qr_bytes_ok": value("udc", "native_qr", "bytes") <= GOAL_UDC_BYTES,
        "udc_image_qr_bytes_ok": value("udc", "image_qr", "bytes") <= GOAL_UDC_BYTES,
    }


def main(argv: list[str] | None = None) -> int:
    """Print the benchmark as JSON; exit 0 (goals are reported, not enforced)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=25, help="timed runs per measurement (default 25)")
    args = parser.parse_args(argv)
    print(json.dumps(measure(max(1, args.runs)), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
