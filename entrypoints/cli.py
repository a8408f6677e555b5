"""The ``kiosk`` command: run the kiosk, run the demo (or its headless tour), describe this kiosk."""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from entrypoints.logs import setup_logging
from hardware.escpos_cache import keep_capabilities_cache
from kiosk.config import LANGUAGES, ConfigError, Settings, load_settings
from protocol import __version__

log = logging.getLogger("kiosk")

def command_modules() -> list[Any]:
    """Subcommands that live in their own module: each has ``add_parser(subparsers, common)``, which
    registers its parser(s) with ``set_defaults(handler=run)``, and ``run(settings, args) -> int``.
    Imported here, not at the top, so start-up settles the escpos cache before escpos is imported."""
    from entrypoints import admin_cli, diag_cli, print_test_cli, queue_cli
    from hub import cli as hub_cli

    return [print_test_cli, hub_cli, diag_cli, admin_cli, queue_cli]


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT, e.g. 1280x800") from None
    return width, height


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with every subcommand and its help."""
    # --config may come before or after the subcommand; the subcommand's copy must not reset the
    # value given before it, hence SUPPRESS there (argparse copies parent defaults into subparsers).
    top = argparse.ArgumentParser(add_help=False)
    common = argparse.ArgumentParser(add_help=False)
    for holder, default in ((top, None), (common, argparse.SUPPRESS)):
        holder.add_argument("--config", type=Path, metavar="PATH", default=default,
                            help="TOML configuration file (KIOSK_<SECTION>_<KEY> environment variables override it)")
    parser = argparse.ArgumentParser(
        prog="kiosk",
        description="Self-service e-government kiosk for community centres: ID card, PIN, "
        "service request, offline queue, printed receipt.",
        parents=[top],
    )
    parser.add_argument("--version", action="version", version=f"kiosk {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("run", parents=[common], help="run the kiosk with the devices from the configuration",
                   description="Run the kiosk full screen with the card reader, ID-card driver and printer "
                   "named in the configuration. Stops with an error naming the setting when one is wrong.")

    demo = sub.add_parser("demo", parents=[common], help="run the kiosk on simulated hardware",
                          description="Run the kiosk in a window with a simulated card reader, demo ID card "
                          "(PIN 1234) and a printer that saves receipts as PNG. Press F1 to insert or remove "
                          "the demo card. With --tour, run the scripted journey headless instead and write "
                          "one screenshot per step.")
    demo.add_argument("--tour", type=Path, metavar="DIR",
                      help="run the scripted journey with no display; write DIR/NN-step.png and "
                      "DIR/receipt-*.png; exit 0 only if every step reached its screen")
    demo.add_argument("--report", type=Path, metavar="FILE", help="with --tour-staff: write its checks as JSON here")
    demo.add_argument("--tour-staff", type=Path, metavar="DIR",
                      help="run the staff and technician tour headless (with a local reference hub); write "
                      "DIR/<lang>-NN-step.png in Georgian and English (or --lang); exit 0 only if every check passed")
    demo.add_argument("--lang", choices=LANGUAGES, default=None,
                      help="language: the tour starts in Georgian and switches to it on screen")
    demo.add_argument("--size", type=_size, default=None, metavar="WxH",
                      help="window size, e.g. 1280x800 (default) or 1920x1080")
    demo.add_argument("--data-dir", type=Path, default=None, metavar="DIR",
                      help="where the demo keeps its queue and receipts (default: <data_dir>/demo)")

    for module in command_modules():
        module.add_parser(sub, common)
    return parser


def cmd_run(settings: Settings) -> int:
    """``kiosk run``."""
    from entrypoints.bootstrap import build_services
    from offline.outbox_integrity import OutboxCorrupted
    from screens.runner import run_app

    setup_logging(settings.kiosk.data_dir, quiet=False)
    try:
        services = build_services(settings)
    except OutboxCorrupted as exc:
        # Say so on the screen (not a crash loop under systemd) until a technician has looked.
        log.error("cannot take requests: %s; see kiosk diag, then kiosk queue clear-corruption", exc)
        from assets import ASSETS_DIR
        from kiosk.i18n import Translator
        from screens.out_of_service import run_out_of_service

        translator = Translator(ASSETS_DIR / "locale", LANGUAGES, settings.kiosk.language)
        run_out_of_service(settings, translator, exc.translation_key)
        return 3
    try:
        services.sync.start()
        display = settings.display
        run_app(services, size=(display.width, display.height), fullscreen=display.fullscreen, locked=True)
    finally:
        services.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kiosk`` console script and ``python -m entrypoints``."""
    keep_capabilities_cache()
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
        if args.command == "run":
            return cmd_run(settings)
        if args.command == "demo":
            from entrypoints import demo_cli

            return demo_cli.cmd_demo(settings, args)
        return args.handler(settings, args)
    except ConfigError as exc:
        print(f"kiosk: configuration error: {exc}", file=sys.stderr)
        return 2
