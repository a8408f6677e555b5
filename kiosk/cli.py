"""The ``kiosk`` command: run the kiosk, run the demo (or its headless tour), describe this kiosk."""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import logging
import logging.handlers
import sys
from pathlib import Path
from typing import Any, Sequence

from hub import cli as hub_cli
from kiosk import __version__, admin_cli, diag_cli, print_test, queue_cli
from kiosk.config import LANGUAGES, ConfigError, Settings, load_settings

log = logging.getLogger("kiosk")

# Subcommands that live in their own module: each has ``add_parser(subparsers, common)``, which
# registers its parser(s) with ``set_defaults(handler=run)``, and ``run(settings, args) -> int``.
COMMAND_MODULES: list[Any] = [print_test, hub_cli, diag_cli, admin_cli, queue_cli]


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
    demo.add_argument("--tour-staff", type=Path, metavar="DIR",
                      help="run the staff and technician tour headless (with a local reference hub); write "
                      "DIR/<lang>-NN-step.png in Georgian and English (or --lang); exit 0 only if every check passed")
    demo.add_argument("--lang", choices=LANGUAGES, default=None, help="language: the tour starts in Georgian and switches to it on screen")
    demo.add_argument("--size", type=_size, default=None, metavar="WxH",
                      help="window size, e.g. 1280x800 (default) or 1920x1080")
    demo.add_argument("--data-dir", type=Path, default=None, metavar="DIR",
                      help="where the demo keeps its queue and receipts (default: <data_dir>/demo)")

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

    from kiosk.sync_setup import start_sync
    from offline.outbox_integrity import OutboxCorrupted

    _setup_logging(settings.kiosk.data_dir, quiet=False)
    try:
        services = build_services(settings)
    except OutboxCorrupted as exc:
        # Say so on the screen (not a crash loop under systemd) until a technician has looked.
        log.error("cannot take requests: %s; see kiosk diag, then kiosk queue clear-corruption", exc)
        from assets import ASSETS_DIR
        from kiosk.bootstrap import UI_LANGUAGES
        from kiosk.i18n import Translator
        from screens.out_of_service import run_out_of_service

        translator = Translator(ASSETS_DIR / "locale", UI_LANGUAGES, settings.kiosk.language)
        run_out_of_service(settings, translator, exc.translation_key)
        return 3
    try:
        start_sync(services)
        display = settings.display
        run_app(services, size=(display.width, display.height), fullscreen=display.fullscreen, locked=True)
    finally:
        services.close()
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    """``kiosk demo [--tour DIR | --tour-staff DIR]``."""
    from kiosk.bootstrap import build_services

    if args.tour_staff is not None:
        from screens import staff_tour

        return staff_tour.main([str(args.tour_staff), "--langs", args.lang or "ka,en"])

    demo_settings = settings.simulated(args.data_dir)
    if args.lang and args.tour is None:
        demo_settings = dataclasses.replace(
            demo_settings, kiosk=dataclasses.replace(demo_settings.kiosk, language=args.lang)
        )
    # The local hub answers at once: sync every few seconds so the demo shows requests arriving.
    demo_settings = dataclasses.replace(demo_settings, hub=dataclasses.replace(demo_settings.hub, sync_interval_s=3.0))
    _setup_logging(demo_settings.kiosk.data_dir, quiet=args.tour is not None)
    hub = _local_hub(demo_settings)
    services = build_services(demo_settings)
    size = args.size or (demo_settings.display.width, demo_settings.display.height)
    try:
        if hub is not None:
            from kiosk.sync_setup import start_sync

            start_sync(services)
        if args.tour is None:
            from screens.runner import run_app

            run_app(services, size=size, on_started=_bind_demo_keys)
            return 0
        return _run_tour(services, args.tour, args.lang or "ka", size)
    finally:
        services.close()
        if hub is not None:
            hub.stop()


def _local_hub(settings: Settings) -> Any:
    """The demo's own hub on 127.0.0.1, the kiosk enrolled with it; None without the hub extra."""
    if importlib.util.find_spec("fastapi") is None or importlib.util.find_spec("uvicorn") is None:
        log.warning("the hub extra is not installed: the demo queues requests without a hub")
        return None
    from kiosk.sync_setup import enroll_with_local_hub

    return enroll_with_local_hub(settings)


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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kiosk`` console script and ``python -m kiosk``."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
        if args.command == "run":
            return cmd_run(settings)
        if args.command == "demo":
            return cmd_demo(settings, args)
        return args.handler(settings, args)
    except ConfigError as exc:
        print(f"kiosk: configuration error: {exc}", file=sys.stderr)
        return 2
