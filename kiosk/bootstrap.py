"""The composition root: the one place that picks adapters from settings and wires the kiosk.

``build_services(settings)`` returns ``Services``; the Kivy app, the CLI and the tests all
start from it. Adapters are chosen by name from plain dicts; an unknown name is a config
error listing the valid ones.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from assets import ASSETS_DIR
from hardware.demo_pki import DemoPki, load_or_make_demo_pki
from hardware.ports import CardOpener, CardReader, ReceiptPrinter
from hardware.escpos_printer import open_printer
from hardware.printer_profiles import PROFILES, PrinterProfile, profile_for_width
from hardware.simulated_card import SimulatedCardReader, SimulatedIdCard
from hardware.simulated_printer import SimulatedPrinter
from kiosk.catalogue import Catalogue, load_catalogue
from kiosk.config import ConfigError, Settings
from kiosk.i18n import Translator
from kiosk.identity import CertificateValidator, load_trust_anchors
from kiosk.journey import IdlePolicy, Journey
from kiosk.session import Step
from kiosk.submission import Submitter, SubmitterConfig
from offline.outbox import Outbox
from offline.sealing import PayloadSealer, decode_key, load_or_make_secret

log = logging.getLogger(__name__)

UI_LANGUAGES = ("ka", "en")


def utc_now() -> dt.datetime:
    """The wall clock, timezone-aware."""
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class DemoHardware:
    """The simulated devices of a demo kiosk, for the tour and the tests to drive."""

    reader: SimulatedCardReader
    printer: SimulatedPrinter
    pki: DemoPki
    hub_private_key: bytes

    def new_card(self, **kwargs: object) -> SimulatedIdCard:
        """A fresh demo citizen's card (PIN 1234, signing PIN 123456, PUK 12345678)."""
        return SimulatedIdCard(self.pki, **kwargs)  # type: ignore[arg-type]


@dataclass
class Services:
    """Everything the kiosk runs on, wired once."""

    settings: Settings
    translator: Translator
    catalogue: Callable[[], Catalogue]
    card_reader: CardReader
    open_card: CardOpener
    printer: ReceiptPrinter | None
    outbox: Outbox
    journey: Journey
    demo: DemoHardware | None = None
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        """Stop devices and close files."""
        self.card_reader.stop()
        for close in reversed(self.closers):
            close()


def _choose(kind: str, name: str, options: dict) -> Callable:
    if name not in options:
        valid = ", ".join(repr(k) for k in options)
        shown = repr(name) if name else "not set"
        raise ConfigError(f"{kind}: {shown}; use one of {valid}")
    return options[name]


def _demo_hardware(settings: Settings) -> DemoHardware:
    data = settings.kiosk.data_dir
    pki = load_or_make_demo_pki(data / "demo-pki")
    hub_key = load_or_make_secret(data / "demo-hub" / "hub-private.key")
    printer = SimulatedPrinter(
        profile=printer_profile(settings), out_dir=data / "receipts", mode=settings.printer.mode
    )
    return DemoHardware(SimulatedCardReader(), printer, pki, hub_key)


def _simulated_reader(settings: Settings, demo: DemoHardware | None) -> tuple[CardReader, CardOpener]:
    assert demo is not None
    return demo.reader, demo.reader.open_card


READERS: dict[str, Callable[[Settings, DemoHardware | None], tuple[CardReader, CardOpener]]] = {
    "simulated": _simulated_reader,
}
CARDS = {"simulated"}  # PKCS#11 cards arrive with the ID-card adapter (issue 3)


def printer_profile(settings: Settings) -> PrinterProfile:
    """The configured printer model, or the most cautious one for the paper width."""
    name = settings.printer.profile
    if not name:
        return profile_for_width(settings.printer.paper_width_dots)
    return _choose("printer.profile", name, PROFILES)


def _printer(settings: Settings, demo: DemoHardware | None) -> ReceiptPrinter | None:
    uri = settings.printer.uri
    if not uri:
        return None
    if uri == "simulated":
        assert demo is not None
        return demo.printer
    try:
        return open_printer(uri, printer_profile(settings), mode=settings.printer.mode)
    except ValueError as exc:
        raise ConfigError(f"printer.uri: {exc}") from None


def _trust_anchors(settings: Settings, demo: DemoHardware | None) -> Path:
    if settings.card.trust_anchors:
        return Path(settings.card.trust_anchors)
    if demo is not None:
        return demo.pki.write_trust_anchors(settings.kiosk.data_dir / "demo-pki" / "anchors")
    raise ConfigError("card.trust_anchors: not set; point it at a folder of CA certificates")


def _hub_public_key(settings: Settings, demo: DemoHardware | None) -> bytes:
    if settings.hub.public_key:
        try:
            return decode_key(settings.hub.public_key)
        except ValueError as exc:
            raise ConfigError(f"hub.public_key: not a base64 32-byte key ({exc})") from None
    if demo is not None:
        from nacl.public import PrivateKey

        return bytes(PrivateKey(demo.hub_private_key).public_key)
    raise ConfigError("hub.public_key: not set; enrol this kiosk with the hub first")


def _reset_language_after_session(translator: Translator, language: str) -> Callable[[Step], None]:
    """The next villager starts in the kiosk's own language, whatever the last one chose."""

    def on_step(step: Step) -> None:
        if step is Step.ATTRACT and translator.language != language:
            translator.set_language(language)

    return on_step


def build_services(
    settings: Settings,
    *,
    clock: Callable[[], dt.datetime] = utc_now,
    monotonic: Callable[[], float] = time.monotonic,
) -> Services:
    """Wire the kiosk from ``settings``; raises ``ConfigError`` naming any bad setting."""
    make_reader = _choose("card.reader", settings.card.reader, READERS)
    _choose("card.driver", settings.card.driver, dict.fromkeys(CARDS))
    simulated = settings.is_simulated
    demo = _demo_hardware(settings) if simulated else None
    reader, opener = make_reader(settings, demo)
    printer = _printer(settings, demo)
    data = settings.kiosk.data_dir
    data.mkdir(parents=True, exist_ok=True)

    translator = Translator(ASSETS_DIR / "locale", UI_LANGUAGES, settings.kiosk.language)
    catalogue = load_catalogue(ASSETS_DIR / "catalogue" / "catalogue.json")
    anchors = load_trust_anchors(_trust_anchors(settings, demo))
    validator = CertificateValidator(anchors, clock)
    outbox = Outbox(data / "outbox.sqlite", settings.kiosk.kiosk_id, clock)
    submitter = Submitter(
        outbox=outbox,
        sealer=PayloadSealer(_hub_public_key(settings, demo)),
        printer=printer,
        catalogue=lambda: catalogue,
        tr=translator,
        config=SubmitterConfig(settings.kiosk.kiosk_id, settings.kiosk.centre_name, settings.receipt.status_url),
        citizen_secret=load_or_make_secret(data / "citizen-hash.key"),
        clock=clock,
    )
    journey = Journey(
        open_card=opener,
        validator=validator,
        catalogue=lambda: catalogue,
        submitter=submitter,
        idle=IdlePolicy(settings.kiosk.idle_timeout_s, settings.kiosk.idle_countdown_s),
        clock=monotonic,
        today=lambda: clock().date(),
        personal_number_field=settings.card.personal_number_field,
    )
    journey.subscribe(_reset_language_after_session(translator, settings.kiosk.language))
    services = Services(
        settings=settings,
        translator=translator,
        catalogue=lambda: catalogue,
        card_reader=reader,
        open_card=opener,
        printer=printer,
        outbox=outbox,
        journey=journey,
        demo=demo,
    )
    services.closers.append(outbox.close)
    return services
