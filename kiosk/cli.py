"""The ``kiosk`` command: run the kiosk, run the demo (or its headless tour), describe this kiosk."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import logging.handlers
import sys
from pathlib import Path
from typing import Any, Sequence

from kiosk import __version__, print_test
from kiosk.config import LANGUAGES, ConfigError, Settings, load_settings

log = logging.getLogger("kiosk")

# Subcommands that live in their own module: each has ``add_parser(subparsers, common)``, which
# registers its parser(s) with ``set_defaults(handler=run)``, and ``run(settings, args) -> int``.
COMMAND_MODULES: list[Any] = [print_test]


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT, e.g. 1280x800") from None
    return width, height


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with every subcommand and its help."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, metavar="PATH", help="TOML configuration file "
                        "(KIOSK_<SECTION>_<KEY> environment variables override it)")
    parser = argparse.ArgumentParser(
        prog="kiosk",
        description="Self-service e-government kiosk for community centres: ID card, PIN, "
        "service request, offline queue, printed receipt.",
        parents=[common],
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
    demo.add_argument("--lang", choices=LANGUAGES, default=None, help="language: the tour starts in Georgian and switches to it on screen")
    demo.add_argument("--size", type=_size, default=None, metavar="WxH",
                      help="window size, e.g. 1280x800 (default) or 1920x1080")
    demo.add_argument("--data-dir", type=Path, default=None, metavar="DIR",
                      help="where the demo keeps its queue and receipts (default: <data_dir>/demo)")

    diag = sub.add_parser("diag", parents=[common], help="describe this kiosk and what each device reports",
                          description="Print the version, configuration file, data directory, chosen drivers "
                          "and what each device and the outbox report. Exit 1 if the configuration is invalid.")
    diag.add_argument("--json", action="store_true", help="machine-readable output")
    for module in COMMAND_MODULES:
        module.add_parser(sub, common)
    return parser


def _setup_logging(data_dir: Path, quiet: bool) -> None:
    """Log to a rotating file in the data directory; warnings also to stderr."""
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(logs / "kiosk.log", maxBytes=2_000_000, backupCount=5,
                                                   encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    if not quiet:
        console = logging.StreamHandler()
        console.setLevel(logging.WARNING)
        root.addHandler(console)


def cmd_run(settings: Settings) -> int:
    """``kiosk run``."""
    from kiosk.bootstrap import build_services
    from screens.runner import run_app

    services = build_services(settings)
    _setup_logging(settings.kiosk.data_dir, quiet=False)
    try:
        display = settings.display
        run_app(services, size=(display.width, display.height), fullscreen=display.fullscreen)
    finally:
        services.close()
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    """``kiosk demo [--tour DIR]``."""
    from kiosk.bootstrap import build_services

    demo_settings = settings.simulated(args.data_dir)
    if args.lang and args.tour is None:
        demo_settings = dataclasses.replace(
            demo_settings, kiosk=dataclasses.replace(demo_settings.kiosk, language=args.lang)
        )
    services = build_services(demo_settings)
    _setup_logging(demo_settings.kiosk.data_dir, quiet=args.tour is not None)
    size = args.size or (demo_settings.display.width, demo_settings.display.height)
    try:
        if args.tour is None:
            from screens.runner import run_app

            run_app(services, size=size, on_started=_bind_demo_keys)
            return 0
        return _run_tour(services, args.tour, args.lang or "ka", size)
    finally:
        services.close()


def _bind_demo_keys(app: Any) -> None:
    """F1 inserts or removes the demo card in the windowed demo."""
    from kivy.core.window import Window

    demo = app.services.demo

    def on_key(_window: object, key: int, *_args: object) -> bool:
        if key == 282:  # F1
            if demo.reader.card is None:
                demo.reader.insert(demo.new_card())
            else:
                demo.reader.remove()
            return True
        return False

    Window.bind(on_key_down=on_key)


def _run_tour(services: Any, out_dir: Path, lang: str, size: tuple[int, int]) -> int:
    from screens.runner import prepare_kivy

    prepare_kivy(kivy_home=services.settings.kiosk.data_dir / "kivy", headless=True, size=size, fullscreen=False)
    from screens.app import KioskApp
    from hardware.demo_pki import DEMO_CITIZEN
    from screens.tour import DEMO_PHONE, Tour, citizen_journey

    holder: dict[str, Tour] = {}

    def start(app: KioskApp) -> None:
        tour = Tour(app, services.demo, out_dir, citizen_journey(services.demo, lang))
        tour.secrets = [*DEMO_CITIZEN.values(), DEMO_PHONE]
        holder["tour"] = tour
        tour.start()

    KioskApp(services, on_started=start).run()
    result = holder["tour"].result
    for name in result.passed:
        print(f"ok      {name}")
    for problem in result.failed:
        print(f"FAILED  {problem}")
    print(f"{len(result.pictures)} pictures in {out_dir}")
    return 0 if result.ok else 1


def diagnose(settings: Settings) -> dict[str, Any]:
    """What this kiosk is and what each part reports (no PIN asked, no personal data shown)."""
    from kiosk.bootstrap import build_services

    report: dict[str, Any] = {
        "version": __version__,
        "config_file": str(settings.source) if settings.source else None,
        "data_dir": str(settings.kiosk.data_dir),
        "drivers": {"card": settings.card.driver or None, "reader": settings.card.reader or None,
                    "printer": settings.printer.uri or None},
        "simulated": settings.is_simulated,
    }
    services = build_services(settings)
    try:
        report["readers"] = [
            {"name": r.name, "has_pinpad": r.has_pinpad, "card_present": r.card_present}
            for r in services.card_reader.readers()
        ]
        if services.printer is None:
            report["printer"] = {"configured": False}
        else:
            status = services.printer.status()
            report["printer"] = {"configured": True, "online": status.online, "paper": status.paper.value,
                                 "cover_open": status.cover_open, "ready": status.ready}
        report["queue"] = services.outbox.stats()
        catalogue = services.catalogue()
        report["catalogue"] = {"version": catalogue.version, "services": len(catalogue.services)}
        report["languages"] = list(services.translator.languages)
    finally:
        services.close()
    return report


def cmd_diag(settings: Settings, as_json: bool) -> int:
    """``kiosk diag``."""
    try:
        report = diagnose(settings)
    except ConfigError as exc:
        report = {"version": __version__, "config_error": str(exc)}
        code = 1
    else:
        code = 0
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        for key, value in report.items():
            print(f"{key:>12}: {json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value}")
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kiosk`` console script and ``python -m kiosk``."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
        if args.command == "run":
            return cmd_run(settings)
        if args.command == "demo":
            return cmd_demo(settings, args)
        handler = getattr(args, "handler", None)
        if handler is not None:
            return handler(settings, args)
        return cmd_diag(settings, args.json)
    except ConfigError as exc:
        print(f"kiosk: configuration error: {exc}", file=sys.stderr)
        return 2
