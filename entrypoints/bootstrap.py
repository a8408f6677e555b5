"""The composition root: the one place that picks adapters from settings and wires the kiosk.

``build_services(settings)`` returns ``Services``; the Kivy app, the CLI and the tests all
start from it. Adapters are chosen by name from plain dicts; an unknown name is a config
error listing the valid ones.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from assets import ASSETS_DIR
from entrypoints.privileged import build_privileged
from entrypoints.sync_wiring import (
    build_sync_engine,
    enrolled_kiosk_id,
    hub_nonce_source,
    hub_requests_source,
    printer_state,
    reader_state,
)
from hardware.demo_devices import DemoHardware
from hardware.demo_pki import load_or_make_demo_pki
from hardware.espeak_speaker import EspeakSpeaker
from hardware.printer_profiles import PROFILES, PrinterProfile, profile_for_width
from hardware.simulated_card import SimulatedCardReader
from hardware.simulated_printer import SimulatedPrinter
from kiosk.audit import open_audit_log
from kiosk.card_work import CardWork
from kiosk.catalogue_store import CatalogueStore
from kiosk.clock import LocalTime, WallClock, utc_now
from kiosk.config import LANGUAGES, ConfigError, Settings
from kiosk.i18n import Translator
from kiosk.identity import CertificateValidator
from kiosk.journey import IdlePolicy, Journey
from kiosk.my_requests import MyRequests, outbox_source, retire_citizen_secret
from kiosk.ports import CardOpener, CardReader, ReceiptPrinter
from kiosk.presence import LoginChallenges
from kiosk.revocation import RevocationChecker
from kiosk.services import Privileged, Services
from kiosk.session import Step
from kiosk.signing import QualifiedSigner
from kiosk.speech import AudioGuide, NullSpeaker
from kiosk.staff_session import RoleModes
from kiosk.submission import Submitter, SubmitterConfig
from kiosk.sync_supervisor import SyncSupervisor
from kiosk.technician import current_hub_page
from kiosk.technician_desk import TechnicianDesk
from offline.enrollment import NotEnrolled, load_enrollment
from offline.outbox import Outbox
from offline.ratings import Ratings
from protocol.certificates import load_trust_anchors
from protocol.sealing import PayloadSealer, decode_key, load_or_make_secret

log = logging.getLogger(__name__)

T = TypeVar("T")



def _choose(kind: str, name: str, options: Mapping[str, T]) -> T:
    """``options[name]``; an unknown name is a ``ConfigError`` listing the valid ones."""
    if name not in options:
        valid = ", ".join(repr(k) for k in options)
        shown = repr(name) if name else "not set"
        raise ConfigError(f"{kind}: {shown}; use one of {valid}")
    return options[name]


def _demo_hardware(settings: Settings, clock: WallClock) -> DemoHardware:
    data = settings.kiosk.data_dir
    pki = load_or_make_demo_pki(data / "demo-pki", clock())
    hub_key = load_or_make_secret(data / "demo-hub" / "hub-private.key")
    printer = SimulatedPrinter(
        profile=printer_profile(settings), out_dir=data / "receipts", mode=settings.printer.mode
    )
    return DemoHardware(SimulatedCardReader(), printer, pki, hub_key)


def _simulated_card(settings: Settings, demo: DemoHardware | None) -> tuple[CardReader, CardOpener]:
    if settings.card.reader not in ("", "simulated"):
        raise ConfigError(f"card.reader: {settings.card.reader!r}; the simulated card goes with 'simulated'")
    assert demo is not None
    return demo.reader, demo.reader.open_card


def _pkcs11_card(settings: Settings, demo: DemoHardware | None) -> tuple[CardReader, CardOpener]:
    """The ID card through its PKCS#11 module; presence from PC/SC or from the module's slot list."""
    from hardware.pkcs11_card import Pkcs11CardOpener
    from hardware.pkcs11_module import Pkcs11Module
    from hardware.pkcs11_reader import Pkcs11SlotReader

    reader_name = _choose("card.reader", settings.card.reader or "pkcs11", PKCS11_READERS)
    if not settings.card.pkcs11_module:
        raise ConfigError("card.pkcs11_module: not set; give the path of the ID card's PKCS#11 library")
    if not Path(settings.card.pkcs11_module).exists():
        raise ConfigError(f"card.pkcs11_module: {settings.card.pkcs11_module} does not exist")
    module = Pkcs11Module(settings.card.pkcs11_module)
    opener = Pkcs11CardOpener(module, settings.card.token_label)
    if reader_name == "pcsc":
        from hardware.pcsc_reader import PcscCardReader

        return PcscCardReader(), opener
    return Pkcs11SlotReader(module, settings.card.token_label), opener


# card.reader for the pkcs11 driver: PC/SC events (real readers), or the module's own slot list
# (modules that reach readers themselves, and SoftHSM2 in tests). Empty means the slot list.
PKCS11_READERS = {"pcsc": "pcsc", "pkcs11": "pkcs11"}

CARD_DRIVERS: dict[str, Callable[[Settings, DemoHardware | None], tuple[CardReader, CardOpener]]] = {
    "simulated": _simulated_card,
    "pkcs11": _pkcs11_card,
}


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
    from hardware.escpos_printer import open_printer  # python-escpos only for a real printer

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
    try:  # the key pinned at enrolment wins: it belongs to the hub this kiosk really sends to
        enrolled = load_enrollment(settings.kiosk.data_dir)
    except NotEnrolled as exc:
        raise ConfigError(f"enrollment.json: {exc}; enrol again with kiosk enroll --force") from None
    if enrolled is not None:
        return enrolled.seal_key()
    if settings.hub.public_key:
        try:
            return decode_key(settings.hub.public_key)
        except ValueError as exc:
            raise ConfigError(f"hub.public_key: not a base64 32-byte key ({exc})") from None
    if demo is not None:
        from nacl.public import PrivateKey

        return bytes(PrivateKey(demo.hub_private_key).public_key)
    raise ConfigError("hub.public_key: not set; enrol this kiosk with the hub first")


class CurrentHubSealer:
    """Seals to the hub this kiosk is enrolled with now: an enrolment made from the technician
    screen takes effect for the next request, without a restart."""

    def __init__(self, settings: Settings, demo: DemoHardware | None) -> None:
        self._settings, self._demo = settings, demo
        self._key = _hub_public_key(settings, demo)  # fails early (ConfigError) when there is none
        self._sealer = PayloadSealer(self._key)

    def seal(self, payload: dict[str, Any]) -> bytes:
        """``payload`` sealed to the current hub key (re-read from the enrolment each time: it is tiny)."""
        key = _hub_public_key(self._settings, self._demo)
        if key != self._key:
            self._key, self._sealer = key, PayloadSealer(key)
        return self._sealer.seal(payload)


def _reset_language_after_session(translator: Translator, language: str) -> Callable[[Step], None]:
    """The next villager starts in the kiosk's own language, whatever the last one chose."""

    def on_step(step: Step) -> None:
        if step is Step.ATTRACT and translator.language != language:
            translator.set_language(language)

    return on_step


def audio_guide(settings: Settings, translator: Translator) -> AudioGuide:
    """Spoken prompts through espeak-ng when installed; ``audio_guidance`` says whether they start on."""
    mode = settings.kiosk.audio_guidance
    if EspeakSpeaker.is_usable():
        return AudioGuide(EspeakSpeaker(), translator, available=True, enabled=mode != "off")
    if mode == "on":
        log.warning("kiosk.audio_guidance is on but espeak-ng is not installed: no spoken prompts")
    return AudioGuide(NullSpeaker(), translator, available=False, enabled=False)


@dataclass
class CardParts:
    """What reading and checking an ID card needs, without the rest of the kiosk (``kiosk diag card``)."""

    reader: CardReader
    open_card: CardOpener
    validator: CertificateValidator
    demo: DemoHardware | None


def build_card_parts(settings: Settings, *, clock: Callable[[], dt.datetime] = utc_now) -> CardParts:
    """The card reader, card opener and certificate validator chosen by ``[card]``."""
    make_card = _choose("card.driver", settings.card.driver, CARD_DRIVERS)
    demo = _demo_hardware(settings, clock) if settings.is_simulated else None
    reader, opener = make_card(settings, demo)
    anchors = load_trust_anchors(_trust_anchors(settings, demo))
    validator = CertificateValidator(
        anchors, clock, revocation=RevocationChecker.from_settings(settings, clock), policy=settings.card.revocation
    )
    return CardParts(reader, opener, validator, demo)


def _technician_desk(settings: Settings, card: CardParts, *, printer: ReceiptPrinter | None, outbox: Outbox,
                     translator: Translator, local_time: LocalTime, privileged: Privileged, sync: SyncSupervisor,
                     clock: Callable[[], dt.datetime]) -> TechnicianDesk:
    """The technician's desk over this kiosk's parts; audited actions open their own audit connection."""
    return TechnicianDesk(
        settings=settings, translator=translator, local_time=local_time, card_reader=card.reader,
        open_card=card.open_card, validator=card.validator, printer=printer, outbox=outbox, access=privileged.access,
        sync=sync, open_audit=lambda: open_audit_log(settings.kiosk.data_dir, clock), clock=clock,
    )


def build_services(
    settings: Settings,
    *,
    clock: Callable[[], dt.datetime] = utc_now,
    monotonic: Callable[[], float] = time.monotonic,
) -> Services:
    """Wire the kiosk from ``settings``; raises ``ConfigError`` naming any bad setting."""
    card = build_card_parts(settings, clock=clock)
    demo, reader, opener, validator = card.demo, card.reader, card.open_card, card.validator
    printer = _printer(settings, demo)
    data = settings.kiosk.data_dir
    data.mkdir(parents=True, exist_ok=True)

    translator = Translator(ASSETS_DIR / "locale", LANGUAGES, settings.kiosk.language)
    catalogue = CatalogueStore(data)  # the bundled catalogue, or a newer one the hub sent
    local_time = LocalTime(clock, settings.kiosk.zone)
    outbox = Outbox(data / "outbox.sqlite", settings.kiosk.kiosk_id, clock, zone=local_time.tz)
    retire_citizen_secret(data)
    submitter = Submitter(
        outbox=outbox,
        sealer=CurrentHubSealer(settings, demo),
        printer=printer,
        catalogue=catalogue,
        tr=translator,
        config=SubmitterConfig(settings.kiosk.kiosk_id, settings.kiosk.centre_name, settings.receipt.status_url,
                               local_time.tz, functools.partial(current_hub_page, settings.kiosk.data_dir)),
        clock=clock,
    )
    ratings = Ratings(outbox.db, clock, zone=local_time.tz)
    my_requests = MyRequests(kiosk_id=settings.kiosk.kiosk_id, local=outbox_source(outbox),
                             remote=hub_requests_source(settings))
    challenges = LoginChallenges(enrolled_kiosk_id(settings), clock, hub_nonce_source(settings))
    card_work = CardWork()  # on the caller's thread until the touch app moves it to a card thread
    journey = Journey(
        open_card=opener,
        validator=validator,
        catalogue=catalogue,
        submitter=submitter,
        signer=QualifiedSigner(validator, settings.card.personal_number_field),
        my_requests=my_requests,
        challenges=challenges,
        record_rating=ratings.record,
        idle=IdlePolicy(settings.kiosk.idle_timeout_s, settings.kiosk.idle_countdown_s),
        clock=monotonic,
        local_time=local_time,
        personal_number_field=settings.card.personal_number_field,
        card_work=card_work,
    )
    journey.subscribe(_reset_language_after_session(translator, settings.kiosk.language))
    privileged = build_privileged(settings, outbox=outbox, printer=printer, catalogue=catalogue,
                                  translator=translator, journey=journey, clock=clock)
    modes = RoleModes(
        journey=journey, access=privileged.access, staff=privileged.staff, open_card=opener,
        validator=validator, translator=translator, language=settings.kiosk.language,
        idle=IdlePolicy(settings.kiosk.idle_timeout_s, settings.kiosk.idle_countdown_s), clock=monotonic, wall=clock,
        personal_number_field=settings.card.personal_number_field,
    )
    audio = audio_guide(settings, translator)
    sync = SyncSupervisor(lambda: build_sync_engine(
        settings, on_catalogue=catalogue.on_catalogue, printer_state=printer_state(printer),
        reader_state=reader_state(reader), audit_checkpoint=privileged.audit_checkpoint, clock=clock,
    ))
    technician = _technician_desk(settings, card, printer=printer, outbox=outbox, translator=translator,
                                  local_time=local_time, privileged=privileged, sync=sync, clock=clock)
    return Services(
        settings=settings,
        translator=translator,
        catalogue=catalogue,
        card_reader=reader,
        open_card=opener,
        printer=printer,
        outbox=outbox,
        journey=journey,
        local_time=local_time,
        submitter=submitter,
        audio=audio,
        ratings=ratings,
        privileged=privileged,
        validator=validator,
        modes=modes,
        sync=sync,
        technician=technician,
        demo=demo,
        closers=(card_work.close, outbox.close, privileged.audit.close, audio.close, challenges.close),
    )
