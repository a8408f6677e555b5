"""``kiosk print-test``: print a sample receipt to check a printer, its paper, its settings.

It asks the printer's status first and says it in words; prints a receipt in the chosen
language and mode whose QR code opens the status page of a sample request; exits 0 when it
printed, 1 (with the reason) when the printer isn't ready or can't be reached.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from assets import ASSETS_DIR
from entrypoints.bootstrap import printer_profile
from hardware.escpos_encoding import ENCODING_MODES, encode_receipt
from hardware.escpos_printer import open_printer
from hardware.escpos_status import error_for
from hardware.escpos_transports import URI_EXAMPLES
from hardware.printer_profiles import PROFILES, PrinterProfile
from hardware.simulated_printer import SimulatedPrinter
from kiosk.clock import LocalTime, utc_now
from kiosk.config import LANGUAGES, ConfigError, Settings
from kiosk.errors import PrinterError
from kiosk.i18n import Translator
from kiosk.ports import PaperState, PrinterStatus, ReceiptPrinter
from kiosk.sample_receipt import sample_receipt

BAUD = 115_200


def add_parser(subparsers: Any, common_parent: argparse.ArgumentParser) -> None:
    """Register ``print-test [--printer URI] [--lang LANG] [--mode raster|udc] [--profile NAME]``."""
    parser = subparsers.add_parser(
        "print-test",
        parents=[common_parent],
        help="print a sample receipt to check the printer",
        description="Ask the receipt printer for its status, then print a sample receipt whose QR "
        "code opens the status page of a sample request. Exit 0 when it printed, 1 with the reason "
        "when the printer is not ready or cannot be reached.",
    )
    parser.add_argument(
        "--printer", metavar="URI", default=None,
        help=f"printer to use instead of [printer] uri: {', '.join(URI_EXAMPLES)} or simulated",
    )
    parser.add_argument("--lang", choices=LANGUAGES, default="ka", help="receipt language (default: ka)")
    parser.add_argument(
        "--mode", choices=ENCODING_MODES, default=None,
        help="how Georgian is sent: raster pictures or udc, downloaded characters printed as text "
        "(a tenth of the bytes, for slow serial printers); default: [printer] mode",
    )
    parser.add_argument(
        "--profile", choices=sorted(PROFILES), default=None,
        help="printer model (default: [printer] profile, else the most cautious one for "
        "[printer] paper_width_dots: no native QR, no downloaded characters)",
    )
    parser.set_defaults(handler=run)


def describe_status(status: PrinterStatus) -> str:
    """The printer's status in a technician's words."""
    if not status.online:
        return "not answering"
    words = ["online", "cover OPEN" if status.cover_open else "cover closed"]
    words.append({PaperState.OK: "paper ok", PaperState.NEAR_END: "paper NEAR END: change the roll soon",
                  PaperState.OUT: "paper OUT"}[status.paper])
    return ", ".join(words)


def _open(uri: str, profile: PrinterProfile, mode: str, settings: Settings) -> ReceiptPrinter:
    if uri == "simulated":
        return SimulatedPrinter(profile, out_dir=settings.kiosk.data_dir / "receipts", mode=mode)
    try:
        return open_printer(uri, profile, mode=mode)
    except ValueError as exc:
        raise ConfigError(f"printer uri: {exc}") from None


def _reason(tr: Translator, language: str, error: PrinterError) -> str:
    english = tr(error.translation_key, "en", **error.params)
    if language == "en":
        return english
    return f"{english} ({tr(error.translation_key, language, **error.params)})"


def run(settings: Settings, args: argparse.Namespace) -> int:
    """``kiosk print-test``; ``ConfigError`` for a printer URI that can't be right."""
    uri = args.printer or settings.printer.uri
    if not uri:
        print("kiosk print-test: no printer: give --printer URI or set [printer] uri", file=sys.stderr)
        return 1
    profile = PROFILES[args.profile] if args.profile else printer_profile(settings)
    args.mode = args.mode or settings.printer.mode
    printer = _open(uri, profile, args.mode, settings)
    tr = Translator(ASSETS_DIR / "locale", LANGUAGES, args.lang)
    now = LocalTime(utc_now, settings.kiosk.zone).now().replace(second=0, microsecond=0)
    receipt = sample_receipt(tr, args.lang, settings, now)

    if args.mode == "udc" and not profile.user_defined_chars:
        print(f"note: profile {profile.name} has no downloadable characters: Georgian goes as pictures "
              "(choose a --profile that has them, e.g. 80mm)")
    status = printer.status()
    print(f"printer {uri}: {describe_status(status)}")
    error = error_for(status)
    try:
        if error is not None:
            raise error
        printer.print_receipt(receipt)
    except PrinterError as exc:
        print(f"kiosk print-test: not printed: {_reason(tr, args.lang, exc)}", file=sys.stderr)
        return 1
    size = len(encode_receipt(receipt, profile, args.mode))
    print(f"printed sample receipt {receipt.receipt_no} ({args.lang}, mode {args.mode}, profile {profile.name}): "
          f"{size:,} bytes, {size * 10 / BAUD:.1f} s at {BAUD:,} baud")
    print(f"its QR code opens {receipt.qr_url}")
    return 0
